"""What `EceTrustRetirementProvider` sends to ECE and to the Elasticsearch side, against a recording ECE: the one `PUT`
that drops every link's retiring CAs, the one that trusts them again for the links that do not confirm (each entry
rebuilt as it was: its model, uid and scope), the plan timeout each waits, the error the user reads, how many links
are confirmed at once, and what the resource records in state.

The ECE emulator treats an entry without `type` as generic and keeps what a `PUT` leaves out, so a restored entry
that lost its uid, scope or model would still pass there: hence the recording client of test_trust_writes."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.ece.client import Deployment
from components.ece.retirement import EceTrustRetirementProvider, LinkConfirmer, RotationNotFinishedError
from components.ece.trust import entry_body
from tests.contract.test_trust_writes import (
    DEPLOYMENT_ID,
    PARTNER,
    PEM1,
    PEM2,
    REF_ID,
    REGION,
    URL,
    RecordingEce,
    sent_trust,
)

LOGS, METRICS, TRACES = "ece-eck-remote-logs", "ece-eck-remote-metrics", "ece-eck-remote-traces"
SCOPE = "observability.es.local"
ECE_CREDENTIALS = {"api_key": "ece-key"}


class TwoResources(RecordingEce):
    """A deployment with a second Elasticsearch resource, shown first: the trust is the one of the resource named."""

    def shown(self) -> Deployment:
        shown = super().shown()
        archive = {"ref_id": "archive-elasticsearch", "region": REGION, "info": {"settings": {"trust": {}}}}
        shown.body["resources"]["elasticsearch"].insert(0, archive)
        return shown


class Answers:
    """The Elasticsearch side: why each alias does not connect (None: it does); records what it is asked."""

    def __init__(self, why_not: Mapping[str, str] | None = None) -> None:
        self.why_not = dict(why_not or {})
        self.asked: list[dict[str, Any]] = []

    def confirm(self, details: Mapping[str, Any]) -> str | None:
        self.asked.append(dict(details))
        return self.why_not.get(details["alias"])


def proxy(name: str, pems: list[str]) -> dict[str, Any]:
    """An API-key model entry as ECE stores it."""
    return {"uid": f"u-{name}", **entry_body(name, "api-key", pems, None)}


def generic(name: str, pems: list[str]) -> dict[str, Any]:
    """A certificate model entry as ECE stores it."""
    return {"uid": f"u-{name}", **entry_body(name, "certificate", pems, None, SCOPE)}


def by_name(put_or_entries: Any) -> dict[str, dict[str, Any]]:
    """The direct entries a `PUT` sends (or the given ones), by name: where a changed entry lands in the list is the
    trust write's business."""
    direct = sent_trust(put_or_entries)["direct"] if isinstance(put_or_entries, tuple) else put_or_entries
    return {entry["name"]: entry for entry in direct}


def link(name: str, retiring: list[str]) -> dict[str, Any]:
    return {"entry_name": name, "retiring_certificates": retiring, "confirm": {"alias": name.rsplit("-", 1)[1]}}


