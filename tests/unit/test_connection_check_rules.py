"""`RemoteConnectionCheck` without a cluster: what `check` refuses, which input changes `diff` shows (and that the
retired `trust.retiring_certificates` is none), the safe default of `is_configured`, and what the resource registers
with the engine."""

from __future__ import annotations

import base64
from typing import Any

from components.ece.local_side import EceLocalSide
from components.elasticsearch.connection_check import (
    RemoteConnectionCheck,
    RemoteConnectionCheckProvider,
    is_configured,
)
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret

CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck"
TARGET = {"kind": "direct", "url": "https://es.example.com:9200"}
TRUST = {"deployment_id": "d1", "entry_name": "ece-eck-remote-logs"}


def inputs(**changes: Any) -> dict[str, Any]:
    return {
        "target": TARGET,
        "credentials": {"password": "x"},
        "alias": "logs",
        "expected": {"proxy_address": "rcs.example.com:9443"},
        "requires_credentials": True,
        "remote": None,
        "trust": TRUST,
        "timeout_seconds": 60,
        **changes,
    }


def test_check_requires_the_alias_and_the_timeout() -> None:
    news = {key: value for key, value in inputs().items() if key not in ("alias", "timeout_seconds")}
    failures = RemoteConnectionCheckProvider().check({}, news).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("alias", "'alias' is required"),
        ("timeout_seconds", "'timeout_seconds' is required"),
    ]
    assert RemoteConnectionCheckProvider().check({}, inputs()).failures == []


def connected(**changes: Any) -> dict[str, Any]:
    return {**inputs(**changes), "connected": True, "proxy_address": "rcs.example.com:9443", "server_name": ""}


def test_retiring_certificates_recorded_by_an_older_version_going_away_is_no_change() -> None:
    olds = connected(trust={**TRUST, "retiring_certificates": ["-----BEGIN CERTIFICATE-----"]})
    result = RemoteConnectionCheckProvider().diff("logs-connection", olds, inputs())
    assert result.changes is False
    assert not result.replaces and not result.delete_before_replace


def test_a_check_without_link_details_shows_no_change() -> None:
    result = RemoteConnectionCheckProvider().diff("logs-connection", connected(trust=None), inputs(trust=None))
    assert result.changes is False


def test_a_change_in_the_link_details_beside_retiring_certificates_is_a_change() -> None:
    olds = connected(trust={**TRUST, "retiring_certificates": ["pem"]})
    news = inputs(trust={**TRUST, "entry_name": "ece-eck-remote-other"})
    assert RemoteConnectionCheckProvider().diff("logs-connection", olds, news).changes is True


def test_is_configured_asks_for_credentials_unless_told_otherwise() -> None:
    proxy = {"connected": True, "mode": "proxy", "proxy_address": "rcs.example.com:9443"}
    assert is_configured(proxy) is False
    assert is_configured({**proxy, "cluster_credentials": "::es_redacted::"}) is True
    assert is_configured(proxy, requires_credentials=False) is True


def register(**extra: Any) -> tuple[RecordingMocks, Any]:
    mocks = RecordingMocks(outputs=lambda _args: {"connected": True, "proxy_address": "seen:9443", "server_name": "s"})

    def build() -> Any:
        return RemoteConnectionCheck(
            "check",
            target=TARGET,
            credentials={"password": "x"},
            alias="logs",
            expected={"proxy_address": "rcs.example.com:9443"},
            timeout_seconds=60,
            **extra,
        )

    return mocks, run_under_mocks(build, mocks)


def test_the_resource_registers_its_inputs_with_the_link_details_secret() -> None:
    remote = {"target": TARGET, "credentials": {"password": "r"}, "key_id": "k1"}
    mocks, check = register(remote=remote, trust=TRUST, local_side=EceLocalSide())
    registered = mocks.one(CHECK).inputs
    assert registered["target"] == TARGET
    assert registered["timeout_seconds"] == 60
    assert registered["requires_credentials"] is True
    assert unwrap_secret(registered["remote"]) == (remote, True)
    assert unwrap_secret(registered["trust"]) == (TRUST, True)
    # the provider the engine runs: the pickled RemoteConnectionCheckProvider, holding the link's local side
    provider = base64.b64decode(unwrap_secret(registered["__provider"])[0])
    assert b"RemoteConnectionCheckProvider" in provider and b"EceLocalSide" in provider
    assert resolve(check.connected).value is True
    assert resolve(check.proxy_address).value == "seen:9443"
    assert resolve(check.server_name).value == "s"


def test_the_resource_without_remote_or_link_details_registers_none_of_them() -> None:
    mocks, _ = register(requires_credentials=False)
    registered = mocks.one(CHECK).inputs
    assert registered["requires_credentials"] is False
    assert unwrap_secret(registered.get("remote")) == (None, False)
    assert unwrap_secret(registered.get("trust")) == (None, False)
    provider = base64.b64decode(unwrap_secret(registered["__provider"])[0])
    assert b"RemoteConnectionCheckProvider" in provider and b"EceLocalSide" not in provider
