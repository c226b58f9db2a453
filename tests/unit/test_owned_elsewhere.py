"""`managed: false`: the live `Elasticsearch` resource is checked before anything is declared, and a resource that
cannot serve the link stops the program with the YAML its owner must add; one that can is only read."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from components import eck_spec
from components.program import run
from components.settings import EckCluster
from components.validation import SettingsError
from tests.support.configs import owned_elsewhere, program_config
from tests.support.pulumi_mocks import RecordingMocks, run_under_mocks
from tests.support.specs import SPECS
from tests.unit.test_settings import parse

CRD_35: dict[str, Any] = yaml.safe_load((SPECS / "eck-elasticsearch-crd.yaml").read_text())


def crd_without_service() -> dict[str, Any]:
    """The CRD as ECK 3.0 to 3.2 install it: `spec.remoteClusterServer` has `enabled` only."""
    crd = copy.deepcopy(CRD_35)
    [v1] = [version for version in crd["spec"]["versions"] if version["name"] == "v1"]
    remote = v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["remoteClusterServer"]
    del remote["properties"]["service"]
    return crd


def cluster(**overrides: Any) -> EckCluster:
    return parse(program_config(owned_elsewhere(**overrides))).eck_clusters[0]


def live(remote: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"version": "9.3.2", "nodeSets": [{"name": "default", "count": 3}]}
    if remote is not None:
        spec["remoteClusterServer"] = remote
    return {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch", "spec": spec}


LOAD_BALANCER = {
    "enabled": True,
    "service": {"spec": {"type": "LoadBalancer", "ports": [{"name": "rcs", "port": 9443, "targetPort": 9443}]}},
}
SERVICE_YAML = """spec:
  remoteClusterServer:
    enabled: true
    service:
      spec:
        type: LoadBalancer
        ports:
        - name: rcs
          port: 9443
          targetPort: 9443
          protocol: TCP
