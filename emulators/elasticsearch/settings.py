"""`_cluster/settings`: persistent and transient scopes, the remote cluster affix settings and ALL their rules
(reference section 2), nulls and wildcard deletes, the response echo, flat or nested rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .durations import is_time_value
from .errors import EsError, illegal_argument, validation
from .version import Version

Value = str | list[str]
Flat = dict[str, Value]

SCOPES = ("transient", "persistent")  # ES applies transient first, then persistent
REMOTE_KEY = re.compile(
    r"cluster\.remote\.([-\w]+)\.(mode|proxy_address|proxy_socket_connections|server_name|skip_unavailable|seeds"
    r"|node_connections|transport\.compress|transport\.compression_scheme|transport\.ping_schedule)",
    re.ASCII,
)
PROXY_ONLY = frozenset({"proxy_address", "proxy_socket_connections", "server_name"})
SNIFF_ONLY = frozenset({"seeds", "node_connections"})
NEEDS_ENABLED = frozenset(
    {"skip_unavailable", "transport.compress", "transport.compression_scheme", "transport.ping_schedule"}
)
# Node-level remote settings: known, but static (elasticsearch.yml only).
STATIC = {
    "cluster.remote.initial_connect_timeout": "30s",
    "cluster.remote.node.attr": "",
    "cluster.remote.connections_per_cluster": "3",
}
# Other dynamic settings accepted as opaque strings (with their defaults), so tests can see we never touch them.
OPAQUE = {
    "indices.recovery.max_bytes_per_sec": "40mb",
    "cluster.routing.allocation.enable": "all",
    "action.destructive_requires_name": "true",
    "action.auto_create_index": "true",
    "cluster.max_shards_per_node": "1000",
    "search.default_search_timeout": "-1",
}
ENUMS = {
    "mode": ("org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy", ("SNIFF", "PROXY")),
    "transport.compress": ("org.elasticsearch.transport.Compression.Enabled", ("TRUE", "FALSE", "INDEXING_DATA")),
    "transport.compression_scheme": ("org.elasticsearch.transport.Compression.Scheme", ("DEFLATE", "LZ4")),
}


@dataclass(frozen=True)
class Remote:
    """An enabled remote (what `_remote/info` lists), from the effective settings."""

    alias: str
    mode: str
    proxy_address: str
    server_name: str
    proxy_socket_connections: int
    seeds: tuple[str, ...]
    node_connections: int
    skip_unavailable: bool
    profile: tuple[str, str, str] = ("", "", "")  # transport.compress, .compression_scheme, .ping_schedule as set


class ClusterSettings:
    def __init__(self, version: Version) -> None:
        self.version = version
        self.persistent: Flat = {}
        self.transient: Flat = {}

    # --- update ---------------------------------------------------------------------------------------------
    def update(self, data: dict[str, Any]) -> dict[str, Flat]:
        """Apply one `PUT /_cluster/settings` body atomically; the echo of the non-null updates per scope."""
        requested = {scope: flatten(data.get(scope) or {}) for scope in SCOPES}
        if not requested["transient"] and not requested["persistent"]:
            raise validation("no settings to update")
        result: dict[str, Flat] = {}
        echo: dict[str, Flat] = {}
        for scope in SCOPES:
            result[scope], echo[scope] = _apply(getattr(self, scope), requested[scope], scope)
        for scope in SCOPES:
            _check_dependencies(result[scope])
        self.transient, self.persistent = result["transient"], result["persistent"]
        return echo

    # --- reading --------------------------------------------------------------------------------------------
    def effective(self) -> Flat:
        return {**self.persistent, **self.transient}

    def defaults(self) -> Flat:
        effective = self.effective()
        remote_defaults: Flat = {
            "mode": "SNIFF",
            "proxy_address": "",
            "proxy_socket_connections": "18",
            "server_name": "",
            "seeds": [],
            "node_connections": "3",
            "skip_unavailable": "true" if self.version.skip_unavailable_default else "false",
            "transport.compress": "indexing_data",
            "transport.compression_scheme": "lz4",
            "transport.ping_schedule": "-1",
        }
        found: Flat = {**STATIC, **OPAQUE}
        for alias in sorted(_aliases(effective)):
            for suffix, default in remote_defaults.items():
                found[f"cluster.remote.{alias}.{suffix}"] = default
        return {key: value for key, value in sorted(found.items()) if key not in effective}

    def remotes(self) -> list[Remote]:
        effective = self.effective()
        remotes = []
        for alias in sorted(_aliases(effective)):

            def get(suffix: str, default: Value, alias: str = alias) -> Value:
                return effective.get(f"cluster.remote.{alias}.{suffix}", default)

            mode = str(get("mode", "sniff")).lower()
            seeds = get("seeds", [])
            remote = Remote(
                alias=alias,
                mode=mode,
                proxy_address=str(get("proxy_address", "")),
                server_name=str(get("server_name", "")),
                proxy_socket_connections=int(str(get("proxy_socket_connections", "18"))),
                seeds=tuple(seeds if isinstance(seeds, list) else [seeds]),
                node_connections=int(str(get("node_connections", "3"))),
                skip_unavailable=str(get("skip_unavailable", str(self.version.skip_unavailable_default))).lower()
                == "true",
                profile=(
                    str(get("transport.compress", "")),
                    str(get("transport.compression_scheme", "")),
                    str(get("transport.ping_schedule", "")),
                ),
            )
            if (mode == "proxy" and remote.proxy_address) or (mode == "sniff" and remote.seeds):
                remotes.append(remote)
        return remotes


# --- flattening and rendering ------------------------------------------------------------------------------
def flatten(value: Any, prefix: str = "") -> dict[str, Value | None]:
    """Nested or dotted keys to dotted keys; scalars to strings, arrays to string arrays, null kept (delete)."""
    flat: dict[str, Value | None] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
        return flat
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}.{index}"))
        return flat
    if isinstance(value, list):
        flat[prefix] = [_string(item) for item in value]
        return flat
    flat[prefix] = None if value is None else _string(value)
    return flat


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def render(flat: Flat, *, flat_settings: bool) -> dict[str, Any]:
    """ES's `Settings.toXContent`: dotted keys with `flat_settings=true`, nested objects otherwise."""
    if flat_settings:
        return dict(sorted(flat.items()))
    nested: dict[str, Any] = {}
    for key in sorted(flat):
        node, parts = nested, key.split(".")
        for index, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):  # a leaf already sits here: keep the rest dotted
                node[".".join(parts[index:])] = flat[key]
                break
            node = child
        else:
            node[parts[-1]] = flat[key]
    return nested


