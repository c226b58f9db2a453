"""`RemoteConnectionCheck`: done means connected.

Probes the local cluster until a request really crosses the link, bounded by a timeout. `GET _remote/info` cannot
tell: it makes no connection attempt and only reports sockets that happen to be open (checked on a real 8.19.21
node: it said `connected: false` for 30 s after the remote became reachable). So each probe is
`GET _resolve/cluster/<alias>:*` (8.13+), which reuses the open connection or makes one attempt, and whose request is
authorised on the remote with the key (TransportResolveClusterAction: unreachable, or a key rejected, is
`connected: false`). Some patch releases (elastic/elasticsearch#119516, reverted by #124241) fail fast on a
disconnected remote and only start an attempt in the background: the next probe sees it, so polling covers both.
`_remote/info` then only confirms the configuration (proxy mode, credentials loaded). Through ECE's proxy each call
may reach another node; neither answer depends on which: every node attempts on demand. On versions without
`_resolve/cluster` (the certificate model allows them) the probe is a cross-cluster `GET <alias>:*/_search?size=0`,
read from its `_clusters` section.

An open connection was handshaken with the CA trusted when it opened, so after a CA change, and on `refresh`, the
alias's connection is rebuilt first (`remote_settings.rebuild_connection`). A CA rotation is finished by the local
side (the link hands the check a `LocalSide`, ECE's trust in this program): once the link is up with both CAs trusted,
it drops the old one and asks the check to confirm the link over a fresh handshake with the new CA alone; if that
fails, it trusts the old CA again and the check fails. When the link does not connect, every part that can be read
(the alias's settings here, the local side's keystore and trusted CA through `LocalSide`, the API key on the remote)
is looked at, and the error says what is wrong and what to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import names
from ..dynamic import ConfiguredProvider, changed_keys, credentials_change_touches_nothing, credentials_input, require
from ..http import ApiError, redact
from ..polling import WaitTimeoutError, wait_for
from .client import ElasticsearchApiError, ElasticsearchCaller, caller, check_target, comparable
from .remote_settings import rebuild_connection

INPUTS = ("target", "credentials", "alias", "expected", "requires_credentials", "remote", "trust", "timeout_seconds")


class RemoteConnectionError(RuntimeError):
    pass


class LocalSide(Protocol):
    """What the check asks of the side that holds the local cluster's trust and keystore (see `ece.local_side`).
    `details` is the link's opaque `trust` input."""

    def credentials_hint(self, details: Mapping[str, Any], alias: str) -> str: ...

    def trust_problems(
        self, details: Mapping[str, Any], fingerprints: list[str], node_names: list[str]
    ) -> list[str]: ...


def remote_info(es: ElasticsearchCaller, alias: str) -> dict[str, Any] | None:
    info = es.request("get remote cluster info", "GET", "_remote/info").json()
    entry = info.get(alias)
    return dict(entry) if isinstance(entry, Mapping) else None


def is_configured(info: Mapping[str, Any] | None, *, requires_credentials: bool = True) -> bool:
    """In proxy mode; with API-key credentials loaded, unless the TLS-certificate model is used."""
    if not (info and info.get("mode") == "proxy"):
        return False
    return bool(info.get("cluster_credentials")) or not requires_credentials


@dataclass(frozen=True)
class Reach:
    """Whether a request crossed the link, and what the local cluster said when it did not."""

    connected: bool
    detail: str


def reach(es: ElasticsearchCaller, alias: str) -> Reach:
    """One request across the link (`_resolve/cluster`, or a cross-cluster search where that API does not exist)."""
    operation = f"resolve remote cluster '{alias}'"
    response = es.request(operation, "GET", f"_resolve/cluster/{alias}:*", ok=(200, 400, 403, 404, 405))
    body = _json(response)
    if response.status_code == 200 and isinstance(body.get(alias), Mapping):
        entry = body[alias]
        if entry.get("connected") is True:
            return Reach(True, "connected")
        said = str(entry.get("error") or "the local cluster could not reach the remote")
        return Reach(False, redact(said, es.http.auth.secrets))  # answers' text, as the HTTP layer redacts errors
    if "no_such_remote_cluster_exception" in _error_types(body):
        # A real 8.19.21 node answers 403 security_exception caused by it (the action is authorised on the alias).
        return Reach(False, f"alias '{alias}' is not configured on the local cluster")
    if response.status_code == 403:
        code, reason = ElasticsearchApiError.parse_body(body)
        # an error built here from the answer, not by the HTTP layer: redacted as that layer redacts its own
        raise ElasticsearchApiError(operation, 403, code, redact(reason or "forbidden", es.http.auth.secrets))
    return _search_reach(es, alias)