"""


def test_the_crd_of_eck_35_knows_the_service_and_that_of_32_does_not() -> None:
    assert eck_spec.crd_has_remote_cluster_service(CRD_35)
    assert not eck_spec.crd_has_remote_cluster_service(crd_without_service())


def test_a_disabled_remote_cluster_server_is_refused_with_the_exact_yaml() -> None:
    with pytest.raises(SettingsError) as raised:
        eck_spec.check_owner_manifest("eckClusters[0]", cluster(operatorVersion="3.2.0"), live(None), None)
    assert str(raised.value) == (
        "config 'eckClusters[0].managed': value false is invalid: the Elasticsearch resource elastic/quickstart is "
        "owned elsewhere and spec.remoteClusterServer.enabled is not true. Add this to its manifest and apply it:\n"
        "spec:\n  remoteClusterServer:\n    enabled: true\n"
    )


OR_OWN = " (or choose exposure 'own-service': this stack's own LoadBalancer Service)"


@pytest.mark.parametrize(
    ("remote", "key", "gaps"),
    [
        (
            {"enabled": False},
            "managed",
            ["spec.remoteClusterServer.enabled is not true", "service.spec.type is not LoadBalancer"],
        ),
        (
            {"enabled": True},
            "remoteClusterServer.exposure",
            ["service.spec.type is not LoadBalancer", "ports has no port 9443 with targetPort 9443"],
        ),
        (
            {"enabled": True, "service": {"spec": {"type": "LoadBalancer", "ports": [{"name": "rcs", "port": 9443}]}}},
            "remoteClusterServer.exposure",
            ["spec.remoteClusterServer.service.spec.ports has no port 9443 with targetPort 9443"],
        ),
    ],
)
def test_the_operators_service_must_be_the_load_balancer(remote: dict[str, Any], key: str, gaps: list[str]) -> None:
    with pytest.raises(SettingsError) as raised:
        eck_spec.check_owner_manifest("eckClusters[0]", cluster(), live(remote), CRD_35)
    message = str(raised.value)
    assert raised.value.key == f"eckClusters[0].{key}"
    assert all(gap in message for gap in gaps), message
    suggestion = "" if key == "managed" else OR_OWN
    assert message.endswith(f"Add this to its manifest and apply it{suggestion}:\n{SERVICE_YAML}"), message
    # what we ask for is what passes
    eck_spec.check_owner_manifest("eckClusters[0]", cluster(), yaml.safe_load(SERVICE_YAML), CRD_35)


def test_a_resource_that_has_what_the_link_needs_passes() -> None:
    eck_spec.check_owner_manifest("eckClusters[0]", cluster(), live(LOAD_BALANCER), CRD_35)
    eck_spec.check_owner_manifest("eckClusters[0]", cluster(), live(LOAD_BALANCER), None)  # CRD not readable
    own = cluster(remoteClusterServer={"exposure": "own-service"})
    eck_spec.check_owner_manifest("eckClusters[0]", own, live({"enabled": True}), crd_without_service())
    external = cluster(remoteClusterServer={"exposure": "external", "address": "rcs.example.com:443"})
    eck_spec.check_owner_manifest("eckClusters[0]", external, live({"enabled": True}), None)


def test_the_chosen_port_is_the_one_the_owner_must_expose() -> None:
    with pytest.raises(SettingsError, match="ports has no port 443 with targetPort 9443") as raised:
        eck_spec.check_owner_manifest(
            "eckClusters[0]", cluster(remoteClusterServer={"port": 443}), live(LOAD_BALANCER), None
        )
    assert "          port: 443\n          targetPort: 9443\n" in str(raised.value)


@pytest.mark.parametrize(
    ("ports", "passes"),
    [
        ([{"name": "rcs", "port": 443, "targetPort": 9443}], True),
        ([{"name": "rcs", "port": 443, "targetPort": 443}], False),  # forwards to a port nothing listens on
        ([{"name": "rcs", "port": 443}], False),  # Kubernetes makes targetPort the port: 443 again
        ([{"name": "rcs", "port": 9443, "targetPort": 9443}], False),  # not the port the link dials
    ],
)
def test_the_owners_service_must_forward_the_chosen_port_to_9443(ports: list[dict[str, Any]], passes: bool) -> None:
    """A chosen port (443) that differs from the remote cluster server's (9443), so that a check comparing the
    `targetPort` with the `port` shows."""
    chosen = cluster(remoteClusterServer={"port": 443})
    remote = {"enabled": True, "service": {"spec": {"type": "LoadBalancer", "ports": ports}}}
    if passes:
        eck_spec.check_owner_manifest("eckClusters[0]", chosen, live(remote), CRD_35)
        return
    with pytest.raises(SettingsError, match="ports has no port 443 with targetPort 9443"):
        eck_spec.check_owner_manifest("eckClusters[0]", chosen, live(remote), CRD_35)


def test_an_eck_older_than_33_cannot_give_the_operators_service() -> None:
    with pytest.raises(SettingsError) as raised:
        eck_spec.check_owner_manifest("eckClusters[0]", cluster(), live(LOAD_BALANCER), crd_without_service())
    assert str(raised.value) == (
        "config 'eckClusters[0].remoteClusterServer.exposure': value \"operator-service\" is invalid: the ECK installed "
        "on the cluster is older than 3.3.0 (its Elasticsearch CRD has no spec.remoteClusterServer.service): choose "
        "'own-service' (this stack's own LoadBalancer Service) or 'external'"
    )


def test_a_missing_resource_is_named() -> None:
    with pytest.raises(SettingsError, match="elastic/quickstart does not exist: with managed: false its owner creates"):
        eck_spec.check_owner_manifest("eckClusters[0]", cluster(), None, CRD_35)


# --- the whole program ----------------------------------------------------------------------------------------------


class FakeClient:
    """What `KubeClient` answers for the live resource and the CRD."""

    def __init__(self, resource: dict[str, Any] | None, definition: dict[str, Any] | None) -> None:
        self.resource, self.definition = resource, definition
        self.reads: list[tuple[str, ...]] = []

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.reads.append((kind, namespace, name))
        return self.resource

    def get_definition(self, name: str) -> dict[str, Any] | None:
        self.reads.append(("crd", name))
        return self.definition


def run_program(monkeypatch: pytest.MonkeyPatch, client: FakeClient, config: dict[str, Any]) -> RecordingMocks:
    monkeypatch.setattr("components.kube_api.KubeClient.from_kubeconfig", lambda context=None: client)
    mocks = RecordingMocks()
    run_under_mocks(run, mocks, config=config)
    return mocks


def test_a_bad_live_resource_stops_the_program_before_anything_is_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(live({"enabled": False}), CRD_35)
    mocks = RecordingMocks()
    monkeypatch.setattr("components.kube_api.KubeClient.from_kubeconfig", lambda context=None: client)
    with pytest.raises(SettingsError, match=re.escape("spec.remoteClusterServer.enabled is not true")):
        run_under_mocks(run, mocks, config=program_config(owned_elsewhere()))
    assert mocks.registered == []
    assert client.reads == [("elasticsearches", "elastic", "quickstart"), ("crd", eck_spec.ELASTICSEARCH_CRD)]


def test_a_good_live_resource_is_read_and_nothing_of_it_is_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(live(LOAD_BALANCER), CRD_35)
    mocks = run_program(monkeypatch, client, program_config(owned_elsewhere()))
    types = {record.typ for record in mocks.registered}
    assert types == {"eceeck:index:EckRemoteCluster", "pulumi-python:dynamic/eceeck:EckOperatorOutputs"}
    assert mocks.one("pulumi-python:dynamic/eceeck:EckOperatorOutputs").dependencies == ()


def test_our_own_service_in_front_of_a_cluster_owned_elsewhere_needs_the_kubernetes_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeClient(live({"enabled": True}), None)
    config = program_config(owned_elsewhere(remoteClusterServer={"exposure": "own-service"}))
    mocks = run_program(monkeypatch, client, config)
    assert client.reads == [("elasticsearches", "elastic", "quickstart")]  # no CRD needed for our own Service
    assert {r.typ for r in mocks.registered} >= {"pulumi:providers:kubernetes", "kubernetes:core/v1:Service"}
    assert not any(r.typ.startswith("kubernetes:elasticsearch") for r in mocks.registered)
    assert not any(r.typ == "eceeck:index:EckClusterProtection" for r in mocks.registered)
