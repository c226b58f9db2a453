"""`GET /_remote/info` on the local cluster: one connection attempt per proxy-mode remote (concurrently when
there are several), the answer in `RemoteConnectionInfo` field order, and what the emulator records."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .connect import Attempt, Outcome, attempt
from .keystore import Keystore
from .settings import Remote

SNIFF_OUTCOME = Outcome(False, "sniff_not_emulated", "sniff-mode connections are not emulated")


def plan(remote: Remote, keystore: Keystore, trusted: list[str]) -> Attempt:
    credential, code, reason = keystore.credential(remote.alias)
    return Attempt(
        proxy_address=remote.proxy_address,
        server_name=remote.server_name,
        trusted=tuple(trusted),
        credential=credential,
        missing_code=code,
        missing_reason=reason,
    )


def attempt_all(plans: dict[str, Attempt], timeout: float) -> dict[str, Outcome]:
    if len(plans) <= 1:
        return {alias: attempt(one, timeout) for alias, one in plans.items()}
    with ThreadPoolExecutor(max_workers=min(8, len(plans))) as pool:
        futures = {alias: pool.submit(attempt, one, timeout) for alias, one in plans.items()}
        return {alias: future.result() for alias, future in futures.items()}


def entry(remote: Remote, connected: bool, credentials: bool) -> dict[str, Any]:
    """One alias of the answer; `connected` is `num_proxy_sockets_connected > 0`."""
    info: dict[str, Any] = {"connected": connected, "mode": remote.mode}
    if remote.mode == "proxy":
        info["proxy_address"] = remote.proxy_address
        info["server_name"] = remote.server_name
        info["num_proxy_sockets_connected"] = 1 if connected else 0
        info["max_proxy_socket_connections"] = remote.proxy_socket_connections
    else:
        info["seeds"] = list(remote.seeds)
        info["num_nodes_connected"] = 0
        info["max_connections_per_cluster"] = remote.node_connections
    info["initial_connect_timeout"] = "30s"
    info["skip_unavailable"] = remote.skip_unavailable
    if credentials:
        info["cluster_credentials"] = "::es_redacted::"
    return info


def record(remote: Remote, outcome: Outcome, now: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """What `/_emulator/state` shows under `remote_connections.<alias>` (never part of the API answer)."""
    last_failure = (previous or {}).get("last_failure")
    if not outcome.connected:
        last_failure = {"code": outcome.code, "reason": outcome.reason, "at": now}
    return {
        "connected": outcome.connected,
        "code": outcome.code,
        "reason": outcome.reason,
        "checked_at": now,
        "last_failure": last_failure,
        "mode": remote.mode,
        "proxy_address": remote.proxy_address,
        "server_name": remote.server_name,
    }
