"""What the trust writes send to ECE (`write_together`, `change_entry`, `dropping`, `EceTrustedCaProvider`'s create
and delete), against a recording ECE: the exact `PUT /deployments/{id}` body (the whole trust sent back without the
fields ECE computes, the plan as read, `prune_orphans` off), the version it is sent with, the plan it waits for,
how often and how patiently a version conflict is retried, and what is not written at all.

The ECE emulator drops certificate `metadata` and external entries' `name` from a `PUT` and treats an entry without
`type` as generic, so a body that sends them, or leaves `type` out, would still pass there: hence the recording
client here."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest

from components.dynamic import AdoptionError
from components.ece import trust
from components.ece.client import Deployment, EceApiError
from components.ece.trust import (
    EceTrustedCaProvider,
    EntryRef,
    change_entry,
    claim,
    dropping,
    entry_body,
    forget_claims,
    normalise,
    write_together,
)
from tests.support.certs import make_ca

CA1 = make_ca("eck-writes-ca-1")
CA2 = make_ca("eck-writes-ca-2")
CA3 = make_ca("eck-writes-ca-3")
PEM1, PEM2, PEM3 = (normalise([ca.certificate_pem])[0] for ca in (CA1, CA2, CA3))
DEPLOYMENT_ID = "d" * 32
REF_ID = "main-elasticsearch"
REGION = "ece-region"
URL = "https://ece.example.com:12443"
MIDDLE = (0.05 + 0.3) / 2
"""The jitter of a conflict's back-off, fixed at the middle of its bounds (`pauses`)."""
NAME = "ece-eck-remote-logs"
REF = EntryRef(DEPLOYMENT_ID, REF_ID, NAME)
PLAN = {"elasticsearch": {"version": "8.19.0"}, "cluster_topology": [{"id": "hot_content", "size": {"value": 4096}}]}
ACCOUNTS = [{"account_id": "org-1", "trust_all": True, "name": "Default trust for own organization"}]
EXTERNAL = {"trust_relationship_id": "rel-1", "trust_all": False, "trust_allowlist": ["cluster-9"]}
PARTNER = {
    "uid": "u-partner",
    "name": "partner-datacenter",
    "type": "generic",
    "trust_all": False,
    "additional_node_names": ["node1.partner.example.com"],
    "certificates": [{"pem": PEM3}],
}


def conflict(detail: str = "version mismatch") -> EceApiError:
    return EceApiError(f"update deployment {DEPLOYMENT_ID}", 409, "deployments.version_conflict", detail)


class RecordingEce:
    """One deployment with one Elasticsearch resource. Reads show what real ECE adds to the trust it stores
    (certificate `metadata`, external entries' `name`); a `PUT` stores the trust sent (new entries get a `uid`), or
    raises the next of `failures` (a conflict means another writer wrote: the version moves on)."""

    def __init__(self, direct: list[dict[str, Any]], *, failures: list[EceApiError] | None = None) -> None:
        self.trust: dict[str, Any] = {"accounts": ACCOUNTS, "external": [EXTERNAL], "direct": direct}
        self.version = 1
        self.failures = list(failures or [])
        self.reads: list[Deployment] = []
        self.puts: list[tuple[str, dict[str, Any], str | None]] = []
        self.waits: list[tuple[str, str, float, Deployment | None]] = []
        self.connection = SimpleNamespace(url=URL)

    def shown(self) -> Deployment:
        trust_shown = copy.deepcopy(self.trust)
        for entry in trust_shown.get("direct") or []:
            for cert in entry["certificates"]:
                cert["metadata"] = {"fingerprint": f"sha256-{len(cert['pem'])}", "valid_to": "2036-01-01T00:00:00Z"}
        for entry in trust_shown.get("external") or []:
            entry["name"] = "ece-dr-environment"
        resource = {
            "ref_id": REF_ID,
            "region": REGION,
            "info": {"plan_info": {"current": {"plan": PLAN}}, "settings": {"trust": trust_shown}},
        }
        return Deployment({"resources": {"elasticsearch": [resource]}}, str(self.version))

    def get_deployment(self, deployment_id: str) -> Deployment:
        assert deployment_id == DEPLOYMENT_ID
        self.reads.append(self.shown())
        return self.reads[-1]

    def update_deployment(self, deployment_id: str, body: dict[str, Any], version: str | None) -> dict[str, Any]:
        self.puts.append((deployment_id, copy.deepcopy(body), version))
        if self.failures:
            failure = self.failures.pop(0)
            if failure.is_version_conflict:
                self.version += 1
            raise failure
        self.trust = copy.deepcopy(body["resources"]["elasticsearch"][0]["settings"]["trust"])
        for entry in self.trust.get("direct") or []:
            entry.setdefault("uid", f"u-{entry['name']}")
        self.version += 1
        return {}

    def wait_for_plan(
        self, deployment_id: str, ref_id: str, timeout: float, *, before: Deployment | None = None
    ) -> Deployment:
        self.waits.append((deployment_id, ref_id, timeout, before))
        return self.shown()

    def direct(self, name: str) -> dict[str, Any] | None:
        return next((entry for entry in self.trust.get("direct") or [] if entry["name"] == name), None)


