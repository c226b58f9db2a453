"""`EceDeploymentTrust`'s rules without ECE: what its check accepts, defaults and rejects (each failure on the
`entries` input, naming the entry), what it tolerates in a preview, what its diff replaces, and what the resource
registers."""

from __future__ import annotations

import base64
import pickle
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from components.dynamic import UNKNOWN
from components.ece.deployment_trust import EceDeploymentTrust, EceDeploymentTrustProvider
from components.ece.trust import EntryRef, claimed, forget_claims
from tests.support.certs import make_ca
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret

CA = make_ca("eck-trust-rules-ca")
PEM = CA.certificate_pem
URL = "https://ece.example.com:12443"
DEPLOYMENT_ID = "d" * 32
LOGS = "ece-eck-remote-logs"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"


@pytest.fixture(autouse=True)
def no_claims() -> Iterator[None]:
    """Claims live as long as the process: none before or after each test."""
    forget_claims()
    yield
    forget_claims()


def news(entries: Any, **extra: Any) -> dict[str, Any]:
    return {
        "ece": {"url": URL},
        "ece_credentials": {"api_key": "ece-key"},
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": "main-elasticsearch",
        "entries": entries,
        "plan_timeout_seconds": 30,
        **extra,
    }


def entry(name: str = LOGS, **extra: Any) -> dict[str, Any]:
    return {"name": name, "model": "api-key", "certificates": [PEM], **extra}


def failures(entries: Any) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in EceDeploymentTrustProvider().check({}, news(entries)).failures]


# --- check ----------------------------------------------------------------------------------------------------------


def test_check_defaults_the_ref_id_and_each_entrys_model() -> None:
    given = news([{"name": LOGS, "certificates": [PEM]}])
    del given["ref_id"]
    checked = EceDeploymentTrustProvider().check({}, given)
    assert checked.failures == []
    assert checked.inputs["ref_id"] == "_main"
    assert checked.inputs["entries"] == [{"name": LOGS, "model": "api-key", "certificates": [PEM]}]
    assert claimed(URL, EntryRef(DEPLOYMENT_ID, "_main", LOGS))


def test_check_of_a_preview_with_entries_not_yet_known_passes_them_on_and_claims_nothing() -> None:
    checked = EceDeploymentTrustProvider().check({}, news(UNKNOWN))
    assert checked.failures == []
    assert checked.inputs["entries"] == UNKNOWN


def test_check_of_a_preview_with_the_ece_connection_not_yet_known_claims_nothing() -> None:
    """An ECE connection with a part still unknown cannot be used (nor its URL trusted) to claim entries."""
    ece = {"url": URL, "request_timeout_seconds": UNKNOWN}
    checked = EceDeploymentTrustProvider().check({}, news([entry()], ece=ece))
    assert checked.failures == []
    assert not claimed(URL, EntryRef(DEPLOYMENT_ID, "main-elasticsearch", LOGS))


def test_check_of_a_preview_checks_every_rule_around_what_is_not_yet_known() -> None:
    """On a first `up` the certificates wait for the ECK cluster, but names, models and scopes are known: a preview
    reports their mistakes, not the update half-way. Two names not known yet are not 'given twice', an unknown model,
    certificate list or whole entry is no failure, and the entries after them are still checked."""
    given = [
        entry(UNKNOWN),
        entry(UNKNOWN),
        entry("a", model=UNKNOWN),
        entry("b", certificates=UNKNOWN),
        UNKNOWN,
        entry("c", model="certificate", certificates=UNKNOWN),
        entry("d", certificates=[]),
    ]
    assert failures(given) == [
        ("entries", "entries[5]: the certificate model needs a scope_id (<namespace>.es.local)"),
        ("entries", "entries[6].certificates must be a non-empty list of PEM certificates"),
    ]


