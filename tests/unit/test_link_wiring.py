"""The whole program under mocks: each output reaches the right input, for one link, several links, and the split
between an ECK stack and an ECE stack wired by a StackReference."""

from __future__ import annotations

from typing import Any

import pytest

from components.program import run
from tests.support.certs import make_ca
from tests.support.configs import eck_cluster
from tests.support.pulumi_mocks import RecordingMocks, Registered, resolve, run_under_mocks, unwrap_secret

CA = make_ca("eck-transport-ca")
HTTP_CA = make_ca("eck-http-ca")
DEPLOYMENT_A = "a" * 32
DEPLOYMENT_B = "b" * 32
KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
KEY_ACCESS = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"
SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings"
CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck"
ROLE = "pulumi-python:dynamic/eceeck:RemoteRole"
WAIT = "pulumi-python:dynamic/eceeck:EckOperatorOutputs"


def fake_outputs(args: Any) -> dict[str, Any]:
    """What the providers would return: each key's encoded value names its resource, so wiring can be traced."""
    if args.typ == WAIT:
        return {
            "ca_certificate": CA.certificate_pem,
            "ingress_host": f"lb-{args.inputs['namespace']}.example.com",
            "elastic_password": "pw",
            "http_ca_certificate": HTTP_CA.certificate_pem,
        }
    if args.typ == KEY:
        return {"key_id": f"id-{args.name}", "encoded": f"encoded-{args.name}"}
    if args.typ == TRUST:
        return {
            "entries_state": {
                entry["name"]: {"uid": "u1", "trusted_certificates": entry["certificates"], "retiring_certificates": []}
                for entry in args.inputs["entries"]
            }
        }
    if args.typ == CHECK:
        return {"connected": True}
    if args.typ == "pulumi:pulumi:StackReference":
        return {
            "outputs": {
                "linkEnds": {
                    "logs": {
                        "caCertificate": CA.certificate_pem,
                        "address": "rcs.example.com:9443",
                        "serverName": "logs-es-remote-cluster.elastic.svc",
                        "keyId": "id-x",
                    }
                },
                "linkKeys": {"logs": "encoded-from-the-eck-stack"},
            }
        }
    return {}


def config(links: list[dict[str, Any]], clusters: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "eckClusters": clusters if clusters is not None else [eck_cluster(name="logs", namespace="elastic")],
        "ece": {"url": "https://ece.example.com:12443"},
        "eceDeployments": [
            {"name": "search", "id": DEPLOYMENT_A, "refId": "main-elasticsearch"},
            {"name": "ops", "id": DEPLOYMENT_B},
        ],
        "links": links,
        "secrets": {"ece": {"apiKey": "ece-key"}},
        **extra,
    }


def link(alias: str = "logs", cluster: str = "logs", deployment: str = "search", **extra: Any) -> dict[str, Any]:
    return {
        "alias": alias,
        "eckCluster": cluster,
        "eceDeployment": deployment,
        "access": {"search": [{"names": ["logs-*"]}]},
        **extra,
    }


def program(mocks: RecordingMocks, values: dict[str, Any]) -> None:
    run_under_mocks(run, mocks, config=values)


def by_name(mocks: RecordingMocks, typ: str, name: str) -> Registered:
    found = [r for r in mocks.by_type(typ) if r.name == name]
    assert len(found) == 1, [r.name for r in mocks.by_type(typ)]
    return found[0]


