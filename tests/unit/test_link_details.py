"""A `RemoteClusterLink` built as a library, under mocks, with every option set: each option reaches the input of the
resource that acts on it (the key, its access, the trust, the keystore, the settings, the roles, the check, the end of
a CA rotation), with the exact value and secrecy, and each resource waits for what it must. The providers that run the
check and the retirement get the ECE side they need; the components record their outputs in state."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, cast

import dill  # type: ignore[import-untyped]
import pulumi
import pytest
from pulumi.runtime import rpc

from components.ece.client import proxy_target
from components.ece.local_side import EceLocalSide
from components.elasticsearch.connection_check import LinkConfirmation
from components.link import (
    CertificateTrust,
    EceApi,
    EckLinkEndArgs,
    ElasticsearchApi,
    RemoteClusterLink,
    RemoteClusterLinkArgs,
    RemoteEnd,
    deployment_trust,
)
from components.pem import fingerprint
from components.settings.model import Adoption, Role
from tests.support import pulumi_mocks
from tests.support.certs import make_ca
from tests.support.pulumi_mocks import RecordingMocks, Registered, resolve, run_under_mocks, unwrap_secret

REMOTE_CA = make_ca("remote-transport-ca")
ECE_CA = make_ca("ece-api-ca")
HTTP_CA = make_ca("remote-http-ca")
DEPLOYMENT = "d" * 32
ECE_URL = "https://ece.example.com:12443"
ES_URL = "https://quickstart-es-http.elastic.svc:9200"
ADDRESS = "rcs.example.com:9443"
SERVER_NAME = "quickstart-es-remote-cluster.elastic.svc"
ECE_SECRET = {"api_key": "ece-inline-key"}
ES_SECRET = {"username": "elastic", "password": "es-pw"}
ACCESS = {"search": [{"names": ["logs-*"]}]}
ROLE_BODY = {"remote_indices": [{"clusters": ["logs"], "names": ["logs-*"], "privileges": ["read"]}]}

KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
KEY_ACCESS = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
RETIREMENT = "pulumi-python:dynamic/eceeck:EceTrustRetirement"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"
SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings"
ROLE = "pulumi-python:dynamic/eceeck:RemoteRole"
CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck"
LINK = "eceeck:index:RemoteClusterLink"
HALF = "eceeck:index:EckLinkEnd"
OTHER = "test:index:Cluster"
HOLDER = "test:index:Holder"

ECE_PROPS = {"url": ECE_URL, "region": "ece-region-1", "ca_certificate": ECE_CA.certificate_pem, "insecure": True}
LOCAL_TARGET = proxy_target(ECE_PROPS, DEPLOYMENT, "main-elasticsearch")
"""The deployment's Elasticsearch through ECE's proxy, on the ECE API as given (its CA, TLS choice)."""
REMOTE_TARGET = {"kind": "direct", "url": ES_URL, "ca_certificate": HTTP_CA.certificate_pem, "insecure": True}


class Cluster(pulumi.CustomResource):
    """A resource of the user's program the key must wait for (the remote cluster it is made on)."""

    def __init__(self, name: str) -> None:
        super().__init__(OTHER, name, {})


class Holder(pulumi.ComponentResource):
    """A component of the user's program that the link is declared under."""

    def __init__(self, name: str) -> None:
        super().__init__(HOLDER, name, None, None)


@dataclass
class OutputsMocks(RecordingMocks):
    """Also records what each component registers as its outputs (kept in state), by URN."""

    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


class OutputsMonitor(pulumi_mocks.RecordingMonitor):
    def RegisterResourceOutputs(self, request: Any) -> Any:
        if isinstance(self.mocks, OutputsMocks):
            self.mocks.component_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


