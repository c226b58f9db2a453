"""`EceTrustedCa`'s inputs before any call to ECE: what `check` fills in and the failures a user reads, what `diff`
tells the engine about a replacement, the id of an entry given no `ref_id`, and what the resource registers."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest

from components.dynamic import UNKNOWN
from components.ece.trust import EceTrustedCa, EceTrustedCaProvider, EntryRef, normalise
from tests.support.certs import make_ca
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret

CA = make_ca("eck-entries-ca")
TYPE = "pulumi-python:dynamic/eceeck:EceTrustedCa"
NEWS: dict[str, Any] = {
    "ece": {"url": "https://ece.example.com:12443"},
    "ece_credentials": {"api_key": "ece-key"},
    "deployment_id": "d" * 32,
    "entry_name": "ece-eck-remote-logs",
    "certificates": [CA.certificate_pem],
}


def failures(**changed: Any) -> list[tuple[str, str]]:
    checked = EceTrustedCaProvider().check({}, {**NEWS, **changed})
    return [(failure.property, failure.reason) for failure in checked.failures]


def test_check_accepts_complete_inputs_and_defaults_the_main_resource_and_the_api_key_model() -> None:
    checked = EceTrustedCaProvider().check({}, NEWS)
    assert checked.failures == []
    assert checked.inputs == {**NEWS, "ref_id": "_main", "model": "api-key"}


def test_check_keeps_a_given_resource_and_model() -> None:
    checked = EceTrustedCaProvider().check(
        {}, {**NEWS, "ref_id": "main-elasticsearch", "model": "certificate", "scope_id": "observability.es.local"}
    )
    assert checked.failures == []
    assert checked.inputs["ref_id"] == "main-elasticsearch" and checked.inputs["model"] == "certificate"


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"model": "mtls"}, [("model", "model must be one of api-key, certificate")]),
        (
            {"model": "certificate"},
            [("scope_id", "the certificate model needs a scope_id (<namespace>.es.local)")],
        ),
        ({"certificates": []}, [("certificates", "certificates must be a non-empty list of PEM certificates")]),
        (
            {"certificates": ["not a certificate"]},
            [("certificates", "certificates must be a non-empty list of PEM certificates")],
        ),
        (
            {"certificates": CA.certificate_pem},
            [("certificates", "certificates must be a non-empty list of PEM certificates")],
        ),
    ],
    ids=["unknown-model", "certificate-model-without-scope", "no-certificates", "not-pem", "not-a-list"],
)
def test_check_names_the_input_at_fault_and_what_it_must_be(
    changed: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert failures(**changed) == expected


def test_check_lets_a_model_unknown_in_preview_through() -> None:
    assert failures(model=UNKNOWN) == []


def test_a_changed_input_that_replaces_the_entry_creates_the_new_one_first() -> None:
    """Not `delete_before_replace`: the new entry is written before the old one goes, so trust never lapses (None
    and False reach the engine alike, as an unset flag)."""
    olds = EceTrustedCaProvider().check({}, NEWS).inputs
    diff = EceTrustedCaProvider().diff("id", olds, {**olds, "deployment_id": "e" * 32})
    assert diff.replaces == ["deployment_id"] and not diff.delete_before_replace


def test_an_entry_given_no_resource_is_on_the_main_elasticsearch_resource() -> None:
    ref = EntryRef.of({"deployment_id": "d" * 32, "entry_name": "ece-eck-remote-logs"})
    assert str(ref) == f"{'d' * 32}/_main/ece-eck-remote-logs"


def registered(**extra: Any) -> tuple[RecordingMocks, EceTrustedCa]:
    trusted = normalise([CA.certificate_pem])
    mocks = RecordingMocks(
        outputs=lambda _args: {"uid": "u-1", "trusted_certificates": trusted, "retiring_certificates": []}
    )

    def build() -> EceTrustedCa:
        return EceTrustedCa(
            "trust-logs",
            ece={"url": "https://ece.example.com:12443"},
            ece_credentials={"api_key": "ece-key"},
            deployment_id="d" * 32,
            entry_name="ece-eck-remote-logs",
            certificates=[CA.certificate_pem],
            **extra,
        )

    resource: EceTrustedCa = run_under_mocks(build, mocks)
    return mocks, resource


def test_the_resource_registers_its_inputs_with_their_defaults_and_its_provider() -> None:
    mocks, resource = registered()
    record = mocks.one(TYPE)
    assert record.name == "trust-logs" and record.protect is False
    inputs = record.inputs
    assert inputs["ece"] == {"url": "https://ece.example.com:12443"}
    assert unwrap_secret(inputs["ece_credentials"]) == ({"api_key": "ece-key"}, True)
    assert inputs["deployment_id"] == "d" * 32 and inputs["entry_name"] == "ece-eck-remote-logs"
    assert inputs["certificates"] == [CA.certificate_pem]
    assert inputs["model"] == "api-key" and inputs["ref_id"] == "_main" and inputs["plan_timeout_seconds"] == 600
    assert b"EceTrustedCaProvider" in base64.b64decode(unwrap_secret(inputs["__provider"])[0])
    assert resolve(resource.uid).value == "u-1"
    assert resolve(resource.trusted_certificates).value == normalise([CA.certificate_pem])
    assert resolve(resource.retiring_certificates).value == []


def test_the_resource_registers_what_it_is_given_and_its_options() -> None:
    mocks, _ = registered(
        model="certificate",
        scope_id="observability.es.local",
        ref_id="main-elasticsearch",
        plan_timeout_seconds=45,
        adopt_entry="made-by-hand",
        opts=pulumi.ResourceOptions(protect=True),
    )
    record = mocks.one(TYPE)
    assert record.protect is True
    inputs = record.inputs
    assert inputs["model"] == "certificate" and inputs["scope_id"] == "observability.es.local"
    assert inputs["ref_id"] == "main-elasticsearch" and inputs["plan_timeout_seconds"] == 45
    assert inputs["adopt_entry"] == "made-by-hand"
