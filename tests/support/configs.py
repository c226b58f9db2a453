"""Valid stack configs to start from; tests change one thing at a time."""

from __future__ import annotations

import copy
from typing import Any


def eck_cluster(**overrides: Any) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": "quickstart",
        "namespace": "elastic",
        "version": "9.3.2",
        "operatorVersion": "3.5.0",
        "nodeSets": [{"name": "default", "count": 3}],
    }
    cluster.update(copy.deepcopy(overrides))
    return cluster


def program_config(*clusters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"eckClusters": list(clusters) or [eck_cluster()], **extra}


def owned_elsewhere(**overrides: Any) -> dict[str, Any]:
    """A cluster whose `Elasticsearch` resource someone else owns (`managed: false`): no nodeSets."""
    cluster = eck_cluster(managed=False, **overrides)
    del cluster["nodeSets"]
    return cluster
