"""The `access` of a cross-cluster API key: parsing (reference section 1), the stored form, the `access` echo and
the `cross_cluster` role descriptor the server derives from it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import EsError, illegal_argument, parse_error, wrapped, x_content
from .version import Version
from .xcontent import Body, token

ACCESS_PARSER = "cross_cluster_api_key_request_access"
ROLE_NAME = "cross_cluster"
SEARCH_INDEX_PRIVILEGES = ["read", "read_cross_cluster", "view_index_metadata"]
REPLICATION_INDEX_PRIVILEGES = ["cross_cluster_replication", "cross_cluster_replication_internal"]
ENTRY_FIELDS = ("names", "field_security", "query", "allow_restricted_indices")


@dataclass(frozen=True)
class IndexAccess:
    names: tuple[str, ...]
    field_security: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    query: str | None = None
    allow_restricted_indices: bool = False

    @property
    def dls_or_fls(self) -> bool:
        """`IndicesPrivileges.isUsingDocumentOrFieldLevelSecurity`: a query, or fields granted other than just `*`
        (`grant: ["*"]` alone is no FLS: a real 8.19.21 node takes it on replication), or any field excepted."""
        fields = dict(self.field_security or ())
        granted = fields.get("grant")
        return self.query is not None or (granted is not None and list(granted) != ["*"]) or bool(fields.get("except"))

    def render(self, privileges: list[str] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"names": list(self.names)}
        if privileges is not None:
            entry["privileges"] = list(privileges)
        if self.field_security is not None:
            entry["field_security"] = {key: list(values) for key, values in self.field_security}
        if self.query is not None:
            entry["query"] = self.query
        entry["allow_restricted_indices"] = self.allow_restricted_indices
        return entry


@dataclass(frozen=True)
class Access:
    search: tuple[IndexAccess, ...] = ()
    replication: tuple[IndexAccess, ...] = ()

    def render(self) -> dict[str, Any]:
        """The `access` field of GET: empty arrays omitted, `allow_restricted_indices` always present."""
        rendered: dict[str, Any] = {}
        if self.search:
            rendered["search"] = [entry.render() for entry in self.search]
        if self.replication:
            rendered["replication"] = [entry.render() for entry in self.replication]
        return rendered

    def check(self, version: Version) -> None:
        """`CrossClusterApiKeyRoleDescriptorBuilder.build()`: non-empty access and the DLS/FLS rules."""
        if not self.search and not self.replication:
            raise illegal_argument("must specify non-empty access for either [search] or [replication]")
        if (
            self.search
            and self.replication
            and version.dls_with_replication_rule
            and any(e.dls_or_fls for e in self.search)
        ):
            raise illegal_argument(
                "search does not support document or field level security if replication is assigned"
            )
        if any(entry.dls_or_fls for entry in self.replication):
            raise illegal_argument("replication does not support document or field level security")

    def role_descriptors(self, version: Version) -> dict[str, Any]:
        cluster: list[str] = []
        if self.search:
            cluster += (
                ["cross_cluster_search", "monitor_enrich"] if version.monitor_enrich else ["cross_cluster_search"]
            )
        if self.replication:
            cluster.append("cross_cluster_replication")
        indices = [entry.render(SEARCH_INDEX_PRIVILEGES) for entry in self.search]
        indices += [entry.render(REPLICATION_INDEX_PRIVILEGES) for entry in self.replication]
        return {
            ROLE_NAME: {
                "cluster": cluster,
                "indices": indices,
                "applications": [],
                "run_as": [],
                "metadata": {},
                "transient_metadata": {"enabled": True},
            }
        }


def parse_access(body: Body, parser: str, value: Any) -> Access:
    """Parse `access` (structure only; `Access.check` applies the builder's rules afterwards, as ES does)."""
    if not isinstance(value, dict):
        raise x_content(parser, f"access doesn't support values of type: {token(value)}", body.location("access"))
    body.reject_unknown(ACCESS_PARSER, ("search", "replication"), value)
    return Access(
        tuple(_wrapped_entries(body, parser, value, "search")),
        tuple(_wrapped_entries(body, parser, value, "replication")),
    )


def _wrapped_entries(body: Body, parser: str, access: dict[str, Any], field: str) -> list[IndexAccess]:
    """An entry the role parser refuses comes back wrapped by both object parsers, the innermost error as root cause;
    checked on a real 8.19.21 node (create and update alike):
    `[1:71] [cross_cluster_api_key_request] failed to parse field [access]` caused by
    `[1:71] [cross_cluster_api_key_request_access] failed to parse field [search]` caused by the `parse_exception`.
    The location is where the role parser stopped: the value of an unexpected field, the end of `field_security`."""
    try:
        return _entries(body, access, field)
    except EsError as error:
        if error.type != "parse_exception":
            raise
        location = _failure_location(body, error.reason) or body.location(field)
        inner = wrapped(x_content(ACCESS_PARSER, f"failed to parse field [{field}]", location), error)
        raise wrapped(x_content(parser, "failed to parse field [access]", location), inner) from None


def _entries(body: Body, access: dict[str, Any], field: str) -> list[IndexAccess]:
    if field not in access:
        return []
    value = access[field]
    if not isinstance(value, list):
        raise x_content(ACCESS_PARSER, f"{field} doesn't support values of type: {token(value)}", body.location(field))
    return [_entry(body, item, field) for item in value]


def _entry(body: Body, item: Any, field: str) -> IndexAccess:
    prefix = f"failed to parse indices privileges for role [{ROLE_NAME}]."
    if not isinstance(item, dict):
        raise x_content(ACCESS_PARSER, f"{field} doesn't support values of type: {token(item)}", body.location(field))
    for key in item:
        if key not in ENTRY_FIELDS:
            raise parse_error(f"{prefix} unexpected field [{key}]")
    names = item.get("names")
    if "names" not in item or names == []:
        raise parse_error(f"{prefix} missing required [names] field")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        found = token(names if not isinstance(names, list) else next(n for n in names if not isinstance(n, str)))
        raise parse_error(
            f"{prefix} expected field [names] value to be a string or an array of strings, but found [{found}] instead"
        )
    restricted = item.get("allow_restricted_indices", False)
    if not isinstance(restricted, bool):
        raise parse_error(
            f"{prefix} expected field [allow_restricted_indices] value to be a boolean, but found [{token(restricted)}] instead"
        )
    return IndexAccess(
        tuple(names), _field_security(item.get("field_security"), prefix), _query(item.get("query"), prefix), restricted
    )


def _failure_location(body: Body, reason: str) -> str | None:
    unexpected = re.search(r"unexpected field \[([^\]]+)\]$", reason)
    if unexpected:
        return body.value_location(unexpected[1])
    if reason.endswith("field_security requires grant if except is given"):
        return body.value_location("field_security", end=True)
    return None


def _field_security(value: Any, prefix: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise parse_error(f"{prefix} expected [field_security] to be an object, but found [{token(value)}] instead")
    if "except" in value and "grant" not in value:  # checked on a real 8.19.21 node
        raise parse_error(f"{prefix} field_security requires grant if except is given")
    parts: list[tuple[str, tuple[str, ...]]] = []
    for key in ("grant", "except"):
        if key not in value:
            continue
        fields = value[key]
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise parse_error(f"{prefix} expected field [{key}] value to be a string or an array of strings")
        parts.append((key, tuple(fields)))
    for key in value:
        if key not in ("grant", "except"):
            raise parse_error(f"{prefix} [field_security] only accepts [grant] and [except] fields, but got [{key}]")
    return tuple(parts)


def _query(value: Any, prefix: str) -> str | None:
    """DLS queries are kept (and returned) as strings; an object is stored as its compact JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    raise parse_error(f"{prefix} expected [query] to be a string or an object, but found [{token(value)}] instead")
