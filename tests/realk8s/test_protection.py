"""Protection with the real CLI, a real API server and the real ECK operator: a cluster the stack owns is protected by
default, so `destroy` (with or without its preview) and a change that would replace the `Elasticsearch` resource stop
with Pulumi's own message and leave the cluster, the link and the state exactly as they were; `retainOnDelete` makes
`destroy` take the link down and leave the cluster running."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.realk8s.conftest import CLUSTER, NAMESPACE
from tests.realk8s.test_real_operator import real_config, stack_on, wait_until
from tools.emulated_link import EmulatedLink
from tools.engine_stack import EngineStack
from tools.local_cluster import LocalCluster

ES_PATH = f"/apis/elasticsearch.k8s.elastic.co/v1/namespaces/{NAMESPACE}/elasticsearches/{CLUSTER}"
BOOKKEEPING = ("resourceVersion", "managedFields")
"""What the API server and the operator's status writes change on their own."""


def live_elasticsearch(cluster: LocalCluster) -> dict[str, Any] | None:
    """The `Elasticsearch` object as its owner sees it: metadata (uid, generation, labels, annotations) and spec."""
    found = cluster.get(ES_PATH)
    if found is None:
        return None
    metadata = {key: value for key, value in found["metadata"].items() if key not in BOOKKEEPING}
    return {"metadata": metadata, "spec": found["spec"]}


def link_state(env: EmulatedLink) -> dict[str, Any]:
    """The link as ECE and both Elasticsearch sides hold it."""
    resource = env.ece_resource()
    remote = env.control(env.remote, "GET", "state")
    return {
        "trust": resource["trust"],
        "keystore": resource["keystore"],
        "settings": env.control(env.local, "GET", "state")["settings"]["persistent"],
        "active_keys": sorted(key["id"] for key in remote["api_keys"] if not key["invalidated"]),
    }


def stack_state(stack: EngineStack[EmulatedLink]) -> dict[str, Any]:
    resources = stack.cli.export()["deployment"].get("resources") or []
    return {r["urn"]: (r.get("id"), r.get("protect", False), r.get("retainOnDelete", False)) for r in resources}


def everything(cluster: LocalCluster, env: EmulatedLink, stack: EngineStack[EmulatedLink]) -> dict[str, Any]:
    return {
        "elasticsearch": live_elasticsearch(cluster),
        "namespace": cluster.objects(NAMESPACE),
        "link": link_state(env),
        "state": stack_state(stack),
    }


def flat(completed: Any) -> str:
    """The CLI's output with line breaks and indentation folded (Pulumi wraps its messages)."""
    return " ".join((completed.stdout + completed.stderr).split())


def test_a_protected_cluster_refuses_destroy_and_replacement_and_retain_leaves_it_running(
    cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path
) -> None:
    env = operator_env
    namespace_before = cluster.objects(NAMESPACE)
    stack = stack_on(cluster, env, tmp_path, "protected", operator_version="3.5.0", exposure="operator-service")
    config = real_config(env, operator_version="3.5.0", exposure="operator-service")
    del config["eckClusters"][0]["protect"]  # the default
    stack.write_config(config)
    stack.record(stack.cli.up())
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    before = everything(cluster, env, stack)
    assert before["link"]["active_keys"] and before["elasticsearch"] is not None
    es_urn = next(urn for urn in before["state"] if urn.endswith("Elasticsearch::quickstart-elasticsearch"))
    assert before["state"][es_urn][1] is True  # protected

    # destroy, as CI runs it (no preview) and as a person does (preview first): refused before any delete, by the
    # guard (a child of the anchor that depends on everything, so among the first deletes)
    guard = (
        "urn:pulumi:protected::ece-eck-remote::eceeck:index:EckClusterProtections"
        f"$eceeck:index:EckClusterProtection::{CLUSTER}"
    )
    for command in (["destroy", "--yes", "--skip-preview"], ["destroy", "--yes"]):
        refused = stack.record(stack.cli.run(command, check=False))
        assert refused.returncode != 0
        assert f'resource "{guard}" cannot be deleted because it is protected' in flat(refused)
        assert everything(cluster, env, stack) == before, command

    # a new namespace would replace the resource: refused before anything is created there or changed here
    cluster.kubectl("create", "namespace", "elsewhere")
    elsewhere_before = cluster.objects("elsewhere")
    moved = copy.deepcopy(config)
    moved["eckClusters"][0]["namespace"] = "elsewhere"
    stack.write_config(moved)
    refused = stack.record(stack.cli.up(check=False))
    assert refused.returncode != 0
    assert f'unable to replace resource "{es_urn}" as it is currently marked for protection' in flat(refused)
    assert everything(cluster, env, stack) == before
    assert cluster.objects("elsewhere") == elsewhere_before
    cluster.kubectl("delete", "namespace", "elsewhere", "--wait=false")

    # retainOnDelete: the flags change in the state only; destroy takes the link down and leaves the cluster
    retained = copy.deepcopy(config)
    retained["eckClusters"][0].update({"protect": False, "retainOnDelete": True})
    stack.write_config(retained)
    stack.record(stack.cli.up())
    after_up = everything(cluster, env, stack)
    assert after_up["state"][es_urn] == (before["state"][es_urn][0], False, True)
    assert {k: v for k, v in after_up.items() if k != "state"} == {k: v for k, v in before.items() if k != "state"}
    stack.record(stack.cli.destroy())
    assert live_elasticsearch(cluster) == before["elasticsearch"]  # the same object (uid), spec and metadata
    assert stack_state(stack) == {}
    link = link_state(env)
    assert all(entry["name"] != "ece-eck-remote-quickstart" for entry in link["trust"].get("direct") or [])
    assert "cluster.remote.quickstart.credentials" not in link["keystore"] and link["active_keys"] == []

    # what retainOnDelete left is the owner's now: removed here so that the next tests find the namespace as it was
    cluster.kubectl("delete", "elasticsearch", CLUSTER, "-n", NAMESPACE)
    wait_until(lambda: cluster.objects(NAMESPACE) == namespace_before, 90, f"namespace {NAMESPACE} as found")
