"""What `CrossClusterApiKey` and `CrossClusterApiKeyAccess` send to the remote cluster and keep in state, call by
call: the create body, the clean-up of leftovers (which keys it may touch), adoption, refresh, and the errors a
user reads. Against the (remote) Elasticsearch emulator; tests/contract/test_es_api_key_provider.py covers the
life cycle across versions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from components import names
from components.dynamic import AdoptionError
from components.elasticsearch.access import access_hash, canonical
from components.elasticsearch.api_key import (
    ACCESS_INPUTS,
    KEY_INPUTS,
    LICENCE_REMEDY,
    CrossClusterApiKeyAccessProvider,
    CrossClusterApiKeyProvider,
    LicenceError,
    licence_problem,
)
from components.elasticsearch.client import ElasticsearchApiError, ElasticsearchCaller, caller
from tests.support.keys import ACCESS, key_props
from tools.emulated_link import EmulatedLink

NAME = "ece-eck-remote-test-logs"


@dataclass(frozen=True)
class Sent:
    operation: str
    method: str
    path: str
    params: Any
    json: Any


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every call the providers make, as they make it."""
    calls: list[Sent] = []
    original = ElasticsearchCaller.request

    def record(self: ElasticsearchCaller, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        calls.append(Sent(operation, method, path, kwargs.get("params"), kwargs.get("json")))
        return original(self, operation, method, path, **kwargs)

    monkeypatch.setattr(ElasticsearchCaller, "request", record)
    return calls


def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    return key_props(**{"target": env.remote_target(), "credentials": env.remote_credentials(), **extra})


def access_props(env: EmulatedLink, key_id: str, **extra: Any) -> dict[str, Any]:
    news = {**{k: v for k, v in props(env).items() if k != "name"}, "key_id": key_id, **extra}
    checked = CrossClusterApiKeyAccessProvider().check({}, news)
    assert checked.failures == []
    return dict(checked.inputs)


def keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return list(env.control(env.remote, "GET", "state")["api_keys"])


def live(env: EmulatedLink, key_id: str) -> dict[str, Any]:
    answer = caller(env.remote_target(), env.remote_credentials()).request(
        "oracle", "GET", "_security/api_key", params={"id": key_id}
    )
    [item] = answer.json()["api_keys"]
    return dict(item)


def by_hand(env: EmulatedLink, name: str, **fields: Any) -> str:
    """A cross-cluster key made outside the program; its id."""
    body = {"name": name, "access": {"search": [{"names": ["hand-*"]}]}, **fields}
    answer = caller(env.remote_target(), env.remote_credentials()).request(
        "by hand", "POST", "_security/cross_cluster/api_key", json=body
    )
    return str(answer.json()["id"])


def edit(env: EmulatedLink, key_id: str, body: dict[str, Any]) -> None:
    caller(env.remote_target(), env.remote_credentials()).request(
        "by hand", "PUT", f"_security/cross_cluster/api_key/{key_id}", json=body
    )


def queries(env: EmulatedLink) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [(r["method"], r["path"], r["query"]) for r in env.requests_to(env.remote)]


# --- create -----------------------------------------------------------------------------------------------------


def test_create_sends_the_grants_the_rotation_token_and_a_fresh_attempt_id(env: EmulatedLink, sent: list[Sent]) -> None:
    CrossClusterApiKeyProvider().create(props(env, rotation="2026-12"))
    [post] = [call for call in sent if call.method == "POST"]
    attempt = post.json["metadata"].pop("create_attempt")
    assert len(attempt) == 24 and int(attempt, 16) >= 0  # 12 random bytes, hex
    assert post.json == {
        "name": NAME,
        "access": canonical(ACCESS),
        "metadata": {
            "team": "search",
            "managed_by": names.MANAGED_BY,
            "access_hash": access_hash(ACCESS),
            "rotation": "2026-12",
        },
    }
    assert post.path == "_security/cross_cluster/api_key"


def test_the_debug_trace_names_every_call(env: EmulatedLink, caplog: pytest.LogCaptureFixture) -> None:
    """With debug logging, each call to the remote is one line: what it does, the method, the path, the status."""
    provider = CrossClusterApiKeyProvider()
    orphans = [provider.create(props(env)).id, provider.create(props(env)).id]  # runs whose state was lost
    env.control(env.remote, "PUT", "clock", {"offset_ms": 5_000})
    caplog.set_level(logging.DEBUG, logger="ece_eck_remote.http")
    caplog.clear()
    key = provider.create(props(env))
    grants = CrossClusterApiKeyAccessProvider()
    grants.create(access_props(env, key.id, metadata={"team": "other"}))
    provider.delete(key.id, key.outs)
    lines = [r.getMessage() for r in caplog.records if r.name == "ece_eck_remote.http"]
    cleaned = [
        f"invalidate API keys {', '.join(ids)} DELETE _security/api_key -> 200" for ids in (orphans, orphans[::-1])
    ]
    assert lines[:3] == [
        "read the licence GET _license -> 200",
        f"create cross-cluster API key {NAME} POST _security/cross_cluster/api_key -> 200",
        f"find API keys named {NAME} GET _security/api_key -> 200",
    ]
    assert lines[3] in cleaned
    assert lines[4:] == [
        f"get API key {key.id} GET _security/api_key -> 200",
        f"update cross-cluster API key {key.id} PUT _security/cross_cluster/api_key/{key.id} -> 200",
        f"get API key {key.id} GET _security/api_key -> 200",
        f"invalidate API keys {key.id} DELETE _security/api_key -> 200",
    ]


def leftover(key_id: str, *, name: str = NAME, **metadata: Any) -> dict[str, Any]:
    return {"id": key_id, "name": name, "creation": 1_000, "invalidated": False, "metadata": metadata}


@pytest.mark.parametrize(("rotation", "expected"), [(None, "no-token"), ("2026-12", "same-token")])
def test_the_clean_up_invalidates_only_older_keys_of_this_program_name_and_rotation(
    env: EmulatedLink, sent: list[Sent], rotation: str | None, expected: str
) -> None:
    """A cluster that ignores `active_only` and `name` (all keys answered): the create's clean-up still keeps to keys
    of this program, this name and this rotation token (none: "" or absent), valid ones, and finds its own key with
    one more GET."""
    ours = {"managed_by": names.MANAGED_BY}
    listed = [
        leftover("same-token", **ours, rotation="2026-12"),
        leftover("no-token", **ours),
        leftover("other-token", **ours, rotation="2026-11"),
        leftover("other-program", managed_by="someone-else", rotation=rotation or ""),
        leftover("not-managed", rotation=rotation or ""),
        leftover("no-metadata"),
        {**leftover("invalidated", **ours, rotation=rotation or ""), "invalidated": True},
        leftover("other-name", name="ece-eck-remote-test-other", **ours, rotation=rotation or ""),
    ]
    env.fault(env.remote, route="GET /_security/api_key", kind="status", status=200, body={"api_keys": listed})
    key = CrossClusterApiKeyProvider().create(props(env, rotation=rotation))
    assert [call.json for call in sent if call.method == "DELETE"] == [{"ids": [expected]}]
    assert queries(env) == [
        ("GET", "/_license", {}),
        ("POST", "/_security/cross_cluster/api_key", {}),
        ("GET", "/_security/api_key", {"name": [NAME], "active_only": ["true"]}),
        ("GET", "/_security/api_key", {"id": [key.id]}),
        ("DELETE", "/_security/api_key", {}),
    ]


def test_a_leftover_key_made_by_hand_under_the_same_name_is_never_invalidated(env: EmulatedLink) -> None:
    hand = by_hand(env, NAME)
    env.control(env.remote, "PUT", "clock", {"offset_ms": 5_000})
    key = CrossClusterApiKeyProvider().create(props(env))
    assert {k["id"] for k in keys(env) if not k["invalidated"]} == {hand, key.id}


def test_a_not_found_answer_to_the_search_for_leftovers_means_none(env: EmulatedLink) -> None:
    """Elasticsearch may answer 404 when no key has the name: the create goes on."""
    missing = {"error": {"type": "resource_not_found_exception", "reason": "no API key found"}, "status": 404}
    env.fault(env.remote, route="GET /_security/api_key", kind="status", status=404, body=missing)
    key = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in keys(env) if not k["invalidated"]] == [key.id]


