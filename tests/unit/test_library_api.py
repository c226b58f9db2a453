"""The components as a library, under mocks: a program of its own builds a `RemoteClusterLink` from Outputs of other
resources (the deployment id, the CA, the address, the server name, the key's access), each reaching the right input
and making the consumer depend on the resource that produced it; in a preview where those Outputs are unknown the same
resources are declared; values given in clear work the same."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components import (
    EceApi,
    EckLinkEndArgs,
    ElasticsearchApi,
    RemoteClusterLink,
    RemoteClusterLinkArgs,
    RemoteEnd,
    Role,
    deployment_trust,
)
from components.dynamic import UNKNOWN
from tests.support.certs import make_ca
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret

CA = make_ca("remote-ca")
DEPLOYMENT = "d" * 32
OTHER = "test:index:Environment"
KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
KEY_ACCESS = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"
SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings"
ROLE = "pulumi-python:dynamic/eceeck:RemoteRole"
CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck"
RETIREMENT = "pulumi-python:dynamic/eceeck:EceTrustRetirement"
VALUES = {
    "deployment_id": DEPLOYMENT,
    "address": "rcs.example.com:9443",
    "server_name": "quickstart-es-remote-cluster.elastic.svc",
    "ca_certificate": CA.certificate_pem,
    "url": "https://quickstart.example.com:9200",
    "patterns": ["logs-*", "metrics-*"],
}


class Environment(pulumi.CustomResource):
    """Another resource of the user's program, whose outputs the link takes."""

    deployment_id: pulumi.Output[str]
    address: pulumi.Output[str]
    server_name: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    url: pulumi.Output[str]
    patterns: pulumi.Output[list[str]]

    def __init__(self, name: str) -> None:
        super().__init__(OTHER, name, dict.fromkeys(VALUES))


def outputs(unknown: bool) -> Any:
    def fake(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        if args.typ == OTHER:
            return {key: UNKNOWN for key in VALUES} if unknown else dict(VALUES)
        if args.typ == KEY:
            return {"key_id": "key-1", "encoded": "encoded-key-1"}
        if args.typ == CHECK:
            return {"connected": True}
        return {}

    return fake


def build_link() -> RemoteClusterLink:
    environment = Environment("environment")
    return RemoteClusterLink(
        "search-logs",
        RemoteClusterLinkArgs(
            alias="logs",
            ece=EceApi(url="https://ece.example.com:12443"),
            deployment_id=environment.deployment_id,
            ref_id="main-elasticsearch",
            eck=EckLinkEndArgs(
                address=environment.address,
                server_name=environment.server_name,
                ca_certificate=environment.ca_certificate,
                api=ElasticsearchApi(
                    url=environment.url, credentials=pulumi.Output.secret({"username": "elastic", "password": "pw"})
                ),
                access=environment.patterns.apply(lambda names: {"search": [{"names": names}]}),
            ),
            roles=[Role("logs-reader", {"remote_indices": [{"clusters": ["logs"], "names": ["logs-*"]}]})],
        ),
    )


def test_outputs_of_another_resource_reach_the_right_inputs_and_make_dependencies() -> None:
    mocks = RecordingMocks(outputs=outputs(unknown=False))
    link = run_under_mocks(build_link, mocks)
    environment = mocks.one(OTHER)
    key, trust, keystore = mocks.one(KEY), mocks.one(TRUST), mocks.one(KEYSTORE)
    settings, check, role = mocks.one(SETTINGS), mocks.one(CHECK), mocks.one(ROLE)
    assert key.inputs["target"] == {"kind": "direct", "url": VALUES["url"], "insecure": False}  # no CA: the system's
    assert unwrap_secret(key.inputs["credentials"]) == ({"username": "elastic", "password": "pw"}, True)
    assert key.inputs["access"] == {"search": [{"names": ["logs-*", "metrics-*"]}]}
    assert key.inputs["name"] == "ece-eck-remote-test-search-logs-eck"  # the default: stack and component name
    assert trust.inputs["entries"][0]["certificates"] == [CA.certificate_pem]
    assert trust.inputs["deployment_id"] == DEPLOYMENT
    assert trust.inputs["ece_credentials"] == {"from": "ece"}  # by default, a reference: no ECE credential in state
    assert keystore.inputs["deployment_id"] == DEPLOYMENT and keystore.inputs["ref_id"] == "main-elasticsearch"
    assert unwrap_secret(keystore.inputs["value"]) == ("encoded-key-1", True)
    assert settings.inputs["proxy_address"] == VALUES["address"]
    assert settings.inputs["server_name"] == VALUES["server_name"]
    assert settings.inputs["target"]["url"] == (
        f"https://ece.example.com:12443/api/v1/deployments/{DEPLOYMENT}/elasticsearch/main-elasticsearch/proxy"
    )
    assert check.inputs["expected"]["proxy_address"] == VALUES["address"]
    assert role.inputs["role"]["remote_indices"][0]["clusters"] == ["logs"]
    for consumer in (key, trust, keystore, settings, check, role):
        assert environment.urn in consumer.dependencies, consumer.name
    assert resolve(link.connected).value is True
    assert resolve(link.encoded_key).secret


def test_in_a_preview_with_unknown_outputs_the_same_resources_are_declared() -> None:
    known = RecordingMocks(outputs=outputs(unknown=False))
    run_under_mocks(build_link, known, preview=True)
    unknown = RecordingMocks(outputs=outputs(unknown=True))
    link = run_under_mocks(build_link, unknown, preview=True)
    assert sorted((r.typ, r.name) for r in unknown.registered) == sorted((r.typ, r.name) for r in known.registered)
    assert not resolve(link.server_name).known and not resolve(link.ca_fingerprint).known


def test_a_remote_end_given_as_values_and_publicly_trusted_gets_no_trust_entry() -> None:
    def build() -> RemoteClusterLink:
        return RemoteClusterLink(
            "search-logs",
            RemoteClusterLinkArgs(
                alias="logs",
                ece=EceApi(url="https://ece.example.com:12443", credentials={"api_key": "inline-key"}),
                deployment_id=DEPLOYMENT,
                end=RemoteEnd(address="rcs.example.com:443", server_name="rcs.example.com", encoded_key="encoded"),
            ),
        )

    mocks = RecordingMocks(outputs=outputs(unknown=False))
    run_under_mocks(build, mocks)
    assert mocks.by_type(TRUST) == [] and mocks.by_type(KEY) == []
    keystore = mocks.one(KEYSTORE)
    assert unwrap_secret(keystore.inputs["ece_credentials"]) == ({"api_key": "inline-key"}, True)
    assert keystore.inputs["ref_id"] == "_main"
    assert mocks.one(CHECK).inputs["expected"]["ca_fingerprints"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"alias": "Logs"}, "lowercase"),
        ({"end": None}, "either the ECK half"),
        ({"eck": EckLinkEndArgs(address="a:1", server_name="s")}, "needs the remote's `api` and `access`"),
    ],
)
def test_args_that_cannot_make_a_link_are_refused(args: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "alias": "logs",
        "ece": EceApi(url="https://ece.example.com:12443"),
        "deployment_id": DEPLOYMENT,
        "end": RemoteEnd(address="a:1", server_name="s"),
    }
    if "eck" in args:
        base["end"] = None

    def build() -> None:
        RemoteClusterLink("link", RemoteClusterLinkArgs(**{**base, **args}))

    with pytest.raises(ValueError, match=message):
        run_under_mocks(build, RecordingMocks())


