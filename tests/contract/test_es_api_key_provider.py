"""`CrossClusterApiKey` against the (remote) Elasticsearch emulator: create, in-place update, rotation, delete,
import, refresh with drift, an interrupted create, and every request in the rest-api-spec."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pulumi.dynamic import CreateResult

from components.elasticsearch import api_key
from components.elasticsearch.access import access_hash
from components.elasticsearch.api_key import (
    LICENCE_REMEDY,
    CrossClusterApiKeyAccessProvider,
    CrossClusterApiKeyProvider,
)
from components.elasticsearch.client import ElasticsearchApiError, ElasticsearchCaller, caller
from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.support.es_spec import check_request
from tests.support.keys import ACCESS, key_props
from tests.support.secrets import assert_hidden
from tools.emulated_link import REMOTE_PASSWORD, EmulatedLink


def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    return key_props(**{"target": env.remote_target(), "credentials": env.remote_credentials(), **extra})


def keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return list(env.control(env.remote, "GET", "state")["api_keys"])


def active(env: EmulatedLink) -> list[dict[str, Any]]:
    return [key for key in keys(env) if not key["invalidated"]]


def test_create_makes_one_managed_key_and_keeps_encoded(env: EmulatedLink) -> None:
    result = CrossClusterApiKeyProvider().create(props(env))
    [key] = keys(env)
    assert key["id"] == result.id and key["name"] == "ece-eck-remote-test-logs"
    assert key["metadata"]["managed_by"] == "ece-eck-remote" and key["metadata"]["team"] == "search"
    assert key["metadata"]["access_hash"] == access_hash(ACCESS)
    assert base64.b64decode(result.outs["encoded"]).decode().startswith(f"{result.id}:")
    assert result.outs["encoded"] == key["encoded"]
    requests_made = env.requests_to(env.remote)
    assert [(r["method"], r["path"]) for r in requests_made][:3] == [
        ("GET", "/_license"),
        ("POST", "/_security/cross_cluster/api_key"),
        ("GET", "/_security/api_key"),  # leftovers of older attempts, looked for once the new key exists
    ]
    for entry in requests_made:
        if (
            entry["path"] != "/_license"
        ):  # license.get's spec is not among shared/specs (ES: params local, accept_enterprise)
            check_request(entry["method"], entry["path"], entry["query"])


def access_props(env: EmulatedLink, key_id: str, **extra: Any) -> dict[str, Any]:
    news = {**{k: v for k, v in props(env).items() if k != "name"}, "key_id": key_id, **extra}
    checked = CrossClusterApiKeyAccessProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def test_access_change_is_an_in_place_update_keeping_the_key(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    grants = CrossClusterApiKeyAccessProvider()
    env.control(env.remote, "DELETE", "requests")
    created = grants.create(access_props(env, key.id))
    assert [r for r in env.requests_to(env.remote) if r["method"] == "PUT"] == []  # created with these grants already
    news = access_props(
        env, key.id, access={"search": [{"names": ["logs-*", "metrics-*"], "query": {"term": {"public": True}}}]}
    )
    diff = grants.diff(created.id, created.outs, news)
    assert diff.changes and not diff.replaces
    # the key itself sees no change, so its `encoded` output stays known in a preview
    assert not CrossClusterApiKeyProvider().diff(key.id, key.outs, props(env, access=news["access"])).changes
    env.control(env.remote, "DELETE", "requests")
    updated = grants.update(created.id, created.outs, news)
    assert [r["method"] for r in env.requests_to(env.remote)] == ["PUT"]  # an access change is one call
    [live] = keys(env)
    assert live["id"] == key.id and live["encoded"] == key.outs["encoded"]
    assert live["access"]["search"][0]["names"] == ["logs-*", "metrics-*"]
    assert "replication" not in live["access"]
    assert live["metadata"]["access_hash"] == updated.outs["access_hash"] != created.outs["access_hash"]
    assert live["metadata"]["managed_by"] == "ece-eck-remote"


def test_grants_changed_by_hand_are_found_and_repaired(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    grants = CrossClusterApiKeyAccessProvider()
    created = grants.create(access_props(env, key.id))
    es = caller(env.remote_target(), env.remote_credentials())
    es.request(
        "edit", "PUT", f"_security/cross_cluster/api_key/{key.id}", json={"access": {"search": [{"names": ["*"]}]}}
    )
    drifted = grants.read(created.id, created.outs)
    assert drifted.inputs["access"] == {"search": [{"names": ["*"], "allow_restricted_indices": False}]}
    desired = access_props(env, key.id)
    assert grants.diff(created.id, drifted.outs, desired).changes
    grants.update(created.id, drifted.outs, desired)
    assert keys(env)[0]["access"]["search"][0]["names"] == ["logs-*"]


def test_a_new_rotation_token_is_a_replacement_that_creates_the_new_key_first(env: EmulatedLink) -> None:
    """What the provider decides of a rotation: a replacement, create before delete (`delete_before_replace` false),
    and a create of the new key that leaves the old one valid (its cleanup of leftovers is for the same token only).
    That the engine then stores the new key before it invalidates the old one, and the link never drops, is
    tests/engine/test_key_rotation.py's (this test calls the steps itself, so it cannot see their order)."""
    provider = CrossClusterApiKeyProvider()
    old = provider.create(props(env))
    news = props(env, rotation="2026-12")
    diff = provider.diff(old.id, old.outs, news)
    assert diff.replaces == ["rotation"] and diff.delete_before_replace is False
    new = provider.create(news)
    assert {k["id"] for k in active(env)} == {old.id, new.id}  # both work while the keystore switches
    provider.delete(old.id, old.outs)
    assert [k["id"] for k in active(env)] == [new.id]
    assert new.outs["encoded"] != old.outs["encoded"]


