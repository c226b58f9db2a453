"""Elasticsearch's rules for what a link grants: a cross-cluster API key's `access` and a local role with remote
privileges. Both the settings parser and the Elasticsearch providers check and normalise with these, so the two
sides meet only in the link; this module imports nothing from either side, nor Pulumi.

Canonical forms are the ones Elasticsearch answers, so a value written either way compares equal after a refresh:

- Key access (`GET /_security/api_key`, RoleDescriptor.IndicesPrivileges#toXContent): `names` and
  `field_security.grant`/`except` always lists (a single string is accepted on input), `allow_restricted_indices`
  always present, `query` a JSON string (an object is stored as its JSON text and answered as a string).
- Roles (`GET /_security/role`): the same for `indices` and `remote_indices` entries, whose `privileges` and
  `clusters` are lists too, as are `remote_cluster` entries' `clusters` and `privileges` and the role's `cluster` and
  `run_as`. Checked on a real 8.19.21 node: `PUT /_security/role` takes a single string only for `names`; a string
  for the others is a 400 ("could not parse [privileges] field. expected a string array but found [VALUE_STRING]
  value instead"), so what is sent is always the list form. An empty `query` is dropped.

A JSON query is re-serialised compactly with sorted keys: Elasticsearch stores a query string as it is given, so the
text we send is the text it answers, and a query written by hand with another key order still compares equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

SEARCH_FIELDS = frozenset({"names", "field_security", "query", "allow_restricted_indices"})
REPLICATION_FIELDS = frozenset({"names", "allow_restricted_indices"})
REMOTE_CLUSTER_PRIVILEGES = ("monitor_enrich", "monitor_stats")
ROLE_FIELDS = frozenset(
    {
        "cluster",
        "indices",
        "applications",
        "run_as",
        "metadata",
        "description",
        "global",
        "remote_indices",
        "remote_cluster",
    }
)


ROLE_NAME_RULE = "a role name is 1 to 507 letters, digits and _ . @ -"
"""Stricter than Elasticsearch (printable ASCII): the name goes into the path `_security/role/<name>` as it is, where
`/`, `?`, `#` or `%` would address another endpoint."""
_ROLE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,507}$")


def valid_role_name(name: Any) -> bool:
    return isinstance(name, str) and _ROLE_NAME.match(name) is not None


def as_list(value: Any) -> list[str]:
    """A string or a list of strings, as the list Elasticsearch answers."""
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def query_text(value: Any) -> str:
    """A DLS query (a JSON string or an object) as compact JSON text with sorted keys; other text as it is."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        return json.dumps(parsed, sort_keys=True, separators=(",", ":"))
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _field_security(value: Mapping[str, Any]) -> dict[str, list[str]]:
    return {key: as_list(value[key]) for key in ("grant", "except") if key in value}


def _access_entry(entry: Mapping[str, Any], *, search: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "names": as_list(entry.get("names")),
        "allow_restricted_indices": bool(entry.get("allow_restricted_indices", False)),
    }
    if search and entry.get("field_security"):
        result["field_security"] = _field_security(entry["field_security"])
    if search and entry.get("query") not in (None, ""):
        result["query"] = query_text(entry["query"])
    return result


def canonical_access(access: Mapping[str, Any] | None) -> dict[str, Any]:
    """A cross-cluster API key's access in the form `GET /_security/api_key` answers it."""
    result: dict[str, Any] = {}
    for kind in ("search", "replication"):
        entries = [_access_entry(entry, search=kind == "search") for entry in (access or {}).get(kind) or []]
        if entries:
            result[kind] = entries
    return result


def access_problems(access: Any, prop: str = "access") -> list[str]:
    """Rules Elasticsearch enforces on a cross-cluster API key's access, checked before anything is sent."""
    if not isinstance(access, Mapping):
        return ["access must be an object with 'search' and/or 'replication' lists"]
    problems: list[str] = []
    unknown = set(access) - {"search", "replication"}
    if unknown:
        problems.append(f"unknown access kinds: {', '.join(sorted(unknown))}")
    search, replication = access.get("search") or [], access.get("replication") or []
    if not search and not replication:
        problems.append("must specify non-empty access for either [search] or [replication]")
    for kind, entries, allowed in (("search", search, SEARCH_FIELDS), ("replication", replication, REPLICATION_FIELDS)):
        for index, entry in enumerate(entries):
            where = f"{prop}.{kind}[{index}]"
            if not isinstance(entry, Mapping) or not as_list(entry.get("names")):
                problems.append(f"{where}.names must list at least one index pattern")
                continue
            extra = set(entry) - allowed
            if extra:
                problems.append(f"{where} does not support {', '.join(sorted(extra))}")
            if kind == "search" and replication and (entry.get("field_security") or entry.get("query")):
                problems.append(
                    f"{where}: search does not support document or field level security if replication is assigned"
                )
    return problems


def role_problems(role: Any) -> list[str]:
    """Rules Elasticsearch enforces on a role with remote privileges, checked before anything is sent."""
    if not isinstance(role, Mapping):
        return ["role must be an object"]
    problems = [f"unknown role field '{key}'" for key in sorted(set(role) - ROLE_FIELDS)]
    for index, entry in enumerate(role.get("remote_indices") or []):
        for field in ("clusters", "names", "privileges"):
            if not entry.get(field):
                problems.append(f"remote_indices[{index}].{field} is required")
    for index, entry in enumerate(role.get("remote_cluster") or []):
        if not entry.get("clusters") or not entry.get("privileges"):
            problems.append(f"remote_cluster[{index}] needs both clusters and privileges")
        bad = [p for p in as_list(entry.get("privileges")) if p not in REMOTE_CLUSTER_PRIVILEGES]
        if bad:
            problems.append(
                f"remote_cluster[{index}].privileges allows only {', '.join(REMOTE_CLUSTER_PRIVILEGES)} (found {', '.join(bad)})"
            )
    return problems


def _index_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields the entry has are normalised: a missing one stays missing, for Elasticsearch to name."""
    result = {**entry, **{key: as_list(entry[key]) for key in ("names", "privileges", "clusters") if key in entry}}
    result["allow_restricted_indices"] = bool(entry.get("allow_restricted_indices", False))
    if entry.get("field_security") is not None:
        result["field_security"] = _field_security(entry["field_security"])
    if entry.get("query") in (None, ""):
        result.pop("query", None)
    else:
        result["query"] = query_text(entry["query"])
    return result


def canonical_role(role: Mapping[str, Any]) -> dict[str, Any]:
    """A role in the form `GET /_security/role` answers it (for the fields it has; the others are left alone)."""
    result = dict(role)
    for field in ("cluster", "run_as"):
        if field in result:
            result[field] = as_list(result[field])
    for field in ("indices", "remote_indices"):
        if field in result:
            result[field] = [_index_entry(entry) for entry in result[field] or []]
    if "remote_cluster" in result:
        result["remote_cluster"] = [
            {**entry, **{key: as_list(entry[key]) for key in ("clusters", "privileges") if key in entry}}
            for entry in result["remote_cluster"] or []
        ]
    return result
