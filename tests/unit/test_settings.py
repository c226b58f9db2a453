"""Settings: defaults, derived choices, and every rule failing with its own message before any resource."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.program import run
from components.settings import CaSource, Exposure, SecurityModel, Settings, load_settings
from components.validation import SettingsError
from tests.support.certs import make_ca, make_key
from tests.support.configs import eck_cluster, owned_elsewhere, program_config
from tests.support.pulumi_mocks import RecordingMocks, run_under_mocks
from tests.support.stacks import raw_getter, stack_config, stack_names, stack_project_dir, with_operator_secrets


def parse(config: dict[str, Any], project_dir: Path = Path(".")) -> Settings:
    return load_settings(raw_getter(config), project="ece-eck-remote", stack="test", project_dir=project_dir)


def test_defaults_are_filled_in() -> None:
    cluster = parse(program_config()).eck_clusters[0]
    assert cluster.namespace == "elastic"
    assert cluster.security_model is SecurityModel.API_KEY
    assert cluster.remote_cluster_server.exposure is Exposure.OPERATOR_SERVICE
    assert cluster.remote_cluster_server.port == 9443
    assert cluster.transport_ca.source is CaSource.ECK_MANAGED
    assert cluster.server_name == "quickstart-es-remote-cluster.elastic.svc"
    assert cluster.http.url == "https://quickstart-es-http.elastic.svc:9200"
    assert cluster.elastic_password is None
    assert (cluster.managed, cluster.protect, cluster.retain_on_delete) == (True, True, False)


def test_a_cluster_owned_elsewhere_takes_no_node_sets_and_keeps_nothing() -> None:
    cluster = parse(program_config(owned_elsewhere(remoteClusterServer={"exposure": "own-service"}))).eck_clusters[0]
    assert (cluster.managed, cluster.protect, cluster.retain_on_delete, cluster.node_sets) == (False, False, False, ())
    assert cluster.remote_cluster_server.exposure is Exposure.OWN_SERVICE


@pytest.mark.parametrize(
    ("operator", "expected"),
    [("3.3.0", Exposure.OPERATOR_SERVICE), ("3.2.1", Exposure.OWN_SERVICE), ("2.16.0", Exposure.OWN_SERVICE)],
)
def test_automatic_exposure_follows_the_eck_version(operator: str, expected: Exposure) -> None:
    cluster = parse(program_config(eck_cluster(operatorVersion=operator))).eck_clusters[0]
    assert cluster.remote_cluster_server.exposure is expected


@pytest.mark.parametrize(
    ("address", "written"),
    [
        ("lb.example.com", "lb.example.com:9443"),
        ("lb.example.com:443", "lb.example.com:443"),
        ("10.1.2.3:9443", "10.1.2.3:9443"),
        ("[2001:db8::1]:9443", "[2001:db8::1]:9443"),
        ("[2001:DB8:0::1]", "[2001:db8::1]:9443"),
        ("2001:db8::7", "[2001:db8::7]:9443"),
    ],
)
def test_external_addresses_are_normalised(address: str, written: str) -> None:
    cluster = eck_cluster(remoteClusterServer={"exposure": "external", "address": address})
    server = parse(program_config(cluster)).eck_clusters[0].remote_cluster_server
    assert str(server.address) == written


def test_ca_can_be_read_from_a_file(tmp_path: Path) -> None:
    ca = make_ca()
    (tmp_path / "ca.pem").write_text(ca.certificate_pem)
    cluster = eck_cluster(transportCa={"source": "supplied", "certificateFile": "ca.pem"})
    parsed = parse(program_config(cluster), tmp_path).eck_clusters[0]
    assert parsed.transport_ca.certificate == ca.certificate_pem


def test_secret_values_never_show_in_a_repr() -> None:
    ca = make_ca()
    config = program_config(
        eck_cluster(
            transportCa={"source": "user-managed", "certificate": ca.certificate_pem},
            remoteClusterServer={"exposure": "external", "address": "127.0.0.1:9443"},
        ),
        secrets={"eckClusters": {"quickstart": {"elasticPassword": "s3cr3t-pass", "transportCaKey": ca.key_pem}}},
        kubernetes={"renderYamlToDirectory": "out"},
    )
    cluster = parse(config).eck_clusters[0]
    assert cluster.elastic_password is not None and cluster.elastic_password.reveal() == "s3cr3t-pass"
    text = repr(cluster)
    assert "s3cr3t-pass" not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize("stack", stack_names())
def test_every_committed_stack_parses(stack: str, tmp_path: Path) -> None:
    settings = parse(with_operator_secrets(stack_config(stack)), stack_project_dir(tmp_path))
    assert settings.eck_clusters or settings.remote_stack


CA = make_ca()
OTHER = make_ca("other")
LEAF = make_ca("leaf", is_ca=False)
EXPIRED = make_ca("old", expired=True)

BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("cluster name too long", program_config(eck_cluster(name="a" * 37)), "eckClusters[0].name", "1 to 36 characters"),
    (
        "cluster name upper case",
        program_config(eck_cluster(name="QuickStart")),
        "eckClusters[0].name",
        "lowercase letters",
    ),
    (
        "namespace invalid",
        program_config(eck_cluster(namespace="Elastic_NS")),
        "eckClusters[0].namespace",
        "Kubernetes namespace",
    ),
    (
        "certificate model namespace too long for ECE's scope_id",
        program_config(eck_cluster(namespace="n" * 24, securityModel="certificate", version="8.18.0")),
        "eckClusters[0].namespace",
        "at most 32 characters: the namespace may have at most 23",
    ),
    (
        "nodeSet name too long",
        program_config(eck_cluster(nodeSets=[{"name": "n" * 24, "count": 1}])),
        "eckClusters[0].nodeSets[0].name",
        "must be 1 to 23 lowercase letters, digits and '-'",
    ),
    (
        "nodeSet name bad characters",
        program_config(eck_cluster(nodeSets=[{"name": "hot_nodes", "count": 1}])),
        "eckClusters[0].nodeSets[0].name",
        "a DNS-1123 label",
    ),
    (
        "nodeSet name upper case",
        program_config(eck_cluster(nodeSets=[{"name": "Hot", "count": 1}])),
        "eckClusters[0].nodeSets[0].name",
        "lowercase letters, digits and '-', starting and ending with a letter or digit",
    ),
    (
        "StatefulSet name too long for the Pods",
        program_config(eck_cluster(name="c" * 30, nodeSets=[{"name": "n" * 18, "count": 10}])),
        "eckClusters[0].nodeSets[0].name",
        "with count 10 ECK allows 50",
    ),
    (
        "nodeSet names repeated",
        program_config(eck_cluster(nodeSets=[{"name": "a", "count": 1}, {"name": "a", "count": 1}])),
        "eckClusters[0].nodeSets[1].name",
        "unique",
    ),
    (
        "no master-eligible nodeSet",
        program_config(eck_cluster(nodeSets=[{"name": "data", "count": 2, "config": {"node.roles": ["data"]}}])),
        "eckClusters[0].nodeSets",
        "master-eligible",
    ),
    ("version not semver", program_config(eck_cluster(version="9.3")), "eckClusters[0].version", "MAJOR.MINOR.PATCH"),
    ("API-key model below 8.14", program_config(eck_cluster(version="8.13.4")), "eckClusters[0].version", ">= 8.14.0"),
    (
        "remote cluster server below 8.10",
        program_config(eck_cluster(version="8.9.0")),
        "eckClusters[0].version",
        ">= 8.10.0",
    ),
    (
        "ECK too old",
        program_config(eck_cluster(operatorVersion="2.15.0")),
        "eckClusters[0].operatorVersion",
        "supported ECK versions",
    ),
    (
        "service override before ECK 3.3",
        program_config(eck_cluster(operatorVersion="3.2.0", remoteClusterServer={"exposure": "operator-service"})),
        "eckClusters[0].remoteClusterServer.exposure",
        "needs ECK >= 3.3.0",
    ),
    (
        "unknown exposure",
        program_config(eck_cluster(remoteClusterServer={"exposure": "nodeport"})),
        "eckClusters[0].remoteClusterServer.exposure",
        "must be one of",
    ),
    (
        "port zero",
        program_config(eck_cluster(remoteClusterServer={"port": 0})),
        "eckClusters[0].remoteClusterServer.port",
        "1 to 65535",
    ),
    (
        "port too large",
        program_config(eck_cluster(remoteClusterServer={"port": 65536})),
        "eckClusters[0].remoteClusterServer.port",
        "1 to 65535",
    ),
    (
        "port as text",
        program_config(eck_cluster(remoteClusterServer={"port": "9443"})),
        "eckClusters[0].remoteClusterServer.port",
        "an integer port",
    ),
    (
        "external without address",
        program_config(eck_cluster(remoteClusterServer={"exposure": "external"})),
        "eckClusters[0].remoteClusterServer.address",
        "needs the address",
    ),
    (
        "bad IPv4",
        program_config(eck_cluster(remoteClusterServer={"exposure": "external", "address": "10.0.300.1:9443"})),
        "eckClusters[0].remoteClusterServer.address",
        "not a valid IPv4",
    ),
    (
        "bad IPv6 brackets",
        program_config(eck_cluster(remoteClusterServer={"exposure": "external", "address": "[2001:db8::1:9443"})),
        "eckClusters[0].remoteClusterServer.address",
        "closing ']'",
    ),
    (
        "bad host name",
        program_config(eck_cluster(remoteClusterServer={"exposure": "external", "address": "-lb-.example.com"})),
        "eckClusters[0].remoteClusterServer.address",
        "DNS name",
    ),
    (
        "bad port in address",
        program_config(eck_cluster(remoteClusterServer={"exposure": "external", "address": "lb.example.com:http"})),
        "eckClusters[0].remoteClusterServer.address",
        "port must be a number",
    ),
    (
        "bad source range",
        program_config(eck_cluster(remoteClusterServer={"loadBalancerSourceRanges": ["10.0.0.1/8"]})),
        "eckClusters[0].remoteClusterServer.loadBalancerSourceRanges[0]",
        "CIDR",
    ),
    (
        "supplied CA is not PEM",
        program_config(eck_cluster(transportCa={"source": "supplied", "certificate": "not a pem"})),
        "eckClusters[0].transportCa.certificate",
        "no '-----BEGIN CERTIFICATE-----'",
    ),
    (
        "supplied CA is a leaf",
        program_config(eck_cluster(transportCa={"source": "supplied", "certificate": LEAF.certificate_pem})),
        "eckClusters[0].transportCa.certificate",
        "not a CA certificate",
    ),
    (
        "supplied CA expired",
        program_config(eck_cluster(transportCa={"source": "supplied", "certificate": EXPIRED.certificate_pem})),
        "eckClusters[0].transportCa.certificate",
        "expired on",
    ),
    (
        "user-managed CA without key",
        program_config(eck_cluster(transportCa={"source": "user-managed", "certificate": CA.certificate_pem})),
        "secrets.eckClusters.quickstart.transportCaKey",
        "needs the CA private key",
    ),
    (
        "user-managed CA with another key",
        program_config(
            eck_cluster(transportCa={"source": "user-managed", "certificate": CA.certificate_pem}),
            secrets={"eckClusters": {"quickstart": {"transportCaKey": make_key()}}},
        ),
        "secrets.eckClusters.quickstart.transportCaKey",
        "does not belong to the certificate",
    ),
    (
        "unknown setting",
        program_config(eck_cluster(remoteClusterServr={"port": 9443})),
        "eckClusters[0].remoteClusterServr",
        "not a known setting",
    ),
    (
        "unknown role key",
        program_config(
            links=[
                {
                    "alias": "logs",
                    "eckCluster": "quickstart",
                    "access": {"search": [{"names": ["a"]}]},
                    "roles": [{"name": "r", "remoteIndexes": []}],
                }
            ],
            scope="eck",
        ),
        "links[0].roles[0].remoteIndexes",
        "known: cluster, description, indices, metadata, name, remoteCluster, remoteIndices",
    ),
    (
        "trustRemoteCa outside scope ece",
        program_config(
            links=[
                {
                    "alias": "logs",
                    "eckCluster": "quickstart",
                    "access": {"search": [{"names": ["a"]}]},
                    "trustRemoteCa": False,
                }
            ],
            scope="eck",
        ),
        "links[0].trustRemoteCa",
        "only scope 'ece' sets it",
    ),
    (
        "unknown secret key",
        program_config(secrets={"eckClusters": {"quickstart": {"elasticPasword": "hidden-value"}}}),
        "secrets.eckClusters.quickstart.elasticPasword",
        "known: elasticPassword, transportCaKey",
    ),
    (
        "wait timeout zero",
        program_config(eck_cluster(waitTimeoutSeconds=0)),
        "eckClusters[0].waitTimeoutSeconds",
        "from 1 to 86400",
    ),
    ("duplicate clusters", program_config(eck_cluster(), eck_cluster()), "eckClusters[1].name", "unique in a stack"),
    (
        "elastic password with a cluster",
        program_config(secrets={"eckClusters": {"quickstart": {"elasticPassword": "long-enough-password"}}}),
        "secrets.eckClusters.quickstart.elasticPassword",
        "only for render mode",
    ),
    (
        "alias not lowercase",
        program_config(
            links=[{"alias": "Logs", "eckCluster": "quickstart", "access": {"search": [{"names": ["a"]}]}}], scope="eck"
        ),
        "links[0].alias",
        "lowercase letters, digits",
    ),
    (
        "render mode with operator CA",
        program_config(
            eck_cluster(remoteClusterServer={"exposure": "external", "address": "127.0.0.1:9443"}),
            kubernetes={"renderYamlToDirectory": "out"},
        ),
        "eckClusters[0].transportCa.source",
        "renderYamlToDirectory is set",
    ),
    (
        "server name not a DNS name",
        program_config(eck_cluster(serverName="bad name")),
        "eckClusters[0].serverName",
        "DNS name",
    ),
    (
        "certificate identity before Elasticsearch 9.3",
        program_config(
            eck_cluster(version="9.2.4"),
            links=[
                {
                    "alias": "logs",
                    "eckCluster": "quickstart",
                    "access": {"search": [{"names": ["a"]}]},
                    "certificateIdentity": "CN=local-.*",
                }
            ],
            scope="eck",
        ),
        "links[0].certificateIdentity",
        "needs Elasticsearch >= 9.3.0 on the remote (it runs 9.2.4)",
    ),
    ("protect not a boolean", program_config(eck_cluster(protect="yes")), "eckClusters[0].protect", "true or false"),
    (
        "owned elsewhere with nodeSets",
        program_config(eck_cluster(managed=False)),
        "eckClusters[0].nodeSets",
        "with managed: false the owner's manifest decides this",
    ),
    (
        "owned elsewhere and protected",
        program_config(owned_elsewhere(protect=True)),
        "eckClusters[0].protect",
        "a cluster with managed: false has no Elasticsearch resource in this stack: its owner protects it",
    ),
    (
        "owned elsewhere in the certificate model",
        program_config(owned_elsewhere(securityModel="certificate", version="8.18.0")),
        "eckClusters[0].securityModel",
        "mounts the ECE CA into every nodeSet, which only the resource's owner can do",
    ),
    (
        "owned elsewhere with a user-managed CA",
        program_config(
            owned_elsewhere(transportCa={"source": "user-managed", "certificate": CA.certificate_pem}),
            secrets={"eckClusters": {"quickstart": {"transportCaKey": CA.key_pem}}},
        ),
        "eckClusters[0].transportCa.source",
        "(spec.transport.tls.certificate); 'eck-managed' reads the CA the operator publishes",
    ),
    (
        "owned elsewhere with annotations for the operator's Service",
        program_config(owned_elsewhere(remoteClusterServer={"annotations": {"lb.example.com/internal": "true"}})),
        "eckClusters[0].remoteClusterServer.annotations",
        "(spec.remoteClusterServer.service), or use exposure 'own-service'",
    ),
    (
        "owned elsewhere in render mode",
        program_config(
            owned_elsewhere(
                remoteClusterServer={"exposure": "external", "address": "127.0.0.1:9443"},
                transportCa={"source": "none"},
            ),
            kubernetes={"renderYamlToDirectory": "out"},
        ),
        "eckClusters[0].managed",
        "kubernetes.renderYamlToDirectory is set (no cluster), but a cluster owned elsewhere is read live",
    ),
]


@pytest.mark.parametrize(("case", "config", "key", "rule"), BAD, ids=[case for case, *_ in BAD])
def test_bad_settings_fail_with_their_own_message(case: str, config: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse(config)
    message = str(raised.value)
    assert raised.value.key == key, message
    assert f"config '{key}'" in message
    assert rule in message, message


def test_bad_settings_table_is_large_and_every_message_is_distinct() -> None:
    messages = set()
    for _case, config, _key, _rule in BAD:
        with pytest.raises(SettingsError) as raised:
            parse(config)
        messages.add(str(raised.value))
    assert len(BAD) >= 15
    assert len(messages) == len(BAD)


@pytest.mark.parametrize(
    ("case", "config", "key", "rule"), BAD[:: max(1, len(BAD) // 8)], ids=[c for c, *_ in BAD[:: max(1, len(BAD) // 8)]]
)
def test_the_program_declares_nothing_when_a_setting_is_bad(
    case: str, config: dict[str, Any], key: str, rule: str
) -> None:
    mocks = RecordingMocks()
    with pytest.raises(SettingsError, match=re.escape(rule)):
        run_under_mocks(run, mocks, config=config)
    assert mocks.registered == []


def test_secret_values_stay_out_of_error_messages() -> None:
    config = program_config(secrets={"eckClusters": {"quickstart": {"elasticPassword": "abc"}}})
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert "abc" not in str(raised.value)
    assert str(raised.value) == (
        "config 'secrets.eckClusters.quickstart.elasticPassword': value (secret) is invalid: must be at least 6 characters"
    )


@pytest.mark.parametrize(
    ("version", "allowed"), [("8.19.21", False), ("9.2.4", False), ("9.3.0", True), ("9.3.2", True)]
)
def test_certificate_identity_follows_the_remote_version(version: str, allowed: bool) -> None:
    """Elasticsearch < 9.3 refuses the field outright (400 unknown field), so the settings refuse it first."""
    link = {"alias": "logs", "eckCluster": "quickstart", "access": {"search": [{"names": ["a"]}]}}
    config = program_config(eck_cluster(version=version), links=[{**link, "certificateIdentity": "CN=x"}], scope="eck")
    if allowed:
        assert parse(config).links[0].certificate_identity == "CN=x"
        return
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert str(raised.value) == (
        "config 'links[0].certificateIdentity': value \"CN=x\" is invalid: "
        f"needs Elasticsearch >= 9.3.0 on the remote (it runs {version})"
    )
    assert (
        parse(program_config(eck_cluster(version=version), links=[link], scope="eck")).links[0].certificate_identity
        is None
    )


def test_an_upper_case_node_set_name_is_refused_by_the_settings_before_anything_is_declared() -> None:
    """ECK's CRD pattern [a-zA-Z0-9-] lets 'Hot' through, but its webhook and Kubernetes refuse the StatefulSet."""
    config = program_config(eck_cluster(nodeSets=[{"name": "Hot", "count": 3}]))
    mocks = RecordingMocks()
    with pytest.raises(SettingsError) as raised:
        run_under_mocks(run, mocks, config=config)
    assert str(raised.value) == (
        "config 'eckClusters[0].nodeSets[0].name': value \"Hot\" is invalid: must be 1 to 23 lowercase letters, digits "
        "and '-', starting and ending with a letter or digit (ECK names the StatefulSet '<cluster>-es-<nodeSet>', "
        "a DNS-1123 label)"
    )
    assert mocks.registered == []


