"""`CrossClusterApiKey` against the (remote) Elasticsearch emulator: create, in-place update, rotation, delete,
import, refresh with drift, an interrupted create, and every request in the rest-api-spec."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from components.elasticsearch.access import access_hash
from components.elasticsearch.api_key import CrossClusterApiKeyAccessProvider, CrossClusterApiKeyProvider
from components.elasticsearch.client import ElasticsearchApiError, caller
from tests.support.es_spec import check_request
from tools.emulated_link import REMOTE_PASSWORD, EmulatedLink

ACCESS = {"search": [{"names": ["logs-*"]}], "replication": [{"names": ["archive-*"]}]}


def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    news = {
        "target": env.remote_target(),
        "credentials": env.remote_credentials(),
        "name": "ece-eck-remote-test-logs",
        "access": ACCESS,
        "expiration": None,
        "metadata": {"team": "search"},
        "certificate_identity": None,
        "rotation": None,
        **extra,
    }
    checked = CrossClusterApiKeyProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


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
    for entry in env.requests_to(env.remote):
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


def test_rotation_replaces_and_the_old_key_is_invalidated_only_on_delete(env: EmulatedLink) -> None:
    provider = CrossClusterApiKeyProvider()
    old = provider.create(props(env))
    news = props(env, rotation="2026-12")
    assert provider.diff(old.id, old.outs, news).replaces == ["rotation"]
    new = provider.create(news)  # Pulumi creates the replacement first...
    assert {k["id"] for k in active(env)} == {old.id, new.id}  # ...both work while the keystore switches
    provider.delete(old.id, old.outs)  # ...and deletes the old one last
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
    result = provider.create(props(env))
    assert [k["id"] for k in active(env)] == [result.id]
    assert orphan.id != result.id


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
    with pytest.raises(ElasticsearchApiError) as raised:
        CrossClusterApiKeyProvider().create(
            props(env, credentials={"username": "elastic", "password": "wrong-password-1"}, ready_timeout_seconds=1)
        )
    message = str(raised.value)
    assert message.startswith("Elasticsearch API wait for the remote cluster's Elasticsearch API failed")
    assert "HTTP 401 [security_exception]" in message and "find API keys named ece-eck-remote-test-logs" in message
    assert "wrong-password-1" not in message and REMOTE_PASSWORD not in message
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
    assert str(forbidden.value) == (
        "Elasticsearch API create cross-cluster API key ece-eck-remote-test-logs failed: HTTP 403 [security_exception]: "
        "current license is non-compliant for [advanced-remote-cluster-security]"
    )


def test_create_waits_for_the_remote_api_to_come_up(env: EmulatedLink) -> None:
    env.fault(env.remote, route="GET /_security/api_key", kind="status", status=503, times=8)
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