def test_one_link_chains_every_output_into_the_right_input() -> None:
    mocks = RecordingMocks(outputs=fake_outputs)
    program(
        mocks,
        config(
            [link(roles=[{"name": "logs-reader", "remoteIndices": [{"names": ["logs-*"], "privileges": ["read"]}]}])]
        ),
    )
    key = by_name(mocks, KEY, "search-logs-eck-api-key")
    access = by_name(mocks, KEY_ACCESS, "search-logs-eck-api-key-access")
    trust = by_name(mocks, TRUST, "search-trust")
    keystore = by_name(mocks, KEYSTORE, "search-logs-keystore")
    settings = by_name(mocks, SETTINGS, "search-logs-settings")
    check = by_name(mocks, CHECK, "search-logs-connection")
    role = by_name(mocks, ROLE, "search-logs-role-logs-reader")
    # one component per link: the ECK half is a child of the link
    half = mocks.one("eceeck:index:EckLinkEnd")
    assert half.parent.endswith("eceeck:index:RemoteClusterLink::search-logs")
    assert key.parent == half.urn
    # ECK side -> key: the key is made on the remote's HTTP API with the elastic password
    assert key.inputs["target"] == {
        "kind": "direct",
        "url": "https://logs-es-http.elastic.svc:9200",
        "ca_certificate": HTTP_CA.certificate_pem,
        "insecure": False,
    }
    # the remote's password is read from the operator's Secret when needed: a reference, no value
    assert key.inputs["credentials"] == {
        "from": "kubernetes-secret",
        "namespace": "elastic",
        "name": "logs-es-elastic-user",
        "key": "elastic",
        "username": "elastic",
    }
    assert key.inputs["name"] == "ece-eck-remote-test-search-logs"
    assert access.inputs["key_id"] == "search-logs-eck-api-key-id"  # the key resource's id, which is its key id
    # key -> keystore (secret), under the link's alias
    assert unwrap_secret(keystore.inputs["value"]) == ("encoded-search-logs-eck-api-key", True)
    assert keystore.inputs["alias"] == "logs" and keystore.inputs["deployment_id"] == DEPLOYMENT_A
    # CA -> trust, address and server name -> settings, same alias
    assert [entry["name"] for entry in trust.inputs["entries"]] == ["ece-eck-remote-logs"]
    assert trust.inputs["entries"][0]["certificates"] == [CA.certificate_pem]
    assert settings.inputs["alias"] == "logs"
    assert settings.inputs["proxy_address"] == "lb-elastic.example.com:9443"
    assert settings.inputs["server_name"] == "logs-es-remote-cluster.elastic.svc"
    assert (
        settings.inputs["target"]["url"]
        == f"https://ece.example.com:12443/api/v1/deployments/{DEPLOYMENT_A}/elasticsearch/main-elasticsearch/proxy"
        and settings.inputs["target"]["headers"] == {"X-Management-Request": "true"}
        and settings.inputs["target"]["name"] == f"ece:{DEPLOYMENT_A}/main-elasticsearch"
    )
    # the check runs last and expects exactly what was configured
    assert check.inputs["expected"]["proxy_address"] == "lb-elastic.example.com:9443"
    assert check.inputs["alias"] == "logs"
    assert settings.urn in check.dependencies and trust.urn in check.dependencies and keystore.urn in check.dependencies
    assert trust.urn in settings.dependencies and keystore.urn in settings.dependencies
    assert role.inputs["role"]["remote_indices"][0]["clusters"] == ["logs"]
    # no ECE credential is an input: a reference, resolved by the provider when it calls ECE
    for record in (trust, keystore, settings, check):
        assert (record.inputs.get("credentials") or record.inputs.get("ece_credentials")) == {"from": "ece"}


def exporting_run() -> dict[str, Any]:
    """Run the program and return what it passed to `pulumi.export`."""
    import pulumi

    captured: dict[str, Any] = {}
    original = pulumi.export
    pulumi.export = captured.__setitem__  # type: ignore[assignment]
    try:
        run()
    finally:
        pulumi.export = original
    return captured


def test_stack_outputs_per_link_keep_only_the_key_secret() -> None:
    mocks = RecordingMocks(outputs=fake_outputs)
    exports = run_under_mocks(exporting_run, mocks, config=config([link()]))
    outputs = exports["links"]["search-logs"]
    assert resolve(outputs["alias"]).value == "logs"
    assert resolve(outputs["proxyAddress"]).value == "lb-elastic.example.com:9443"
    assert resolve(outputs["serverName"]).value == "logs-es-remote-cluster.elastic.svc"
    fingerprint = resolve(outputs["caFingerprint"])
    assert fingerprint.value.count(":") == 31 and not fingerprint.secret
    connected = resolve(outputs["connected"])
    assert connected.value is True and not connected.secret
    encoded = resolve(outputs["encodedKey"])
    assert encoded.value == "encoded-search-logs-eck-api-key" and encoded.secret


