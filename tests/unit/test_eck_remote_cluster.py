"""`EckRemoteCluster` under mocks: every exposure path and CA source, the objects it declares, and its outputs."""

from __future__ import annotations

from typing import Any

import pytest

from components.eck_remote_cluster import EckRemoteCluster, EckRemoteClusterArgs
from components.settings import EckCluster, KubernetesTarget
from tests.support.certs import make_ca
from tests.support.configs import eck_cluster, owned_elsewhere, program_config
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret
from tests.unit.test_settings import parse

ES_TYPE = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
SERVICE_TYPE = "kubernetes:core/v1:Service"
SECRET_TYPE = "kubernetes:core/v1:Secret"
WAIT_TYPE = "pulumi-python:dynamic/eceeck:EckOperatorOutputs"
COMPONENT_TYPE = "eceeck:index:EckRemoteCluster"

OPERATOR_CA = make_ca("eck-transport-ca")
HTTP_CA = make_ca("eck-http-ca")
USER_CA = make_ca("user-managed-ca")


def operator_publishes(ingress: str = "203.0.113.10") -> Any:
    def outputs(args: Any) -> dict[str, Any]:
        if args.typ != WAIT_TYPE:
            return {}
        return {
            "ca_certificate": OPERATOR_CA.certificate_pem if args.inputs.get("ca_secret") else None,
            "http_ca_certificate": HTTP_CA.certificate_pem if args.inputs.get("http_ca_secret") else None,
            "elastic_password": "operator-made-password" if args.inputs.get("password_secret") else None,
            "ingress_host": ingress if args.inputs.get("service") else None,
        }

    return outputs


def build(cluster: EckCluster, mocks: RecordingMocks, *, render_only: bool = False) -> dict[str, Any]:
    def program() -> dict[str, Any]:
        remote = EckRemoteCluster(
            cluster.name,
            EckRemoteClusterArgs(cluster=cluster, kubernetes=KubernetesTarget("out" if render_only else None)),
        )
        return {
            "ca": remote.ca_certificate,
            "address": remote.address,
            "server_name": remote.server_name,
            "http_url": remote.http_url,
            "http_ca": remote.http_ca_certificate,
        }

    outputs = run_under_mocks(program, mocks)
    return {key: resolve(value) for key, value in outputs.items()}


def settings_for(secrets: dict[str, Any] | None = None, *, render: bool = False, **overrides: Any) -> EckCluster:
    config = program_config(eck_cluster(**overrides))
    if secrets:
        config["secrets"] = {"eckClusters": {"quickstart": secrets}}
    if render:
        config["kubernetes"] = {"renderYamlToDirectory": "out"}
    return parse(config).eck_clusters[0]


def assert_children_of_component(mocks: RecordingMocks) -> None:
    """Every resource descends from the component (directly, or through `EckElasticsearch`)."""
    by_urn = {record.urn: record for record in mocks.registered}
    for record in mocks.registered:
        if record.typ == COMPONENT_TYPE:
            continue
        ancestors = []
        parent = by_urn.get(record.parent)
        while parent is not None:
            ancestors.append(parent.typ)
            parent = by_urn.get(parent.parent)
        assert COMPONENT_TYPE in ancestors, f"{record.name} is not a child of the component: {record.urn}"


