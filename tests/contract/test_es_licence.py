"""The licence of the remote cluster: cross-cluster API keys need an active trial or Enterprise licence
(Elasticsearch's feature `advanced-remote-cluster-security`, elastic/elasticsearch#96307).

(a) The emulator answers `GET _license` as a real 8.19.21 node does, and refuses both cross-cluster API key routes
    with the 403 a real node answers on a basic licence, before reading the request.
(b) `CrossClusterApiKeyProvider.create` reads the licence first (one call more, and it is the readiness wait) and
    fails naming the cluster and the remedy, creating nothing; Elasticsearch's own 403 gets the same advice."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from components.elasticsearch.api_key import (
    LICENCE_REMEDY,
    CrossClusterApiKeyAccessProvider,
    CrossClusterApiKeyProvider,
    LicenceError,
)
from components.elasticsearch.client import ElasticsearchApiError
from tests.support.keys import key_props
from tools.emulated_link import REMOTE_PASSWORD, EmulatedLink

CREATE = "/_security/cross_cluster/api_key"
ACCESS = {"search": [{"names": ["logs-*"]}]}
DAY_MS = 86_400_000
NON_COMPLIANT = {
    "type": "security_exception",
    "reason": "current license is non-compliant for [advanced-remote-cluster-security]",
    "license.expired.feature": "advanced-remote-cluster-security",
}


def api(env: EmulatedLink, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{env.remote.url}{path}", auth=("elastic", REMOTE_PASSWORD), timeout=10, **kwargs)


def set_licence(env: EmulatedLink, type_: str, status: str = "active") -> dict[str, Any]:
    return dict(env.control(env.remote, "PUT", "license", {"type": type_, "status": status}))


def licence(env: EmulatedLink) -> dict[str, Any]:
    response = api(env, "GET", "/_license")
    assert response.status_code == 200
    return dict(response.json()["license"])


def keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return list(env.control(env.remote, "GET", "state")["api_keys"])


def iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


# --- (a) the emulator ------------------------------------------------------------------------------------------
def test_the_default_is_a_trial_shaped_as_a_real_node_answers_it(env: EmulatedLink) -> None:
    found = licence(env)
    assert list(found) == [
        "status",
        "uid",
        "type",
        "issue_date",
        "issue_date_in_millis",
        "expiry_date",
        "expiry_date_in_millis",
        "max_nodes",
        "max_resource_units",
        "issued_to",
        "issuer",
        "start_date_in_millis",
    ]
    assert found["status"] == "active" and found["type"] == "trial"
    assert found["expiry_date_in_millis"] - found["issue_date_in_millis"] == 30 * DAY_MS
    assert found["issue_date"] == iso(found["issue_date_in_millis"])
    assert found["expiry_date"] == iso(found["expiry_date_in_millis"])
    assert (found["max_nodes"], found["max_resource_units"], found["issuer"], found["start_date_in_millis"]) == (
        1000,
        None,
        "elasticsearch",
        -1,
    )
    assert api(env, "GET", "/_license", params={"local": "true", "accept_enterprise": "true"}).status_code == 200
    assert api(env, "GET", "/_license", params={"colour": "red"}).status_code == 400


def test_a_basic_licence_never_expires_and_shows_no_expiry(env: EmulatedLink) -> None:
    before = licence(env)
    assert set_licence(env, "basic") == {"type": "basic", "status": "active", "allows_cross_cluster_api_keys": False}
    found = licence(env)
    assert found["type"] == "basic" and found["status"] == "active" and found["uid"] != before["uid"]
    assert "expiry_date" not in found and "expiry_date_in_millis" not in found
    response = requests.put(
        f"{env.remote.url}/_emulator/license", json={"type": "basic", "status": "expired"}, timeout=5
    )
    assert response.status_code == 400


def non_compliant_error(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"error": {"root_cause": [NON_COMPLIANT], **NON_COMPLIANT}, "status": 403}


@pytest.mark.parametrize("type_", ["basic", "standard", "gold", "platinum"])
def test_below_enterprise_both_key_routes_answer_403_before_reading_the_request(env: EmulatedLink, type_: str) -> None:
    key = api(env, "POST", CREATE, json={"name": "k", "access": ACCESS}).json()
    set_licence(env, type_)
    # as a real 8.19.21 node on basic: the licence is checked before the parameters and the body
    non_compliant_error(api(env, "POST", CREATE, json={"name": "k", "access": ACCESS}))
    non_compliant_error(api(env, "POST", CREATE, json={"name": "k", "colour": "red"}))
    non_compliant_error(api(env, "POST", CREATE))
    non_compliant_error(api(env, "POST", CREATE, params={"colour": "red"}, json={"name": "k", "access": ACCESS}))
    non_compliant_error(api(env, "PUT", f"{CREATE}/{key['id']}", json={"metadata": {}}))
    non_compliant_error(api(env, "PUT", f"{CREATE}/unknownunknownunknow", json={"metadata": {}}))
    non_compliant_error(api(env, "PUT", f"{CREATE}/{key['id']}", json={"name": "x"}))
    assert [k["id"] for k in keys(env)] == [key["id"]]
    # reading and invalidating keys needs no such licence
    assert api(env, "GET", "/_security/api_key", params={"id": key["id"]}).status_code == 200
    invalidated = api(env, "DELETE", "/_security/api_key", json={"ids": [key["id"]]}).json()
    assert invalidated["invalidated_api_keys"] == [key["id"]]


def test_wrong_credentials_still_answer_401_first(env: EmulatedLink) -> None:
    set_licence(env, "basic")
    response = requests.post(f"{env.remote.url}{CREATE}", json={}, auth=("elastic", "wrong"), timeout=5)
    assert response.status_code == 401


@pytest.mark.parametrize("type_", ["trial", "enterprise"])
def test_an_active_trial_or_enterprise_licence_lets_keys_through(env: EmulatedLink, type_: str) -> None:
    set_licence(env, type_)
    created = api(env, "POST", CREATE, json={"name": "k", "access": ACCESS})
    assert created.status_code == 200
    assert api(env, "PUT", f"{CREATE}/{created.json()['id']}", json={"metadata": {"a": 1}}).json() == {"updated": True}
    if type_ == "enterprise":
        found = licence(env)
        assert found["max_nodes"] is None and found["max_resource_units"] is not None


@pytest.mark.parametrize("type_", ["trial", "enterprise"])
def test_an_expired_licence_is_non_compliant(env: EmulatedLink, type_: str) -> None:
    """A momentary feature needs an active licence (LicensedFeature#momentary: needsActive)."""
    set_licence(env, type_, "expired")
    found = licence(env)
    assert found["status"] == "expired" and found["type"] == type_
    assert found["expiry_date_in_millis"] < time.time() * 1000
    non_compliant_error(api(env, "POST", CREATE, json={"name": "k", "access": ACCESS}))


def test_a_trial_runs_out_with_the_clock(env: EmulatedLink) -> None:
    env.control(env.remote, "PUT", "clock", {"offset_ms": 31 * DAY_MS})
    assert licence(env)["status"] == "expired"
    non_compliant_error(api(env, "POST", CREATE, json={"name": "k", "access": ACCESS}))
    env.control(env.remote, "POST", "reset")  # a new trial
    assert licence(env)["status"] == "active"
    assert api(env, "POST", CREATE, json={"name": "k", "access": ACCESS}).status_code == 200


# --- (b) the provider ------------------------------------------------------------------------------------------
def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {"access": ACCESS, "metadata": None, "ready_timeout_seconds": 5}
    return key_props(**{"target": env.remote_target(), "credentials": env.remote_credentials(), **defaults, **extra})


@pytest.mark.parametrize(
    ("type_", "status", "said"),
    [
        ("basic", "active", "has a basic licence (active)"),
        ("platinum", "active", "has a platinum licence (active)"),
        ("trial", "expired", "has a trial licence (expired)"),
        ("enterprise", "expired", "has an enterprise licence (expired)"),
    ],
)
def test_create_without_the_licence_fails_naming_the_cluster_and_creates_nothing(
    env: EmulatedLink, type_: str, status: str, said: str
) -> None:
    set_licence(env, type_, status)
    env.control(env.remote, "DELETE", "requests")
    with pytest.raises(LicenceError) as raised:
        CrossClusterApiKeyProvider().create(props(env))
    message = str(raised.value)
    assert message == (
        "Elasticsearch API create cross-cluster API key ece-eck-remote-test-logs failed: "
        f"{env.remote.url} {said}: {LICENCE_REMEDY}"
    )
    assert "POST _license/start_trial?acknowledge=true" in message and "Enterprise licence" in message
    assert keys(env) == []
    assert [(r["method"], r["path"]) for r in env.requests_to(env.remote)] == [("GET", "/_license")]


@pytest.mark.parametrize("type_", ["trial", "enterprise"])
def test_create_with_the_licence_costs_one_call_more(env: EmulatedLink, type_: str) -> None:
    set_licence(env, type_)
    env.control(env.remote, "DELETE", "requests")
    created = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in keys(env)] == [created.id]
    assert [(r["method"], r["path"]) for r in env.requests_to(env.remote)] == [
        ("GET", "/_license"),
        ("POST", CREATE),
        ("GET", "/_security/api_key"),
    ]


