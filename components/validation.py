"""Rules for settings values. Each rule raises `SettingsError` naming the config key, the value and the rule.

The rules come from the APIs the values end up in: ECK's CRD and validation webhook
(`../shared/reference/eck.md` section 3), Elasticsearch's remote cluster settings (alias pattern `[-\\w]+`,
lowercase per the ECE UI) and Kubernetes object names.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from . import names

MAX_CLUSTER_NAME = 36
MAX_NODESET_NAME = 23
MAX_NAMESPACE = 63
MAX_LABEL_VALUE = 63
CONTROLLER_REVISION_HASH = 10

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class SettingsError(ValueError):
    """A stack setting breaks a rule. Raised before any resource is declared.

    The message is one line naming the key, the value as the user wrote it (JSON-like: `"Hot"`, `["d"]`, `false`) and
    the rule. A secret value is shown as `(secret)`; `shown` replaces a value that does not fit on a line (`(PEM)`). A
    value that is not set (None) is reported as missing, with the command that sets it (`hint`, when the key alone is
    not what to set; `""` for no command).
    """

    def __init__(
        self,
        key: str,
        value: Any,
        rule: str,
        *,
        secret: bool = False,
        shown: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.key = key
        self.rule = rule
        self.missing = value is None and shown is None
        if self.missing:
            how = set_command(key, secret=secret) if hint is None else hint
            text = f"config '{key}' is not set: {rule}" + (f"; set it with: {how}" if how else "")
        else:
            text = f"config '{key}': value {'(secret)' if secret else shown or show(value)} is invalid: {rule}"
        super().__init__(text)

    @property
    def problems(self) -> tuple[SettingsError, ...]:
        """The single problems this error reports, one line each."""
        return (self,)


class UnknownSettingError(SettingsError):
    """A key its level does not accept, with the nearest known key when one is close (a typo)."""

    def __init__(self, key: str, allowed: Collection[str]) -> None:
        name = key.rpartition(".")[2]
        close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6) or difflib.get_close_matches(
            name.lower(), sorted(allowed, key=str.lower), n=1, cutoff=0.6
        )
        known = "known: " + ", ".join(sorted(allowed))
        rule = f"did you mean '{close[0]}'? ({known})" if close else known
        ValueError.__init__(self, f"config '{key}' is not a known setting; {rule}")
        self.key = key
        self.rule = rule
        self.missing = False
        self.suggestion = close[0] if close else None


class SettingsErrors(SettingsError):  # noqa: N818 (the plural of SettingsError)
    """Every problem of a stack config at once. `key` and `rule` are the first's; the message has one line each."""

    def __init__(self, problems: Sequence[SettingsError]) -> None:
        flat: list[SettingsError] = []
        for error in problems:
            for problem in error.problems:
                if all(str(problem) != str(seen) for seen in flat):
                    flat.append(problem)
        if not flat:
            raise ValueError("SettingsErrors needs at least one problem")
        ValueError.__init__(self, "\n".join(str(p) for p in flat))
        self.key = flat[0].key
        self.rule = flat[0].rule
        self.missing = flat[0].missing
        self._problems = tuple(flat)

    @property
    def problems(self) -> tuple[SettingsError, ...]:
        return self._problems


def set_command(key: str, *, secret: bool = False, value: str = "<value>") -> str:
    """The command that sets `key` in the current stack (`--path` for a key inside a project key)."""
    path = "--path " if "." in key or "[" in key else ""
    return f"pulumi config set {'--secret ' if secret else ''}{path}'{key}' {value}"