def test_delete_invalidates_and_is_idempotent(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    created = provider.create(props(env))
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    [key] = keys(env)
    assert key["invalidated"] is True


def test_read_serves_import_and_refresh_reports_an_invalidated_key_gone(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    created = provider.create(props(env))
    imported = provider.read(created.id, {"target": env.remote_target(), "credentials": env.remote_credentials()})
    assert imported.inputs["name"] == "ece-eck-remote-test-logs"
    assert imported.inputs["access"] == props(env)["access"]
    assert not provider.diff(created.id, created.outs, imported.inputs).changes
    assert not provider.diff(created.id, created.outs, provider.read(created.id, created.outs).inputs).changes
    es = caller(env.remote_target(), env.remote_credentials())
    es.request("invalidate", "DELETE", "_security/api_key", json={"ids": [created.id]})
    assert provider.read(created.id, created.outs).id == ""
    gone = CrossClusterApiKeyAccessProvider().read(f"{created.id}-access", {**props(env), "key_id": created.id})
    assert gone.id == ""


def test_an_interrupted_create_leaves_no_second_key(env: EmulatedLink) -> None:
    env.fault(env.remote, route="POST /_security/cross_cluster/api_key", kind="lost_response", times=1)
    result = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in active(env)] == [result.id]
    assert len(keys(env)) == 2  # the lost one exists, invalidated


def test_a_run_killed_after_create_is_cleaned_up_by_the_next_create(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    orphan = provider.create(props(env))  # its state was never saved
    env.control(env.remote, "PUT", "clock", {"offset_ms": 5_000})  # the next run starts seconds later
    result = provider.create(props(env))
    assert [k["id"] for k in active(env)] == [result.id]
    assert orphan.id != result.id


class PausedCreate:
    """Provider A's create in a thread, held in its wait for the remote (after its attempt began) until `resume`."""

    def __init__(self, env: EmulatedLink, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting, self.go = threading.Event(), threading.Event()
        self.result: list[CreateResult] = []
        self.errors: list[BaseException] = []
        read_licence = api_key._read_licence

        def held(es: ElasticsearchCaller) -> dict[str, Any] | None:
            if threading.current_thread() is self.thread and not self.go.is_set():
                self.waiting.set()
                assert self.go.wait(timeout=30)
            return read_licence(es)

        monkeypatch.setattr(api_key, "_read_licence", held)
        self.thread = threading.Thread(target=self._run, args=(props(env),))
        self.thread.start()
        assert self.waiting.wait(timeout=10)

    def _run(self, news: dict[str, Any]) -> None:
        try:
            self.result.append(CrossClusterApiKeyProvider().create(news))
        except BaseException as error:  # handed to the test
            self.errors.append(error)

    def resume(self) -> CreateResult:
        self.go.set()
        self.thread.join(timeout=30)
        assert not self.errors, self.errors
        [result] = self.result
        return result


def test_a_left_over_create_resumed_after_a_newer_run_never_invalidates_the_newer_key(
    env: EmulatedLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's interleaving: a run killed while its create waited for the remote left its provider process
    waiting (A); the operator's next run (B) created the key; then A went on. A's clean-up of keys "a lost earlier
    attempt may have left" must not touch B's key (in state), only keys older than A's own start."""
    orphan = CrossClusterApiKeyProvider().create(props(env))  # a run before both, whose state was lost
    env.control(env.remote, "PUT", "clock", {"offset_ms": 5_000})
    a = PausedCreate(env, monkeypatch)
    b = CrossClusterApiKeyProvider().create(props(env))
    assert {k["id"] for k in active(env)} == {b.id}  # B cleaned up the orphan, older than its start
    a_result = a.resume()
    assert {k["id"] for k in active(env)} == {b.id, a_result.id}  # B's key kept; A's is A's (its process ends)
    assert {k["id"] for k in keys(env) if k["invalidated"]} == {orphan.id}


def test_a_resumed_create_whose_answer_is_lost_invalidates_only_its_own_key(
    env: EmulatedLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = PausedCreate(env, monkeypatch)
    b = CrossClusterApiKeyProvider().create(props(env))
    env.fault(env.remote, route="POST /_security/cross_cluster/api_key", kind="lost_response", times=1)
    a_result = a.resume()
    assert {k["id"] for k in active(env)} == {b.id, a_result.id}
    [lost] = [k for k in keys(env) if k["invalidated"]]
    assert lost["id"] not in (b.id, a_result.id)
    assert lost["metadata"]["create_attempt"] == next(
        k["metadata"]["create_attempt"] for k in keys(env) if k["id"] == a_result.id
    )


def test_a_key_made_just_now_is_not_taken_for_a_leftover(env: EmulatedLink) -> None:
    """Within the margin the clean-up leaves a key alone: a leak, possible only for a run lost less than a second
    before, is safer than invalidating a key some other run holds."""
    provider = CrossClusterApiKeyProvider()
    first = provider.create(props(env))
    second = provider.create(props(env))
    assert {k["id"] for k in active(env)} == {first.id, second.id}


def test_transient_faults_are_retried(env: EmulatedLink) -> None:
    for fault in (
        {"route": "POST /_security/cross_cluster/api_key", "kind": "retry_after", "retry_after": 1, "times": 1},
        {"route": "GET /_security/api_key", "kind": "status", "status": 503, "times": 2},
        {"route": "POST /_security/cross_cluster/api_key", "kind": "drop", "times": 1},
    ):
        env.fault(env.remote, **fault)
    result = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in active(env)] == [result.id]


def test_errors_name_the_call_and_never_the_password(env: EmulatedLink) -> None:
    """The 401 for a wrong password repeats it (as a server may): the error names the call, never the password."""
    wrong = "wrong-elastic-password-0001"
    reason = f"unable to authenticate user [elastic] with password [{wrong}]"
    env.fault(
        env.remote,
        route="GET /_license",
        kind="status",
        status=401,
        times=-1,
        body={"error": {"type": "security_exception", "reason": reason}, "status": 401},
    )
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().create(
            props(env, credentials={"username": "elastic", "password": wrong}, ready_timeout_seconds=1)
        )
    env.control(env.remote, "DELETE", "faults")
    message = str(raised.value)
    assert message.startswith("Elasticsearch API wait for the remote cluster's Elasticsearch API failed")
    assert "HTTP 401 [security_exception]" in message and "read the licence" in message
    assert "unable to authenticate user [elastic]" in message
    assert_hidden(message, wrong, REMOTE_PASSWORD)
    env.fault(
        env.remote,
        route="POST /_security/cross_cluster/api_key",
        kind="status",
        status=403,
        times=1,
        body={
            "error": {
                "type": "security_exception",
                "reason": "current license is non-compliant for [advanced-remote-cluster-security]",
            },
            "status": 403,
        },
    )
    with pytest.raises(ElasticsearchApiError) as forbidden:
        CrossClusterApiKeyProvider().create(props(env))
    # the licence changed between the check and the create: Elasticsearch's 403, with the same advice
    assert str(forbidden.value) == (
        "Elasticsearch API create cross-cluster API key ece-eck-remote-test-logs failed: "
        f"{env.remote_target()['url']} refused it (current license is non-compliant for "
        f"[advanced-remote-cluster-security]): {LICENCE_REMEDY}"
    )
    assert forbidden.value.status == 403 and REMOTE_PASSWORD not in str(forbidden.value)


def test_create_waits_for_the_remote_api_to_come_up(env: EmulatedLink) -> None:
    env.fault(env.remote, route="GET /_license", kind="status", status=503, times=8)
    result = CrossClusterApiKeyProvider().create(props(env, ready_timeout_seconds=30))
    assert [k["id"] for k in active(env)] == [result.id]


def test_check_catches_what_elasticsearch_would_reject() -> None:
    provider = CrossClusterApiKeyProvider()
    base = {"target": {"kind": "direct", "url": "https://es:9200"}, "credentials": {"password": "x"}, "name": "k"}
    assert provider.check({}, {**base, "access": {}}).failures
    both = {"search": [{"names": ["a"], "query": {"match_all": {}}}], "replication": [{"names": ["b"]}]}
    assert "level security" in provider.check({}, {**base, "access": both}).failures[0].reason
    assert provider.check({}, {**base, "name": "_hidden", "access": ACCESS}).failures
    assert provider.check({}, {**base, "access": ACCESS, "metadata": {"managed_by": "me"}}).failures


def test_grants_created_with_the_key_cost_no_call(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    env.control(env.remote, "DELETE", "requests")
    grants = access_props(env, key.id, key_grants_hash=key.outs["grants_hash"], key_expires_at=key.outs["expires_at"])
    created = CrossClusterApiKeyAccessProvider().create(grants)
    assert env.requests_to(env.remote) == []
    assert created.outs["access_hash"] == access_hash(ACCESS)
    # grants that differ from the key's creation are read and sent
    changed = access_props(env, key.id, key_grants_hash=key.outs["grants_hash"], metadata={"team": "other"})
    CrossClusterApiKeyAccessProvider().create(changed)
    assert [r["method"] for r in env.requests_to(env.remote)] == ["GET", "PUT", "GET"]
    assert keys(env)[0]["metadata"]["team"] == "other"


# --- every version boundary: 8.14 (RCS 2.0 GA), 8.19 (checked on a real node), 9.0, 9.2, 9.3 (certificate_identity) ----
VERSIONS = ("8.14.3", "8.19.21", "9.0.8", "9.2.4", "9.3.2")


@dataclass
class Remote:
    """One remote-cluster Elasticsearch emulator of a given version, emptied for the test that uses it."""

    version: str
    url: str

    @property
    def certificate_identity(self) -> bool:
        return tuple(int(part) for part in self.version.split(".")) >= (9, 3, 0)

    def target(self) -> dict[str, Any]:
        return {
            "kind": "direct",
            "url": self.url,
            "ca_certificate": None,
            "insecure": False,
            "request_timeout_seconds": 5.0,
        }

    def control(self, method: str, what: str) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{what}", timeout=10)
        response.raise_for_status()
        return response.json()

    def api_keys(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "state")["api_keys"])

    def methods(self) -> list[str]:
        return [entry["method"] for entry in self.control("GET", "requests")]

    def live(self, key_id: str) -> dict[str, Any]:
        """What `GET /_security/api_key?id=` answers for the key: the oracle for state."""
        response = caller(self.target(), REMOTE_CREDENTIALS).request(
            "oracle", "GET", "_security/api_key", params={"id": key_id}
        )
        [item] = response.json()["api_keys"]
        return dict(item)

    def props(self, **extra: Any) -> dict[str, Any]:
        return key_props(**{"target": self.target(), "credentials": REMOTE_CREDENTIALS, **extra})

    def access_props(self, key: CreateResult, **extra: Any) -> dict[str, Any]:
        """The grants resource as `link.py` declares it: with the key's outputs, so a first create costs no call."""
        base = {k: v for k, v in self.props(**extra).items() if k not in ("name", "ready_timeout_seconds")}
        news = {
            **base,
            "key_id": key.id,
            "key_grants_hash": key.outs["grants_hash"],
            "key_expires_at": key.outs["expires_at"],
        }
        checked = CrossClusterApiKeyAccessProvider().check({}, news)
        assert checked.failures == []
        return checked.inputs


REMOTE_CREDENTIALS = {"username": "elastic", "password": REMOTE_PASSWORD}


@pytest.fixture(scope="module")
def remotes() -> Iterator[dict[str, Remote]]:
    """One emulator per version for the whole module (stopping a server takes half a second)."""
    with ExitStack() as stack:
        started: dict[str, Remote] = {}
        for version in VERSIONS:
            emulator = ElasticsearchEmulator(Config(version=version, elastic_password=REMOTE_PASSWORD))
            stack.callback(emulator.close)
            started[version] = Remote(version, stack.enter_context(running(emulator)).url)
        yield started


@pytest.fixture(params=VERSIONS)
def remote(request: pytest.FixtureRequest, remotes: dict[str, Remote]) -> Remote:
    chosen = remotes[request.param]
    chosen.control("POST", "reset")
    chosen.control("DELETE", "requests")
    return chosen


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Every (method, path, JSON body) the providers send, as they send it."""
    calls: list[tuple[str, str, Any]] = []
    original = ElasticsearchCaller.request

    def record(self: ElasticsearchCaller, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        calls.append((method, path, kwargs.get("json")))
        return original(self, operation, method, path, **kwargs)

    monkeypatch.setattr(ElasticsearchCaller, "request", record)
    return calls


def puts(sent: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    return [dict(body) for method, _path, body in sent if method == "PUT"]


def test_create_at_every_version(remote: Remote) -> None:
    key = CrossClusterApiKeyProvider().create(remote.props(expiration="30d"))
    live = remote.live(key.id)
    assert live["name"] == "ece-eck-remote-test-logs" and live["metadata"]["managed_by"] == "ece-eck-remote"
    assert key.outs["expires_at"] == live["expiration"]
    assert "certificate_identity" not in live
    grants = CrossClusterApiKeyAccessProvider().create(remote.access_props(key, expiration="30d"))
    assert grants.outs["expires_at"] == live["expiration"]


def test_access_change_is_in_place_at_every_version(remote: Remote, sent: list[tuple[str, str, Any]]) -> None:
    """The 8.19 bug: an access change sent `"certificate_identity": null`, which Elasticsearch < 9.3 refuses."""
    key = CrossClusterApiKeyProvider().create(remote.props())
    grants = CrossClusterApiKeyAccessProvider()
    created = grants.create(remote.access_props(key))
    news = remote.access_props(key, access={"search": [{"names": ["logs-*", "metrics-*"]}]})
    assert grants.diff(created.id, created.outs, news).changes
    sent.clear()
    remote.control("DELETE", "requests")
    updated = grants.update(created.id, created.outs, news)
    assert remote.methods() == ["PUT"]
    assert "certificate_identity" not in puts(sent)[0]
    live = remote.live(key.id)
    assert live["access"] == {"search": [{"names": ["logs-*", "metrics-*"], "allow_restricted_indices": False}]}
    assert live["metadata"]["access_hash"] == updated.outs["access_hash"]
    assert [k["encoded"] for k in remote.api_keys()] == [key.outs["encoded"]]  # the same key, in place


def test_expires_at_stays_true_after_an_access_only_update(remote: Remote, sent: list[tuple[str, str, Any]]) -> None:
    """Elasticsearch sets expiry = now + `expiration` on every update that sends it; an unchanged one is not sent."""
    key = CrossClusterApiKeyProvider().create(remote.props(expiration="30d"))
    grants = CrossClusterApiKeyAccessProvider()
    created = grants.create(remote.access_props(key, expiration="30d"))
    news = remote.access_props(key, expiration="30d", access={"search": [{"names": ["other-*"]}]})
    sent.clear()
    updated = grants.update(created.id, created.outs, news)
    assert updated.outs["expires_at"] == remote.live(key.id)["expiration"]
    # a changed expiration is sent, moves the expiry, and state follows it
    later = remote.access_props(key, expiration="60d", access=news["access"])
    moved = grants.update(created.id, updated.outs, later)
    assert moved.outs["expires_at"] == remote.live(key.id)["expiration"] > updated.outs["expires_at"]
    assert [body.get("expiration") for body in puts(sent)] == [None, "60d"]


def test_rotation_and_delete_at_every_version(remote: Remote) -> None:
    provider = CrossClusterApiKeyProvider()
    old = provider.create(remote.props())
    news = remote.props(rotation="2026-12")
    assert provider.diff(old.id, old.outs, news).replaces == ["rotation"]
    new = provider.create(news)
    assert {k["id"] for k in remote.api_keys() if not k["invalidated"]} == {old.id, new.id}
    provider.delete(old.id, old.outs)
    provider.delete(old.id, old.outs)  # idempotent
    assert [k["id"] for k in remote.api_keys() if not k["invalidated"]] == [new.id]
    assert remote.live(old.id)["invalidated"] is True
    assert provider.read(old.id, old.outs).id == ""
    assert CrossClusterApiKeyAccessProvider().read(f"{old.id}-access", {**old.outs, "key_id": old.id}).id == ""


def test_import_and_refresh_show_no_change_at_every_version(remote: Remote) -> None:
    provider, grants = CrossClusterApiKeyProvider(), CrossClusterApiKeyAccessProvider()
    key = provider.create(remote.props(expiration="7d"))
    imported = provider.read(key.id, {"target": remote.target(), "credentials": REMOTE_CREDENTIALS})
    assert imported.inputs["name"] == "ece-eck-remote-test-logs"
    assert imported.inputs["access"] == remote.props()["access"]
    assert not provider.diff(key.id, key.outs, imported.inputs).changes
    created = grants.create(remote.access_props(key, expiration="7d"))
    refreshed = grants.read(created.id, created.outs)
    assert refreshed.outs["expires_at"] == remote.live(key.id)["expiration"]
    assert not grants.diff(created.id, refreshed.outs, remote.access_props(key, expiration="7d")).changes


def test_names_as_a_string_and_query_as_an_object_show_no_change(remote: Remote) -> None:
    """Elasticsearch answers `names` as a list and `query` as a JSON string; refresh then preview sees no change."""
    access = {
        "search": [{"names": "logs-*", "query": {"term": {"tier": "public"}}, "field_security": {"grant": "public-*"}}]
    }
    provider, grants = CrossClusterApiKeyProvider(), CrossClusterApiKeyAccessProvider()
    key = provider.create(remote.props(access=access))
    [entry] = remote.live(key.id)["access"]["search"]
    assert entry["names"] == ["logs-*"] and entry["field_security"] == {"grant": ["public-*"]}
    assert json.loads(entry["query"]) == {"term": {"tier": "public"}}
    assert key.outs["access"] == {"search": [entry]}  # state holds what Elasticsearch answers
    assert not provider.diff(key.id, key.outs, provider.read(key.id, key.outs).inputs).changes
    created = grants.create(remote.access_props(key, access=access))
    refreshed = grants.read(created.id, created.outs)
    assert refreshed.inputs["access"] == {"search": [entry]}
    assert not grants.diff(created.id, refreshed.outs, remote.access_props(key, access=access)).changes


def test_certificate_identity_is_set_kept_and_cleared_only_at_9_3(
    remotes: dict[str, Remote], sent: list[tuple[str, str, Any]]
) -> None:
    remote = remotes["9.3.2"]
    remote.control("POST", "reset")
    grants = CrossClusterApiKeyAccessProvider()
    key = CrossClusterApiKeyProvider().create(remote.props(certificate_identity="CN=local-.*"))
    assert remote.live(key.id)["certificate_identity"] == "CN=local-.*"
    created = grants.create(remote.access_props(key, certificate_identity="CN=local-.*"))
    # an access change leaves the identity out of the body, and the identity stays
    changed = remote.access_props(key, certificate_identity="CN=local-.*", access={"search": [{"names": ["x-*"]}]})
    sent.clear()
    kept = grants.update(created.id, created.outs, changed)
    assert "certificate_identity" not in puts(sent)[0] or puts(sent)[0]["certificate_identity"] == "CN=local-.*"
    assert remote.live(key.id)["certificate_identity"] == "CN=local-.*"
    # a new identity replaces it
    other = remote.access_props(key, certificate_identity="CN=other", access=changed["access"])
    replaced = grants.update(created.id, kept.outs, other)
    assert remote.live(key.id)["certificate_identity"] == "CN=other"
    # removing it from the program sends an explicit null, which clears it
    cleared_props = remote.access_props(key, access=changed["access"])
    sent.clear()
    cleared = grants.update(created.id, replaced.outs, cleared_props)
    assert puts(sent)[0]["certificate_identity"] is None
    assert "certificate_identity" not in remote.live(key.id)
    # and once cleared, nothing about it is sent again
    sent.clear()
    last_props = {**cleared_props, "metadata": {"team": "other"}}
    last = grants.update(created.id, cleared.outs, last_props)
    assert "certificate_identity" not in puts(sent)[0]
    assert not grants.diff(created.id, grants.read(created.id, last.outs).outs, last_props).changes


def test_an_identity_set_by_hand_is_cleared_when_the_program_has_none(remotes: dict[str, Remote]) -> None:
    remote = remotes["9.3.2"]
    remote.control("POST", "reset")
    key = CrossClusterApiKeyProvider().create(remote.props())
    caller(remote.target(), REMOTE_CREDENTIALS).request(
        "edit", "PUT", f"_security/cross_cluster/api_key/{key.id}", json={"certificate_identity": "CN=by-hand"}
    )
    grants = CrossClusterApiKeyAccessProvider()
    created = grants.create(remote.access_props(key, metadata={"team": "other"}))  # differs: read, then sent
    assert "certificate_identity" not in remote.live(key.id)
    assert created.outs["certificate_identity"] is None