def test_an_unreadable_licence_leaves_the_answer_to_the_create(env: EmulatedLink) -> None:
    """`GET _license` answered 404 (or 403: no `monitor`): the licence is unknown, the create is tried."""
    env.fault(env.remote, route="GET /_license", kind="status", status=404, body={"error": "no licence"})
    key = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in keys(env)] == [key.id]


def test_a_remote_answering_a_client_error_is_reported_at_once_not_waited_on(env: EmulatedLink) -> None:
    bad = {"error": {"type": "illegal_argument_exception", "reason": "bad request"}, "status": 400}
    env.fault(env.remote, route="GET /_license", kind="status", status=400, times=-1, body=bad)
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().create(props(env, ready_timeout_seconds=3))
    env.control(env.remote, "DELETE", "faults")
    assert str(raised.value) == (
        "Elasticsearch API read the licence failed: HTTP 400 [illegal_argument_exception]: bad request"
    )
    assert len(env.requests_to(env.remote)) == 1


def test_a_licence_that_refuses_the_keys_is_named_before_any_create(env: EmulatedLink) -> None:
    env.control(env.remote, "PUT", "license", {"type": "basic"})
    with pytest.raises(LicenceError) as raised:
        CrossClusterApiKeyProvider().create(props(env))
    error = raised.value
    problem = licence_problem(env.remote_target()["url"], {"type": "basic", "status": "active"})
    assert problem is not None
    assert (error.operation, error.status, error.code, error.detail) == (
        f"create cross-cluster API key {NAME}",
        None,
        None,
        problem,
    )
    assert str(error) == f"Elasticsearch API create cross-cluster API key {NAME} failed: {problem}"
    assert keys(env) == []


