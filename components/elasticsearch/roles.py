"""`RemoteRole`: a role on the local cluster with `remote_indices` and `remote_cluster` privileges, for the users who
query the remote. Effective access is the intersection of the role with the cross-cluster key's access.

The declared role and the live one are both brought to the form Elasticsearch answers (`es_rules.canonical_role`:
lists for `names`, `privileges`, `clusters`, `field_security`; a query as compact JSON text), so a `names` string or
a `query` object in the program shows no change after a refresh."""

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
    UpdateResult,
)

from .. import names
from ..dynamic import (
    ConfiguredProvider,
    changed_keys,
    credentials_change_touches_nothing,
    credentials_input,
    is_unknown,
    require,
)
from ..es_rules import ROLE_FIELDS, ROLE_NAME_RULE, canonical_role, role_problems, valid_role_name
from .client import ElasticsearchCaller, caller, check_target, comparable, target_key

INPUTS = ("target", "credentials", "role_name", "role")
REPLACE_ON = ("target", "role_name")


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


class RemoteRoleProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_target(news) + require(news, ("role_name", "role"))
        role_name = news.get("role_name")
        if role_name not in (None, "") and not is_unknown(role_name) and not valid_role_name(role_name):
            failures.append(CheckFailure("role_name", f"{role_name!r}: {ROLE_NAME_RULE}"))
        role = news.get("role")
        if role is not None and not is_unknown(role):
            failures += [CheckFailure("role", problem) for problem in role_problems(role)]
            if not failures:
                news = {**news, "role": canonical_role(role)}
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if isinstance(olds.get("role"), Mapping):  # state written before roles were normalised compares as it is now
            olds = {**olds, "role": canonical_role(olds["role"])}
        changes = changed_keys(comparable(olds), comparable(news), INPUTS)
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

    @credentials_change_touches_nothing(INPUTS)
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
            "role": canonical_role(_comparable(live, declared)),
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
            "credentials": credentials_input(credentials),
            "role_name": role_name,
            "role": role,
        }
        super().__init__(RemoteRoleProvider(), name, props, opts)