@pytest.fixture(autouse=True)
def monitor_recording_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_under_mocks` makes its monitor from this name: the one that also records the components' outputs."""
    monkeypatch.setattr(pulumi_mocks, "RecordingMonitor", OutputsMonitor)


def fake_outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    if args.typ == KEY:
        return {"key_id": "key-1", "encoded": "encoded-key-1", "grants_hash": "grants-1", "expires_at": 1_900_000_000}
    if args.typ == TRUST:
        return {"entries_state": {}}
    if args.typ == CHECK:
        return {"connected": True}
    return {}


def ece_api() -> EceApi:
    return EceApi(
        url=ECE_URL,
        region="ece-region-1",
        ca_certificate=ECE_CA.certificate_pem,
        insecure=True,
        plan_timeout_seconds=1234,
        credentials=ECE_SECRET,
    )


def eck_args(**changes: Any) -> EckLinkEndArgs:
    values: dict[str, Any] = {
        "address": ADDRESS,
        "server_name": SERVER_NAME,
        "ca_certificate": REMOTE_CA.certificate_pem,
        "api": ElasticsearchApi(
            url=ES_URL, credentials=ES_SECRET, ca_certificate=HTTP_CA.certificate_pem, insecure=True
        ),
        "access": ACCESS,
        **changes,
    }
    return EckLinkEndArgs(**values)


def link_args(**changes: Any) -> RemoteClusterLinkArgs:
    values: dict[str, Any] = {
        "alias": "logs",
        "ece": ece_api(),
        "deployment_id": DEPLOYMENT,
        "ref_id": "main-elasticsearch",
        "eck": eck_args(),
        "proxy_socket_connections": 7,
        "skip_unavailable": True,
        "roles": [Role("logs-reader", ROLE_BODY)],
        "connection_timeout_seconds": 77,
        **changes,
    }
    return RemoteClusterLinkArgs(**values)


@dataclass
class Built:
    mocks: OutputsMocks
    link: RemoteClusterLink

    def one(self, typ: str) -> Registered:
        return self.mocks.one(typ)


def build(args: RemoteClusterLinkArgs | None = None) -> Built:
    mocks = OutputsMocks(outputs=fake_outputs)
    link = run_under_mocks(lambda: RemoteClusterLink("search-logs", args or link_args()), mocks)
    return Built(mocks, link)


def provider_of(record: Registered) -> Any:
    """The dynamic provider as the engine gets it back from the resource's inputs."""
    return dill.loads(base64.b64decode(unwrap_secret(record.inputs["__provider"])[0]))  # noqa: S301


def expected_of(fingerprints: list[str]) -> dict[str, Any]:
    return {"proxy_address": ADDRESS, "server_name": SERVER_NAME, "ca_fingerprints": fingerprints}


# --- the ECE API --------------------------------------------------------------------------------------------------


def test_the_ece_connection_carries_the_url_region_ca_and_tls_choice_as_given() -> None:
    props = run_under_mocks(lambda: ece_api().props(), RecordingMocks())
    assert resolve(props).value == ECE_PROPS


# --- the ECK half -------------------------------------------------------------------------------------------------


def test_every_key_option_reaches_the_key_and_its_access_and_the_key_waits_for_the_cluster() -> None:
    mocks = OutputsMocks(outputs=fake_outputs)

    def program() -> RemoteClusterLink:
        cluster = Cluster("remote-cluster")
        options = {
            "expiration": "90d",
            "metadata": {"team": "search"},
            "certificate_identity": "CN=ece-node",
            "rotation": "2026-11",
        }
        eck = eck_args(
            key_name="logs-key", ready_timeout_seconds=42, adopt_key_id="hand-made", depends_on=[cluster], **options
        )
        return RemoteClusterLink("search-logs", link_args(eck=eck))

    run_under_mocks(program, mocks)
    key, access = mocks.one(KEY), mocks.one(KEY_ACCESS)
    shared = {"access": ACCESS, "expiration": "90d", "metadata": {"team": "search"}, "rotation": "2026-11"}
    assert {name: key.inputs.get(name) for name in (*shared, "certificate_identity")} == {
        **shared,
        "certificate_identity": "CN=ece-node",
    }
    assert key.inputs["name"] == "logs-key"
    assert key.inputs["ready_timeout_seconds"] == 42
    assert key.inputs["adopt_key_id"] == "hand-made"
    assert key.inputs["target"] == REMOTE_TARGET
    assert mocks.one(OTHER).urn in key.dependencies
    # the access resource acts on the same key, with the same grants, on the same API
    assert {name: access.inputs.get(name) for name in (*shared, "certificate_identity")} == {
        **shared,
        "certificate_identity": "CN=ece-node",
    }
    assert access.inputs["target"] == REMOTE_TARGET
    assert unwrap_secret(access.inputs["credentials"]) == (ES_SECRET, True)
    assert access.inputs["key_id"] == "search-logs-eck-api-key-id"
    assert access.inputs["key_grants_hash"] == "grants-1"
    assert access.inputs["key_expires_at"] == 1_900_000_000


def test_the_eck_half_records_its_address_server_name_and_key_in_state() -> None:
    built = build()
    half = built.one(HALF)
    outputs = built.mocks.component_outputs[half.urn]
    # values only: the key's `encoded` is made secret by the engine (additional_secret_outputs), not by the mocks
    assert {name: unwrap_secret(value)[0] for name, value in outputs.items()} == {
        "address": ADDRESS,
        "serverName": SERVER_NAME,
        "keyId": "key-1",
        "encodedKey": "encoded-key-1",
    }


@pytest.mark.parametrize(
    ("api", "access"),
    [
        (None, ACCESS),
        (ElasticsearchApi(url=ES_URL, credentials=ES_SECRET), None),
        (ElasticsearchApi(url=ES_URL, credentials=cast(Any, None)), ACCESS),
    ],
    ids=["no-api", "no-access", "no-credentials"],
)
def test_a_key_that_cannot_be_made_is_refused_with_what_it_needs(api: ElasticsearchApi | None, access: Any) -> None:
    """The API-key model needs the remote's API, credentials on it, and the key's access: anything missing is refused
    before any resource is declared."""
    mocks = OutputsMocks(outputs=fake_outputs)
    with pytest.raises(
        ValueError, match=r"^search-logs-eck: making the cross-cluster API key needs the remote's `api` and `access`$"
    ):
        run_under_mocks(
            lambda: RemoteClusterLink("search-logs", link_args(eck=eck_args(api=api, access=access))), mocks
        )
    assert mocks.by_type(KEY) == []


# --- the link's arguments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("both", [True, False])
def test_a_link_with_both_halves_or_none_is_refused_with_the_choice_to_make(both: bool) -> None:
    end = RemoteEnd(address=ADDRESS, server_name=SERVER_NAME) if both else None
    with pytest.raises(
        ValueError,
        match=r"^a RemoteClusterLink takes either the ECK half to make \(eck\) or one made elsewhere \(end\)$",
    ):
        run_under_mocks(
            lambda: RemoteClusterLink("l", link_args(eck=eck_args() if both else None, end=end)), OutputsMocks()
        )


def test_the_link_is_declared_under_the_parent_it_is_given_and_records_its_outputs() -> None:
    mocks = OutputsMocks(outputs=fake_outputs)

    def program() -> RemoteClusterLink:
        holder = Holder("environment")
        return RemoteClusterLink("search-logs", link_args(), pulumi.ResourceOptions(parent=holder))

    run_under_mocks(program, mocks)
    link = mocks.one(LINK)
    assert link.parent == mocks.one(HOLDER).urn
    outputs = mocks.component_outputs[link.urn]
    fingerprints = [fingerprint(REMOTE_CA.certificate_pem)]
    assert {name: unwrap_secret(value) for name, value in outputs.items()} == {
        "alias": ("logs", False),
        "proxyAddress": (ADDRESS, False),
        "serverName": (SERVER_NAME, False),
        "caFingerprint": (fingerprints[0], False),
        "connected": (True, False),
        "encodedKey": ("encoded-key-1", True),
    }


# --- trust, keystore, settings, roles -----------------------------------------------------------------------------


def test_a_link_of_its_own_trust_writes_its_entry_with_the_ece_connection_under_the_link() -> None:
    built = build()
    trust, link = built.one(TRUST), built.one(LINK)
    assert trust.name == "search-logs-trust" and trust.parent == link.urn
    assert trust.inputs["ece"] == ECE_PROPS
    assert unwrap_secret(trust.inputs["ece_credentials"]) == (ECE_SECRET, True)
    assert trust.inputs["deployment_id"] == DEPLOYMENT and trust.inputs["ref_id"] == "main-elasticsearch"
    assert trust.inputs["plan_timeout_seconds"] == 1234
    assert trust.inputs["entries"] == [
        {
            "name": "ece-eck-remote-logs",
            "certificates": [REMOTE_CA.certificate_pem],
            "model": "api-key",
        }
    ]  # no scope (the certificate model's), no entry to adopt: left out
    assert built.mocks.one(KEY).urn not in trust.dependencies  # a key made here is not read before the trust


def test_a_trust_shared_by_links_carries_the_ece_connection_and_the_options_it_is_given() -> None:
    mocks = OutputsMocks(outputs=fake_outputs)

    def program() -> None:
        holder = Holder("environment")
        with deployment_trust(
            "search-trust", ece_api(), DEPLOYMENT, "main-elasticsearch", pulumi.ResourceOptions(parent=holder)
        ) as trust:
            RemoteClusterLink("search-logs", link_args(trust=trust))

    run_under_mocks(program, mocks)
    trust = mocks.one(TRUST)
    assert trust.name == "search-trust" and trust.parent == mocks.one(HOLDER).urn
    assert trust.inputs["ece"] == ECE_PROPS
    assert unwrap_secret(trust.inputs["ece_credentials"]) == (ECE_SECRET, True)
    assert trust.inputs["ref_id"] == "main-elasticsearch" and trust.inputs["plan_timeout_seconds"] == 1234
    assert mocks.one(RETIREMENT).parent == mocks.one(HOLDER).urn


def test_an_adopted_setup_is_taken_over_after_the_adopted_key_is_checked() -> None:
    """An adopted key is read (checked) before the trust, the keystore and the settings take over what was made by
    hand; the trust entry, the keystore entry and the alias are adopted, not created."""
    built = build(link_args(adopt=Adoption(trust_entry="hand-made-entry", api_key_id="hand-made-key", alias=True)))
    key = built.one(KEY)
    trust, keystore, settings = built.one(TRUST), built.one(KEYSTORE), built.one(SETTINGS)
    assert key.inputs.get("adopt_key_id") is None  # the link's adoption is of the ECE side; the half's is its own
    assert trust.inputs["entries"][0]["adopt_entry"] == "hand-made-entry"
    assert keystore.inputs["adopt"] is True
    assert settings.inputs["adopt_alias"] is True
    for resource in (trust, keystore, settings):
        assert key.urn in resource.dependencies, resource.name


def test_without_adoption_nothing_is_taken_over_and_the_settings_do_not_wait_for_the_key() -> None:
    built = build()
    keystore, settings = built.one(KEYSTORE), built.one(SETTINGS)
    assert keystore.inputs["adopt"] is False
    assert settings.inputs["adopt_alias"] is False
    assert built.one(KEY).urn not in settings.dependencies
    assert {built.one(TRUST).urn, keystore.urn} <= set(settings.dependencies)


def test_the_keystore_gets_the_key_with_the_ece_connection_and_its_plan_timeout() -> None:
    keystore = build().one(KEYSTORE)
    assert keystore.inputs["ece"] == ECE_PROPS
    assert unwrap_secret(keystore.inputs["ece_credentials"]) == (ECE_SECRET, True)
    assert keystore.inputs["plan_timeout_seconds"] == 1234
    assert keystore.inputs["alias"] == "logs" and keystore.inputs["ref_id"] == "main-elasticsearch"
    assert unwrap_secret(keystore.inputs["value"]) == ("encoded-key-1", True)


def test_an_end_without_a_key_writes_an_empty_secret_to_the_keystore() -> None:
    """An end whose key is not known here (adopted, its secret unreadable) writes no value of its own: ''."""
    end = RemoteEnd(address=ADDRESS, server_name=SERVER_NAME)
    keystore = build(link_args(eck=None, end=end)).one(KEYSTORE)
    assert unwrap_secret(keystore.inputs["value"]) == ("", True)


def test_the_settings_get_the_socket_count_and_skip_unavailable_as_given() -> None:
    settings = build().one(SETTINGS)
    assert settings.inputs["proxy_socket_connections"] == 7
    assert settings.inputs["skip_unavailable"] is True
    assert settings.inputs["target"] == LOCAL_TARGET


def test_roles_are_made_under_the_link_with_the_ece_credentials_after_the_settings() -> None:
    built = build()
    role, settings, link = built.one(ROLE), built.one(SETTINGS), built.one(LINK)
    assert role.name == "search-logs-role-logs-reader"
    assert role.inputs["role_name"] == "logs-reader" and role.inputs["role"] == ROLE_BODY
    assert role.inputs["target"] == LOCAL_TARGET
    assert unwrap_secret(role.inputs["credentials"]) == (ECE_SECRET, True)
    assert role.parent == link.urn
    assert settings.urn in role.dependencies


# --- the connection check and the end of a rotation ---------------------------------------------------------------


def test_the_check_expects_the_address_server_name_and_ca_and_knows_the_trust_and_the_remote() -> None:
    built = build()
    check = built.one(CHECK)
    assert check.inputs["target"] == LOCAL_TARGET
    assert check.inputs["timeout_seconds"] == 77
    assert check.inputs["requires_credentials"] is True
    assert check.inputs["expected"] == expected_of([fingerprint(REMOTE_CA.certificate_pem)])
    assert unwrap_secret(check.inputs["trust"]) == (
        {
            "ece": ECE_PROPS,
            "ece_credentials": ECE_SECRET,
            "deployment_id": DEPLOYMENT,
            "ref_id": "main-elasticsearch",
            "entry_name": "ece-eck-remote-logs",
            "plan_timeout_seconds": 1234,
        },
        True,
    )
    assert unwrap_secret(check.inputs["remote"]) == (
        {"target": REMOTE_TARGET, "credentials": ES_SECRET, "key_id": "key-1"},
        True,
    )
    assert isinstance(provider_of(check).local, EceLocalSide)  # it can read the ECE side to explain a failure


def test_a_publicly_trusted_end_made_elsewhere_gets_a_check_without_trust_or_remote() -> None:
    end = RemoteEnd(address=ADDRESS, server_name=SERVER_NAME, encoded_key="encoded-elsewhere")
    built = build(link_args(eck=None, end=end))
    check = built.one(CHECK)
    assert built.mocks.by_type(TRUST) == [] and built.mocks.by_type(RETIREMENT) == []
    assert check.inputs.get("trust") is None and check.inputs.get("remote") is None
    assert provider_of(check).local is None
    assert check.inputs["expected"] == expected_of([])


def test_the_end_of_a_rotation_confirms_the_link_with_what_the_check_was_given() -> None:
    built = build()
    retirement, check = built.one(RETIREMENT), built.one(CHECK)
    links, secret = unwrap_secret(retirement.inputs["links"])
    assert secret  # what confirms a link holds the ECE credentials
    [link] = links
    assert link["entry_name"] == "ece-eck-remote-logs"
    assert link["confirm"] == {
        "target": LOCAL_TARGET,
        "credentials": ECE_SECRET,
        "alias": "logs",
        "expected": expected_of([fingerprint(REMOTE_CA.certificate_pem)]),
        "requires_credentials": True,
        "timeout_seconds": 77,
    }
    assert check.urn in retirement.dependencies
    assert isinstance(provider_of(retirement).confirmer, LinkConfirmation)


# --- the TLS-certificate model ------------------------------------------------------------------------------------


def certificate_args(api: ElasticsearchApi | None) -> RemoteClusterLinkArgs:
    trust = CertificateTrust(scope_id="elastic.es.local", node_names=("quickstart-es-default-0.node",))
    return link_args(eck=eck_args(api=api, access=None, certificate_trust=trust))


def test_the_certificate_model_makes_no_key_nor_keystore_entry_and_trusts_the_nodes() -> None:
    built = build(certificate_args(api=None))
    half = built.link.remote_half
    assert half is not None and half.api_key is None and half.api_key_access is None
    assert built.link.keystore is None
    assert built.mocks.by_type(KEY) == [] and built.mocks.by_type(KEYSTORE) == []
    entry = built.one(TRUST).inputs["entries"][0]
    assert (entry["model"], entry["scope_id"]) == ("certificate", "elastic.es.local")
    check = built.one(CHECK)
    assert check.inputs["requires_credentials"] is False
    assert check.inputs["expected"] == {
        **expected_of([fingerprint(REMOTE_CA.certificate_pem)]),
        "node_names": ["quickstart-es-default-0.node"],
    }
    assert check.inputs.get("remote") is None  # no remote API given: nothing to diagnose a key with
    [link] = unwrap_secret(built.one(RETIREMENT).inputs["links"])[0]
    assert link["confirm"]["requires_credentials"] is False


def test_the_certificate_model_with_the_remote_api_gives_the_check_that_api_and_no_key() -> None:
    check = build(certificate_args(api=ElasticsearchApi(url=ES_URL, credentials=ES_SECRET))).one(CHECK)
    remote = {"kind": "direct", "url": ES_URL, "insecure": False}  # no CA: the system's
    assert unwrap_secret(check.inputs["remote"]) == ({"target": remote, "credentials": ES_SECRET}, True)  # no key


# --- across stacks ------------------------------------------------------------------------------------------------


def test_an_end_rebuilt_from_an_eck_stack_takes_its_key_id_and_an_empty_server_name_when_none_was_exported() -> None:
    def stack_outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        if args.typ == "pulumi:pulumi:StackReference":
            return {
                "outputs": {
                    "linkEnds": {
                        "logs": {"caCertificate": REMOTE_CA.certificate_pem, "address": ADDRESS, "keyId": "id-x"}
                    },
                    "linkKeys": {"logs": "encoded-from-the-eck-stack"},
                }
            }
        return fake_outputs(args)

    mocks = OutputsMocks(outputs=stack_outputs)

    def program() -> RemoteEnd:
        end = RemoteEnd.from_stack(pulumi.StackReference("acme/remote/eck"), "logs", declares_ca=True)
        RemoteClusterLink("search-logs", link_args(eck=None, end=end))
        return end

    end = run_under_mocks(program, mocks)
    assert resolve(end.key_id).value == "id-x"
    assert mocks.one(SETTINGS).inputs["server_name"] == ""
    assert unwrap_secret(mocks.one(KEYSTORE).inputs["value"]) == ("encoded-from-the-eck-stack", True)