def sent_trust(put: tuple[str, dict[str, Any], str | None]) -> dict[str, Any]:
    trust_sent: dict[str, Any] = put[1]["resources"]["elasticsearch"][0]["settings"]["trust"]
    return trust_sent


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float, float]]:
    """The conflict back-offs taken: (jitter's lower bound, its upper bound, seconds slept), the jitter fixed at the
    middle of its bounds."""
    taken: list[tuple[float, float, float]] = []
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return (low + high) / 2

    def sleep(seconds: float) -> None:
        taken.append((*bounds[-1], seconds))

    monkeypatch.setattr(random, "uniform", uniform)
    monkeypatch.setattr(time, "sleep", sleep)
    return taken


def proxy_entry(pems: list[str]) -> trust.Mutation:
    def mutate(entry: dict[str, Any] | None) -> dict[str, Any]:
        return entry_body(NAME, "api-key", pems, (entry or {}).get("uid"))

    return mutate


# --- write_together -------------------------------------------------------------------------------------------------


def test_a_write_sends_the_whole_trust_back_without_what_ece_computes_and_waits_for_its_plan() -> None:
    """One `PUT` with the version read, the plan as read, `prune_orphans` off (the deployment's other resources stay),
    and the trust as read minus certificate metadata and external names, with our entry added; then the wait for
    the plan this change started (judged against the deployment as read before it)."""
    ece = RecordingEce([copy.deepcopy(PARTNER)])

    def mutate(entry: dict[str, Any] | None) -> dict[str, Any]:
        return entry_body(NAME, "certificate", [PEM1], None, "observability.es.local")

    stored = change_entry(ece, REF, mutate, 30)
    ours = {
        "name": NAME,
        "certificates": [{"pem": PEM1}],
        "type": "generic",
        "trust_all": True,
        "scope_id": "observability.es.local",
    }
    body = {
        "prune_orphans": False,
        "resources": {
            "elasticsearch": [
                {
                    "ref_id": REF_ID,
                    "region": REGION,
                    "plan": PLAN,
                    "settings": {"trust": {"accounts": ACCOUNTS, "external": [EXTERNAL], "direct": [PARTNER, ours]}},
                }
            ]
        },
    }
    assert ece.puts == [(DEPLOYMENT_ID, body, "1")]
    assert len(ece.reads) == 1
    assert ece.waits == [(DEPLOYMENT_ID, REF_ID, 30, ece.reads[0])]
    assert ece.waits[0][3] is ece.reads[0]
    assert (
        stored is not None and stored["uid"] == f"u-{NAME}" and normalise([stored["certificates"][0]["pem"]]) == [PEM1]
    )


