"""What `EceDeploymentTrust` sends to ECE and keeps in state, against the recording ECE of test_trust_writes.py: the
exact entries of its one `PUT` (a certificate-model entry with its `scope_id`), the plan timeout it waits with, the
per-entry state it records, and what a refresh makes of the trust as ECE holds it (retiring CAs kept apart, entries
changed by hand reported as they are, a deployment that is gone).

The ECE emulator drops certificate metadata and treats an entry without `type` as generic, so a body that left out
`scope_id` or `type` would still pass there: hence the recording client."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from components.ece import deployment_trust
from components.ece.client import Deployment, EceApiError
from components.ece.deployment_trust import EceDeploymentTrustProvider
from components.ece.trust import entry_body, forget_claims
from tests.contract.test_trust_writes import (
    CA1,
    CA3,
    DEPLOYMENT_ID,
    PARTNER,
    PEM1,
    PEM2,
    PEM3,
    REF_ID,
    URL,
    RecordingEce,
    sent_trust,
)

LOGS = "ece-eck-remote-logs"
METRICS = "ece-eck-remote-metrics"
SCOPE = "observability.es.local"
ID = f"{DEPLOYMENT_ID}/{REF_ID}"

Provider = Callable[[RecordingEce], EceDeploymentTrustProvider]


@pytest.fixture
def provider_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    """The provider, talking to the given recording ECE."""

    def use(ece: RecordingEce) -> EceDeploymentTrustProvider:
        monkeypatch.setattr(deployment_trust, "client_from", lambda _props: ece)
        return EceDeploymentTrustProvider()

    yield use
    forget_claims()


def api_key(name: str, pem: str) -> dict[str, Any]:
    return {"name": name, "model": "api-key", "certificates": [pem]}


def certificate(name: str, pem: str, scope_id: str = SCOPE) -> dict[str, Any]:
    return {"name": name, "model": "certificate", "scope_id": scope_id, "certificates": [pem]}


def props(entries: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    news = {
        "ece": {"url": URL},
        "ece_credentials": {"api_key": "ece-key"},
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": REF_ID,
        "entries": entries,
        "plan_timeout_seconds": 30,
        **extra,
    }
    checked = EceDeploymentTrustProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


class GoneEce(RecordingEce):
    """Every read of the deployment answers `status`."""

    def __init__(self, status: int) -> None:
        super().__init__([])
        self.status = status

    def get_deployment(self, deployment_id: str) -> Deployment:
        raise EceApiError(f"get deployment {deployment_id}", self.status, "deployments.not_found", "gone")


# --- create ---------------------------------------------------------------------------------------------------------


def test_create_sends_each_model_as_its_entry_type_with_the_scope_and_records_each_entrys_state(
    provider_with: Provider,
) -> None:
    """The api-key model is a `proxy` entry without scope; the certificate model a `generic` one whose `scope_id` is
    the remote nodes' name suffix (without it ECE would trust no node name). The partner's entry stays as read."""
    ece = RecordingEce([copy.deepcopy(PARTNER)])
    created = provider_with(ece).create(props([api_key(LOGS, CA1.certificate_pem), certificate(METRICS, PEM2)]))
    assert len(ece.puts) == 1
    assert sent_trust(ece.puts[0])["direct"] == [
        PARTNER,
        {"name": LOGS, "certificates": [{"pem": PEM1}], "type": "proxy", "trust_all": False},
        {"name": METRICS, "certificates": [{"pem": PEM2}], "type": "generic", "trust_all": True, "scope_id": SCOPE},
    ]
    assert created.id == ID
    assert created.outs["entries_state"] == {
        LOGS: {"uid": f"u-{LOGS}", "trusted_certificates": [PEM1], "retiring_certificates": []},
        METRICS: {"uid": f"u-{METRICS}", "trusted_certificates": [PEM2], "retiring_certificates": []},
    }


def test_an_entry_given_without_a_model_is_written_as_an_api_key_entry(provider_with: Provider) -> None:
    ece = RecordingEce([])
    provider_with(ece).create(props([{"name": LOGS, "certificates": [PEM1]}]))
    assert sent_trust(ece.puts[0])["direct"] == [
        {"name": LOGS, "certificates": [{"pem": PEM1}], "type": "proxy", "trust_all": False}
    ]


@pytest.mark.parametrize(("configured", "waited"), [({}, 600.0), ({"plan_timeout_seconds": 45}, 45.0)])
def test_writes_wait_for_the_plan_the_timeout_given_or_ten_minutes(
    provider_with: Provider, configured: dict[str, Any], waited: float
) -> None:
    ece = RecordingEce([])
    provider = provider_with(ece)
    state = {key: value for key, value in props([api_key(LOGS, PEM1)]).items() if key != "plan_timeout_seconds"}
    created = provider.create({**state, **configured})
    provider.delete(created.id, {**state, **configured})
    assert [wait[2] for wait in ece.waits] == [waited, waited]
    assert ece.direct(LOGS) is None


# --- read -----------------------------------------------------------------------------------------------------------


def test_refresh_during_a_rotation_keeps_the_retiring_ca_out_of_the_inputs(provider_with: Provider) -> None:
    """After CA1 -> CA2 the entry holds both; a refresh must not read CA1 back as wanted (the next `up` would then
    keep it for good), and keeps recording it as retiring for the retirement to drop."""
    ece = RecordingEce([])
    provider = provider_with(ece)
    created = provider.create(props([api_key(LOGS, PEM1)]))
    rotated = provider.update(created.id, created.outs, props([api_key(LOGS, PEM2)]))
    assert ece.direct(LOGS) == {**entry_body(LOGS, "api-key", [PEM2, PEM1], None), "uid": f"u-{LOGS}"}
    read = provider.read(created.id, rotated.outs)
    assert read.id == ID
    assert read.inputs == {
        "ece": {"url": URL},
        "ece_credentials": {"api_key": "ece-key"},
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": REF_ID,
        "entries": [{"name": LOGS, "model": "api-key", "scope_id": None, "certificates": [PEM2]}],
        "plan_timeout_seconds": 30,
    }
    assert read.outs == {
        **read.inputs,
        "entries_state": {
            LOGS: {"uid": f"u-{LOGS}", "trusted_certificates": [PEM2, PEM1], "retiring_certificates": [PEM1]}
        },
    }


def test_refresh_reports_entries_changed_by_hand_as_ece_holds_them(provider_with: Provider) -> None:
    """An api-key entry turned generic (with a scope and another CA) reads as the certificate model; a certificate
    entry turned proxy reads as the api-key model, without the scope it still carries: the next `up` sees the drift
    and writes them back."""
    ece = RecordingEce([])
    provider = provider_with(ece)
    created = provider.create(props([api_key(LOGS, PEM1), certificate(METRICS, PEM2)]))
    for entry in ece.trust["direct"]:
        if entry["name"] == LOGS:
            entry.update({"type": "generic", "trust_all": True, "scope_id": "other.es.local"})
            entry["certificates"] = [{"pem": PEM3}]
        else:
            entry.update({"type": "proxy", "trust_all": False})
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None
    assert read.inputs["entries"] == [
        {"name": LOGS, "model": "certificate", "scope_id": "other.es.local", "certificates": [PEM3]},
        {"name": METRICS, "model": "api-key", "scope_id": None, "certificates": [PEM2]},
    ]
    assert read.outs["entries_state"][LOGS] == {
        "uid": f"u-{LOGS}",
        "trusted_certificates": [PEM3],
        "retiring_certificates": [],
    }
    assert provider.diff(created.id, read.outs, props([api_key(LOGS, PEM1), certificate(METRICS, PEM2)])).changes


@pytest.mark.parametrize(("configured", "read_back"), [({}, 600), ({"plan_timeout_seconds": 45}, 45)])
def test_refresh_reads_the_plan_timeout_given_or_ten_minutes(
    provider_with: Provider, configured: dict[str, Any], read_back: int
) -> None:
    ece = RecordingEce([])
    provider = provider_with(ece)
    created = provider.create(props([api_key(LOGS, PEM1)]))
    state = {key: value for key, value in created.outs.items() if key != "plan_timeout_seconds"}
    read = provider.read(created.id, {**state, **configured})
    assert read.inputs is not None and read.inputs["plan_timeout_seconds"] == read_back
    assert read.outs["plan_timeout_seconds"] == read_back


def test_refresh_of_a_deployment_that_is_gone_drops_the_resource(provider_with: Provider) -> None:
    read = provider_with(GoneEce(404)).read(ID, props([api_key(LOGS, PEM1)]))
    assert (read.id, read.outs, read.inputs) == ("", {}, None)


def test_refresh_reports_any_other_ece_error(provider_with: Provider) -> None:
    for status in (405, 500):
        with pytest.raises(EceApiError) as raised:
            provider_with(GoneEce(status)).read(ID, props([api_key(LOGS, PEM1)]))
        assert raised.value.status == status


def test_a_rotation_keeps_the_certificate_models_scope(provider_with: Provider) -> None:
    ece = RecordingEce([])
    provider = provider_with(ece)
    created = provider.create(props([certificate(METRICS, PEM1)]))
    provider.update(created.id, created.outs, props([certificate(METRICS, CA3.certificate_pem)]))
    assert sent_trust(ece.puts[1])["direct"] == [
        {**entry_body(METRICS, "certificate", [PEM3, PEM1], None, SCOPE), "uid": f"u-{METRICS}"}
    ]