@pytest.mark.parametrize(
    ("cluster", "node_set", "count"), [("c" * 36, "n" * 11, 9), ("c" * 30, "n" * 17, 9), ("c" * 30, "n" * 16, 10)]
)
def test_the_longest_statefulset_names_eck_allows_are_accepted(cluster: str, node_set: str, count: int) -> None:
    """63 = `<cluster>-es-<nodeSet>` + '-' + ordinal digits + 10 (ECK's ValidateNames)."""
    config = program_config(eck_cluster(name=cluster, nodeSets=[{"name": node_set, "count": count}]))
    assert parse(config).eck_clusters[0].node_sets[0].name == node_set
    longer = program_config(eck_cluster(name=cluster, nodeSets=[{"name": node_set + "x", "count": count}]))
    with pytest.raises(SettingsError, match="the StatefulSet name"):
        parse(longer)


def ece_stack(**link: Any) -> dict[str, Any]:
    return {
        "eckClusters": [],
        "scope": "ece",
        "remoteStack": "acme/ece-eck-remote/eck-prod",
        "ece": {"url": "https://ece.example.com:12443"},
        "eceDeployments": [{"name": "search", "id": "a" * 32}],
        "links": [
            {
                "alias": "logs",
                "eckCluster": "logs",
                "eceDeployment": "search",
                "access": {"search": [{"names": ["logs-*"]}]},
                **link,
            }
        ],
        "secrets": {"ece": {"apiKey": "ece-key"}},
    }