# --- the rules ---------------------------------------------------------------------------------------------
def _kind(key: str) -> str | None:
    if REMOTE_KEY.fullmatch(key):
        return "remote"
    if key in STATIC:
        return "static"
    if key in OPAQUE:
        return "opaque"
    return None


def _apply(current: Flat, requested: dict[str, Value | None], scope: str) -> tuple[Flat, Flat]:
    """`AbstractScopedSettings.updateSettings`: check each key and value, then deletes, then puts."""
    puts: Flat = {}
    deletes: list[str] = []
    for key in sorted(requested):
        value = requested[key]
        if value is None and key.endswith("*"):
            deletes.append(key)
            continue
        kind = _kind(key)
        if kind is None:
            raise illegal_argument(f"{scope} setting [{key}], not recognized")
        if kind == "static":
            raise illegal_argument(f"{scope} setting [{key}], not dynamically updateable")
        if value is None:
            deletes.append(key)
            continue
        _check_value(key, value)
        puts[key] = value
    target = {key: value for key, value in current.items() if not any(_simple_match(p, key) for p in deletes)}
    target.update(puts)
    return target, puts


def _simple_match(pattern: str, key: str) -> bool:
    """ES `Regex.simpleMatch`: only `*` is special."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), key) is not None


def _check_value(key: str, value: Value) -> None:
    """The setting's own parser and validator, without dependencies (`validateWithoutDependencies`)."""
    match = REMOTE_KEY.fullmatch(key)
    if match is None:
        return
    suffix = match[2]
    if suffix == "seeds":
        for seed in value if isinstance(value, list) else [value]:
            _parse_port(seed)
        return
    if isinstance(value, list):
        raise illegal_argument(
            f"Failed to parse value [{value}] for setting [{key}]: expected a single value, found an array"
        )
    if suffix in ENUMS:
        enum, constants = ENUMS[suffix]
        if value.upper() not in constants:
            raise illegal_argument(f"No enum constant {enum}.{value.upper()}")
    elif suffix == "proxy_address" and value:
        _parse_port(value)
    elif suffix in ("proxy_socket_connections", "node_connections"):
        _parse_int(value, key, 1)
    elif suffix == "skip_unavailable" and value not in ("true", "false"):
        raise illegal_argument(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")
    elif suffix == "transport.ping_schedule":
        error = is_time_value(value, key)
        if error is not None:
            raise illegal_argument(error.reason)


def _parse_port(address: str) -> int:
    """`RemoteConnectionStrategy.parsePort`."""
    separator = address.rfind(":")
    if separator == -1 or separator == len(address):
        raise illegal_argument(f"remote hosts need to be configured as [host:port], found [{address}] instead")
    text = address[separator + 1 :]
    try:
        port = int(text)
    except ValueError:
        raise illegal_argument(
            "failed to parse port",
            caused_by={"type": "number_format_exception", "reason": f'For input string: "{text}"'},
        ) from None
    if port <= 0:
        raise illegal_argument(f"port number must be > 0 but was: [{port}]")
    return port


def _parse_int(value: str, key: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise illegal_argument(f"Failed to parse value [{value}] for setting [{key}]") from None
    if number < minimum:
        raise illegal_argument(f"Failed to parse value [{value}] for setting [{key}] must be >= {minimum}")
    return number


def _check_dependencies(settings: Flat) -> None:
    """Validators with dependencies, on one scope's resulting settings, key by key in sorted order:
    the connection mode a setting belongs to, and whether the remote is enabled."""
    for key in sorted(settings):
        match = REMOTE_KEY.fullmatch(key)
        if match is None:
            continue
        alias, suffix = match[1], match[2]
        mode_key = f"cluster.remote.{alias}.mode"
        mode = str(settings.get(mode_key, "sniff")).upper()
        required = "PROXY" if suffix in PROXY_ONLY else "SNIFF" if suffix in SNIFF_ONLY else None
        if required is not None and mode != required:
            raise illegal_argument(
                f'Setting "{key}" cannot be used with the configured "{mode_key}" [required={required}, configured={mode}]'
            )
        if suffix in NEEDS_ENABLED and not _enabled(settings, alias, mode):
            raise illegal_argument(f"Cannot configure setting [{key}] if remote cluster is not enabled.")


def _enabled(settings: Flat, alias: str, mode: str) -> bool:
    if mode == "SNIFF":
        return bool(settings.get(f"cluster.remote.{alias}.seeds"))
    return bool(settings.get(f"cluster.remote.{alias}.proxy_address"))


def _aliases(settings: Flat) -> set[str]:
    return {match[1] for key in settings if (match := REMOTE_KEY.fullmatch(key))}


def check_body(data: Any) -> EsError | None:
    """The request parser: an object with only `persistent` and `transient` objects."""
    if not isinstance(data, dict):
        return EsError(
            400, "x_content_parse_exception", "[1:1] [cluster_update_settings_request] Expected START_OBJECT"
        )
    for key, value in data.items():
        if key not in SCOPES:
            return EsError(
                400, "x_content_parse_exception", f"[1:2] [cluster_update_settings_request] unknown field [{key}]"
            )
        if value is not None and not isinstance(value, dict):
            return EsError(
                400,
                "x_content_parse_exception",
                f"[1:2] [cluster_update_settings_request] {key} doesn't support values of type: VALUE_STRING",
            )
    return None