def test_a_trust_without_external_relationships_is_sent_without_them() -> None:
    ece = RecordingEce([])
    del ece.trust["external"]
    change_entry(ece, REF, proxy_entry([PEM1]), 30)
    assert sent_trust(ece.puts[0]) == {
        "accounts": ACCOUNTS,
        "direct": [{"name": NAME, "certificates": [{"pem": PEM1}], "type": "proxy", "trust_all": False}],
    }


def test_several_entries_are_written_in_one_put_and_returned_in_order() -> None:
    ece = RecordingEce([copy.deepcopy(PARTNER)])
    other = EntryRef(DEPLOYMENT_ID, REF_ID, "ece-eck-remote-metrics")

    def metrics(entry: dict[str, Any] | None) -> dict[str, Any]:
        return entry_body(other.name, "api-key", [PEM2], None)

    stored = write_together(ece, [(REF, proxy_entry([PEM1]), None), (other, metrics, None)], 30)
    assert len(ece.puts) == 1 and len(ece.waits) == 1
    assert [entry["name"] for entry in sent_trust(ece.puts[0])["direct"]] == [PARTNER["name"], NAME, other.name]
    assert [entry and entry["uid"] for entry in stored] == [f"u-{NAME}", f"u-{other.name}"]


def test_an_unchanged_entry_is_not_written_and_each_is_returned_as_stored() -> None:
    """ECE may give a PEM back laid out differently (CRLF, indentation, blank lines): the same certificates are no
    change, and nothing is sent; each entry asked for comes back as ECE shows it."""
    laid_out = "\r\n".join(f"  {line}" for line in PEM1.splitlines()) + "\r\n\r\n"
    ece = RecordingEce([copy.deepcopy(PARTNER), {"uid": "u-ours", **entry_body(NAME, "api-key", [laid_out], None)}])
    partner_ref = EntryRef(DEPLOYMENT_ID, REF_ID, str(PARTNER["name"]))
    stored = write_together(
        ece,
        [(REF, proxy_entry([PEM1]), None), (partner_ref, lambda entry: entry, None)],
        30,
    )
    assert ece.puts == [] and ece.waits == []
    shown = ece.reads[0].trust(REF_ID)["direct"]
    assert stored == [shown[1], shown[0]]
    assert stored[0] is not None and stored[0]["uid"] == "u-ours"


def test_an_entry_adopted_under_its_own_name_and_unchanged_is_not_written() -> None:
    ece = RecordingEce([{"uid": "u-ours", **entry_body(NAME, "api-key", [PEM1], None)}])
    stored = change_entry(ece, REF, proxy_entry([PEM1]), 30, absorb=NAME)
    assert ece.puts == []
    assert stored is not None and stored["uid"] == "u-ours"


@pytest.mark.parametrize(
    ("direct", "listed"),
    [
        (
            [PARTNER, {**PARTNER, "uid": "u-2", "name": "ece-eck-remote-metrics"}],
            "partner-datacenter, ece-eck-remote-metrics",
        ),
        ([], "none"),
    ],
    ids=["entries", "no-entries"],
)
def test_adopting_an_entry_that_is_not_there_names_the_deployment_and_its_entries(
    direct: list[dict[str, Any]], listed: str
) -> None:
    ece = RecordingEce(copy.deepcopy(direct))
    with pytest.raises(AdoptionError) as raised:
        change_entry(ece, REF, proxy_entry([PEM1]), 30, absorb="made-by-hand")
    assert str(raised.value) == (
        f"adopt.trustEntry 'made-by-hand': deployment {DEPLOYMENT_ID} has no direct trust entry of that name "
        f"(its entries: {listed})"
    )
    assert ece.puts == []


def test_a_version_conflict_is_read_again_and_written_with_the_new_version(
    pauses: list[tuple[float, float, float]],
) -> None:
    ece = RecordingEce([copy.deepcopy(PARTNER)], failures=[conflict()])
    stored = change_entry(ece, REF, proxy_entry([PEM1]), 30)
    assert [put[2] for put in ece.puts] == ["1", "2"]
    assert len(ece.reads) == 2 and len(ece.waits) == 1 and ece.waits[0][3] is ece.reads[1]
    assert stored is not None and stored["uid"] == f"u-{NAME}"
    assert pauses == [(0.05, 0.3, MIDDLE)]


