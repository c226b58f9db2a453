"""The local cluster's connections to its proxy-mode remotes, as Elasticsearch keeps them.

What a real node does, and so what this models (checked on a real 8.19.21 node, tests/reales; Elasticsearch's
`RemoteClusterService`, `RemoteConnectionStrategy.shouldRebuildConnection` and `ProxyConnectionStrategy
.strategyMustBeRebuilt`, `TransportResolveClusterAction`):
- `GET _remote/info` only reports: it never makes a connection attempt.
- A settings change that alters a remote's strategy (mode, `proxy_address`, `proxy_socket_connections`, and here
  `server_name`) or its connection profile (`transport.compress`, `.compression_scheme`, `.ping_schedule`) closes
  its connection and makes one attempt, in the background; so does adding or removing its
  credential on a keystore reload (#103460). A remote that is removed is disconnected.
- A cross-cluster request (`_resolve/cluster`, a search) reuses the open connection, or makes one attempt when there
  is none; the remote checks the credential with every request, so a key invalidated while the connection stays open
  fails the request but does not close the connection.
- The TLS handshake happens when a connection opens: a CA that the local cluster trusts (or stops trusting) later
  matters only to the next connection.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .connect import Attempt, LiveConnection, Outcome, open_connection
from .settings import Remote

SNIFF_OUTCOME = Outcome(False, "sniff_not_emulated", "sniff-mode connections are not emulated")
Planner = Callable[[Remote], Attempt]


def strategy(remote: Remote) -> tuple[Any, ...]:
    """What a connection is built for: a change here rebuilds it (the mode, the proxy strategy's address and socket
    count, and the connection profile: `transport.compress`, `.compression_scheme`, `.ping_schedule`)."""
    return (remote.mode, remote.proxy_address, remote.server_name, remote.proxy_socket_connections, remote.profile)


@dataclass
class _Alias:
    strategy: tuple[Any, ...]
    live: LiveConnection | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class RemoteConnections:
    def __init__(self, connect_timeout: float, clock: Callable[[], int]) -> None:
        self.connect_timeout = connect_timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._aliases: dict[str, _Alias] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self._background: list[threading.Thread] = []

    # --- what changes the connections ----------------------------------------------------------------------------
    def apply(self, remotes: list[Remote], planner: Planner, rebuild: frozenset[str] = frozenset()) -> None:
        """After a settings change or a keystore reload: rebuild what changed (one attempt each), drop what is gone."""
        wanted = {remote.alias: remote for remote in remotes}
        attempts: list[tuple[Remote, _Alias]] = []
        with self._lock:
            for alias in list(self._aliases):
                if alias not in wanted:
                    self._drop(alias)
                    self.records.pop(alias, None)
            for alias, remote in wanted.items():
                current = self._aliases.get(alias)
                if current is None or current.strategy != strategy(remote) or alias in rebuild:
                    if current is not None:
                        self._drop(alias)
                    fresh = self._aliases[alias] = _Alias(strategy(remote))
                    if remote.mode == "proxy" and remote.proxy_address:
                        attempts.append((remote, fresh))
        for remote, owner in attempts:
            plan = planner(remote)
            thread = threading.Thread(
                target=self._connect, args=(remote, plan, owner), name="es-remote-connect", daemon=True
            )
            self._background.append(thread)
            thread.start()

    def settle(self, timeout: float = 5.0) -> None:
        """Wait for background attempts (tests and the state route use it; the API never does)."""
        for thread in list(self._background):
            thread.join(timeout)
        self._background = [thread for thread in self._background if thread.is_alive()]

    def close_all(self) -> None:
        with self._lock:
            for alias in list(self._aliases):
                self._drop(alias)
            self.records.clear()

    # --- what uses them ------------------------------------------------------------------------------------------
    def request(self, remote: Remote, plan: Attempt) -> Outcome:
        """One cross-cluster request: over the open connection, or after one attempt to open it."""
        if remote.mode != "proxy":
            return SNIFF_OUTCOME
        with self._lock:
            current = self._aliases.get(remote.alias)
            if current is None or current.strategy != strategy(remote):
                current = self._aliases[remote.alias] = _Alias(strategy(remote))
            live = current.live
        if live is not None and _alive(live):
            outcome = live.request(plan.credential, (plan.missing_code, plan.missing_reason))
            if outcome.code != "connection_closed":
                self._record(remote, outcome)
                return outcome
        return self._connect(remote, plan, current)

    def connected(self, alias: str) -> bool:
        """What `_remote/info` reports: whether a connection is open now."""
        with self._lock:
            current = self._aliases.get(alias)
            live = current.live if current is not None else None
        return live is not None and _alive(live)

    # --- internals -----------------------------------------------------------------------------------------------
    def _connect(self, remote: Remote, plan: Attempt, owner: _Alias) -> Outcome:
        """One attempt: TCP, TLS with the CAs trusted now, then the handshake, which carries the credential. Its
        connection is kept only if `owner` is still the alias's current connection (not rebuilt meanwhile)."""
        outcome, live = open_connection(plan, self.connect_timeout)
        if live is not None:
            outcome = live.request(plan.credential, (plan.missing_code, plan.missing_reason))
            if not outcome.connected:
                live.close()
                live = None
        with self._lock:
            stale = self._aliases.get(remote.alias) is not owner
            if not stale:
                if owner.live is not None and owner.live is not live:
                    owner.live.close()
                owner.live = live
        if stale:
            if live is not None:
                live.close()
            return outcome
        self._record(remote, outcome)
        return outcome

    def _drop(self, alias: str) -> None:
        current = self._aliases.pop(alias, None)
        if current is not None and current.live is not None:
            current.live.close()

    def _record(self, remote: Remote, outcome: Outcome) -> None:
        """What `/_emulator/state` shows under `remote_connections.<alias>` (never part of the API answer)."""
        now = self.clock()
        with self._lock:
            previous = self.records.get(remote.alias) or {}
            last_failure = previous.get("last_failure")
            if not outcome.connected:
                last_failure = {"code": outcome.code, "reason": outcome.reason, "at": now}
            self.records[remote.alias] = {
                "connected": outcome.connected,
                "code": outcome.code,
                "reason": outcome.reason,
                "checked_at": now,
                "last_failure": last_failure,
                "checks": int(previous.get("checks") or 0) + 1,
                "mode": remote.mode,
                "proxy_address": remote.proxy_address,
                "server_name": remote.server_name,
            }


def _alive(live: LiveConnection) -> bool:
    """Open, and not closed by the remote (a readable idle socket means the remote ended it)."""
    if not live.open:
        return False
    try:
        readable, _, _ = select.select([live.tls], [], [], 0)
    except (OSError, ValueError):
        live.close()
        return False
    if readable:
        live.close()
        return False
    return True