def test_several_links_each_get_their_own_key_and_entries() -> None:
    clusters = [eck_cluster(name="logs", namespace="elastic"), eck_cluster(name="metrics", namespace="elastic")]
    links = [link("logs", "logs", "search"), link("metrics", "metrics", "search"), link("logs", "logs", "ops")]
    mocks = RecordingMocks(outputs=fake_outputs)
    program(mocks, config(links, clusters))
    keystores = {r.name: r for r in mocks.by_type(KEYSTORE)}
    assert set(keystores) == {"search-logs-keystore", "search-metrics-keystore", "ops-logs-keystore"}
    assert unwrap_secret(keystores["ops-logs-keystore"].inputs["value"])[0] == "encoded-ops-logs-eck-api-key"
    assert keystores["ops-logs-keystore"].inputs["deployment_id"] == DEPLOYMENT_B
    assert len(mocks.by_type(KEY)) == 3
    addresses = {r.name: r.inputs["proxy_address"] for r in mocks.by_type(SETTINGS)}
    assert addresses["search-metrics-settings"] == "lb-elastic.example.com:9443"
    assert len(mocks.by_type("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch")) == 2


def test_the_eck_stack_exports_what_the_ece_stack_needs_and_nothing_of_ece() -> None:
    mocks = RecordingMocks(outputs=fake_outputs)

    values = config(
        [{"alias": "logs", "eckCluster": "logs", "access": {"search": [{"names": ["logs-*"]}]}}], scope="eck"
    )
    values.pop("ece")
    exports = run_under_mocks(exporting_run, mocks, config=values)
    assert mocks.by_type(TRUST) == [] and mocks.by_type(KEYSTORE) == [] and mocks.by_type(SETTINGS) == []
    ends = resolve(exports["linkEnds"])
    assert ends.value == {
        "logs": {
            "caCertificate": CA.certificate_pem,
            "address": "lb-elastic.example.com:9443",
            "serverName": "logs-es-remote-cluster.elastic.svc",
            "keyId": "id-logs-eck-api-key",
        }
    }
    assert not ends.secret
    keys = resolve(exports["linkKeys"])
    assert keys.value == {"logs": "encoded-logs-eck-api-key"} and keys.secret


def test_the_ece_stack_wires_the_stack_reference_into_trust_keystore_and_settings() -> None:
    mocks = RecordingMocks(outputs=fake_outputs)
    values = config(
        [link("logs", "logs-prod", "search")], clusters=[], scope="ece", remoteStack="acme/ece-eck-remote/eck-prod"
    )
    program(mocks, values)
    reference = mocks.one("pulumi:pulumi:StackReference")
    assert reference.name == "acme/ece-eck-remote/eck-prod"
    assert mocks.by_type(KEY) == [] and mocks.by_type("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch") == []
    keystore = by_name(mocks, KEYSTORE, "search-logs-keystore")
    assert unwrap_secret(keystore.inputs["value"]) == ("encoded-from-the-eck-stack", True)
    assert by_name(mocks, TRUST, "search-trust").inputs["entries"][0]["certificates"] == [CA.certificate_pem]
    settings = by_name(mocks, SETTINGS, "search-logs-settings")
    assert settings.inputs["proxy_address"] == "rcs.example.com:9443"
    assert settings.inputs["server_name"] == "logs-es-remote-cluster.elastic.svc"


def test_a_publicly_trusted_remote_gets_no_trust_entry() -> None:
    mocks = RecordingMocks(outputs=fake_outputs)
    program(mocks, config([link()], [eck_cluster(name="logs", namespace="elastic", transportCa={"source": "none"})]))
    assert mocks.by_type(TRUST) == []
    assert by_name(mocks, CHECK, "search-logs-connection").inputs.get("trust") is None


@pytest.mark.parametrize("scope", ["both", "ece"])
def test_a_link_to_an_undeclared_deployment_is_refused_before_anything_is_declared(scope: str) -> None:
    mocks = RecordingMocks(outputs=fake_outputs)
    values = config(
        [link(deployment="nowhere")], **({"scope": "ece", "remoteStack": "o/p/s"} if scope == "ece" else {})
    )
    if scope == "ece":
        values["eckClusters"] = []
    with pytest.raises(Exception, match="eceDeployment"):
        program(mocks, values)
    assert mocks.registered == []


CA_TYPE = "pulumi-python:dynamic/eceeck:EceDeploymentCa"
ECE_CA = make_ca("ece-deployment-ca")


def certificate_outputs(args: Any) -> dict[str, Any]:
    if args.typ == CA_TYPE:
        return {"certificates": [ECE_CA.certificate_pem], "trust_restriction": "*.node.abc.cluster.env1.account"}
    return fake_outputs(args)


