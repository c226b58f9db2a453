"""The rules of the cross-cluster API key provider that need exact control of time or of Pulumi: what `check` refuses
(and says), what a diff replaces, the licence message, the wait for the remote's API (which answers it waits on,
how often it asks, what it says meanwhile), the clean-up's cut-off to the millisecond, and what the two resources
register. A scripted remote stands for Elasticsearch; tests/contract/test_api_key_requests.py covers the wire."""

from __future__ import annotations

import base64
import logging
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown

from components import names, polling
from components.dynamic import UNKNOWN
from components.elasticsearch import api_key
from components.elasticsearch.api_key import (
    CrossClusterApiKey,
    CrossClusterApiKeyAccess,
    CrossClusterApiKeyAccessProvider,
    CrossClusterApiKeyProvider,
    licence_problem,
)
from components.elasticsearch.client import ElasticsearchApiError, ElasticsearchCaller
from tests.support.keys import ACCESS
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret

TARGET = {"kind": "direct", "url": "https://remote.test:9200"}
CREDENTIALS = {"username": "elastic", "password": "remote-password-0001"}
NAME = "ece-eck-remote-test-logs"
KEY_TYPE = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
ACCESS_TYPE = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess"


def key_check(**fields: Any) -> list[CheckFailure]:
    news = {"target": TARGET, "credentials": CREDENTIALS, "name": NAME, "access": ACCESS, **fields}
    return list(CrossClusterApiKeyProvider().check({}, news).failures)


# --- check ------------------------------------------------------------------------------------------------------

NAME_RULE = "an API key name must not start with '_', have surrounding spaces or exceed 256 characters"


@pytest.mark.parametrize("name", ["_hidden", " padded", "padded ", "x" * 257])
def test_check_refuses_a_name_elasticsearch_would_refuse(name: str) -> None:
    [failure] = key_check(name=name)
    assert (failure.property, failure.reason) == ("name", NAME_RULE)


@pytest.mark.parametrize("name", ["x" * 256, "a-b_c", UNKNOWN])
def test_check_accepts_a_name_up_to_256_characters_and_an_unknown_one(name: str) -> None:
    assert key_check(name=name) == []


def test_check_names_every_metadata_key_that_is_reserved() -> None:
    [failure] = key_check(metadata={"_private": 1, "team": "a", "managed_by": "me", "create_attempt": "x"})
    assert failure.property == "metadata"
    assert failure.reason == (
        "metadata keys may not start with '_' or be one of ours: _private, managed_by, create_attempt"
    )


def test_check_leaves_metadata_unknown_in_a_preview_for_later() -> None:
    """A secret input unknown in a preview reaches `check` as the SDK's `Unknown` marker, not the sentinel."""
    assert key_check(metadata=Unknown()) == []
    assert key_check(metadata=UNKNOWN) == []


def test_check_leaves_unknown_access_for_later_and_canonicalises_known_access() -> None:
    """In a preview the access may be unknown: nothing to judge yet, and it stays as it is."""
    provider = CrossClusterApiKeyProvider()
    base = {"target": TARGET, "credentials": CREDENTIALS, "name": NAME}
    unknown = provider.check({}, {**base, "access": UNKNOWN})
    assert (unknown.failures, unknown.inputs["access"]) == ([], UNKNOWN)
    missing = provider.check({}, base)
    assert [(f.property, f.reason) for f in missing.failures] == [("access", "'access' is required")]
    known = provider.check({}, {**base, "access": {"search": [{"names": "logs-*"}]}})
    assert known.inputs["access"] == {"search": [{"names": ["logs-*"], "allow_restricted_indices": False}]}


# --- diff -------------------------------------------------------------------------------------------------------


def key_state(**fields: Any) -> dict[str, Any]:
    return {"target": TARGET, "credentials": CREDENTIALS, "name": NAME, "rotation": None, "access": ACCESS, **fields}


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"name": "ece-eck-remote-test-other"}, ["name"]),
        ({"rotation": "2026-12"}, ["rotation"]),
        ({"target": {**TARGET, "url": "https://other.test:9200"}}, []),
        ({"credentials": {**CREDENTIALS, "password": "another-password"}}, []),
    ],
)
def test_the_key_is_replaced_for_its_identity_and_updated_for_its_connection(
    change: dict[str, Any], replaces: list[str]
) -> None:
    diff = CrossClusterApiKeyProvider().diff("k", key_state(), key_state(**change))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, replaces, False)