def test_a_licence_refusal_of_the_update_carries_its_status_and_the_remedy(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    reason = "current license is non-compliant for [advanced-remote-cluster-security]"
    body = {"error": {"type": "security_exception", "reason": reason}, "status": 403}
    env.fault(env.remote, route="PUT /_security/cross_cluster/api_key/.*", kind="status", status=403, body=body)
    with pytest.raises(LicenceError) as raised:
        CrossClusterApiKeyAccessProvider().create(access_props(env, key.id, metadata={"team": "other"}))
    error = raised.value
    url = env.remote_target()["url"]
    detail = f"{url} refused it ({reason}): {LICENCE_REMEDY}"
    assert (error.operation, error.status, error.code, error.detail) == (
        f"update cross-cluster API key {key.id}",
        403,
        "security_exception",
        detail,
    )


def test_a_refusal_other_than_the_licence_is_reported_as_elasticsearch_said(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    reason = "action [cluster:admin/xpack/security/cross_cluster/api_key/update] is unauthorized for user [x]"
    body = {"error": {"type": "security_exception", "reason": reason}, "status": 403}
    env.fault(env.remote, route="PUT /_security/cross_cluster/api_key/.*", kind="status", status=403, body=body)
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyAccessProvider().create(access_props(env, key.id, metadata={"team": "other"}))
    assert not isinstance(raised.value, LicenceError)
    assert str(raised.value) == (
        f"Elasticsearch API update cross-cluster API key {key.id} failed: HTTP 403 [security_exception]: {reason}"
    )


def test_an_error_of_the_create_is_not_redacted_where_no_password_is_used(env: EmulatedLink) -> None:
    """With an API key for credentials, only that key is hidden: Elasticsearch's reason is shown whole."""
    reason = "None of XXXX is allowed here"
    body = {"error": {"type": "illegal_argument_exception", "reason": reason}, "status": 400}
    env.fault(env.remote, route="GET /_license", kind="status", status=404, body={"error": "no licence"})
    env.fault(env.remote, route="POST /_security/cross_cluster/api_key", kind="status", status=400, body=body)
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().create(props(env, credentials={"api_key": "a-program-api-key-0001"}))
    assert raised.value.detail == reason


# --- invalidation -----------------------------------------------------------------------------------------------


def test_an_invalidation_that_reports_errors_fails_with_them(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    answer = {
        "invalidated_api_keys": [],
        "previously_invalidated_api_keys": [],
        "error_count": 2,
        "error_details": [{"type": "exception", "reason": "shard failure"}, {"reason": "timed out"}],
    }
    env.fault(env.remote, route="DELETE /_security/api_key", kind="status", status=200, body=answer)
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().delete(key.id, key.outs)
    error = raised.value
    assert (error.operation, error.status, error.code, error.detail) == (
        f"invalidate API keys {key.id}",
        200,
        "error_details",
        "shard failure; timed out",
    )
    assert str(error) == (
        f"Elasticsearch API invalidate API keys {key.id} failed: HTTP 200 [error_details]: shard failure; timed out"
    )


# --- adoption ---------------------------------------------------------------------------------------------------


def test_adopting_a_key_made_by_hand_reads_it_and_keeps_its_name(env: EmulatedLink, sent: list[Sent]) -> None:
    hand = by_hand(env, "made-by-hand", expiration="30d")
    news = props(env, adopt_key_id=hand, rotation="r1")
    sent.clear()
    adopted = CrossClusterApiKeyProvider().create(news)
    expiration = live(env, hand)["expiration"]
    assert adopted.id == hand
    assert adopted.outs == {
        **{k: news.get(k) for k in KEY_INPUTS},
        "key_id": hand,
        "encoded": "",
        "grants_hash": "",
        "expires_at": expiration,
        "adopted_name": "made-by-hand",
    }
    assert {call.method for call in sent} == {"GET"}
    # a refresh keeps the program's name and rotation token: the hand-made name is not a drift
    read = CrossClusterApiKeyProvider().read(hand, adopted.outs)
    assert (read.inputs["name"], read.inputs["rotation"]) == (NAME, "r1")
    assert read.outs["adopted_name"] == "made-by-hand"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            {"id": "k1", "name": "rest-one", "type": "rest", "invalidated": False},
            "adopt.apiKeyId 'k1': key 'rest-one' is a rest key",
        ),
        (
            {"id": "k1", "name": "gone", "type": "cross_cluster", "invalidated": True},
            "adopt.apiKeyId 'k1': no valid API key of that id on the remote cluster",
        ),
        (
            {"id": "k1", "name": "ece-eck-remote-other", "metadata": {"managed_by": names.MANAGED_BY}},
            "adopt.apiKeyId 'k1': the key belongs to another link of this program ('ece-eck-remote-other')",
        ),
    ],
)
def test_adoption_refuses_a_key_it_cannot_take(env: EmulatedLink, key: dict[str, Any], message: str) -> None:
    env.fault(env.remote, route="GET /_security/api_key", kind="status", status=200, body={"api_keys": [key]})
    with pytest.raises(AdoptionError) as raised:
        CrossClusterApiKeyProvider().create(props(env, adopt_key_id="k1"))
    assert str(raised.value) == message


