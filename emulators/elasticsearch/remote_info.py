"""`GET /_remote/info` (the answer in `RemoteConnectionInfo` field order: it reports, it never connects) and
`GET /_resolve/cluster/<expression>` (one entry per cluster, in `ResolveClusterInfo` field order), on the local
cluster."""

from __future__ import annotations

from typing import Any

from .connect import Attempt, Outcome
from .keystore import Keystore
from .restrictions import TransportIdentity, TrustEntry
from .settings import Remote


def plan(
    remote: Remote,
    keystore: Keystore,
    trusted: list[str],
    restrictions: tuple[TrustEntry, ...] = (),
    identity: TransportIdentity | None = None,
) -> Attempt:
    credential, code, reason = keystore.credential(remote.alias)
    return Attempt(
        proxy_address=remote.proxy_address,
        server_name=remote.server_name,
        trusted=tuple(trusted),
        credential=credential,
        missing_code=code,
        missing_reason=reason,
        restrictions=restrictions,
        identity=identity,
    )


def entry(remote: Remote, connected: bool, credentials: bool) -> dict[str, Any]:
    """One alias of the answer; `connected` is `num_proxy_sockets_connected > 0`."""
    info: dict[str, Any] = {"connected": connected, "mode": remote.mode}
    if remote.mode == "proxy":
        info["proxy_address"] = remote.proxy_address
        info["server_name"] = remote.server_name
        # a real node opens every socket of the strategy at once (18/18 seen on 8.19.21); the emulator holds one
        info["num_proxy_sockets_connected"] = remote.proxy_socket_connections if connected else 0
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


def resolved(outcome: Outcome, skip_unavailable: bool, local_version: str) -> dict[str, Any]:
    """One remote's entry of `_resolve/cluster` (TransportResolveClusterAction): connected with the remote's version;
    a remote that cannot be reached is `connected: false` with no error; a security failure (a key rejected) is
    `connected: false` with the exception's message. A failed TLS handshake, a transport trust restriction included,
    fails the connection (ConnectTransportException / NoSeedNodeLeftException), which
    `ExceptionsHelper.isRemoteUnavailableException` counts as unreachable: no error, only the node's log says why
    (here: `/_emulator/state` `remote_connections.<alias>.reason`)."""
    if outcome.connected:
        return {
            "connected": True,
            "skip_unavailable": skip_unavailable,
            "matching_indices": False,  # the emulated remote holds no indices
            "version": version_info(outcome.remote_version or local_version),
        }
    entry: dict[str, Any] = {"connected": False, "skip_unavailable": skip_unavailable}
    if outcome.code in ("credentials_rejected",):
        entry["error"] = outcome.reason
    return entry


def version_info(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "build_flavor": "default",
        "minimum_wire_compatibility_version": "7.17.0" if number.startswith("8.") else "8.19.0",
        "minimum_index_compatibility_version": "7.0.0" if number.startswith("8.") else "8.0.0",
    }