def test_the_key_sees_no_change_in_its_grants() -> None:
    diff = CrossClusterApiKeyProvider().diff("k", key_state(), key_state(access={"search": [{"names": ["x"]}]}))
    assert diff.changes is False


def access_state(**fields: Any) -> dict[str, Any]:
    return {"target": TARGET, "credentials": CREDENTIALS, "key_id": "k1", "access": ACCESS, **fields}


def test_the_grants_follow_a_new_key_by_replacement_created_first() -> None:
    diff = CrossClusterApiKeyAccessProvider().diff("k1-access", access_state(), access_state(key_id="k2"))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["key_id"], False)


def test_changed_grants_are_an_update_in_place() -> None:
    news = access_state(access={"search": [{"names": ["x"]}]})
    diff = CrossClusterApiKeyAccessProvider().diff("k1-access", access_state(), news)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [], False)


# --- the licence message ----------------------------------------------------------------------------------------


def test_a_licence_answer_without_type_or_status_is_named_unknown() -> None:
    problem = licence_problem("https://remote.test:9200", {})
    assert problem == f"https://remote.test:9200 has an unknown licence (unknown): {api_key.LICENCE_REMEDY}"


def test_the_licence_message_reads_well_for_each_type() -> None:
    assert str(licence_problem("r", {"type": "basic", "status": "active"})).startswith("r has a basic licence (active)")
    expired = str(licence_problem("r", {"type": "enterprise", "status": "expired"}))
    assert expired.startswith("r has an enterprise licence (expired)")


# --- a scripted remote, its clock, and the wait -----------------------------------------------------------------


@dataclass
class Clock:
    """The provider's monotonic clock and the wait's sleep, in one fake time line."""

    now: float = 100.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeResponse:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return self.body


Answer = Callable[[str, str, Mapping[str, Any] | None, Any], tuple[int, Any]]


class ScriptedRemote(ElasticsearchCaller):
    """Answers each call with `answer(method, path, params, body)`; a status outside `ok` raises as the HTTP layer
    does."""

    def __init__(self, answer: Answer) -> None:
        self.description = "https://remote.test:9200"
        self.answer = answer
        self.calls: list[tuple[str, str, Any]] = []

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        ok: Any = (200,),
        idempotent: bool | None = None,
        secrets: Any = (),
    ) -> Any:
        self.calls.append((method, path, json))
        status, body = self.answer(method, path, params, json)
        if status not in set(ok):
            error = body["error"]
            raise ElasticsearchApiError(operation, status, error["type"], error["reason"])
        return FakeResponse(status, body)


def failure(status: int, kind: str = "some_exception") -> tuple[int, Any]:
    return status, {"error": {"type": kind, "reason": f"answered {status}"}, "status": status}


ENTERPRISE = (200, {"license": {"type": "enterprise", "status": "active"}})
CREATION = 1_000_000


def created_key() -> dict[str, Any]:
    return {"id": "new", "name": NAME, "creation": CREATION, "metadata": {"managed_by": names.MANAGED_BY}}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The provider's clock, and the wait for the remote on the same fake time line."""
    fake = Clock()
    monkeypatch.setattr(api_key, "time", SimpleNamespace(monotonic=fake.monotonic))

    def paced(probe: Callable[[], Any], **kwargs: Any) -> Any:
        return polling.wait_for(probe, **kwargs, clock=fake.monotonic, sleep=fake.sleep)

    monkeypatch.setattr(api_key, "wait_for", paced)
    return fake


def use(monkeypatch: pytest.MonkeyPatch, remote: ScriptedRemote) -> ScriptedRemote:
    monkeypatch.setattr(api_key, "caller", lambda _target, _credentials: remote)
    return remote


def key_props(**fields: Any) -> dict[str, Any]:
    return {**key_state(metadata=None, expiration=None, certificate_identity=None), **fields}