def test_eck_33_exposes_9443_through_the_operators_service() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    cluster = settings_for(
        remoteClusterServer={
            "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
            "loadBalancerSourceRanges": ["10.0.0.0/8"],
            "port": 443,
        }
    )
    out = build(cluster, mocks)
    es = mocks.one(ES_TYPE)
    assert es.inputs["apiVersion"] == "elasticsearch.k8s.elastic.co/v1"
    assert es.inputs["metadata"]["name"] == "quickstart" and es.inputs["metadata"]["namespace"] == "elastic"
    remote = es.inputs["spec"]["remoteClusterServer"]
    assert remote["enabled"] is True
    service = remote["service"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [{"name": "rcs", "port": 443, "targetPort": 9443, "protocol": "TCP"}]
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert service["metadata"]["annotations"] == {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}
    assert mocks.by_type(SERVICE_TYPE) == []
    wait = mocks.one(WAIT_TYPE)
    assert wait.inputs["service"] == "quickstart-es-remote-cluster"
    assert wait.inputs["ca_secret"] == "quickstart-es-transport-certs-public"
    assert wait.inputs["password_secret"] == "quickstart-es-elastic-user"
    assert es.urn in wait.dependencies
    assert "elastic_password" in wait.additional_secret_outputs
    assert_children_of_component(mocks)
    assert out["address"].value == "203.0.113.10:443"
    assert out["ca"].value == OPERATOR_CA.certificate_pem
    assert out["server_name"].value == "quickstart-es-remote-cluster.elastic.svc"
    assert out["http_url"].value == "https://quickstart-es-http.elastic.svc:9200"
    assert out["http_ca"].value == HTTP_CA.certificate_pem
    assert "password" not in out and not hasattr(EckRemoteCluster, "elastic_password")  # read when needed


def test_eck_30_to_32_gets_our_own_load_balancer_service() -> None:
    mocks = RecordingMocks(outputs=operator_publishes("2001:db8::5"))
    out = build(
        settings_for(operatorVersion="3.2.0", remoteClusterServer={"port": 30443, "loadBalancerClass": "internal"}),
        mocks,
    )
    es = mocks.one(ES_TYPE)
    assert es.inputs["spec"]["remoteClusterServer"] == {"enabled": True}
    service = mocks.one(SERVICE_TYPE)
    assert service.inputs["metadata"]["name"] == "quickstart-es-remote-cluster-lb"
    assert service.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    spec = service.inputs["spec"]
    assert spec["type"] == "LoadBalancer" and spec["loadBalancerClass"] == "internal"
    assert spec["selector"] == {
        "elasticsearch.k8s.elastic.co/cluster-name": "quickstart",
        "common.k8s.elastic.co/type": "elasticsearch",
    }
    # the load balancer's port is the one chosen; it forwards to the remote cluster server's 9443 whatever that is
    assert spec["ports"] == [{"name": "rcs", "port": 30443, "targetPort": 9443, "protocol": "TCP"}]
    wait = mocks.one(WAIT_TYPE)
    assert wait.inputs["service"] == "quickstart-es-remote-cluster-lb"
    assert service.urn in wait.dependencies and es.urn in wait.dependencies
    assert_children_of_component(mocks)
    assert out["address"].value == "[2001:db8::5]:30443"


# Every load balancer path, with an external port that differs from the port the nodes listen on, so that a
# `targetPort` taken from `port` (or left out, which Kubernetes fills with `port`) shows.
EXPOSURES = {
    "operator's Service, API-key model": (
        {"operatorVersion": "3.5.0"},
        lambda m: m.one(ES_TYPE).inputs["spec"]["remoteClusterServer"]["service"]["spec"],
        ("rcs", 9443),
    ),
    "own Service, API-key model": (
        {"operatorVersion": "3.2.0"},
        lambda m: m.one(SERVICE_TYPE).inputs["spec"],
        ("rcs", 9443),
    ),
    "operator's Service, certificate model": (
        {"securityModel": "certificate", "version": "8.18.0"},
        lambda m: m.one(ES_TYPE).inputs["spec"]["transport"]["service"]["spec"],
        ("tls-transport", 9300),
    ),
    "own Service, certificate model": (
        {"securityModel": "certificate", "version": "8.18.0", "operatorVersion": "3.2.0"},
        lambda m: m.one(SERVICE_TYPE).inputs["spec"],
        ("tls-transport", 9300),
    ),
}


@pytest.mark.parametrize("exposure", list(EXPOSURES))
def test_the_load_balancer_port_is_the_chosen_one_and_the_target_port_the_nodes_one(exposure: str) -> None:
    overrides, service_spec, (name, target) = EXPOSURES[exposure]
    mocks = RecordingMocks(outputs=operator_publishes("203.0.113.10"))
    server: dict[str, Any] = {"port": 31234}
    if "own Service" in exposure:
        server["exposure"] = "own-service"
    out = build(settings_for(remoteClusterServer=server, **overrides), mocks)
    spec = service_spec(mocks)
    assert spec["type"] == "LoadBalancer"
    assert spec["ports"] == [{"name": name, "port": 31234, "targetPort": target, "protocol": "TCP"}]
    assert out["address"].value == "203.0.113.10:31234"  # what the local cluster dials: the load balancer's port


def test_external_address_needs_no_load_balancer() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    out = build(settings_for(remoteClusterServer={"exposure": "external", "address": "rcs.example.com:9443"}), mocks)
    assert mocks.by_type(SERVICE_TYPE) == []
    assert "service" not in mocks.one(ES_TYPE).inputs["spec"]["remoteClusterServer"]
    assert mocks.one(WAIT_TYPE).inputs.get("service") is None
    assert out["address"].value == "rcs.example.com:9443"


def test_a_fixed_address_overrides_the_load_balancer_status() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    out = build(settings_for(remoteClusterServer={"address": "10.9.8.7:9443"}), mocks)
    assert "service" in mocks.one(ES_TYPE).inputs["spec"]["remoteClusterServer"]
    assert mocks.one(WAIT_TYPE).inputs.get("service") is None
    assert out["address"].value == "10.9.8.7:9443"


def test_user_managed_transport_ca_is_a_secret_we_own_and_needs_no_wait_for_the_ca() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    cluster = settings_for(
        secrets={"transportCaKey": USER_CA.key_pem},
        transportCa={"source": "user-managed", "certificate": USER_CA.certificate_pem},
        remoteClusterServer={"exposure": "external", "address": "10.0.0.9"},
        http={"url": "https://es.example.com:9200"},
    )
    out = build(cluster, mocks)
    [ca_secret] = mocks.by_type(SECRET_TYPE)
    assert ca_secret.inputs["metadata"]["name"] == "quickstart-es-transport-ca-user"
    ca_data, ca_data_secret = unwrap_secret(ca_secret.inputs["stringData"])
    assert ca_data == {"ca.crt": USER_CA.certificate_pem, "ca.key": USER_CA.key_pem} and ca_data_secret
    assert "stringData" in ca_secret.additional_secret_outputs
    es = mocks.one(ES_TYPE)
    assert es.inputs["spec"]["transport"] == {"tls": {"certificate": {"secretName": "quickstart-es-transport-ca-user"}}}
    assert ca_secret.urn in es.dependencies
    wait = mocks.one(WAIT_TYPE)  # only the password is awaited
    assert wait.inputs.get("ca_secret") is None and wait.inputs["password_secret"] == "quickstart-es-elastic-user"
    assert out["ca"].value == USER_CA.certificate_pem
    assert out["http_ca"].value is None


def test_supplied_ca_for_tls_terminated_in_front() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    out = build(settings_for(transportCa={"source": "supplied", "certificate": USER_CA.certificate_pem}), mocks)
    wait = mocks.one(WAIT_TYPE)
    assert wait.inputs.get("ca_secret") is None
    assert "transport" not in mocks.one(ES_TYPE).inputs["spec"]
    assert out["ca"].value == USER_CA.certificate_pem


def test_no_ca_for_a_publicly_trusted_endpoint() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    out = build(settings_for(transportCa={"source": "none"}, serverName=""), mocks)
    assert mocks.one(WAIT_TYPE).inputs.get("ca_secret") is None
    assert out["ca"].value is None
    assert out["server_name"].value == ""


def test_render_mode_declares_manifests_only() -> None:
    mocks = RecordingMocks()
    cluster = settings_for(
        secrets={"elasticPassword": "local-password"},
        render=True,
        transportCa={"source": "supplied", "certificate": USER_CA.certificate_pem},
        remoteClusterServer={"exposure": "external", "address": "127.0.0.1:19443"},
        http={"url": "http://127.0.0.1:19200"},
    )
    out = build(cluster, mocks, render_only=True)
    assert mocks.by_type(WAIT_TYPE) == []
    assert out["address"].value == "127.0.0.1:19443"
    assert out["ca"].value == USER_CA.certificate_pem
    user_secret = mocks.one(SECRET_TYPE)
    assert user_secret.inputs["metadata"]["name"] == "quickstart-es-elastic-user"
    assert unwrap_secret(user_secret.inputs["stringData"]) == ({"elastic": "local-password"}, True)
    assert user_secret.inputs["metadata"]["labels"]["eck.k8s.elastic.co/credentials"] == "true"


@pytest.mark.parametrize("node_roles", [None, ["master", "data"]])
def test_node_sets_carry_count_config_and_pod_template(node_roles: list[str] | None) -> None:
    config = {"node.roles": node_roles} if node_roles else {"node.store.allow_mmap": False}
    template = {"spec": {"containers": [{"name": "elasticsearch", "resources": {"limits": {"memory": "4Gi"}}}]}}
    mocks = RecordingMocks(outputs=operator_publishes())
    build(settings_for(nodeSets=[{"name": "default", "count": 2, "config": config, "podTemplate": template}]), mocks)
    node_set = mocks.one(ES_TYPE).inputs["spec"]["nodeSets"][0]
    assert node_set == {"name": "default", "count": 2, "config": config, "podTemplate": template}
    assert mocks.one(ES_TYPE).inputs["spec"]["version"] == "9.3.2"


EE_TYPE = "eceeck:index:EckElasticsearch"


def test_the_clusters_own_objects_are_protected_and_keep_their_old_parent_by_alias() -> None:
    """`EckElasticsearch` holds the resource and what it mounts; they were children of `EckRemoteCluster` before."""
    mocks = RecordingMocks(outputs=operator_publishes())
    cluster = settings_for(
        secrets={"transportCaKey": USER_CA.key_pem},
        transportCa={"source": "user-managed", "certificate": USER_CA.certificate_pem},
    )
    build(cluster, mocks)
    component, owned = mocks.one(COMPONENT_TYPE), mocks.one(EE_TYPE)
    es, ca_secret = mocks.one(ES_TYPE), mocks.one(SECRET_TYPE)
    assert owned.parent == component.urn and owned.protect and not owned.retain_on_delete
    for record in (es, ca_secret):
        assert record.parent == owned.urn
        assert record.protect and not record.retain_on_delete
        assert record.aliases == (component.urn,)
    wait = mocks.one(WAIT_TYPE)
    assert not wait.protect and wait.parent == component.urn and es.urn in wait.dependencies


def test_an_unprotected_retained_cluster_and_our_service_after_it() -> None:
    mocks = RecordingMocks(outputs=operator_publishes())
    build(settings_for(operatorVersion="3.2.0", protect=False, retainOnDelete=True), mocks)
    es, service = mocks.one(ES_TYPE), mocks.one(SERVICE_TYPE)
    assert not es.protect and es.retain_on_delete and not mocks.one(EE_TYPE).protect
    # the Service is the link's exposure, not the cluster: neither protected nor retained, and registered after it
    assert not service.protect and not service.retain_on_delete
    assert es.urn in service.dependencies


def test_a_cluster_owned_elsewhere_is_only_read_and_may_get_our_own_service() -> None:
    mocks = RecordingMocks(outputs=operator_publishes("198.51.100.7"))
    config = program_config(owned_elsewhere(operatorVersion="3.2.0"))
    out = build(parse(config).eck_clusters[0], mocks)
    assert mocks.by_type(ES_TYPE) == [] and mocks.by_type(EE_TYPE) == [] and mocks.by_type(SECRET_TYPE) == []
    service, wait = mocks.one(SERVICE_TYPE), mocks.one(WAIT_TYPE)
    assert service.inputs["metadata"]["name"] == "quickstart-es-remote-cluster-lb"
    assert service.inputs["spec"]["selector"]["elasticsearch.k8s.elastic.co/cluster-name"] == "quickstart"
    assert service.dependencies == ()
    assert wait.dependencies == (service.urn,)
    assert wait.inputs["ca_secret"] == "quickstart-es-transport-certs-public"
    assert wait.inputs["password_secret"] == "quickstart-es-elastic-user"
    assert out["address"].value == "198.51.100.7:9443"
    assert out["ca"].value == OPERATOR_CA.certificate_pem