def props(links: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    """The inputs as `check` hands them on; `changes` with a None value leave that input out."""
    news = {
        "ece": {"url": URL},
        "ece_credentials": ECE_CREDENTIALS,
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": REF_ID,
        "links": links,
        "plan_timeout_seconds": 30,
        **changes,
    }
    return EceTrustRetirementProvider().check({}, {k: v for k, v in news.items() if v is not None}).inputs


@pytest.fixture
def provider_with(monkeypatch: pytest.MonkeyPatch) -> Callable[[RecordingEce, LinkConfirmer], Any]:
    """The provider, talking to the given recording ECE and confirming links with the given Elasticsearch side."""

    def use(ece: RecordingEce, confirmer: LinkConfirmer) -> EceTrustRetirementProvider:
        monkeypatch.setattr("components.ece.retirement.client_from", lambda _props: ece)
        return EceTrustRetirementProvider(confirmer)

    return use


def test_every_links_old_ca_is_dropped_in_one_put_and_the_state_records_what_was_retired(provider_with: Any) -> None:
    ece = TwoResources([copy.deepcopy(PARTNER), proxy(LOGS, [PEM1, PEM2]), generic(METRICS, [PEM1, PEM2])])
    answers = Answers()
    links = [link(LOGS, [PEM2]), link(METRICS, [PEM2])]
    provider = provider_with(ece, answers)
    created = provider.create(props(links))
    assert [put[0] for put in ece.puts] == [DEPLOYMENT_ID]
    assert by_name(ece.puts[0]) == by_name([PARTNER, proxy(LOGS, [PEM1]), generic(METRICS, [PEM1])])
    assert [(wait[1], wait[2]) for wait in ece.waits] == [(REF_ID, 30)]
    assert sorted(asked["alias"] for asked in answers.asked) == ["logs", "metrics"]
    assert created.id == f"{DEPLOYMENT_ID}/{REF_ID}"
    assert created.outs == {
        "ece": {"url": URL},
        "ece_credentials": ECE_CREDENTIALS,
        "deployment_id": DEPLOYMENT_ID,
        "ref_id": REF_ID,
        "links": links,
        "plan_timeout_seconds": 30,
        "retired": {LOGS: [PEM2], METRICS: [PEM2]},
    }
    read = provider.read(created.id, created.outs)
    assert (read.id, read.outs) == (created.id, created.outs)  # still there, as it was: not gone from the stack


def test_links_that_do_not_confirm_get_their_entries_back_as_they_were_and_the_error_names_them(
    provider_with: Any,
) -> None:
    """The second `PUT` trusts the old CA again for the links that did not confirm, each entry rebuilt with its
    model (a proxy entry stays a proxy entry, a certificate one stays generic with its scope) and its uid; a link that
    confirmed keeps the new CA alone. The error lists the entries and their reasons in name order."""
    ece = RecordingEce(
        [copy.deepcopy(PARTNER), proxy(LOGS, [PEM1, PEM2]), generic(METRICS, [PEM1, PEM2]), proxy(TRACES, [PEM1, PEM2])]
    )
    answers = Answers({"logs": "certificate signed by the old CA", "metrics": "handshake refused"})
    links = [link(TRACES, [PEM2]), link(METRICS, [PEM2]), link(LOGS, [PEM2])]
    with pytest.raises(RotationNotFinishedError) as raised:
        provider_with(ece, answers).create(props(links))
    assert len(ece.puts) == 2
    assert by_name(ece.puts[0]) == by_name(
        [PARTNER, proxy(LOGS, [PEM1]), generic(METRICS, [PEM1]), proxy(TRACES, [PEM1])]
    )
    assert by_name(ece.puts[1]) == by_name(
        [PARTNER, proxy(LOGS, [PEM1, PEM2]), generic(METRICS, [PEM1, PEM2]), proxy(TRACES, [PEM1])]
    )
    assert [(wait[1], wait[2]) for wait in ece.waits] == [(REF_ID, 30), (REF_ID, 30)]
    assert str(raised.value) == (
        f"trust entries {LOGS}, {METRICS}: the links do not connect with the new CA alone: the remote still presents "
        "certificates signed by the old CA (certificate signed by the old CA; handshake refused). Both CAs stay "
        "trusted for them; run `pulumi up` again once the rotation on the remote has finished."
    )


@pytest.mark.parametrize(("configured", "waited"), [(None, 600.0), (45, 45.0)])
def test_the_plan_is_waited_for_the_plan_timeout_or_ten_minutes(
    provider_with: Any, configured: int | None, waited: float
) -> None:
    ece = RecordingEce([proxy(LOGS, [PEM1, PEM2])])
    provider_with(ece, Answers()).create(props([link(LOGS, [PEM2])], plan_timeout_seconds=configured))
    assert [wait[2] for wait in ece.waits] == [waited]


def test_at_most_sixteen_links_are_confirmed_at_once(provider_with: Any) -> None:
    """Each confirmation is a fresh handshake through the deployment's Elasticsearch: all of them at the same time,
    but never more than sixteen. The first confirmations hold their slots until sixteen have started (a second at
    most), then a moment more, time for a seventeenth to start beside them if it could."""
    names = [f"ece-eck-remote-l{n:02}" for n in range(17)]
    ece = RecordingEce([proxy(name, [PEM1, PEM2]) for name in names])
    started = threading.Condition()
    active, peak, asked = 0, 0, 0

    class Gathering:
        def confirm(self, _details: Mapping[str, Any]) -> str | None:
            nonlocal active, peak, asked
            with started:
                active, asked = active + 1, asked + 1
                peak = max(peak, active)
                started.notify_all()
                started.wait_for(lambda: asked >= 16, timeout=1)
            time.sleep(0.1)
            with started:
                active -= 1
            return None

    created = provider_with(ece, Gathering()).create(props([link(name, [PEM2]) for name in names]))
    assert (asked, peak) == (17, 16)
    assert sorted(created.outs["retired"]) == names


@pytest.mark.parametrize(("given", "checked"), [(None, "_main"), ("", "_main"), (REF_ID, REF_ID)])
def test_check_names_the_main_elasticsearch_resource_when_no_ref_id_is_given(given: str | None, checked: str) -> None:
    news = {"ece": {"url": URL}, "ece_credentials": ECE_CREDENTIALS, "deployment_id": DEPLOYMENT_ID, "links": []}
    result = EceTrustRetirementProvider().check({}, {**news, **({} if given is None else {"ref_id": given})})
    assert result.inputs == {**news, "ref_id": checked}
    assert result.failures == []


@pytest.mark.parametrize(
    "news",
    [{"links": UNKNOWN}, {"links": [link(LOGS, [PEM2])]}, {"links": [link(LOGS, [])]}],
    ids=["unknown", "retiring", "nothing-retiring"],
)
def test_a_diff_never_asks_for_a_replacement_nor_a_delete_first(news: dict[str, Any]) -> None:
    """The retirement holds nothing of its own: a new rotation is an update, never a replacement."""
    diff = EceTrustRetirementProvider().diff("id", {"links": [link(LOGS, [])]}, news)
    assert not diff.replaces
    assert not diff.delete_before_replace
