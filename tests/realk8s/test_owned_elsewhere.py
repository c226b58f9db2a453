"""A cluster owned elsewhere (`managed: false`) with the real CLI, a real API server and the real ECK operator. Its
owner creates it with `kubectl apply`; without the remote cluster server, `up` stops before changing anything and
prints the YAML to add; the owner applies exactly that; `up` links it (through the operator's Service, then through
our own LoadBalancer Service) and `destroy` leaves the resource exactly as the owner left it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from components.eck_spec import merge
from tests.realk8s.conftest import CLUSTER, NAMESPACE
from tests.realk8s.test_protection import flat, live_elasticsearch, stack_state
from tests.realk8s.test_real_operator import real_config, stack_on, wait_until
from tools.emulated_link import EmulatedLink
from tools.engine_stack import EngineStack
from tools.local_cluster import LocalCluster

MARKER = "Add this to its manifest and apply it:"


def manifest(**spec: Any) -> dict[str, Any]:
    """The owner's manifest: their labels, their nodeSets."""
    return {
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": {"name": CLUSTER, "namespace": NAMESPACE, "labels": {"team": "search-platform"}},
        "spec": {"version": "9.3.2", "nodeSets": [{"name": "default", "count": 1}], **spec},
    }


def kubectl_apply(cluster: LocalCluster, document: dict[str, Any], tmp: Path) -> None:
    path = tmp / "owner-manifest.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    cluster.kubectl("apply", "-f", str(path))


def owned_config(env: EmulatedLink, exposure: str) -> dict[str, Any]:
    config = real_config(env, operator_version="3.5.0", exposure=exposure)
    cluster = config["eckClusters"][0]
    del cluster["nodeSets"], cluster["protect"]
    cluster["managed"] = False
    return config


def yaml_in_error(output: str) -> Any:
    """The YAML printed after the marker, as the CLI shows it (indented under Pulumi's diagnostics; the progress lines
    above show only the first line of each error)."""
    lines = output.splitlines()
    diagnostics = next((i for i, line in enumerate(lines) if line.startswith("Diagnostics:")), 0)
    start = next(i for i, line in enumerate(lines) if i > diagnostics and line.rstrip().endswith(MARKER)) + 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start:]:
        if not line.strip() or len(line) - len(line.lstrip()) < indent:
            break
        block.append(line)
    return yaml.safe_load(textwrap.dedent("\n".join(block)))


def resource_types(stack: EngineStack[EmulatedLink]) -> set[str]:
    return {r["type"] for r in stack.cli.export()["deployment"].get("resources") or []}


def test_a_cluster_applied_with_kubectl_is_checked_linked_and_left_as_its_owner_left_it(
    cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path
) -> None:
    env = operator_env
    namespace_before = cluster.objects(NAMESPACE)
    # the emulators first (reset), then the cluster: the remote follows the CA and password the operator makes
    stack = stack_on(cluster, env, tmp_path, "owned", operator_version="3.5.0", exposure="operator-service")
    stack.write_config(owned_config(env, "operator-service"))
    kubectl_apply(cluster, manifest(), tmp_path)
    wait_until(
        lambda: cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-transport-certs-public"), 90, "the operator's CA Secret"
    )

    # no remote cluster server: refused before anything is declared, with the YAML the owner must add
    as_applied, objects = live_elasticsearch(cluster), cluster.objects(NAMESPACE)
    refused = stack.record(stack.cli.up(check=False))
    assert refused.returncode != 0
    assert (
        "config 'eckClusters[0].managed': value false is invalid: the Elasticsearch resource elastic/quickstart is "
        "owned elsewhere and spec.remoteClusterServer.enabled is not true" in flat(refused)
    )
    addition = yaml_in_error(refused.stdout + refused.stderr)
    port = env.rcs["port"]
    assert port != 9443  # so that the targetPort asked for (9443) cannot be the port by accident
    assert addition == {
        "spec": {
            "remoteClusterServer": {
                "enabled": True,
                "service": {
                    "spec": {
                        "type": "LoadBalancer",
                        "ports": [{"name": "rcs", "port": port, "targetPort": 9443, "protocol": "TCP"}],
                    }
                },
            }
        }
    }
    assert live_elasticsearch(cluster) == as_applied and cluster.objects(NAMESPACE) == objects
    assert env.requests_to(env.ece) == [] and resource_types(stack) <= {"pulumi:pulumi:Stack"}

    # the owner adds exactly that; the operator makes its Service the LoadBalancer
    kubectl_apply(cluster, merge(manifest(), addition), tmp_path)
    service = f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster"
    wait_until(
        lambda: (found := cluster.get(service)) and (found.get("status") or {}).get("loadBalancer", {}).get("ingress"),
        90,
        "the operator's LoadBalancer",
    )
    owners = live_elasticsearch(cluster)
    assert owners is not None and owners["metadata"]["uid"] == as_applied["metadata"]["uid"]
    objects = cluster.objects(NAMESPACE)

    for exposure, lb_service in (("operator-service", None), ("own-service", f"{CLUSTER}-es-remote-cluster-lb")):
        stack.write_config(owned_config(env, exposure))
        stack.record(stack.cli.up())
        outputs = stack.cli.outputs()["links"]["search-quickstart"]
        assert outputs["connected"] is True and outputs["proxyAddress"] == f"127.0.0.1:{port}", exposure
        types = resource_types(stack)
        assert not any(t.startswith("kubernetes:elasticsearch") for t in types)
        assert "eceeck:index:EckElasticsearch" not in types and "eceeck:index:EckClusterProtection" not in types
        if lb_service:
            assert cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/{lb_service}") is not None
        stack.record(stack.cli.preview("--expect-no-changes"))
        stack.record(stack.cli.destroy())
        assert live_elasticsearch(cluster) == owners, exposure  # exactly as the owner left it
        wait_until(lambda: cluster.objects(NAMESPACE) == objects, 30, "our Service gone, the owner's objects kept")
        assert stack_state(stack) == {}
        assert all(e["name"] != "ece-eck-remote-quickstart" for e in env.direct_entries())

    cluster.kubectl("delete", "elasticsearch", CLUSTER, "-n", NAMESPACE)
    wait_until(lambda: cluster.objects(NAMESPACE) == namespace_before, 90, f"namespace {NAMESPACE} as found")