def _error_types(body: Mapping[str, Any]) -> set[str]:
    """The `type` of an error answer, of its root causes and of its `caused_by` chain."""
    error = body.get("error")
    found: set[str] = set()
    while isinstance(error, Mapping):
        found.add(str(error.get("type")))
        found.update(str(cause.get("type")) for cause in error.get("root_cause") or [] if isinstance(cause, Mapping))
        error = error.get("caused_by")
    return found


def _search_reach(es: ElasticsearchCaller, alias: str) -> Reach:
    """Before 8.13: a cross-cluster search of nothing in particular makes the attempt; `_clusters` tells."""
    response = es.request(
        f"search remote cluster '{alias}'",
        "GET",
        f"{alias}:*/_search",
        params={"size": "0", "ignore_unavailable": "true", "allow_no_indices": "true"},
        ok=(200, 400, 401, 403, 404, 500, 503),
    )
    clusters = _json(response).get("_clusters") or {}
    if response.status_code == 200 and clusters.get("total") and clusters.get("successful") == clusters.get("total"):
        return Reach(True, "connected")
    error = _json(response).get("error")
    reason = error.get("reason") if isinstance(error, Mapping) else error
    return Reach(False, redact(str(reason or "the cross-cluster search skipped the remote"), es.http.auth.secrets))


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def diagnose(props: Mapping[str, Any], info: Mapping[str, Any] | None, local: LocalSide | None) -> list[str]:
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
    details = props.get("trust")
    if props.get("requires_credentials", True) and not info.get("cluster_credentials"):
        hint = local.credentials_hint(details, alias) if local is not None and details else ""
        problems.append(f"credentials: no keystore entry {names.keystore_credentials_key(alias)} is loaded{hint}")
    if local is not None and details and (expected.get("ca_fingerprints") or expected.get("node_names")):
        problems += local.trust_problems(
            details, list(expected.get("ca_fingerprints") or []), list(expected.get("node_names") or [])
        )
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
    def __init__(self, info: dict[str, Any] | None, detail: str) -> None:
        super().__init__("not connected")
        self.info = info
        self.detail = detail


