"""Fixtures every tier may use. The real Elasticsearch nodes (`tests/real_nodes.py`) start once per test session, and
only when a test asks for them."""

from tests.real_nodes import nodes_left_as_found, real_nodes

__all__ = ["nodes_left_as_found", "real_nodes"]