def remote_that(licence: Callable[[], tuple[int, Any]], leftovers: list[dict[str, Any]] | None = None) -> Answer:
    """A remote whose `GET _license` answers `licence()`, then creates `new` and lists it with `leftovers`."""

    def answer(method: str, path: str, params: Mapping[str, Any] | None, _body: Any) -> tuple[int, Any]:
        if path == "_license":
            return licence()
        if method == "POST":
            return 200, {"id": "new", "name": NAME, "encoded": "ZW5jb2RlZA=="}
        if method == "GET":
            return 200, {"api_keys": [created_key(), *(leftovers or [])]}
        return 200, {"error_count": 0}

    return answer


def test_the_wait_for_the_remote_polls_at_most_every_two_seconds_and_says_what_it_waits_for(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A new cluster's API answers 503 for a while: the create asks again, doubling the pause up to 2 s, and says
    on the resource what it waits for against the default limit of 600 s."""
    answers = [failure(503)] * 8 + [ENTERPRISE]
    use(monkeypatch, ScriptedRemote(remote_that(lambda: answers.pop(0))))
    caplog.set_level(logging.INFO, logger="ece_eck_remote.progress")
    props = key_props()
    props.pop("ready_timeout_seconds", None)
    CrossClusterApiKeyProvider().create(props)
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    lines = [r.getMessage() for r in caplog.records if r.name == "ece_eck_remote.progress"]
    assert lines == [
        "waiting for the Elasticsearch API of https://remote.test:9200 to answer: 5s of 600s "
        "(Elasticsearch API read the licence failed: HTTP 503 [some_exception]: answered 503)",
        "waited 9s for the Elasticsearch API of https://remote.test:9200 to answer",
    ]


@pytest.mark.parametrize("status", [500, 502, 401])
def test_a_server_error_or_an_early_401_is_waited_on(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, status: int
) -> None:
    answers = [failure(status), ENTERPRISE]
    use(monkeypatch, ScriptedRemote(remote_that(lambda: answers.pop(0))))
    assert CrossClusterApiKeyProvider().create(key_props(ready_timeout_seconds=30)).id == "new"
    assert clock.sleeps == [0.1]


def test_a_401_a_minute_after_the_wait_began_is_a_wrong_password(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """The file realm has had its minute: a 401 exactly 60 s in is reported, not waited on."""

    def licence() -> tuple[int, Any]:
        clock.now = max(clock.now, 160.0)  # the wait began at 100.0
        return failure(401, "security_exception")

    use(monkeypatch, ScriptedRemote(remote_that(licence)))
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().create(key_props(ready_timeout_seconds=600))
    assert raised.value.status == 401 and clock.sleeps == []


# --- the clean-up's cut-off -------------------------------------------------------------------------------------


def test_the_clean_up_cut_off_is_the_attempt_start_on_the_remote_clock_less_the_margin(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """The create answered 2.5 s after the attempt began, and the new key says `creation` C: the attempt began no
    earlier than C - 2500 ms on the remote's clock; keys older than that less 1 ms and the 1000 ms margin (before
    C - 3501) are leftovers, a key of C - 3501 is not."""
    ours = {"managed_by": names.MANAGED_BY}
    leftovers = [
        {"id": "at-cut-off", "name": NAME, "creation": CREATION - 3501, "metadata": ours},
        {"id": "before-cut-off", "name": NAME, "creation": CREATION - 3502, "metadata": ours},
    ]
    answer = remote_that(lambda: ENTERPRISE, leftovers)

    def timed(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> tuple[int, Any]:
        if method == "POST":
            clock.now += 2.5
        return answer(method, path, params, body)

    remote = use(monkeypatch, ScriptedRemote(timed))
    CrossClusterApiKeyProvider().create(key_props())
    assert [body for method, _path, body in remote.calls if method == "DELETE"] == [{"ids": ["before-cut-off"]}]


# --- what the resources register --------------------------------------------------------------------------------


def registered_inputs(build: Callable[[], None]) -> RecordingMocks:
    mocks = RecordingMocks()
    run_under_mocks(build, mocks)
    return mocks


def plain(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: unwrap_secret(v)[0] for k, v in inputs.items() if k != "__provider"}


def test_the_key_registers_every_input_and_keeps_encoded_secret() -> None:
    def build() -> None:
        CrossClusterApiKey(
            "key",
            target=TARGET,
            credentials=CREDENTIALS,
            key_name=NAME,
            access=ACCESS,
            expiration="30d",
            metadata={"team": "search"},
            certificate_identity="CN=local",
            rotation="2026-12",
            adopt_key_id="hand-made",
        )
        CrossClusterApiKey("defaults", target=TARGET, credentials=CREDENTIALS, key_name=NAME, access=ACCESS)

    mocks = registered_inputs(build)
    key = mocks.named("key")
    assert plain(key.inputs) == {
        "target": TARGET,
        "credentials": CREDENTIALS,
        "adopt_key_id": "hand-made",
        "name": NAME,
        "ready_timeout_seconds": 600,
        "rotation": "2026-12",
        "access": ACCESS,
        "expiration": "30d",
        "metadata": {"team": "search"},
        "certificate_identity": "CN=local",
    }
    assert unwrap_secret(key.inputs["credentials"])[1]
    assert key.additional_secret_outputs == ("encoded",)
    assert mocks.named("defaults").inputs["ready_timeout_seconds"] == 600
    assert mocks.named("defaults").additional_secret_outputs == ("encoded",)


def test_the_grants_register_every_input() -> None:
    def build() -> None:
        CrossClusterApiKeyAccess(
            "grants",
            target=TARGET,
            credentials=CREDENTIALS,
            key_id="k1",
            access=ACCESS,
            expiration="30d",
            metadata={"team": "search"},
            certificate_identity="CN=local",
            rotation="2026-12",
            key_grants_hash="hash",
            key_expires_at=5,
        )

    grants = registered_inputs(build).one(ACCESS_TYPE)
    assert plain(grants.inputs) == {
        "target": TARGET,
        "credentials": CREDENTIALS,
        "key_id": "k1",
        "key_grants_hash": "hash",
        "key_expires_at": 5,
        "rotation": "2026-12",
        "access": ACCESS,
        "expiration": "30d",
        "metadata": {"team": "search"},
        "certificate_identity": "CN=local",
    }
    assert unwrap_secret(grants.inputs["credentials"])[1]


def test_each_resource_is_served_by_its_own_provider() -> None:
    def build() -> None:
        CrossClusterApiKey("key", target=TARGET, credentials=CREDENTIALS, key_name=NAME, access=ACCESS)
        CrossClusterApiKeyAccess("grants", target=TARGET, credentials=CREDENTIALS, key_id="k1", access=ACCESS)

    mocks = registered_inputs(build)
    for typ, provider in ((KEY_TYPE, CrossClusterApiKeyProvider), (ACCESS_TYPE, CrossClusterApiKeyAccessProvider)):
        serialized, _secret = unwrap_secret(mocks.one(typ).inputs["__provider"])
        assert type(pickle.loads(base64.b64decode(serialized))) is provider  # noqa: S301 (the provider just pickled)


def test_the_outputs_of_both_resources_reach_the_program() -> None:
    """What the providers return is readable on the resources: the key's adopted name, the grants' hash and expiry."""

    def outputs(args: Any) -> dict[str, Any]:
        if args.typ == KEY_TYPE:
            return {"key_id": "k1", "encoded": "ZW5jb2RlZA==", "expires_at": 7, "adopted_name": "made-by-hand"}
        return {"access_hash": "hash", "expires_at": 9}

    made: dict[str, Any] = {}

    def build() -> None:
        made["key"] = CrossClusterApiKey("key", target=TARGET, credentials=CREDENTIALS, key_name=NAME, access=ACCESS)
        made["grants"] = CrossClusterApiKeyAccess(
            "grants", target=TARGET, credentials=CREDENTIALS, key_id="k1", access=ACCESS
        )

    run_under_mocks(build, RecordingMocks(outputs=outputs))
    assert resolve(made["key"].adopted_name).value == "made-by-hand"
    assert resolve(made["key"].expires_at).value == 7
    assert resolve(made["grants"].access_hash).value == "hash"
    assert resolve(made["grants"].expires_at).value == 9