def test_conflicts_are_retried_eight_times_with_growing_pauses_then_the_last_is_reported(
    pauses: list[tuple[float, float, float]],
) -> None:
    """Eight attempts in all; between them a jittered pause of 0.05 to 0.3 s times the attempt number; the eighth
    conflict is the error the user sees."""
    failures = [conflict(f"version mismatch {n}") for n in range(1, 9)]
    ece = RecordingEce([copy.deepcopy(PARTNER)], failures=list(failures))
    with pytest.raises(EceApiError) as raised:
        change_entry(ece, REF, proxy_entry([PEM1]), 30)
    assert raised.value is failures[-1]
    assert [put[2] for put in ece.puts] == [str(n) for n in range(1, 9)]
    assert ece.waits == []
    assert pauses == [(0.05, 0.3, MIDDLE * n) for n in range(1, 8)]


def test_an_error_that_is_not_a_conflict_is_reported_at_once(pauses: list[tuple[float, float, float]]) -> None:
    failure = EceApiError(f"update deployment {DEPLOYMENT_ID}", 400, "deployments.invalid_trust", "bad entry")
    ece = RecordingEce([copy.deepcopy(PARTNER)], failures=[failure])
    with pytest.raises(EceApiError) as raised:
        change_entry(ece, REF, proxy_entry([PEM1]), 30)
    assert raised.value is failure
    assert len(ece.puts) == 1 and pauses == [] and ece.waits == []


# --- dropping (the end of a CA rotation) ----------------------------------------------------------------------------


def test_dropping_removes_only_the_retiring_certificates_and_keeps_the_entry() -> None:
    ours = {"uid": "u-ours", **entry_body(NAME, "api-key", [PEM1, PEM2], None)}
    ece = RecordingEce([copy.deepcopy(PARTNER), ours])
    laid_out = PEM2.replace("\n", "\r\n")
    stored = change_entry(ece, REF, dropping([laid_out]), 30)
    assert sent_trust(ece.puts[0])["direct"] == [PARTNER, {**ours, "certificates": [{"pem": PEM1}]}]
    assert stored is not None and normalise([cert["pem"] for cert in stored["certificates"]]) == [PEM1]


def test_dropping_never_leaves_an_entry_without_certificates() -> None:
    ece = RecordingEce([{"uid": "u-ours", **entry_body(NAME, "api-key", [PEM1, PEM2], None)}])
    change_entry(ece, REF, dropping([PEM1, PEM2]), 30)
    assert ece.puts == []
    assert normalise([cert["pem"] for cert in (ece.direct(NAME) or {})["certificates"]]) == [PEM1, PEM2]


def test_dropping_from_an_entry_that_is_gone_writes_nothing() -> None:
    ece = RecordingEce([copy.deepcopy(PARTNER)])
    assert change_entry(ece, REF, dropping([PEM1]), 30) is None
    assert ece.puts == []


# --- EceTrustedCaProvider -------------------------------------------------------------------------------------------


