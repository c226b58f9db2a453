"""`RemoteRole`: a role on the local cluster with `remote_indices` and `remote_cluster` privileges, for the users who
query the remote. Effective access is the intersection of the role with the cross-cluster key's access."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from .. import names
from ..dynamic import changed_keys, is_unknown, require
from .client import ElasticsearchCaller, caller, check_target, target_key

INPUTS = ("target", "credentials", "role_name", "role")
REPLACE_ON = ("target", "role_name")
REMOTE_CLUSTER_PRIVILEGES = ("monitor_enrich", "monitor_stats")
ROLE_FIELDS = {
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


def check_role(role: Any) -> list[str]:
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
        bad = [p for p in entry.get("privileges") or [] if p not in REMOTE_CLUSTER_PRIVILEGES]
        if bad:
            problems.append(
                f"remote_cluster[{index}].privileges allows only {', '.join(REMOTE_CLUSTER_PRIVILEGES)} (found {', '.join(bad)})"
            )
    return problems


def canonical_role(role: Mapping[str, Any]) -> dict[str, Any]:
    """Elasticsearch adds `allow_restricted_indices: false` to index entries; add it on our side too."""
    result = dict(role)
    for field in ("indices", "remote_indices"):
        if field in result:
            result[field] = [{"allow_restricted_indices": False, **entry} for entry in result[field] or []]
    return result


def _body(role: Mapping[str, Any]) -> dict[str, Any]:
    return {**role, "metadata": {**(role.get("metadata") or {}), "managed_by": names.MANAGED_BY}}


def _get(es: ElasticsearchCaller, role_name: str) -> dict[str, Any] | None:
    response = es.request(f"get role {role_name}", "GET", f"_security/role/{role_name}", ok=(200, 404))
    found = response.json().get(role_name) if response.status_code == 200 else None
    return dict(found) if found else None


def _comparable(live: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The live role limited to the fields the declaration uses, without our marker and server defaults."""
    result = {key: live.get(key) for key in declared if key in live}
    if "metadata" in result:
        result["metadata"] = {
            k: v for k, v in (live.get("metadata") or {}).items() if k != "managed_by"
        } or declared.get("metadata")
    return result


class RemoteRoleProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_target(news) + require(news, ("role_name", "role"))
        role = news.get("role")
        if role is not None and not is_unknown(role):
            failures += [CheckFailure("role", problem) for problem in check_role(role)]
            if not failures:
                news = {**news, "role": canonical_role(role)}
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        return DiffResult(
            changes=bool(changes), replaces=[k for k in changes if k in REPLACE_ON], delete_before_replace=True
        )

    def _put(self, props: Mapping[str, Any]) -> None:
        es = caller(props["target"], props["credentials"])
        es.request(
            f"put role {props['role_name']}", "PUT", f"_security/role/{props['role_name']}", json=_body(props["role"])
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._put(props)
        return CreateResult(
            f"{target_key(props['target'])}/{props['role_name']}", {key: props.get(key) for key in INPUTS}
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._put(news)
        return UpdateResult({key: news.get(key) for key in INPUTS})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        role_name = props.get("role_name") or id_.rsplit("/", 1)[-1]
        live = _get(caller(props["target"], props["credentials"]), role_name)
        if live is None:
            return ReadResult("", {})
        declared = props.get("role") or {key: value for key, value in live.items() if key in ROLE_FIELDS}
        inputs = {
            **{key: props.get(key) for key in INPUTS},
            "role_name": role_name,
            "role": _comparable(live, declared),
        }
        return ReadResult(id_, inputs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        es = caller(props["target"], props["credentials"])
        es.request(f"delete role {props['role_name']}", "DELETE", f"_security/role/{props['role_name']}", ok=(200, 404))


class RemoteRole(Resource, module="eceeck", name="RemoteRole"):
    """A local role granting (a subset of) the remote's data to local users."""

    def __init__(
        self,
        name: str,
        *,
        target: pulumi.Input[Mapping[str, Any]],
        credentials: pulumi.Input[Mapping[str, Any]],
        role_name: pulumi.Input[str],
        role: pulumi.Input[Mapping[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "target": target,
            "credentials": pulumi.Output.secret(credentials),
            "role_name": role_name,
            "role": role,
        }
        super().__init__(RemoteRoleProvider(), name, props, opts)
