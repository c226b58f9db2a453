"""`CrossClusterApiKey`: a cross-cluster API key on the remote (ECK) cluster, for one link.

The name is deterministic per link, and the metadata carries a managed-by marker, a hash of the access and the
rotation token. Access, metadata, expiration and certificate identity change in place
(`PUT /_security/cross_cluster/api_key/{id}`), which keeps the encoded key. A name change or a new rotation token
replaces the resource: Pulumi creates the new key, updates what uses it, and only then deletes (invalidates) the
old one. Delete invalidates; it never deletes. `encoded` (base64 of `id:api_key`) exists only in the create
response, so it is kept in state as a secret.
"""

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
from ..http import RetryableError
from .access import access_hash, canonical, check_access
from .client import ElasticsearchApiError, ElasticsearchCaller, caller, check_target

INPUTS = ("target", "credentials", "name", "access", "expiration", "metadata", "certificate_identity", "rotation")
IN_PLACE = ("access", "expiration", "metadata", "certificate_identity")
REPLACE_ON = ("name", "rotation")
RESERVED_METADATA = ("managed_by", "access_hash", "rotation")


def _metadata(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **(props.get("metadata") or {}),
        "managed_by": names.MANAGED_BY,
        "access_hash": access_hash(props["access"]),
        "rotation": props.get("rotation") or "",
    }


def _get(es: ElasticsearchCaller, key_id: str) -> dict[str, Any] | None:
    response = es.request(f"get API key {key_id}", "GET", "_security/api_key", params={"id": key_id}, ok=(200, 404))
    keys = response.json().get("api_keys") or []
    return dict(keys[0]) if keys else None


def _invalidate(es: ElasticsearchCaller, key_ids: list[str]) -> None:
    if not key_ids:
        return
    body = es.request(
        f"invalidate API keys {', '.join(key_ids)}", "DELETE", "_security/api_key", json={"ids": key_ids}
    ).json()
    if body.get("error_count"):
        reasons = "; ".join(str(d.get("reason")) for d in body.get("error_details") or [])
        raise ElasticsearchApiError(f"invalidate API keys {', '.join(key_ids)}", 200, "error_details", reasons)


def _ours(es: ElasticsearchCaller, name: str, rotation: str) -> list[dict[str, Any]]:
    """Active keys this link made under this name and rotation: normally none or one."""
    response = es.request(
        f"find API keys named {name}",
        "GET",
        "_security/api_key",
        params={"name": name, "active_only": "true"},
        ok=(200, 404),
    )
    return [
        key
        for key in response.json().get("api_keys") or []
        if key.get("name") == name
        and not key.get("invalidated")
        and (key.get("metadata") or {}).get("managed_by") == names.MANAGED_BY
        and (key.get("metadata") or {}).get("rotation", "") == rotation
    ]


def _body(props: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"access": canonical(props["access"]), "metadata": _metadata(props)}
    if create:
        body["name"] = props["name"]
    if props.get("expiration"):
        body["expiration"] = props["expiration"]
    if props.get("certificate_identity"):
        body["certificate_identity"] = props["certificate_identity"]
    elif not create:
        body["certificate_identity"] = None
    return body


def _outputs(
    props: Mapping[str, Any], key_id: str, encoded: str | None, live: Mapping[str, Any] | None
) -> dict[str, Any]:
    return {
        **{key: props.get(key) for key in INPUTS},
        "key_id": key_id,
        "encoded": encoded,
        "expires_at": (live or {}).get("expiration"),
        "access_hash": access_hash(props["access"]),
    }


class CrossClusterApiKeyProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_target(news) + require(news, ("name", "access"))
        name = news.get("name")
        if (
            isinstance(name, str)
            and not is_unknown(name)
            and (name.startswith("_") or name != name.strip() or len(name) > 256)
        ):
            failures.append(
                CheckFailure(
                    "name", "an API key name must not start with '_', have surrounding spaces or exceed 256 characters"
                )
            )
        access = news.get("access")
        if access is not None and not is_unknown(access):
            failures += check_access(access)
            news = {**news, "access": canonical(access)}
        metadata = news.get("metadata") or {}
        if not is_unknown(metadata):
            bad = [key for key in metadata if str(key).startswith("_") or key in RESERVED_METADATA]
            if bad:
                failures.append(
                    CheckFailure(
                        "metadata", f"metadata keys may not start with '_' or be one of ours: {', '.join(bad)}"
                    )
                )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        return DiffResult(
            changes=bool(changes), replaces=[k for k in changes if k in REPLACE_ON], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        es = caller(props["target"], props["credentials"])
        secrets = (str(props["credentials"].get("password") or ""),)
        try:
            created = es.request(
                f"create cross-cluster API key {props['name']}",
                "POST",
                "_security/cross_cluster/api_key",
                json=_body(props, create=True),
                secrets=secrets,
            ).json()
        except RetryableError:
            # The key may exist without us knowing its secret part: invalidate what this attempt may have made, retry.
            _invalidate(es, [key["id"] for key in _ours(es, props["name"], props.get("rotation") or "")])
            created = es.request(
                f"create cross-cluster API key {props['name']}",
                "POST",
                "_security/cross_cluster/api_key",
                json=_body(props, create=True),
                secrets=secrets,
            ).json()
        key_id, encoded = created["id"], created["encoded"]
        # A run interrupted after an earlier create leaves an active key nobody holds: keep exactly one.
        _invalidate(
            es, [key["id"] for key in _ours(es, props["name"], props.get("rotation") or "") if key["id"] != key_id]
        )
        return CreateResult(key_id, _outputs(props, key_id, encoded, _get(es, key_id)))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        es = caller(news["target"], news["credentials"])
        if changed_keys(olds, news, IN_PLACE):
            es.request(
                f"update cross-cluster API key {id_}",
                "PUT",
                f"_security/cross_cluster/api_key/{id_}",
                json=_body(news, create=False),
            )
        return UpdateResult(_outputs(news, id_, olds.get("encoded"), _get(es, id_)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        es = caller(props["target"], props["credentials"])
        live = _get(es, id_)
        if live is None or live.get("invalidated"):
            return ReadResult("", {})
        metadata = {k: v for k, v in (live.get("metadata") or {}).items() if k not in RESERVED_METADATA}
        inputs = {
            **{key: props.get(key) for key in INPUTS},
            "name": live.get("name"),
            "access": canonical(live.get("access")),
            "metadata": metadata or props.get("metadata"),
            "certificate_identity": live.get("certificate_identity"),
            "rotation": (live.get("metadata") or {}).get("rotation") or props.get("rotation"),
        }
        return ReadResult(id_, _outputs(inputs, id_, props.get("encoded"), live), inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _invalidate(caller(props["target"], props["credentials"]), [id_])


class CrossClusterApiKey(Resource, module="eceeck", name="CrossClusterApiKey"):
    """A cross-cluster API key on the remote cluster; `encoded` is what the local keystore needs (secret)."""

    key_id: pulumi.Output[str]
    encoded: pulumi.Output[str]
    expires_at: pulumi.Output[int | None]
    access_hash: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        target: pulumi.Input[Mapping[str, Any]],
        credentials: pulumi.Input[Mapping[str, Any]],
        key_name: pulumi.Input[str],
        access: pulumi.Input[Mapping[str, Any]],
        expiration: pulumi.Input[str] | None = None,
        metadata: pulumi.Input[Mapping[str, Any]] | None = None,
        certificate_identity: pulumi.Input[str] | None = None,
        rotation: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "target": target,
            "credentials": pulumi.Output.secret(credentials),
            "name": key_name,
            "access": access,
            "expiration": expiration,
            "metadata": metadata,
            "certificate_identity": certificate_identity,
            "rotation": rotation,
            "key_id": None,
            "encoded": None,
            "expires_at": None,
            "access_hash": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["encoded"])
        super().__init__(CrossClusterApiKeyProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