def test_the_certificate_model_chains_the_ece_ca_into_every_node_set_and_the_eck_ca_into_ece() -> None:
    mocks = RecordingMocks(outputs=certificate_outputs)
    cluster = eck_cluster(
        name="logs",
        namespace="elastic",
        securityModel="certificate",
        version="8.18.0",
        nodeSets=[{"name": "master", "count": 3, "config": {"node.roles": ["master"]}}, {"name": "data", "count": 2}],
        remoteClusterServer={"port": 30300},  # not 9300: a targetPort taken from the port would show
    )
    program(mocks, config([{"alias": "logs", "eckCluster": "logs", "eceDeployment": "search"}], [cluster]))
    assert mocks.by_type(KEY) == [] and mocks.by_type(KEYSTORE) == []
    ca = mocks.one(CA_TYPE)
    assert ca.inputs["deployment_id"] == DEPLOYMENT_A
    secrets = {r.inputs["metadata"]["name"]: r for r in mocks.by_type("kubernetes:core/v1:Secret")}
    assert unwrap_secret(secrets["logs-ece-ca"].inputs["stringData"])[0] == {
        "ece-search-ca.crt": ECE_CA.certificate_pem
    }
    config_map = mocks.one("kubernetes:core/v1:ConfigMap")
    trust_yml = config_map.inputs["data"]["trust.yml"]
    assert "*.node.logs.elastic.es.local" in trust_yml and "*.node.abc.cluster.env1.account" in trust_yml
    es = mocks.one("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch")
    assert "remoteClusterServer" not in es.inputs["spec"]
    assert es.inputs["spec"]["transport"]["service"]["spec"]["ports"] == [
        {"name": "tls-transport", "port": 30300, "targetPort": 9300, "protocol": "TCP"}
    ]
    for node_set in es.inputs["spec"]["nodeSets"]:
        cas = node_set["config"]["xpack.security.transport.ssl.certificate_authorities"]
        assert cas[:2] == [
            "/usr/share/elasticsearch/config/transport-certs/ca.crt",
            "/usr/share/elasticsearch/config/transport-remote-certs/ca.crt",
        ]
        assert cas[2] == "/usr/share/elasticsearch/config/other/ece-search-ca.crt"
        assert (
            node_set["config"]["xpack.security.transport.ssl.trust_restrictions.path"]
            == "/usr/share/elasticsearch/config/trust-filter/trust.yml"
        )
        mounts = node_set["podTemplate"]["spec"]["containers"][0]["volumeMounts"]
        assert {m["mountPath"] for m in mounts} == {
            "/usr/share/elasticsearch/config/other",
            "/usr/share/elasticsearch/config/trust-filter",
        }
        volumes = {v["name"]: v for v in node_set["podTemplate"]["spec"]["volumes"]}
        assert (
            volumes["ece-ca"]["secret"]["secretName"] == "logs-ece-ca"
            and volumes["ece-trust"]["configMap"]["name"] == "logs-ece-trust"
        )
    assert secrets["logs-ece-ca"].urn in es.dependencies and config_map.urn in es.dependencies
    assert es.inputs["spec"]["nodeSets"][0]["config"]["node.roles"] == ["master"]
    trust = by_name(mocks, TRUST, "search-trust").inputs["entries"][0]
    assert trust["model"] == "certificate" and trust["certificates"] == [CA.certificate_pem]
    assert trust["scope_id"] == "elastic.es.local"  # the namespace of ECK's node names, not `default`
    settings = by_name(mocks, SETTINGS, "search-logs-settings")
    assert settings.inputs["proxy_address"] == "lb-elastic.example.com:30300"
    assert settings.inputs["server_name"] == "logs-es-transport.elastic.svc"
    check = by_name(mocks, CHECK, "search-logs-connection")
    assert check.inputs["requires_credentials"] is False
    # the scope must let ECK's node names in (`*.elastic.es.local`); the check names one when it does not
    assert check.inputs["expected"]["node_names"] == ["logs-es-master-0.node.logs.elastic.es.local"]
    assert check.inputs["expected"]["node_names"][0].endswith("." + trust["scope_id"])
    wait = mocks.one(WAIT)
    assert wait.inputs["service"] == "logs-es-transport"


def test_the_certificate_model_is_refused_across_stacks() -> None:
    mocks = RecordingMocks(outputs=certificate_outputs)
    values = config(
        [{"alias": "logs", "eckCluster": "logs"}], [eck_cluster(name="logs", securityModel="certificate")], scope="eck"
    )
    values.pop("ece")
    with pytest.raises(Exception, match="needs scope 'both'"):
        program(mocks, values)