@pytest.mark.parametrize(("given", "expected"), [({}, True), ({"trustRemoteCa": False}, False)])
def test_trust_remote_ca_is_read_in_scope_ece(given: dict[str, Any], expected: bool) -> None:
    assert parse(ece_stack(**given)).links[0].trust_remote_ca is expected


def test_trust_remote_ca_false_declares_no_trust_entry_in_scope_ece() -> None:
    """For an ECK stack whose transportCa.source is 'none' (publicly trusted): nothing to add to ECE's trust."""

    def outputs(args: Any) -> dict[str, Any]:
        if args.typ == "pulumi:pulumi:StackReference":
            end = {"caCertificate": None, "address": "rcs.example.com:443", "serverName": "rcs.example.com"}
            return {"outputs": {"linkEnds": {"logs": end}, "linkKeys": {"logs": "encoded"}}}
        return {}

    trusting, public = RecordingMocks(outputs=outputs), RecordingMocks(outputs=outputs)
    run_under_mocks(run, trusting, config=ece_stack())
    run_under_mocks(run, public, config=ece_stack(trustRemoteCa=False))
    trust = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
    assert len(trusting.by_type(trust)) == 1
    assert public.by_type(trust) == []


def test_trust_remote_ca_must_be_a_boolean() -> None:
    with pytest.raises(SettingsError) as raised:
        parse(ece_stack(trustRemoteCa="no"))
    assert str(raised.value) == "config 'links[0].trustRemoteCa': value \"no\" is invalid: must be true or false"