def build_links_sharing_a_trust() -> list[RemoteClusterLink]:
    environment = Environment("environment")
    ece = EceApi(url="https://ece.example.com:12443")
    with deployment_trust("search-trust", ece, environment.deployment_id) as trust:
        return [
            RemoteClusterLink(
                f"search-{alias}",
                RemoteClusterLinkArgs(
                    alias=alias,
                    ece=ece,
                    deployment_id=environment.deployment_id,
                    end=RemoteEnd(
                        address=environment.address,
                        server_name=environment.server_name,
                        ca_certificate=environment.ca_certificate,
                        encoded_key=pulumi.Output.secret(f"encoded-{alias}"),
                    ),
                    trust=trust,
                ),
            )
            for alias in ("logs", "logs_2")
        ]


def test_links_sharing_a_deployments_trust_make_one_trust_resource_and_one_retirement_after_every_check() -> None:
    mocks = RecordingMocks(outputs=outputs(unknown=False))
    run_under_mocks(build_links_sharing_a_trust, mocks)
    trust, retirement = mocks.one(TRUST), mocks.one(RETIREMENT)
    assert trust.name == "search-trust" and retirement.name == "search-trust-retirement"
    assert [entry["name"] for entry in trust.inputs["entries"]] == ["ece-eck-remote-logs", "ece-eck-remote-logs_2"]
    assert all(entry["certificates"] == [CA.certificate_pem] for entry in trust.inputs["entries"])
    assert trust.inputs["deployment_id"] == DEPLOYMENT
    checks, settings = mocks.by_type(CHECK), mocks.by_type(SETTINGS)
    assert len(checks) == 2 and len(settings) == 2
    for resource in (*checks, *settings):
        assert trust.urn in resource.dependencies, resource.name  # every link's writes wait for the one trust
    assert {check.urn for check in checks} <= set(retirement.dependencies)  # the rotation ends after every check
    assert [link["entry_name"] for link in retirement.inputs["links"]] == [
        "ece-eck-remote-logs",
        "ece-eck-remote-logs_2",
    ]
    assert [link["confirm"]["alias"] for link in retirement.inputs["links"]] == ["logs", "logs_2"]


def test_a_trust_takes_no_entry_once_declared_and_no_alias_twice() -> None:
    def build() -> None:
        trust = deployment_trust("t", EceApi(url="https://ece.example.com:12443"), DEPLOYMENT)
        end = RemoteEnd(address="a:9443", server_name="s", ca_certificate=CA.certificate_pem, encoded_key="k")
        args = {"alias": "logs", "ece": EceApi(url="https://ece.example.com:12443"), "deployment_id": DEPLOYMENT}
        RemoteClusterLink("one", RemoteClusterLinkArgs(**args, end=end, trust=trust))
        with pytest.raises(ValueError, match="entry 'ece-eck-remote-logs' added twice"):
            RemoteClusterLink("two", RemoteClusterLinkArgs(**args, end=end, trust=trust))
        trust.declare()
        with pytest.raises(ValueError, match="added after the trust was declared"):
            RemoteClusterLink("three", RemoteClusterLinkArgs(**{**args, "alias": "metrics"}, end=end, trust=trust))
        other = {**args, "alias": "traces", "deployment_id": "other"}
        with pytest.raises(ValueError, match=r"is deployment d+'s, not other's"):
            RemoteClusterLink("four", RemoteClusterLinkArgs(**other, end=end, trust=trust))

    run_under_mocks(build, RecordingMocks(outputs=outputs(unknown=False)))
