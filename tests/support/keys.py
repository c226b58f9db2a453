"""Inputs of a `CrossClusterApiKey`, as its provider's `check` returns them, for the provider tests."""

from __future__ import annotations

from typing import Any

from components.elasticsearch.api_key import CrossClusterApiKeyProvider

ACCESS = {"search": [{"names": ["logs-*"]}], "replication": [{"names": ["archive-*"]}]}


def key_props(**fields: Any) -> dict[str, Any]:
    """`fields` give at least `target` and `credentials`; the rest has defaults."""
    news = {
        "name": "ece-eck-remote-test-logs",
        "access": ACCESS,
        "expiration": None,
        "metadata": {"team": "search"},
        "certificate_identity": None,
        "rotation": None,
        **fields,
    }
    checked = CrossClusterApiKeyProvider().check({}, news)
    assert checked.failures == []
    return dict(checked.inputs)
