"""Real Elasticsearch 8.19.21 nodes for the tests that check against the real thing (tools/real_elasticsearch.py):
two single-node clusters, "local" and "remote", each with its own CA, started once per session.

Tests share the nodes, so each must leave them as found: use `nodes_left_as_found` (it compares
`RealNode.inventory()` before and after the test: indices, active API keys, cluster settings, roles, keystore)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest

from tools.real_elasticsearch import NodeCertificates, RealNode, start_nodes

REMOTE_SERVER_NAME = "remote-es-remote-cluster.default.svc"


class RealNodes(NamedTuple):
    local: RealNode
    remote: RealNode


@pytest.fixture(scope="session")
def real_nodes() -> Iterator[RealNodes]:
    certificates = [
        NodeCertificates.make("local", "local-es-remote-cluster.default.svc"),
        NodeCertificates.make("remote", REMOTE_SERVER_NAME),
    ]
    local, remote = start_nodes(2, names=["local", "remote"], certificates=certificates)
    try:
        yield RealNodes(local, remote)
    finally:
        for node in (local, remote):
            node.close()


@pytest.fixture
def nodes_left_as_found(real_nodes: RealNodes) -> Iterator[RealNodes]:
    """The nodes; fails the test if it leaves anything behind on either of them."""
    with ThreadPoolExecutor(len(real_nodes)) as pool:  # each inventory reads its keystore (a JVM, about 1 s)
        before = dict(zip(real_nodes._fields, pool.map(RealNode.inventory, real_nodes), strict=True))
        yield real_nodes
        after = dict(zip(real_nodes._fields, pool.map(RealNode.inventory, real_nodes), strict=True))
    assert after == before, "the test left state behind on the real nodes"