def test_a_link_without_expiration_makes_a_key_that_never_expires() -> None:
    """Elasticsearch's own default: no `expiration` in the create request, so the key does not expire."""
    link = {"alias": "logs", "eckCluster": "quickstart", "access": {"search": [{"names": ["a"]}]}}
    assert parse(program_config(links=[link], scope="eck")).links[0].expiration is None


def test_unknown_secret_keys_are_refused_without_showing_the_value() -> None:
    for secrets, key, nearest in (
        ({"ecce": {"apiKey": "hidden-1"}}, "secrets.ecce", "ece"),
        ({"ece": {"apikey": "hidden-2"}}, "secrets.ece.apikey", "apiKey"),
    ):
        config = {**ece_stack(), "secrets": secrets}
        with pytest.raises(SettingsError) as raised:
            parse(config)
        assert raised.value.key == key
        assert str(raised.value.problems[0]).startswith(
            f"config '{key}' is not a known setting; did you mean '{nearest}'?"
        )
        assert "hidden" not in str(raised.value)


@pytest.mark.parametrize("remote", ["", "acme//eck-prod"])
def test_scope_ece_needs_a_whole_stack_name(remote: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse({**ece_stack(), "remoteStack": remote})
    assert raised.value.key == "remoteStack"


def test_pulumi_yaml_defaults_of_ece_and_remote_stack_mean_not_set() -> None:
    """Pulumi.yaml gives every key a default (a declared key without one is required by the CLI)."""
    config = program_config(ece={}, remoteStack="", eceDeployments=[], links=[])
    settings = parse(config)
    assert settings.ece is None and settings.remote_stack is None