def show(value: Any, limit: int = 120) -> str:
    """A config value as the user wrote it, JSON-like and on one line, cut at `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a circular structure cannot come from config; shown anyway
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @classmethod
    def of(cls, text: str) -> Version:
        match = _VERSION.match(text)
        if not match:
            raise ValueError(text)
        return cls(int(match[1]), int(match[2]), int(match[3]))


ES_MIN_REMOTE_CLUSTER_SERVER = Version(8, 10, 0)
ES_MIN_API_KEY_MODEL = Version(8, 14, 0)
ES_MIN_CERTIFICATE_IDENTITY = Version(9, 3, 0)
ECK_MIN = Version(2, 16, 0)
ECK_MIN_SERVICE_OVERRIDE = Version(3, 3, 0)


def require_type(key: str, value: Any, kind: type | tuple[type, ...], what: str, *, secret: bool = False) -> Any:
    if value is None:
        raise SettingsError(key, None, f"it is required ({what})", secret=secret)
    # bool is an int in Python; a port of `true` is not a port.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise SettingsError(key, value, f"must be {what}", secret=secret)
    if not isinstance(value, kind):
        raise SettingsError(key, value, f"must be {what}", secret=secret)
    return value


def cluster_name(key: str, value: Any) -> str:
    require_type(key, value, str, "a string")
    if not value or len(value) > MAX_CLUSTER_NAME:
        raise SettingsError(key, value, f"must be 1 to {MAX_CLUSTER_NAME} characters (ECK's limit)")
    if not _DNS1035_LABEL.match(value):
        raise SettingsError(
            key, value, "must be lowercase letters, digits and '-', start with a letter and end with a letter or digit"
        )
    return str(value)


def namespace(key: str, value: Any) -> str:
    require_type(key, value, str, "a string")
    if not value or len(value) > MAX_NAMESPACE or not _DNS1123_LABEL.match(value):
        raise SettingsError(
            key, value, f"must be a Kubernetes namespace: 1 to {MAX_NAMESPACE} lowercase letters, digits and '-'"
        )
    return str(value)


NODESET_NAME_RULE = (
    f"must be 1 to {MAX_NODESET_NAME} lowercase letters, digits and '-', starting and ending with a letter or digit"
    " (ECK names the StatefulSet '<cluster>-es-<nodeSet>', a DNS-1123 label)"
)


def nodeset_name(key: str, value: Any) -> str:
    """ECK's CRD allows 23 characters; its webhook, and Kubernetes for the StatefulSet, want a DNS-1123 label."""
    require_type(key, value, str, "a string")
    if len(value) > MAX_NODESET_NAME or not _DNS1123_LABEL.match(value):
        raise SettingsError(key, value, NODESET_NAME_RULE)
    return str(value)


def statefulset_name(key: str, cluster: str, node_set: str, count: int) -> str:
    """ECK (`ValidateNames`): the StatefulSet name, '-<ordinal>' and the 10-character controller revision hash
    of its Pods' labels must fit in a 63-character label value."""
    name = names.es_statefulset(cluster, node_set)
    room = MAX_LABEL_VALUE - len(str(count)) - 1 - CONTROLLER_REVISION_HASH
    if len(name) > room:
        raise SettingsError(
            key,
            node_set,
            f"the StatefulSet name '{name}' is {len(name)} characters; with count {count} ECK allows {room}"
            " (63, less '-<ordinal>' and a 10-character revision hash): shorten the cluster or nodeSet name",
        )
    return name


def version(key: str, value: Any) -> Version:
    require_type(key, value, str, "a version string like '9.3.2'")
    try:
        return Version.of(value)
    except ValueError:
        raise SettingsError(key, value, "must be a version MAJOR.MINOR.PATCH, like '9.3.2'") from None


def es_version(key: str, value: Any, *, api_key_model: bool) -> Version:
    parsed = version(key, value)
    if parsed.major not in (7, 8, 9):
        raise SettingsError(key, value, "ECK supports Elasticsearch 7.x, 8.x and 9.x only")
    if api_key_model and parsed < ES_MIN_REMOTE_CLUSTER_SERVER:
        raise SettingsError(
            key, value, f"the remote cluster server needs Elasticsearch >= {ES_MIN_REMOTE_CLUSTER_SERVER}"
        )
    if api_key_model and parsed < ES_MIN_API_KEY_MODEL:
        raise SettingsError(key, value, f"the API-key security model needs Elasticsearch >= {ES_MIN_API_KEY_MODEL}")
    return parsed


