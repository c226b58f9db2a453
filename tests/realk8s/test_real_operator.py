"""One `pulumi up` against a real API server and the real ECK operator: the custom resource is accepted, the program
waits for the operator's Service and CA Secret, reads the very CA the operator wrote, chains it and the load
balancer's address into ECE and the remote settings, and ends connected. Then no changes, an operator-made CA
rotation carried into ECE with both CAs trusted during the change, and a destroy that leaves the namespace as it
found it. For both exposure paths."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from components.ece.trust import normalise
from components.progress import FIRST_REPORT_SECONDS
from tests.realk8s.conftest import CLUSTER, NAMESPACE
from tests.support.killed_up import cancel_killed_update, killed_up, providers
from tools.emulated_link import REF_ID, SERVER_NAME, EmulatedLink
from tools.engine_stack import EngineStack, make_engine_stack
from tools.local_cluster import LocalCluster

ENTRY = "ece-eck-remote-quickstart"


def real_config(env: EmulatedLink, *, operator_version: str, exposure: str) -> dict[str, Any]:
    # The Service's port must not be 9443 itself, or a Service forwarding to its own port (a wrong or missing
    # targetPort) would look right; the stand-in listens on whatever free port the system chose.
    assert env.rcs["port"] != 9443
    return {
        "kubernetes": {"context": "local"},
        "eckClusters": [
            {
                "name": CLUSTER,
                "namespace": NAMESPACE,
                "version": "9.3.2",
                "operatorVersion": operator_version,
                "nodeSets": [{"name": "default", "count": 1}],
                # The load-balancer stand-in answers 127.0.0.1; the Service's port is where the remote cluster
                # server stand-in listens, forwarding (as a real LB would) to targetPort 9443.
                "remoteClusterServer": {"exposure": exposure, "port": env.rcs["port"]},
                "http": {"url": env.remote.url},
                "waitTimeoutSeconds": 180,
                "protect": False,  # each test ends with `destroy` (tests/realk8s/test_protection.py: the default)
            }
        ],
        "ece": {"url": env.ece.url, "planTimeoutSeconds": 30},
        "eceDeployments": [{"name": "search", "id": env.deployment_id, "refId": REF_ID}],
        "links": [
            {
                "alias": "quickstart",
                "eckCluster": CLUSTER,
                "eceDeployment": "search",
                "access": {"search": [{"names": ["logs-*"]}]},
                "connectionTimeoutSeconds": 60,
            }
        ],
    }


def stack_on(cluster: LocalCluster, env: EmulatedLink, tmp: Path, name: str, **config: str) -> EngineStack:
    env.reset()
    stack = make_engine_stack(tmp, env, name, render=False)
    stack.cli.extra_env["KUBECONFIG"] = str(cluster.kubeconfig)
    stack.write_config(real_config(env, **config))
    return stack


def wait_until(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def trusted_pems(env: EmulatedLink) -> list[str]:
    entry = next(e for e in env.direct_entries() if e["name"] == ENTRY)
    return [certificate["pem"] for certificate in entry["certificates"]]


def destroy_and_compare(stack: EngineStack, cluster: LocalCluster, before: dict[str, list[str]]) -> None:
    stack.record(stack.cli.destroy())
    wait_until(lambda: cluster.objects(NAMESPACE) == before, 90, f"namespace {NAMESPACE} back to {before}")


def test_operator_managed_service_path(cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path) -> None:
    env = operator_env
    before = cluster.objects(NAMESPACE)
    stack = stack_on(cluster, env, tmp_path, "operator", operator_version="3.5.0", exposure="operator-service")
    stack.record(stack.cli.up())
    link = stack.cli.outputs()["links"]["search-quickstart"]
    assert link["connected"] is True
    assert link["proxyAddress"] == f"127.0.0.1:{env.rcs['port']}"
    assert link["serverName"] == SERVER_NAME
    # the operator's Service is the LoadBalancer, with our port and targetPort 9443
    service = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster")
    assert service is not None and service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"][0]["port"] == env.rcs["port"] and service["spec"]["ports"][0]["targetPort"] == 9443
    # ECE trusts exactly the PEM the operator wrote
    operator_ca = cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-transport-certs-public")["ca.crt"]
    assert trusted_pems(env) == [operator_ca]
    stack.record(stack.cli.preview("--expect-no-changes"))

    # the operator rotates its CA; refresh finds it; up carries it to ECE, both CAs trusted during the change
    env.control(env.ece, "DELETE", "pushes")
    cluster.api("DELETE", f"/api/v1/namespaces/{NAMESPACE}/secrets/{CLUSTER}-es-transport-ca-internal")
    new_ca = wait_until(
        lambda: (
            (ca := cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-transport-certs-public")["ca.crt"]) != operator_ca
            and ca
        ),
        90,
        "the operator to rotate its CA",
    )
    wait_until(
        lambda: env.rcs["ca_pem"].strip() == new_ca.strip() or env.rcs["ca_pem"] == new_ca,
        30,
        "the remote to serve from the new CA",
    )
    stack.refresh()
    assert "EceDeploymentTrust" in stack.record(stack.cli.preview()).stdout
    stack.record(stack.cli.up())
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    assert trusted_pems(env) == [new_ca]
    pushed = [
        p["payload"]["certificates"]
        for p in env.control(env.ece, "GET", "pushes")
        if p["url"].endswith("/_emulator/trust")
    ]
    old_block, new_block = normalise([operator_ca])[0], normalise([new_ca])[0]
    assert any(old_block in normalise(certs) and new_block in normalise(certs) for certs in pushed), (
        "both CAs trusted during the change"
    )
    assert new_block in normalise(pushed[-1]) and old_block not in normalise(pushed[-1])

    destroy_and_compare(stack, cluster, before)


def test_own_load_balancer_service_path(cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path) -> None:
    env = operator_env
    before = cluster.objects(NAMESPACE)
    stack = stack_on(cluster, env, tmp_path, "own", operator_version="3.2.0", exposure="own-service")
    stack.record(stack.cli.up())
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    service = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster-lb")
    assert service is not None and service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [
        {
            "name": "rcs",
            "port": env.rcs["port"],
            "targetPort": 9443,
            "protocol": "TCP",
            "nodePort": service["spec"]["ports"][0]["nodePort"],
        }
    ]
    assert service["spec"]["selector"] == {
        "elasticsearch.k8s.elastic.co/cluster-name": CLUSTER,
        "common.k8s.elastic.co/type": "elasticsearch",
    }
    operator_service = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster")
    assert operator_service is not None and operator_service["spec"].get("clusterIP") == "None"
    operator_ca = cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-transport-certs-public")["ca.crt"]
    assert trusted_pems(env) == [operator_ca]
    stack.record(stack.cli.preview("--expect-no-changes"))
    destroy_and_compare(stack, cluster, before)


def test_an_up_killed_while_waiting_for_the_operator_leaves_no_provider(
    cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path
) -> None:
    """Killed while `EckOperatorOutputs` waits for what the operator and the load balancer publish, the dynamic
    provider ends by itself within seconds (tests/support/killed_up.py asserts it); the documented recovery then
    converges, connected with exactly one valid key, and destroy leaves the namespace as found."""
    before = cluster.objects(NAMESPACE)
    stack = stack_on(cluster, operator_env, tmp_path, "killed", operator_version="3.5.0", exposure="operator-service")
    service = f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster"

    def waiting_for_the_load_balancer() -> bool:
        found = cluster.get(service)
        return found is not None and bool(providers(stack.cli.project_dir))

    cluster.load_balancer_paused.set()
    try:
        with killed_up(stack.cli, waiting_for_the_load_balancer, timeout=120):
            pass
    finally:
        cluster.load_balancer_paused.clear()
    assert operator_env.requests_to(operator_env.ece) == []  # killed before anything reached ECE
    cancel_killed_update(stack.cli)
    stack.record(stack.cli.refresh("--clear-pending-creates"))
    stack.record(stack.cli.up())
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    keys = operator_env.control(operator_env.remote, "GET", "state")["api_keys"]
    assert len([key for key in keys if not key["invalidated"]]) == 1
    destroy_and_compare(stack, cluster, before)


def test_a_held_back_load_balancer_shows_the_wait_on_its_resource_in_pulumi_up(
    cluster: LocalCluster, operator_env: EmulatedLink, tmp_path: Path
) -> None:
    """While the load balancer is held back, `EckOperatorOutputs` says on its row of `pulumi up`'s output what it
    waits for, the time elapsed and the limit (`waitTimeoutSeconds`); once the address comes, the row says the wait
    ended and the link converges."""
    before = cluster.objects(NAMESPACE)
    stack = stack_on(cluster, operator_env, tmp_path, "progress", operator_version="3.5.0", exposure="operator-service")
    service = f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-es-remote-cluster"
    result: list[Any] = []
    cluster.load_balancer_paused.set()
    try:
        thread = threading.Thread(target=lambda: result.append(stack.cli.up(check=False)))
        thread.start()
        wait_until(lambda: cluster.get(service) is not None, 120, "the operator's Service")
        time.sleep(FIRST_REPORT_SECONDS + 3)
    finally:
        cluster.load_balancer_paused.clear()
        thread.join()
    up = stack.record(result[0])
    assert up.returncode == 0, up.stdout + up.stderr
    rows = re.findall(
        r"eceeck:EckOperatorOutputs\s+\S+\s+creating \(\d+s\)\s+waiting for the ECK operator's objects in namespace "
        rf"'{NAMESPACE}': (\d+)s of 180s \(still missing: ([^)]*)\)",
        up.stdout,
    )
    assert rows, up.stdout
    assert all(int(elapsed) >= FIRST_REPORT_SECONDS for elapsed, _missing in rows)
    assert any("status.loadBalancer.ingress" in missing for _elapsed, missing in rows)
    assert re.search(
        r"eceeck:EckOperatorOutputs\s+\S+\s+created \(\d+s\)\s+waited \d+s for the ECK operator", up.stdout
    )
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    destroy_and_compare(stack, cluster, before)
