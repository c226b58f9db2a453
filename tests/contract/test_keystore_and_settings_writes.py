"""Against the emulators: the keystore body sent to ECE, the error when ECE's answer lacks the key, which versions get
a restart and how a restart that ended at once is recognised, a value given beside `adopt`; and for
`RemoteClusterSettings`, the outputs a create and a refresh report, the adoption of a proxy or a sniff alias set by
hand, and the operation named when the settings cannot be written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from components.dynamic import AdoptionError
from components.ece import keystore
from components.ece.client import EceApiError, EceClient
from components.ece.connection_props import client_from
from components.ece.keystore import EceKeystoreCredentialsProvider
from components.elasticsearch.client import caller
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.http import ApiError, HttpClient
from tests.contract.test_ece_keystore_provider import SETTING, VALUE, props, stored
from tests.contract.test_es_local_providers import persistent, settings_props
from tests.support.ece_deployments import add_deployment
from tools.emulated_link import REF_ID, EmulatedLink

DEPLOYMENT = "fedcba9876543210fedcba9876543210"


@dataclass(frozen=True)
class Sent:
    operation: str
    method: str
    path: str
    json: Any


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every HTTP call the providers make, as they make it."""
    calls: list[Sent] = []
    original = HttpClient.request

    def record(self: HttpClient, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        calls.append(Sent(operation, method, path, kwargs.get("json")))
        return original(self, operation, method, path, **kwargs)

    monkeypatch.setattr(HttpClient, "request", record)
    return calls


def restarts(calls: list[Sent]) -> list[Sent]:
    return [call for call in calls if call.method == "POST" and call.path.endswith("/_restart")]


# --- EceKeystoreCredentials ---------------------------------------------------------------------------------------


def test_the_keystore_patch_carries_only_our_key_as_a_string_value(env: EmulatedLink, sent: list[Sent]) -> None:
    EceKeystoreCredentialsProvider().create(props(env))
    [patch] = [call for call in sent if call.method == "PATCH"]
    assert patch.path.endswith(f"deployments/{env.deployment_id}/elasticsearch/{REF_ID}/keystore")
    assert patch.json == {"secrets": {SETTING: {"value": VALUE, "as_file": False}}}


def test_a_key_missing_from_eces_answer_is_an_error_naming_the_deployment_and_the_key(env: EmulatedLink) -> None:
    """ECE answers the PATCH with the keystore's keys: one without ours means it was not stored."""
    env.fault(env.ece, route="PATCH .*/keystore", kind="status", status=200, body={"secrets": {}})
    with pytest.raises(EceApiError) as raised:
        EceKeystoreCredentialsProvider().create(props(env))
    assert str(raised.value) == (
        f"ECE API set keystore of {env.deployment_id}/{REF_ID} failed: no response: "
        f"'{SETTING}' is missing after it was set"
    )


def test_elasticsearch_8_14_0_loads_the_key_without_a_restart(env: EmulatedLink, sent: list[Sent]) -> None:
    deployment = add_deployment(env, DEPLOYMENT, "8.14.0")
    result = EceKeystoreCredentialsProvider().create(props(env, deployment_id=deployment))
    assert result.outs["restarted"] is False
    assert restarts(sent) == []


def test_a_version_that_does_not_parse_gets_no_restart(env: EmulatedLink, sent: list[Sent]) -> None:
    """A version ECE shows that is not MAJOR.MINOR.PATCH is not taken as old: no restart of a deployment whose
    version cannot be told."""
    deployment = add_deployment(env, DEPLOYMENT, "8.13.4-SNAPSHOT")
    result = EceKeystoreCredentialsProvider().create(props(env, deployment_id=deployment))
    assert result.outs["restarted"] is False
    assert restarts(sent) == []


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses of the ECE clients the keystore provider makes (recorded, not slept)."""
    slept: list[float] = []

    def recording_client(props: Mapping[str, Any]) -> EceClient:
        client = client_from(props)
        client.sleep = slept.append
        return client

    monkeypatch.setattr(keystore, "client_from", recording_client)
    return slept


def test_a_restart_plan_that_ended_before_the_first_read_is_recognised_at_once(
    env: EmulatedLink, sent: list[Sent], pauses: list[float]
) -> None:
    """The deployment read before the restart tells which plans are old: a restart plan not among them that has
    already ended is ours, so the wait ends at the first read without the 4 confirming reads 2 s apart."""
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.0})
    deployment = add_deployment(env, DEPLOYMENT, "8.13.4")
    result = EceKeystoreCredentialsProvider().create(props(env, deployment_id=deployment))
    assert result.outs["restarted"] is True
    [restart] = restarts(sent)
    after = sent[sent.index(restart) + 1 :]
    assert [(call.method, call.path.rsplit("/", 1)[-1]) for call in after] == [("GET", deployment)]
    assert pauses == []


def test_a_value_given_beside_adopt_is_written(env: EmulatedLink) -> None:
    """`adopt` takes over the entry only when there is no value: a new key (value given) is set as usual."""
    result = EceKeystoreCredentialsProvider().create(props(env, adopt=True))
    assert stored(env)[SETTING] == {"value": VALUE, "as_file": False}
    outs = result.outs or {}
    assert outs["setting"] == SETTING and "adopted" not in outs


# --- RemoteClusterSettings -----------------------------------------------------------------------------------------


def put_by_hand(env: EmulatedLink, settings: dict[str, Any]) -> None:
    caller(env.local_target(), env.ece_credentials()).request(
        "by hand", "PUT", "_cluster/settings", json={"persistent": settings}
    )


def test_create_reports_proxy_mode_and_an_empty_server_name_when_none_is_set(env: EmulatedLink) -> None:
    created = RemoteClusterSettingsProvider().create(settings_props(env, server_name=None))
    assert created.outs["mode"] == "proxy"
    assert created.outs["server_name"] == ""
    assert created.outs["proxy_address"] == "rcs.example.com:9443"


def test_refresh_reports_the_socket_count_set_by_hand(env: EmulatedLink) -> None:
    provider = RemoteClusterSettingsProvider()
    news = settings_props(env, proxy_socket_connections=3)
    created = provider.create(news)
    assert created.outs["proxy_socket_connections"] == 3
    put_by_hand(env, {"cluster.remote.logs.proxy_socket_connections": 5})
    read = provider.read(created.id, created.outs)
    assert read.outs["proxy_socket_connections"] == 5
    assert read.inputs is not None and read.inputs["proxy_socket_connections"] == 5
    assert provider.diff(created.id, read.outs, news).changes


@pytest.mark.parametrize(
    "by_hand",
    [
        {"cluster.remote.logs.mode": "proxy", "cluster.remote.logs.proxy_address": "old.example.com:9443"},
        {"cluster.remote.logs.seeds": ["10.0.0.9:9300"]},
    ],
    ids=["proxy", "sniff"],
)
def test_an_alias_set_by_hand_in_either_mode_is_adopted_and_put_in_proxy_mode(
    env: EmulatedLink, by_hand: dict[str, Any]
) -> None:
    put_by_hand(env, by_hand)
    created = RemoteClusterSettingsProvider().create(settings_props(env, adopt_alias=True))
    assert created.outs["mode"] == "proxy"
    live = persistent(env)
    assert live["cluster.remote.logs.mode"] == "proxy"
    assert live["cluster.remote.logs.proxy_address"] == "rcs.example.com:9443"
    assert "cluster.remote.logs.seeds" not in live


def test_adopting_an_alias_that_is_not_there_is_refused(env: EmulatedLink) -> None:
    put_by_hand(env, {"cluster.remote.other.seeds": ["10.0.0.9:9300"]})
    with pytest.raises(AdoptionError) as raised:
        RemoteClusterSettingsProvider().create(settings_props(env, adopt_alias=True))
    assert str(raised.value) == (
        "adopt.alias 'logs': the local cluster has no remote cluster of that name to take over"
    )


def test_a_refused_settings_write_names_the_alias(env: EmulatedLink) -> None:
    env.fault(env.local, route="PUT /_cluster/settings", kind="status", status=400, times=-1)
    with pytest.raises(ApiError) as raised:
        RemoteClusterSettingsProvider().create(settings_props(env))
    assert raised.value.operation == "set remote cluster 'logs'"
    assert str(raised.value).startswith("Elasticsearch API set remote cluster 'logs' failed: HTTP 400")