def test_check_rejects_entries_that_are_not_a_list() -> None:
    checked = EceDeploymentTrustProvider().check({}, news(entry()))
    assert [(f.property, f.reason) for f in checked.failures] == [
        ("entries", "entries must be a list of trust entries")
    ]
    assert checked.inputs["entries"] == []


def test_check_rejects_an_entry_that_is_not_a_mapping_and_still_checks_the_others() -> None:
    assert failures([LOGS, entry(""), {"model": "api-key", "certificates": [PEM]}]) == [
        ("entries", "entries[0] must be a trust entry"),
        ("entries", "entries[1].name is required"),
        ("entries", "entries[2].name is required"),
    ]


def test_check_names_the_entry_and_the_input_of_each_failure() -> None:
    given = [
        entry("a"),
        entry("a"),
        entry("b", model="password"),
        entry("c", model="certificate"),
        entry("d", certificates=["not a certificate"]),
    ]
    assert failures(given) == [
        ("entries", "entries[1].name 'a' is given twice"),
        ("entries", "entries[2].model must be one of api-key, certificate"),
        ("entries", "entries[3]: the certificate model needs a scope_id (<namespace>.es.local)"),
        ("entries", "entries[4].certificates must be a non-empty list of PEM certificates"),
    ]


def test_check_accepts_a_certificate_model_entry_with_its_scope() -> None:
    assert failures([entry(model="certificate", scope_id="observability.es.local")]) == []


# --- diff -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["deployment_id", "ref_id"])
def test_another_deployment_or_elasticsearch_resource_replaces_the_trust_creating_first(key: str) -> None:
    """The new deployment's entries are written before the old one's are removed (delete_before_replace off)."""
    olds = EceDeploymentTrustProvider().check({}, news([entry()])).inputs
    diff = EceDeploymentTrustProvider().diff("id", olds, {**olds, key: "e" * 32})
    assert diff.changes and diff.replaces == [key]
    assert not diff.delete_before_replace


def test_a_changed_entry_updates_in_place() -> None:
    olds = EceDeploymentTrustProvider().check({}, news([entry()])).inputs
    diff = EceDeploymentTrustProvider().diff("id", olds, {**olds, "entries": [entry(scope_id="x.es.local")]})
    assert diff.changes and diff.replaces == []


# --- the resource ---------------------------------------------------------------------------------------------------


def registered(**extra: Any) -> tuple[RecordingMocks, EceDeploymentTrust]:
    mocks = RecordingMocks()

    def build() -> EceDeploymentTrust:
        return EceDeploymentTrust(
            "search-trust",
            ece={"url": URL},
            ece_credentials={"api_key": "ece-key"},
            deployment_id=DEPLOYMENT_ID,
            entries=[entry()],
            **extra,
        )

    return mocks, run_under_mocks(build, mocks)


def test_the_resource_registers_its_inputs_and_defaults_served_by_its_provider() -> None:
    mocks, resource = registered()
    inputs = mocks.one(TRUST).inputs
    assert {key: unwrap_secret(value)[0] for key, value in inputs.items() if key != "__provider"} == {
        "ece": {"url": URL},
        "ece_credentials": {"api_key": "ece-key"},
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": "_main",
        "entries": [entry()],
        "plan_timeout_seconds": 600,
    }
    assert unwrap_secret(inputs["ece_credentials"])[1]
    serialized, _secret = unwrap_secret(inputs["__provider"])
    assert type(pickle.loads(base64.b64decode(serialized))) is EceDeploymentTrustProvider  # noqa: S301 (just pickled)
    assert resolve(resource.urn).value == mocks.one(TRUST).urn


def test_the_resource_passes_on_its_ref_id_timeout_and_options() -> None:
    mocks, _resource = registered(
        ref_id="main-elasticsearch", plan_timeout_seconds=45, opts=pulumi.ResourceOptions(protect=True)
    )
    record = mocks.one(TRUST)
    assert record.inputs["ref_id"] == "main-elasticsearch" and record.inputs["plan_timeout_seconds"] == 45
    assert record.protect
