"""`RemoteConnectionCheck`: done means connected.

Polls `GET _remote/info` on the local cluster until the alias is `connected: true` in proxy mode with credentials,
bounded by a timeout. When it does not connect, it looks at every part it can read (the alias's settings, the
keystore key names on ECE, the trusted CA entry, the API key on the remote) and says what is wrong and what to
check. A CA rotation is finished here: once the link is up with both CAs trusted, the old one is removed and the
link must come up again with the new CA alone; if it does not, the old CA is put back and the check fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from .. import names
from ..dynamic import changed_keys, require
from ..ece.client import EceClient, EceConnection, auth_from_props
from ..ece.trust import EntryRef, change_entry, entry_body, entry_pems, find_entry, normalise, remove_certificates
from ..http import ApiError
from ..pem import fingerprint
from ..polling import WaitTimeoutError, wait_for
from .client import ElasticsearchCaller, caller, check_target

INPUTS = ("target", "credentials", "alias", "expected", "requires_credentials", "remote", "trust", "timeout_seconds")


class RemoteConnectionError(RuntimeError):
    pass


def remote_info(es: ElasticsearchCaller, alias: str) -> dict[str, Any] | None:
    info = es.request("get remote cluster info", "GET", "_remote/info").json()
    entry = info.get(alias)
    return dict(entry) if isinstance(entry, Mapping) else None


def is_connected(info: Mapping[str, Any] | None, *, requires_credentials: bool = True) -> bool:
    """Connected in proxy mode; with API-key credentials loaded, unless the TLS-certificate model is used."""
    if not (info and info.get("connected") and info.get("mode") == "proxy"):
        return False
    return bool(info.get("cluster_credentials")) or not requires_credentials


def _ece(trust: Mapping[str, Any]) -> EceClient:
    return EceClient(EceConnection.from_props(trust["ece"]), auth_from_props(trust["ece_credentials"]))


def diagnose(props: Mapping[str, Any], info: Mapping[str, Any] | None) -> list[str]:
    """Every problem that can be seen from the APIs, most specific first."""
    alias, expected = props["alias"], props.get("expected") or {}
    problems: list[str] = []
    if info is None:
        return [
            f"alias '{alias}' is not configured on the local cluster (cluster.remote.{alias}.* settings are missing)"
        ]
    if info.get("mode") != "proxy":
        problems.append(f"mode is '{info.get('mode')}', expected 'proxy'")
    if expected.get("proxy_address") and info.get("proxy_address") != expected["proxy_address"]:
        problems.append(
            f"address: proxy_address is '{info.get('proxy_address')}', expected '{expected['proxy_address']}'"
        )
    if "server_name" in expected and (info.get("server_name") or "") != (expected.get("server_name") or ""):
        problems.append(
            f"server name: server_name is '{info.get('server_name')}', expected '{expected.get('server_name')}'"
        )
    trust = props.get("trust")
    ece = _ece(trust) if trust else None
    if props.get("requires_credentials", True) and not info.get("cluster_credentials"):
        keys: list[str] = []
        if trust and ece is not None:
            try:
                keys = sorted(ece.get_keystore(trust["deployment_id"], trust.get("ref_id") or "_main"))
            except ApiError:
                keys = []
        others = [key for key in keys if key.startswith("cluster.remote.") and key.endswith(".credentials")]
        hint = f"; the keystore holds {', '.join(others)} (alias mismatch?)" if others else ""
        problems.append(f"credentials: no keystore entry {names.keystore_credentials_key(alias)} is loaded{hint}")
    if trust and ece is not None and expected.get("ca_fingerprints"):
        try:
            entry = find_entry(
                ece.get_deployment(trust["deployment_id"]).trust(trust.get("ref_id") or "_main"),
                trust["entry_name"],
            )
            trusted = {fingerprint(pem) for pem in entry_pems(entry)}
            if not set(expected["ca_fingerprints"]) & trusted:
                problems.append(
                    "CA: the deployment does not trust the remote's CA (trust entry missing or holds another certificate)"
                )
        except ApiError as error:
            problems.append(f"CA: could not read the deployment's trust ({error})")
    remote = props.get("remote")
    if remote and remote.get("key_id"):
        try:
            response = caller(remote["target"], remote["credentials"]).request(
                "get API key", "GET", "_security/api_key", params={"id": remote["key_id"]}, ok=(200, 404)
            )
            keys_found = response.json().get("api_keys") or []
            if not keys_found:
                problems.append(f"key: cross-cluster API key {remote['key_id']} no longer exists on the remote")
            elif keys_found[0].get("invalidated"):
                problems.append(f"key: cross-cluster API key {remote['key_id']} is invalidated on the remote")
        except ApiError as error:
            problems.append(f"key: could not read the API key on the remote ({error})")
    return problems


class _NotConnectedError(Exception):
    def __init__(self, info: dict[str, Any] | None) -> None:
        super().__init__("not connected")
        self.info = info


def _wait_connected(es: ElasticsearchCaller, props: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    alias, requires = props["alias"], props.get("requires_credentials", True) is not False
    last: dict[str, Any] | None = None

    def probe() -> dict[str, Any] | None:
        nonlocal last
        last = remote_info(es, alias)
        return last if is_connected(last, requires_credentials=requires) else None

    try:
        return wait_for(probe, timeout=timeout, describe=lambda: f"remote '{alias}' is not connected")
    except WaitTimeoutError:
        raise _NotConnectedError(last) from None


def _failure(props: Mapping[str, Any], info: Mapping[str, Any] | None, timeout: float) -> RemoteConnectionError:
    seen = (
        "not configured"
        if info is None
        else (
            f"connected={info.get('connected')}, mode={info.get('mode')}, proxy_address={info.get('proxy_address')}, "
            f"server_name={info.get('server_name') or ''}, credentials={'yes' if info.get('cluster_credentials') else 'none'}"
        )
    )
    problems = diagnose(props, info) or [
        "settings, credentials, trust and key all look right from the APIs, so check the path itself: the load "
        "balancer's port must forward to targetPort 9443, the remote cluster server must be enabled, the TLS server "
        "name must be in the remote certificate's SANs, and the key's access must cover what is used"
    ]
    return RemoteConnectionError(
        f"remote cluster '{props['alias']}' did not connect within {timeout:g}s ({seen}). " + " | ".join(problems)
    )


def _finish_rotation(es: ElasticsearchCaller, props: Mapping[str, Any], timeout: float) -> list[str]:
    """Remove retiring CAs, confirm the link with the new CA alone; on failure put them back and fail."""
    trust = props.get("trust") or {}
    retiring = normalise(trust.get("retiring_certificates") or [])
    if not retiring:
        return []
    client = _ece(trust)
    ref = EntryRef(trust["deployment_id"], trust.get("ref_id") or "_main", trust["entry_name"])
    plan_timeout = float(trust.get("plan_timeout_seconds") or 600)
    remove_certificates(client, ref, retiring, plan_timeout)
    try:
        _wait_connected(es, props, timeout)
    except _NotConnectedError:

        def restore(entry: dict[str, Any] | None) -> dict[str, Any] | None:
            if entry is None:
                return None
            pems = normalise(entry_pems(entry) + retiring)
            model = "api-key" if entry.get("type") == "proxy" else "certificate"
            return entry_body(ref.name, model, pems, entry.get("uid"))

        change_entry(client, ref, restore, plan_timeout)
        raise RemoteConnectionError(
            f"remote cluster '{props['alias']}' does not connect with the new CA alone: the remote still presents "
            "certificates signed by the old CA. Both CAs stay trusted; run `pulumi up` again once the rotation on the "
            "remote has finished."
        ) from None
    return retiring


def _check(props: Mapping[str, Any]) -> dict[str, Any]:
    es = caller(props["target"], props["credentials"])
    timeout = float(props["timeout_seconds"])
    try:
        info = _wait_connected(es, props, timeout)
    except _NotConnectedError as failure:
        raise _failure(props, failure.info, timeout) from None
    retired = _finish_rotation(es, props, timeout)
    return {
        **{key: props.get(key) for key in INPUTS},
        "connected": True,
        "proxy_address": info.get("proxy_address"),
        "server_name": info.get("server_name"),
        "retired_certificates": retired,
    }


class RemoteConnectionCheckProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, check_target(news) + require(news, ("alias", "timeout_seconds")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        # A check found broken by refresh runs again on the next `up`.
        return DiffResult(
            changes=bool(changes) or olds.get("connected") is not True, replaces=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['alias']}-connection", _check(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_check(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        info = remote_info(caller(props["target"], props["credentials"]), props["alias"])
        inputs = {key: props.get(key) for key in INPUTS}
        connected = is_connected(info, requires_credentials=props.get("requires_credentials", True) is not False)
        return ReadResult(id_, {**props, "connected": connected}, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class RemoteConnectionCheck(Resource, module="eceeck", name="RemoteConnectionCheck"):
    """Succeeds only when the local cluster reports the alias connected; otherwise fails saying what is wrong."""

    connected: pulumi.Output[bool]
    retired_certificates: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        target: pulumi.Input[Mapping[str, Any]],
        credentials: pulumi.Input[Mapping[str, Any]],
        alias: pulumi.Input[str],
        expected: pulumi.Input[Mapping[str, Any]],
        timeout_seconds: int,
        requires_credentials: bool = True,
        remote: pulumi.Input[Mapping[str, Any]] | None = None,
        trust: pulumi.Input[Mapping[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "target": target,
            "credentials": pulumi.Output.secret(credentials),
            "alias": alias,
            "expected": expected,
            "remote": pulumi.Output.secret(remote) if remote is not None else None,
            "trust": pulumi.Output.secret(trust) if trust is not None else None,
            "timeout_seconds": timeout_seconds,
            "requires_credentials": requires_credentials,
            "connected": None,
            "proxy_address": None,
            "server_name": None,
            "retired_certificates": None,
        }
        super().__init__(RemoteConnectionCheckProvider(), name, props, opts)
