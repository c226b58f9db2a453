"""`RemoteClusterSettings`: what `check` refuses (and the key and rule it names), how a sniff alias set by hand is
read and shown as a change, how the connection is rebuilt with the ping schedule put back as it was, the operation
named in errors, and what the resource registers with the engine."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.elasticsearch.client import ElasticsearchCaller, caller
from components.elasticsearch.remote_settings import (
    RemoteClusterSettings,
    RemoteClusterSettingsProvider,
    live_settings,
    rebuild_connection,
)
from components.http import ApiError
from tests.contract.test_es_local_providers import persistent, settings_props
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret
from tools.emulated_link import EmulatedLink

SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings"
PING = "cluster.remote.logs.transport.ping_schedule"
TARGET = {"kind": "direct", "url": "https://es.example.com:9200"}


def raw(**extra: Any) -> dict[str, Any]:
    return {
        "target": TARGET,
        "credentials": {"password": "x"},
        "alias": "logs",
        "proxy_address": "rcs.example.com:9443",
        **extra,
    }


def failures(**extra: Any) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in RemoteClusterSettingsProvider().check({}, raw(**extra)).failures]


def test_check_names_the_address_without_a_port() -> None:
    assert failures(proxy_address="rcs.example.com") == [
        ("proxy_address", "proxy_address 'rcs.example.com' needs a port, like 'host:9443'")
    ]
    assert failures(proxy_address="[2001:db8::1]:9443") == []
    assert failures(proxy_address=UNKNOWN) == []


@pytest.mark.parametrize("sockets", [0, -1, "3", 2.0])
def test_check_refuses_a_socket_count_below_one_or_not_a_whole_number(sockets: Any) -> None:
    assert failures(proxy_socket_connections=sockets) == [
        ("proxy_socket_connections", "proxy_socket_connections must be 1 or more")
    ]


@pytest.mark.parametrize("sockets", [1, 2, 18, None, UNKNOWN])
def test_check_accepts_a_socket_count_of_one_or_more_or_unknown(sockets: Any) -> None:
    assert failures(proxy_socket_connections=sockets) == []


def test_check_keeps_the_target_and_required_failures_beside_a_good_alias() -> None:
    news = raw()
    del news["proxy_address"]
    found = RemoteClusterSettingsProvider().check({}, news).failures
    assert [f.property for f in found] == ["proxy_address"]
    found = RemoteClusterSettingsProvider().check({}, raw(target={"kind": "direct"})).failures
    assert found and all(f.property.startswith("target") for f in found)


def test_check_sets_an_absent_server_name_to_empty() -> None:
    assert RemoteClusterSettingsProvider().check({}, raw()).inputs["server_name"] == ""
    assert RemoteClusterSettingsProvider().check({}, raw(server_name=None)).inputs["server_name"] == ""


def seed_sniff(env: EmulatedLink) -> None:
    es = caller(env.local_target(), env.ece_credentials())
    es.request(
        "seed", "PUT", "_cluster/settings", json={"persistent": {"cluster.remote.logs.seeds": ["10.0.0.9:9300"]}}
    )


def test_a_sniff_alias_set_by_hand_is_read_and_shown_as_a_change(env: EmulatedLink) -> None:
    """Someone switches the alias to sniff mode (seeds, no proxy address): refresh finds it (not gone), and the next
    diff shows a change so that `up` puts proxy mode back; an alias gone is read as gone, with no outputs."""
    provider = RemoteClusterSettingsProvider()
    news = settings_props(env)
    created = provider.create(news)
    es = caller(env.local_target(), env.ece_credentials())
    es.request("remove", "PUT", "_cluster/settings", json={"persistent": {"cluster.remote.logs.*": None}})
    gone = provider.read(created.id, created.outs)
    assert gone.id == "" and gone.outs == {}
    seed_sniff(env)
    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs["proxy_address"] is None
    assert provider.diff(created.id, read.outs, news).changes


def test_a_recorded_mode_other_than_proxy_is_a_change(env: EmulatedLink) -> None:
    """Even with every input as declared, state that records the alias in another mode is brought back to proxy."""
    provider = RemoteClusterSettingsProvider()
    news = settings_props(env)
    created = provider.create(news)
    assert not provider.diff(created.id, created.outs, news).changes
    diff = provider.diff(created.id, {**created.outs, "mode": "sniff"}, news)
    assert diff.changes and diff.replaces == []


def test_refresh_and_import_keep_the_resource_id(env: EmulatedLink) -> None:
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env))
    assert provider.read(created.id, created.outs).id == created.id
    imported = provider.read(created.id, {"target": env.local_target(), "credentials": env.ece_credentials()})
    assert imported.id == created.id and imported.outs["alias"] == "logs"


def test_an_alias_change_creates_the_new_alias_before_removing_the_old(env: EmulatedLink) -> None:
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env))
    diff = provider.diff(created.id, created.outs, settings_props(env, alias="logs2"))
    assert diff.replaces == ["alias"] and not diff.delete_before_replace


class Recording:
    """An ElasticsearchCaller that records the persistent settings of each PUT."""

    def __init__(self, es: ElasticsearchCaller) -> None:
        self.es = es
        self.puts: list[dict[str, Any]] = []

    def request(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        if method == "PUT":
            self.puts.append(kwargs["json"]["persistent"])
        return self.es.request(operation, method, path, **kwargs)


@pytest.mark.parametrize(("before", "moved"), [(None, "30s"), ("30s", "31s"), ("31s", "30s"), ("45s", "30s")], ids=str)
def test_rebuilding_the_connection_moves_the_ping_schedule_and_puts_it_back(
    env: EmulatedLink, before: str | None, moved: str
) -> None:
    es = caller(env.local_target(), env.ece_credentials())
    RemoteClusterSettingsProvider().create(settings_props(env))
    if before is not None:
        es.request("seed", "PUT", "_cluster/settings", json={"persistent": {PING: before}})
    recording = Recording(es)
    rebuild_connection(recording, "logs")  # type: ignore[arg-type]
    assert recording.puts == [{PING: moved}, {PING: before}]
    assert persistent(env).get(PING) == before


def fail_settings(env: EmulatedLink, method: str) -> None:
    env.fault(env.local, route=f"{method} /_cluster/settings", kind="status", status=400, times=-1)


def test_errors_name_the_operation(env: EmulatedLink) -> None:
    es = caller(env.local_target(), env.ece_credentials())
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env))
    fail_settings(env, "GET")
    with pytest.raises(ApiError) as raised:
        live_settings(es, "logs")
    assert raised.value.operation == "get cluster settings"
    env.reset()
    created = provider.create(settings_props(env))
    fail_settings(env, "PUT")
    with pytest.raises(ApiError) as raised:
        rebuild_connection(es, "logs")
    assert raised.value.operation == "rebuild the connection of remote cluster 'logs'"
    with pytest.raises(ApiError) as raised:
        provider.delete(created.id, created.outs)
    assert raised.value.operation == "remove remote cluster 'logs'"


def registered(**extra: Any) -> tuple[RecordingMocks, Any]:
    mocks = RecordingMocks(outputs=lambda args: {"mode": "proxy"})

    def build() -> Any:
        return RemoteClusterSettings(
            "settings",
            target=TARGET,
            credentials={"password": "x"},
            alias="logs",
            proxy_address="rcs.example.com:9443",
            proxy_socket_connections=4,
            skip_unavailable=True,
            **extra,
        )

    return mocks, run_under_mocks(build, mocks)


def test_the_resource_registers_its_inputs_and_defaults() -> None:
    mocks, resource = registered()
    inputs = mocks.one(SETTINGS).inputs
    assert inputs["adopt_alias"] is False
    assert inputs["proxy_socket_connections"] == 4 and inputs["skip_unavailable"] is True
    # the provider the engine runs: the pickled RemoteClusterSettingsProvider class
    assert b"RemoteClusterSettingsProvider" in base64.b64decode(unwrap_secret(inputs["__provider"])[0])
    assert resolve(resource.mode).value == "proxy"
    mocks, _ = registered(adopt_alias=True)
    assert mocks.one(SETTINGS).inputs["adopt_alias"] is True


def test_reading_the_settings_is_one_get_traced_as_sent(env: EmulatedLink, caplog: pytest.LogCaptureFixture) -> None:
    """The read is a GET of the flat persistent settings, and the debug trace shows the request as it went out."""
    es = caller(env.local_target(), env.ece_credentials())
    RemoteClusterSettingsProvider().create(settings_props(env))
    with caplog.at_level(logging.DEBUG, logger="ece_eck_remote.http"):
        assert live_settings(es, "logs")["mode"] == "proxy"
    assert [record.getMessage() for record in caplog.records] == ["get cluster settings GET _cluster/settings -> 200"]