def _wait_connected(es: ElasticsearchCaller, props: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """Until a request crosses the link and the alias is configured as declared; returns its `_remote/info`."""
    alias, requires = props["alias"], props.get("requires_credentials", True) is not False
    last: dict[str, Any] = {"info": None, "detail": "no answer yet"}

    def probe() -> dict[str, Any] | None:
        crossed = reach(es, alias)
        last["detail"] = crossed.detail
        if not crossed.connected:
            return None
        last["info"] = info = remote_info(es, alias)
        return info if info is not None and is_configured(info, requires_credentials=requires) else None

    try:
        return wait_for(
            probe,
            timeout=timeout,
            describe=lambda: f"remote '{alias}': {last['detail']}",
            what=f"remote cluster '{alias}' to connect",
        )
    except WaitTimeoutError:
        info = last["info"] if last["info"] is not None else remote_info(es, alias)
        raise _NotConnectedError(info, last["detail"]) from None


def _failure(
    props: Mapping[str, Any], info: Mapping[str, Any] | None, detail: str, timeout: float, local: LocalSide | None
) -> RemoteConnectionError:
    seen = (
        "not configured"
        if info is None
        else (
            f"mode={info.get('mode')}, proxy_address={info.get('proxy_address')}, "
            f"server_name={info.get('server_name') or ''}, credentials={'yes' if info.get('cluster_credentials') else 'none'}"
        )
    )
    seen = f"{seen}; the local cluster said: {detail}"
    problems = diagnose(props, info, local) or [_path_hint(props)]
    return RemoteConnectionError(
        f"remote cluster '{props['alias']}' did not connect within {timeout:g}s ({seen}). " + " | ".join(problems)
    )


def _path_hint(props: Mapping[str, Any]) -> str:
    if props.get("requires_credentials", True) is False:
        return (
            "settings and trust look right from the APIs, so check the path itself (TLS-certificate model): the "
            "transport Service's port must forward to 9300, the remote nodes must trust the ECE deployment's CA and "
            "name its nodes in their trust.yml (trust.subject_name), and the TLS server name must be in the remote "
            "certificate's SANs"
        )
    return (
        "settings, credentials, trust and key all look right from the APIs, so check the path itself: the load "
        "balancer's port must forward to targetPort 9443, the remote cluster server must be enabled, the TLS server "
        "name must be in the remote certificate's SANs, and the key's access must cover what is used"
    )


class LinkConfirmation:
    """What the ECE side asks at the end of a CA rotation (`ece.retirement`), once it has dropped the old CAs: does
    the link connect over a fresh handshake now? `details` are the check's inputs. Stateless, so it pickles by
    reference into the dynamic provider."""

    def confirm(self, details: Mapping[str, Any]) -> str | None:
        es = caller(details["target"], details["credentials"])
        rebuild_connection(es, details["alias"])  # the open connection was made while the old CA was still trusted
        try:
            _wait_connected(es, details, float(details["timeout_seconds"]))
        except _NotConnectedError as failure:
            return redact(f"remote '{details['alias']}': {failure.detail}", es.http.auth.secrets)
        return None


def _check(props: Mapping[str, Any], local: LocalSide | None, *, fresh_handshake: bool) -> dict[str, Any]:
    """`fresh_handshake`: drop the open connection first, so that what is proven is the link as it is now (an open
    socket was handshaken with whatever CA and address held when it opened)."""
    es = caller(props["target"], props["credentials"])
    timeout = float(props["timeout_seconds"])
    if fresh_handshake:
        rebuild_connection(es, props["alias"])
    try:
        info = _wait_connected(es, props, timeout)
    except _NotConnectedError as failure:
        raise _failure(props, failure.info, failure.detail, timeout, local) from None
    return {
        **{key: props.get(key) for key in INPUTS},
        "connected": True,
        "proxy_address": info.get("proxy_address"),
        "server_name": info.get("server_name"),
    }


def _without_retiring(props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs without `trust.retiring_certificates`: stacks made before `ece.retirement` ended rotations in the
    check and recorded them there; the check no longer uses them, so their going is no change."""
    trust = props.get("trust")
    if not isinstance(trust, Mapping) or "retiring_certificates" not in trust:
        return dict(props)
    return {**props, "trust": {key: value for key, value in trust.items() if key != "retiring_certificates"}}


class RemoteConnectionCheckProvider(ConfiguredProvider):
    """`local`: the side holding the local cluster's trust and keystore, handed over by the link (None: the check
    proves the connection and diagnoses the Elasticsearch side only)."""

    def __init__(self, local: LocalSide | None = None) -> None:
        self.local = local

    def _local(self) -> LocalSide | None:
        return getattr(self, "local", None)  # a provider pickled into state by an older version has none

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, check_target(news) + require(news, ("alias", "timeout_seconds")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(_without_retiring(comparable(olds)), _without_retiring(comparable(news)), INPUTS)
        # A check found broken by refresh runs again on the next `up`.
        return DiffResult(
            changes=bool(changes) or olds.get("connected") is not True, replaces=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        # The settings were just written, which rebuilt the connection (or made the first one).
        return CreateResult(f"{props['alias']}-connection", _check(props, self._local(), fresh_handshake=False))

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_check(news, self._local(), fresh_handshake=True))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """One fresh probe: a CA or key changed by hand since the connection opened shows only in a new handshake."""
        es = caller(props["target"], props["credentials"])
        alias = props["alias"]
        info = remote_info(es, alias)
        requires = props.get("requires_credentials", True) is not False
        connected = False
        if is_configured(info, requires_credentials=requires):
            rebuild_connection(es, alias)
            connected = reach(es, alias).connected
        inputs = {key: props.get(key) for key in INPUTS}
        return ReadResult(id_, {**props, "connected": connected}, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class RemoteConnectionCheck(Resource, module="eceeck", name="RemoteConnectionCheck"):
    """Succeeds only when the local cluster reports the alias connected; otherwise fails saying what is wrong."""

    connected: pulumi.Output[bool]

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
        local_side: LocalSide | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "target": target,
            "credentials": credentials_input(credentials),
            "alias": alias,
            "expected": expected,
            "remote": pulumi.Output.secret(remote) if remote is not None else None,
            "trust": pulumi.Output.secret(trust) if trust is not None else None,
            "timeout_seconds": timeout_seconds,
            "requires_credentials": requires_credentials,
            "connected": None,
            "proxy_address": None,
            "server_name": None,
        }
        super().__init__(RemoteConnectionCheckProvider(local_side), name, props, opts)
