"""A stack written when the Elasticsearch side built ECE proxy targets itself (`{"kind": "ece-proxy", ...}`) upgrades
with no change: the target the link builds now (`components.ece.client.proxy_target`) reaches the same URL, with the
same header, TLS and timeout, under the same identity in resource ids, and every provider that takes a target diffs
such a state as unchanged (a changed target would replace the remote settings and the roles)."""

from __future__ import annotations

from typing import Any

import pytest

from components.ece.client import proxy_target
from components.elasticsearch.client import caller, check_target, current_form, target_key
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.elasticsearch.roles import RemoteRoleProvider

DEPLOYMENT = "d" * 32
ECE_PROPS: list[dict[str, Any]] = [
    {"url": "https://ece.example.com:12443", "region": None, "ca_certificate": None, "insecure": False},
    {"url": "https://ece.example.com:12443/", "region": "ece-region", "ca_certificate": "PEM", "insecure": True},
    {
        "url": "http://127.0.0.1:9",
        "region": None,
        "ca_certificate": None,
        "insecure": False,
        "request_timeout_seconds": 5.0,
    },
]
CREDENTIALS = {"api_key": "ece-api-key-0123456789"}


def legacy(ece: dict[str, Any], ref_id: str | None = "main-elasticsearch") -> dict[str, Any]:
    """The target as the Elasticsearch side's state held it before the link built targets."""
    return {"kind": "ece-proxy", "ece": ece, "deployment_id": DEPLOYMENT, "ref_id": ref_id}


@pytest.mark.parametrize("ece", ECE_PROPS)
@pytest.mark.parametrize("ref_id", ["main-elasticsearch", "_main", None])
def test_an_old_target_reads_as_the_one_the_link_builds_now(ece: dict[str, Any], ref_id: str | None) -> None:
    new = proxy_target(ece, DEPLOYMENT, ref_id)
    assert current_form(legacy(ece, ref_id)) == new
    assert target_key(legacy(ece, ref_id)) == target_key(new) == f"ece:{DEPLOYMENT}/{ref_id or '_main'}"
    assert check_target({"target": new, "credentials": CREDENTIALS}) == []
    old_http, new_http = caller(legacy(ece, ref_id), CREDENTIALS).http, caller(new, CREDENTIALS).http
    assert (old_http.base_url, old_http.headers, old_http.tls, old_http.timeout, old_http.auth) == (
        new_http.base_url,
        new_http.headers,
        new_http.tls,
        new_http.timeout,
        new_http.auth,
    )
    assert new_http.base_url.endswith(f"/api/v1/deployments/{DEPLOYMENT}/elasticsearch/{ref_id or '_main'}/proxy")
    assert new_http.headers == {"X-Management-Request": "true"}


def settings_inputs(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": target,
        "credentials": CREDENTIALS,
        "alias": "logs",
        "proxy_address": "lb.example.com:9443",
        "server_name": "logs-es-remote-cluster.elastic.svc",
        "proxy_socket_connections": None,
        "skip_unavailable": None,
        "mode": None,
    }


def role_inputs(target: dict[str, Any]) -> dict[str, Any]:
    role = {"cluster": [], "remote_indices": [{"clusters": ["logs"], "names": ["logs-*"], "privileges": ["read"]}]}
    return {"target": target, "credentials": CREDENTIALS, "role_name": "logs-reader", "role": role}


def check_inputs(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": target,
        "credentials": CREDENTIALS,
        "alias": "logs",
        "expected": {"proxy_address": "lb.example.com:9443", "server_name": "", "ca_fingerprints": []},
        "requires_credentials": True,
        "remote": None,
        "trust": None,
        "timeout_seconds": 60,
    }


PROVIDERS: list[tuple[Any, Any, dict[str, Any]]] = [
    (RemoteClusterSettingsProvider(), settings_inputs, {"mode": "proxy"}),
    (RemoteRoleProvider(), role_inputs, {}),
    (RemoteConnectionCheckProvider(), check_inputs, {"connected": True}),
]


def stripped_ece(ece: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in ece.items() if value is not None}


@pytest.mark.parametrize(("provider", "inputs", "outputs"), PROVIDERS)
@pytest.mark.parametrize("ece", ECE_PROPS)
def test_a_state_with_the_old_target_diffs_as_no_change(
    provider: Any, inputs: Any, outputs: dict[str, Any], ece: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(proxy_target(ece, DEPLOYMENT, "main-elasticsearch"))).inputs
    olds = {**provider.check({}, inputs(proxy_target(ece, DEPLOYMENT, "main-elasticsearch"))).inputs, **outputs}
    olds["target"] = legacy(ece)
    diff = provider.diff("id", olds, news)
    assert not diff.changes and not diff.replaces
    # The engine keeps no null in a map, and may hand a whole-number timeout back as an int: still no change.
    stripped = {**news, "target": {k: v for k, v in news["target"].items() if v is not None}}
    assert not provider.diff("id", {**olds, "target": {**olds["target"], "ece": stripped_ece(ece)}}, stripped).changes
    as_int = {
        **news,
        "target": {**news["target"], "request_timeout_seconds": int(news["target"]["request_timeout_seconds"])},
    }
    assert not provider.diff("id", olds, as_int).changes


@pytest.mark.parametrize(("provider", "inputs", "outputs"), PROVIDERS)
def test_a_state_with_the_old_target_still_sees_a_real_change_of_the_target(
    provider: Any, inputs: Any, outputs: dict[str, Any]
) -> None:
    moved = {**ECE_PROPS[0], "url": "https://other-ece.example.com:12443"}
    news = provider.check({}, inputs(proxy_target(moved, DEPLOYMENT, "main-elasticsearch"))).inputs
    olds = {**news, **outputs, "target": legacy(ECE_PROPS[0])}
    diff = provider.diff("id", olds, news)
    assert diff.changes
    if not isinstance(provider, RemoteConnectionCheckProvider):
        assert diff.replaces == ["target"]
