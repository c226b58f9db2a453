"""Native roles with remote privileges (reference section 4): `PUT|POST|GET|DELETE /_security/role/{name}`."""

from __future__ import annotations

import json
from typing import Any

from .errors import EsError, illegal_argument, parse_error, validation, wrapped
from .version import Version
from .xcontent import Body, token

RESERVED = frozenset({"superuser", "kibana_system", "remote_monitoring_agent", "monitoring_user", "ingest_admin"})
INDEX_FIELDS = ("names", "privileges", "field_security", "query", "allow_restricted_indices")
NAME_RULE = (
    "Role names must be at least 1 and no more than 507 characters. They can contain alphanumeric characters "
    "(a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) block. "
    "Leading or trailing whitespace is not allowed."
)


class RoleStore:
    def __init__(self, version: Version) -> None:
        self.version = version
        self.roles: dict[str, dict[str, Any]] = {}

    def put(self, name: str, body: Body) -> dict[str, Any]:
        descriptor = RoleParser(name, self.version).parse(body)
        problems = []
        if not (1 <= len(name) <= 507) or name != name.strip() or not all(" " <= c <= "~" for c in name):
            problems.append(NAME_RULE)
        elif name in RESERVED:
            problems.append(f"Role [{name}] is reserved and may not be used.")
        if any(str(key).startswith("_") for key in descriptor["metadata"]):
            problems.append("role metadata keys may not start with [_]")
        if problems:
            raise validation(*problems)
        created = name not in self.roles
        self.roles[name] = descriptor
        return {"role": {"created": created}}

    def get(self, names: list[str] | None) -> tuple[int, dict[str, Any]]:
        wanted = list(self.roles) if names is None else [n for n in names if n in self.roles]
        found = {name: self.roles[name] for name in wanted}
        return (404 if names is not None and not found else 200), found

    def delete(self, name: str) -> tuple[int, dict[str, Any]]:
        found = self.roles.pop(name, None) is not None
        return (200 if found else 404), {"found": found}


