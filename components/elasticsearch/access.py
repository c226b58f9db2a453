"""The access of a cross-cluster API key, in one canonical form for requests, state and comparisons.

The form is the one `GET /_security/api_key` answers (RoleDescriptor.IndicesPrivileges#toXContent): `names` and
`field_security.grant`/`except` always lists (a single string is accepted on input), `allow_restricted_indices`
always present, `query` a JSON string (an object is stored as its JSON text and answered as a string). Desired and
live access are both brought to it before they are compared or hashed, so a `names: "logs-*"` or a `query` object
in the program shows no change after a refresh. A JSON query is re-serialised compactly with sorted keys, so the
text we send is the text Elasticsearch answers, and a key made by hand with another key order still compares equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from ..dynamic import stable_hash

SEARCH_FIELDS = {"names", "field_security", "query", "allow_restricted_indices"}
REPLICATION_FIELDS = {"names", "allow_restricted_indices"}


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def _query(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _entry(entry: Mapping[str, Any], *, search: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "names": _names(entry.get("names")),
        "allow_restricted_indices": bool(entry.get("allow_restricted_indices", False)),
    }
    if search and entry.get("field_security"):
        security = entry["field_security"]
        result["field_security"] = {key: _names(security[key]) for key in ("grant", "except") if key in security}
    if search and entry.get("query") not in (None, ""):
        result["query"] = _query(entry["query"])
    return result


def canonical(access: Mapping[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kind in ("search", "replication"):
        entries = [_entry(entry, search=kind == "search") for entry in (access or {}).get(kind) or []]
        if entries:
            result[kind] = entries
    return result


def access_hash(access: Mapping[str, Any]) -> str:
    return stable_hash(canonical(access))[:16]


def check_access(access: Any, prop: str = "access") -> list[CheckFailure]:
    """Rules Elasticsearch enforces on create, checked before anything is sent."""
    if not isinstance(access, Mapping):
        return [CheckFailure(prop, "access must be an object with 'search' and/or 'replication' lists")]
    failures: list[CheckFailure] = []
    unknown = set(access) - {"search", "replication"}
    if unknown:
        failures.append(CheckFailure(prop, f"unknown access kinds: {', '.join(sorted(unknown))}"))
    search, replication = access.get("search") or [], access.get("replication") or []
    if not search and not replication:
        failures.append(CheckFailure(prop, "must specify non-empty access for either [search] or [replication]"))
    for kind, entries, allowed in (("search", search, SEARCH_FIELDS), ("replication", replication, REPLICATION_FIELDS)):
        for index, entry in enumerate(entries):
            where = f"{prop}.{kind}[{index}]"
            if not isinstance(entry, Mapping) or not _names(entry.get("names")):
                failures.append(CheckFailure(prop, f"{where}.names must list at least one index pattern"))
                continue
            extra = set(entry) - allowed
            if extra:
                failures.append(CheckFailure(prop, f"{where} does not support {', '.join(sorted(extra))}"))
            if kind == "search" and replication and (entry.get("field_security") or entry.get("query")):
                failures.append(
                    CheckFailure(
                        prop,
                        f"{where}: search does not support document or field level security if replication is assigned",
                    )
                )
    return failures