@pytest.fixture
def provider_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The provider, talking to the given recording ECE."""

    def use(ece: RecordingEce) -> EceTrustedCaProvider:
        monkeypatch.setattr("components.ece.trust.client_from", lambda _props: ece)
        return EceTrustedCaProvider()

    yield use
    forget_claims()


def props(**extra: Any) -> dict[str, Any]:
    news = {
        "ece": {"url": URL},
        "ece_credentials": {"api_key": "ece-key"},
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": REF_ID,
        "entry_name": NAME,
        "certificates": [CA1.certificate_pem],
        "plan_timeout_seconds": 30,
        **extra,
    }
    return EceTrustedCaProvider().check({}, news).inputs


def test_adoption_renames_the_entry_keeps_its_uid_and_its_other_cas_as_retiring(provider_with: Any) -> None:
    made_by_hand = {
        "uid": "u-hand",
        "name": "made-by-hand",
        "type": "generic",
        "trust_all": False,
        "additional_node_names": ["node1.remote.example.com"],
        "certificates": [{"pem": PEM2}, {"pem": PEM1}],
    }
    ece = RecordingEce([copy.deepcopy(PARTNER), made_by_hand])
    created = provider_with(ece).create(props(adopt_entry="made-by-hand"))
    ours = {"name": NAME, "certificates": [{"pem": PEM1}, {"pem": PEM2}], "type": "proxy", "trust_all": False}
    assert sent_trust(ece.puts[0])["direct"] == [PARTNER, {**ours, "uid": "u-hand"}]
    assert created.id == f"{DEPLOYMENT_ID}/{REF_ID}/{NAME}"
    assert created.outs["uid"] == "u-hand"
    assert created.outs["trusted_certificates"] == [PEM1, PEM2]
    assert created.outs["retiring_certificates"] == [PEM2]


def test_create_over_our_own_leftover_entry_keeps_its_uid_and_replaces_its_cas(provider_with: Any) -> None:
    """An entry of ours already there (a create interrupted after its write) is taken as is: its uid kept, its
    certificates replaced, nothing left retiring (that is only for an adopted entry)."""
    ece = RecordingEce([{"uid": "u-ours", **entry_body(NAME, "api-key", [PEM2], None)}])
    created = provider_with(ece).create(props())
    ours = {"name": NAME, "certificates": [{"pem": PEM1}], "type": "proxy", "trust_all": False, "uid": "u-ours"}
    assert sent_trust(ece.puts[0])["direct"] == [ours]
    assert created.outs["uid"] == "u-ours"
    assert created.outs["trusted_certificates"] == [PEM1] and created.outs["retiring_certificates"] == []


@pytest.mark.parametrize(("configured", "waited"), [({}, 600.0), ({"plan_timeout_seconds": 45}, 45.0)])
def test_delete_removes_our_entry_and_waits_the_plan_timeout_or_ten_minutes(
    provider_with: Any, configured: dict[str, Any], waited: float
) -> None:
    ece = RecordingEce([copy.deepcopy(PARTNER), {"uid": "u-ours", **entry_body(NAME, "api-key", [PEM1], None)}])
    state = {key: value for key, value in props().items() if key != "plan_timeout_seconds"}
    provider_with(ece).delete(str(REF), {**state, **configured})
    assert sent_trust(ece.puts[0])["direct"] == [PARTNER]
    assert [wait[2] for wait in ece.waits] == [waited]


def test_delete_of_an_entry_claimed_by_the_deployment_trust_leaves_it_and_says_so(
    provider_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *args, **kwargs: logged.append(message))
    ece = RecordingEce([{"uid": "u-ours", **entry_body(NAME, "api-key", [PEM1], None)}])
    claim(URL, REF)
    provider_with(ece).delete(str(REF), props())
    assert ece.puts == [] and ece.direct(NAME) is not None
    assert logged == [f"trust entry {NAME}: kept, now written with the deployment's trust"]


def test_an_entry_name_with_slashes_is_created_read_and_deleted_by_its_id(provider_with: Any) -> None:
    """The id is `<deployment>/<ref_id>/<entry name>`; an entry name (free for `EceTrustedCa`) may hold `/`."""
    name = "team/logs/eu"
    ece = RecordingEce([copy.deepcopy(PARTNER)])
    provider = provider_with(ece)
    created = provider.create(props(entry_name=name))
    assert created.id == f"{DEPLOYMENT_ID}/{REF_ID}/{name}"
    read = provider.read(created.id, {"ece": {"url": URL}, "ece_credentials": {"api_key": "ece-key"}})
    assert read.id == created.id and read.inputs is not None
    assert (read.inputs["deployment_id"], read.inputs["ref_id"], read.inputs["entry_name"]) == (
        DEPLOYMENT_ID,
        REF_ID,
        name,
    )
    provider.delete(created.id, created.outs)
    assert ece.direct(name) is None and ece.direct(str(PARTNER["name"])) is not None