class RoleParser:
    """`RoleDescriptor.parse`: the stored (and returned) descriptor, or ES's `parse_exception`."""

    def __init__(self, name: str, version: Version) -> None:
        self.name = name
        self.version = version

    def fail(self, what: str, message: str) -> EsError:
        return parse_error(f"failed to parse {what} for role [{self.name}]. {message}")

    def parse(self, body: Body) -> dict[str, Any]:
        data = body.data
        if not isinstance(data, dict):
            raise parse_error(
                f"failed to parse role [{self.name}]. expected an object but found [{token(data)}] instead"
            )
        allowed = {
            "cluster",
            "indices",
            "index",
            "applications",
            "application",
            "run_as",
            "metadata",
            "transient_metadata",
            "global",
            "remote_indices",
        }
        if self.version.at_least("8.15.0"):
            allowed |= {"remote_cluster", "description"}
        for key in data:
            if key not in allowed:
                raise parse_error(f"failed to parse role [{self.name}]. unexpected field [{key}]")
        descriptor: dict[str, Any] = {"cluster": self._strings(data, "cluster")}
        if isinstance(data.get("global"), dict) and data["global"]:
            descriptor["global"] = data["global"]
        indices = data.get("indices", data.get("index")) or []
        descriptor["indices"] = [self._index(entry, remote=False) for entry in self._list(indices, "indices")]
        applications = data.get("applications", data.get("application")) or []
        descriptor["applications"] = [self._application(entry) for entry in self._list(applications, "applications")]
        descriptor["run_as"] = self._strings(data, "run_as")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise parse_error(
                f"failed to parse role [{self.name}]. expected field [metadata] to be of type object, but found [{token(metadata)}] instead"
            )
        descriptor["metadata"] = metadata
        descriptor["transient_metadata"] = {"enabled": True}
        remote_indices = [
            self._index(entry, remote=True) for entry in self._list(data.get("remote_indices") or [], "remote_indices")
        ]
        if remote_indices:
            descriptor["remote_indices"] = remote_indices
        remote_cluster = self._remote_cluster(data.get("remote_cluster", []))
        if remote_cluster:
            descriptor["remote_cluster"] = remote_cluster
        if "description" in data and data["description"] is not None:
            if not isinstance(data["description"], str):
                raise parse_error(
                    f"failed to parse role [{self.name}]. expected field [description] value to be a string, but found [{token(data['description'])}] instead"
                )
            descriptor["description"] = data["description"]
        return descriptor

    def _list(self, value: Any, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise parse_error(
                f"failed to parse role [{self.name}]. expected field [{field}] value to be an array, but found [{token(value)}] instead"
            )
        return value

    def _strings(self, data: dict[str, Any], field: str) -> list[str]:
        """A string array (`XContentUtils.readStringArray`): a single string is refused. Checked on a real 8.19.21
        node for `cluster`, `run_as`, `privileges`, `clusters` and `field_security.grant`: 400 "failed to parse role
        [r]" caused by "could not parse [<field>] field. expected a string array but found [VALUE_STRING] value
        instead" (only an entry's `names` takes a single string)."""
        value = data.get(field, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            reason = (
                f"could not parse [{field}] field. expected a string array but found [{token(value)}] value instead"
            )
            raise wrapped(parse_error(f"failed to parse role [{self.name}]"), parse_error(reason))
        return list(value)

    def _index(self, entry: Any, *, remote: bool) -> dict[str, Any]:
        what = "remote indices privileges" if remote else "indices privileges"
        if not isinstance(entry, dict):
            raise self.fail(
                what, f"expected field [{'remote_indices' if remote else 'indices'}] value to be an array of objects"
            )
        for key in entry:
            if key not in INDEX_FIELDS and not (remote and key == "clusters"):
                raise self.fail(what, f"unexpected field [{key}]")
        if remote and "clusters" not in entry:
            raise self.fail(what, "missing required [clusters] field")
        rendered: dict[str, Any] = {}
        clusters = self._strings(entry, "clusters") if remote else []
        if "names" not in entry:
            raise self.fail("indices privileges", "missing required [names] field")
        rendered["names"] = self._names(entry, "names", "indices privileges")
        if "privileges" not in entry:
            raise self.fail("indices privileges", "missing required [privileges] field")
        rendered["privileges"] = self._strings(entry, "privileges")
        if entry.get("field_security") is not None:
            security = entry["field_security"]
            if not isinstance(security, dict):
                raise self.fail("indices privileges", "expected [field_security] to be an object")
            if not security:  # checked on a real 8.19.21 node
                raise self.fail("indices privileges", '"field_security" must not be empty.')
            rendered["field_security"] = {key: self._strings(security, key) for key in security}
        query = entry.get("query")
        if query not in (None, ""):  # an empty query is dropped (a real 8.19.21 node)
            rendered["query"] = query if isinstance(query, str) else json.dumps(query, separators=(",", ":"))
        restricted = entry.get("allow_restricted_indices", False)
        if not isinstance(restricted, bool):
            raise self.fail(
                "indices privileges",
                f"expected field [allow_restricted_indices] value to be a boolean, but found [{token(restricted)}] instead",
            )
        rendered["allow_restricted_indices"] = restricted
        if remote:  # last, after allow_restricted_indices: as a real 8.19.21 node returns a remote_indices entry
            rendered["clusters"] = clusters
        return rendered

    def _names(self, entry: dict[str, Any], field: str, what: str) -> list[str]:
        value = entry[field]
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            found = token(value) if not isinstance(value, list) else "VALUE_NUMBER"
            raise self.fail(
                what,
                f"expected field [{field}] value to be a string or an array of strings, but found [{found}] instead",
            )
        return list(value)

    def _application(self, entry: Any) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise self.fail("application privileges", "expected an object")
        for field in ("application", "privileges", "resources"):
            if field not in entry:
                raise self.fail("application privileges", f"missing required [{field}] field")
        return {"application": entry["application"], "privileges": entry["privileges"], "resources": entry["resources"]}

    def _remote_cluster(self, value: Any) -> list[dict[str, Any]]:
        what = "remote_cluster"
        if not isinstance(value, list):
            raise self.fail(what, "expected field [remote_cluster] value to be an array")
        allowed = self.version.remote_cluster_privileges()
        groups = []
        for entry in value:
            if not isinstance(entry, dict):
                raise self.fail(what, "expected field [remote_cluster] value to be an array of objects")
            for key in entry:
                if key not in ("clusters", "privileges"):
                    raise self.fail(what, f"unexpected field [{key}]")
            # Both messages end with a space, and an empty group is an illegal_argument_exception: as a real
            # 8.19.21 node answers.
            if "privileges" in entry and "clusters" not in entry:
                raise self.fail(what, "[clusters] must be defined when [privileges] are defined ")
            if "clusters" in entry and "privileges" not in entry:
                raise self.fail(what, "[privileges] must be defined when [clusters] are defined ")
            if not entry:
                raise illegal_argument("remote cluster groups must not be null or empty")
            privileges = self._strings(entry, "privileges")
            clusters = self._strings(entry, "clusters")
            if any(privilege not in allowed for privilege in privileges):
                raise self.fail(
                    what,
                    f"[{', '.join(allowed)}] are the only values allowed for [privileges] within [remote_cluster]. Found [{', '.join(privileges)}]",
                )
            groups.append({"privileges": privileges, "clusters": clusters})
        return groups