def eck_version(key: str, value: Any) -> Version:
    parsed = version(key, value)
    if parsed < ECK_MIN or parsed.major > 3:
        raise SettingsError(
            key, value, f"supported ECK versions are {ECK_MIN} to 3.x (remoteClusterServer arrived in 2.16)"
        )
    return parsed


def port(key: str, value: Any) -> int:
    require_type(key, value, int, "an integer port")
    if not 1 <= value <= 65535:
        raise SettingsError(key, value, "must be a port from 1 to 65535")
    return int(value)


def alias(key: str, value: Any) -> str:
    require_type(key, value, str, "a string")
    if not value or not names.valid_alias(value):
        raise SettingsError(key, value, names.ALIAS_RULE)
    return str(value)


def one_of(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SettingsError(key, value, "must be one of " + ", ".join(choices))
    return str(value)


def positive_int(key: str, value: Any, *, maximum: int) -> int:
    require_type(key, value, int, "an integer")
    if not 1 <= value <= maximum:
        raise SettingsError(key, value, f"must be from 1 to {maximum}")
    return int(value)


def cidr(key: str, value: Any) -> str:
    require_type(key, value, str, "a CIDR string")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as error:
        raise SettingsError(key, value, f"must be a CIDR such as 10.0.0.0/8 ({error})") from None


def host(key: str, value: Any) -> str:
    """An IPv4 address, an IPv6 address (bare or in brackets) or a DNS host name. IPv6 is returned bare."""
    require_type(key, value, str, "a host name or IP address")
    text = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if value.startswith("["):
        raise SettingsError(key, value, "brackets are only for IPv6 addresses")
    if re.fullmatch(r"[\d.]+", value):
        raise SettingsError(key, value, "is not a valid IPv4 address")
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split(".")):
        raise SettingsError(
            key, value, "must be an IPv4 address, an IPv6 address or a DNS name (labels of 1-63 [A-Za-z0-9-])"
        )
    return str(name).lower()


@dataclass(frozen=True)
class Address:
    """A `host:port` endpoint; IPv6 hosts are bracketed when written out."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def address(key: str, value: Any, *, default_port: int | None) -> Address:
    """`host`, `host:port`, `[v6]` or `[v6]:port`. A bare IPv6 address has no port (its colons are the address)."""
    require_type(key, value, str, "an address like 'lb.example.com:9443'")
    text: str = value
    host_part, port_part = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SettingsError(key, value, "an IPv6 address in brackets needs its closing ']'")
        host_part, rest = text[: end + 1], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise SettingsError(key, value, "after '[ipv6]' only ':port' may follow")
            port_part = rest[1:]
    elif text.count(":") == 1:
        host_part, port_part = text.split(":")
    parsed_host = host(key, host_part)
    if port_part is None:
        if default_port is None:
            raise SettingsError(key, value, "needs a port, like 'host:9443'")
        return Address(parsed_host, default_port)
    if not port_part.isdigit():
        raise SettingsError(key, value, "the port must be a number from 1 to 65535")
    return Address(parsed_host, port(key, int(port_part)))


def server_name(key: str, value: Any) -> str:
    require_type(key, value, str, "a DNS name")
    if value == "":
        return ""
    return host(key, value)


def url(key: str, value: Any) -> str:
    require_type(key, value, str, "a URL")
    match = re.fullmatch(r"(https?)://([^/]+)(/.*)?", value)
    if not match:
        raise SettingsError(key, value, "must be an http(s) URL like 'https://host:9200'")
    address(key, match[2], default_port=443 if match[1] == "https" else 80)
    return str(value).rstrip("/")


def mapping(key: str, value: Any) -> dict[str, Any]:
    require_type(key, value, dict, "an object")
    return dict(value)


def string_map(key: str, value: Any) -> dict[str, str]:
    result = mapping(key, value)
    for item_key, item in result.items():
        require_type(f"{key}.{item_key}", item, str, "a string")
    return result


def sequence(key: str, value: Any) -> list[Any]:
    require_type(key, value, list, "a list")
    return list(value)