def test_a_caller_that_may_not_read_the_licence_leaves_the_answer_to_the_create(env: EmulatedLink) -> None:
    """`GET _license` needs `monitor`: a 403 there is no verdict on the licence."""
    env.fault(env.remote, route="GET /_license", kind="status", status=403, times=1)
    created = CrossClusterApiKeyProvider().create(props(env))
    assert [k["id"] for k in keys(env)] == [created.id]
    env.fault(env.remote, route="GET /_license", kind="status", status=403, times=1)
    set_licence(env, "basic")
    with pytest.raises(LicenceError) as raised:
        CrossClusterApiKeyProvider().create(props(env, rotation="2"))
    assert str(raised.value) == (
        "Elasticsearch API create cross-cluster API key ece-eck-remote-test-logs failed: "
        f"{env.remote.url} refused it (current license is non-compliant for [advanced-remote-cluster-security]): "
        f"{LICENCE_REMEDY}"
    )
    assert raised.value.status == 403 and [k["id"] for k in keys(env)] == [created.id]


def test_an_update_refused_for_the_licence_gets_the_same_advice(env: EmulatedLink) -> None:
    key = CrossClusterApiKeyProvider().create(props(env))
    grants = CrossClusterApiKeyAccessProvider()
    base = {k: v for k, v in props(env).items() if k not in ("name", "ready_timeout_seconds")}
    old = grants.check({}, {**base, "key_id": key.id}).inputs
    created = grants.create(old)
    set_licence(env, "basic")
    new = grants.check({}, {**base, "key_id": key.id, "access": {"search": [{"names": ["other-*"]}]}}).inputs
    with pytest.raises(ElasticsearchApiError) as raised:
        grants.update(created.id, created.outs, new)
    assert str(raised.value) == (
        f"Elasticsearch API update cross-cluster API key {key.id} failed: {env.remote.url} refused it (current "
        f"license is non-compliant for [advanced-remote-cluster-security]): {LICENCE_REMEDY}"
    )