def test_adopting_a_key_of_this_link_is_allowed(env: EmulatedLink) -> None:
    key = {"id": "k1", "name": NAME, "type": "cross_cluster", "metadata": {"managed_by": names.MANAGED_BY}}
    env.fault(env.remote, route="GET /_security/api_key", kind="status", status=200, body={"api_keys": [key]})
    assert CrossClusterApiKeyProvider().create(props(env, adopt_key_id="k1")).outs["adopted_name"] == NAME


# --- refresh of the key -----------------------------------------------------------------------------------------


def test_a_refresh_of_the_key_reads_that_key_and_keeps_what_only_state_knows(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    by_hand(env, "someone-elses", expiration="1d")  # listed first by a GET that names no id
    key = provider.create(props(env, rotation="2026-12", expiration="30d"))
    # grants changed by hand are `CrossClusterApiKeyAccess`'s drift, not the key's
    edit(env, key.id, {"access": {"search": [{"names": ["*"]}]}})
    read = provider.read(key.id, key.outs)
    inputs = {k: key.outs.get(k) for k in KEY_INPUTS}
    assert read.id == key.id
    assert read.inputs == inputs
    assert read.outs == {
        **inputs,
        "key_id": key.id,
        "encoded": key.outs["encoded"],
        "grants_hash": key.outs["grants_hash"],
        "adopted_name": None,
        "expires_at": live(env, key.id)["expiration"],
    }
    # an import knows only the id: the name and the rotation token come from the key
    imported = provider.read(key.id, {"target": env.remote_target(), "credentials": env.remote_credentials()})
    assert (imported.inputs["name"], imported.inputs["rotation"]) == (NAME, "2026-12")


def test_a_refresh_of_a_gone_key_returns_empty_state(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    key = provider.create(props(env))
    provider.delete(key.id, key.outs)
    gone = provider.read(key.id, key.outs)
    assert (gone.id, gone.outs) == ("", {})
    grants = CrossClusterApiKeyAccessProvider().read(f"{key.id}-access", {**key.outs, "key_id": key.id})
    assert (grants.id, grants.outs) == ("", {})


# --- the grants -------------------------------------------------------------------------------------------------


def test_grants_made_with_the_key_are_the_key_id_with_a_suffix(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    grants = CrossClusterApiKeyAccessProvider()
    quiet = grants.create(access_props(env, key.id, key_grants_hash=key.outs["grants_hash"]))
    assert quiet.id == f"{key.id}-access"
    sent_once = grants.create(access_props(env, key.id, metadata={"team": "other"}))
    assert sent_once.id == f"{key.id}-access"


def test_first_grants_that_differ_apply_the_expiration_from_now_and_read_it_back(
    env: EmulatedLink, sent: list[Sent]
) -> None:
    by_hand(env, "someone-elses", expiration="1d")  # listed first by a GET that names no id
    key = CrossClusterApiKeyProvider().create(props(env, expiration="30d"))
    env.control(env.remote, "DELETE", "requests")
    sent.clear()
    news = access_props(env, key.id, expiration="7d", metadata={"team": "other"})
    created = CrossClusterApiKeyAccessProvider().create(news)
    [put] = [call.json for call in sent if call.method == "PUT"]
    assert put["expiration"] == "7d"
    assert queries(env) == [
        ("GET", "/_security/api_key", {"id": [key.id]}),
        ("PUT", f"/_security/cross_cluster/api_key/{key.id}", {}),
        ("GET", "/_security/api_key", {"id": [key.id]}),
    ]
    assert created.outs["expires_at"] == live(env, key.id)["expiration"] != key.outs["expires_at"]


def test_grants_already_on_the_key_send_nothing_and_keep_its_expiry(env: EmulatedLink, sent: list[Sent]) -> None:
    """Without the key's grants hash (an adopted key, a new state) the grants are compared with the live key:
    the same access, metadata and certificate identity mean no PUT."""
    key = CrossClusterApiKeyProvider().create(props(env, certificate_identity="CN=local-.*", expiration="30d"))
    sent.clear()
    created = CrossClusterApiKeyAccessProvider().create(
        access_props(env, key.id, certificate_identity="CN=local-.*", expiration="30d")
    )
    assert [call.method for call in sent] == ["GET"]
    assert created.outs["expires_at"] == key.outs["expires_at"] == live(env, key.id)["expiration"]


def test_grants_of_a_gone_key_fail_with_a_not_found(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    key = provider.create(props(env))
    provider.delete(key.id, key.outs)
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyAccessProvider().create(access_props(env, key.id))
    error = raised.value
    assert (error.status, error.code) == (404, "resource_not_found_exception")
    assert str(error) == (
        f"Elasticsearch API update cross-cluster API key {key.id} failed: HTTP 404 [resource_not_found_exception]: "
        "the key is gone or invalidated"
    )


def test_a_refresh_of_the_grants_reads_them_from_the_key(env: EmulatedLink) -> None:
    """Import (the id alone) and refresh: the grants as the key has them, its own metadata without our markers."""
    by_hand(env, "someone-elses")  # listed first by a GET that names no id
    key = CrossClusterApiKeyProvider().create(props(env, expiration="30d"))
    edit(env, key.id, {"metadata": {"team": "by-hand", "managed_by": names.MANAGED_BY}, "certificate_identity": "CN=x"})
    grants = CrossClusterApiKeyAccessProvider()
    read = grants.read(f"{key.id}-access", {"target": env.remote_target(), "credentials": env.remote_credentials()})
    key_now = live(env, key.id)
    inputs = {
        **{k: None for k in ACCESS_INPUTS},
        "target": env.remote_target(),
        "credentials": env.remote_credentials(),
        "key_id": key.id,
        "access": canonical(key_now["access"]),
        "metadata": {"team": "by-hand"},
        "certificate_identity": "CN=x",
    }
    assert read.id == f"{key.id}-access"
    assert read.inputs == inputs
    assert read.outs == {**inputs, "access_hash": access_hash(key_now["access"]), "expires_at": key_now["expiration"]}


def test_a_key_without_metadata_of_its_own_refreshes_as_the_program_declares_it(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env, metadata={}))
    declared = access_props(env, key.id, metadata={})
    read = CrossClusterApiKeyAccessProvider().read(f"{key.id}-access", declared)
    assert read.inputs["metadata"] == {}
