"""The emulated Elasticsearch cluster: routes, authentication, query-parameter checks and the control routes.

One instance is one cluster. Give it `rcs_port` to run a remote cluster server stand-in (it is then a *remote*);
push keystore and trust to it through `/_emulator/keystore` and `/_emulator/trust` (it is then a *local*): it then
really connects to the remotes it is configured with, when and as a real node does (see `connections`)."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from emulators.certs import make_ca
from emulators.common import Emulator, Request, Response

from . import control, filter_path, remote_info
from .api_keys import ApiKeyStore, error_for_api_key_auth
from .auth import authenticate
from .certs import valid_certificates
from .connect import Attempt
from .connections import RemoteConnections
from .errors import PRODUCT_HEADER, EsError, illegal_argument, wrapped
from .keystore import CREDENTIALS, Keystore
from .licence import Licence
from .params import COMMON_PARAMS, check_params, flag, required_body
from .rcs import RemoteClusterServer
from .restrictions import TransportIdentity, TrustEntry, render_entries
from .roles import RoleStore
from .settings import ClusterSettings, Remote, check_body, render
from .transport import TransportServer
from .version import DEFAULT_VERSION, Version
from .xcontent import answer_media_type, compatible_version_error, content_type_error, read_body

CONNECT_TIMEOUT = 2.0

ApiHandler = Callable[[Request, re.Match[str]], Response]


@dataclass
class Config:
    cluster_name: str = "es-emulator"
    version: str = DEFAULT_VERSION
    elastic_password: str = "changeme"  # noqa: S105 - the emulator's documented default
    rcs_port: int | None = None  # None: no remote cluster server; 0: any free port
    rcs_server_name: str | None = None  # default <cluster-name>-es-remote-cluster.default.svc
    rcs_ca_out: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    transport_port: int | None = None  # a transport port stand-in (certificate model); 0: any free port
    namespace: str = "default"  # the Kubernetes namespace in the transport stand-in's node name


def _no_such_remote(alias: str) -> EsError:
    """`_resolve/cluster` naming an alias that is not configured. Checked on a real 8.19.21 node, as `elastic`
    (superuser): 403, the authorization failure caused by the unknown alias, which is the root cause."""
    reason = (
        "action [indices:admin/resolve/cluster] is unauthorized for user [elastic] with effective roles [superuser], "
        "this action is granted by the index privileges [view_index_metadata,manage,read,read_cross_cluster,all]"
    )
    return wrapped(
        EsError(403, "security_exception", reason, product=False),  # no X-elastic-product, as on the real node
        EsError(404, "no_such_remote_cluster_exception", f"no such remote cluster: [{alias}]"),
    )


def _stable_id(seed: str, length: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()[:length]


class ElasticsearchEmulator(Emulator):
    name = "elasticsearch"

    def __init__(self, config: Config | None = None) -> None:
        super().__init__()
        self.config = config or Config()
        self.initial_password = self.config.elastic_password
        self.version = Version.parse(self.config.version)
        self.clock_offset_ms = 0
        self.node_id = _stable_id(f"node:{self.config.cluster_name}", 22)
        self.node_name = f"{self.config.cluster_name}-es-default-0"
        self.api_keys = ApiKeyStore(self.version, self.now_ms)
        self.roles = RoleStore(self.version)
        self.settings = ClusterSettings(self.version)
        self.keystore = Keystore()
        self.licence = Licence(self.config.cluster_name, self.now_ms)
        self.trusted: list[str] = []
        self.restrictions: tuple[TrustEntry, ...] = ()  # pushed by ECE to /_emulator/transport
        self.transport_identity: TransportIdentity | None = None
        self.connections = RemoteConnections(self.config.connect_timeout, self.now_ms)
        self.reload_failure: dict[str, str] | None = None
        self.conflict_response = lambda _request: EsError(
            409, "version_conflict_engine_exception", "version conflict, document already exists"
        ).response()
        self.rcs: RemoteClusterServer | None = None
        if self.config.rcs_port is not None:
            self.rcs = RemoteClusterServer(
                port=self.config.rcs_port,
                server_name=self.config.rcs_server_name or f"{self.config.cluster_name}-es-remote-cluster.default.svc",
                cluster_name=self.config.cluster_name,
                authenticate=self._authenticate_remote,
                ca_out=self.config.rcs_ca_out,
            )
        self.transport: TransportServer | None = None
        if self.config.transport_port is not None:
            self.start_transport(self.config.transport_port)
        self._routes()

    def start_transport(self, port: int = 0) -> TransportServer:
        """The transport port stand-in, with the remote cluster server's CA (ECK issues both from its transport CA)."""
        if self.transport is None:
            ca = self.rcs.ca if self.rcs is not None else make_ca(f"{self.config.cluster_name} transport CA")
            self.transport = TransportServer(
                port=port,
                cluster_name=self.config.cluster_name,
                namespace=self.config.namespace,
                ca=ca,
                version=str(self.version),
            )
        return self.transport

    def reset(self) -> None:
        """Back to an empty cluster (keys, roles, settings, keystore, trust, faults, log, clock, the configured
        elastic password, a new trial licence); the remote cluster server keeps its CA and is set back to "up"."""
        with self.lock:
            self.config.elastic_password = self.initial_password
            self.api_keys.keys.clear()
            self.roles.roles.clear()
            self.settings = ClusterSettings(self.version)
            self.keystore = Keystore()
            self.trusted = []
            self.restrictions, self.transport_identity = (), None
            self.connections.close_all()
            self.reload_failure = None
            self.clock_offset_ms = 0
            self.licence = Licence(self.config.cluster_name, self.now_ms)
            self.faults.clear()
            self.log.clear()
            if self.rcs is not None:
                self.rcs.set_state("up")
                self.rcs.events.clear()
            if self.transport is not None and self.config.transport_port is None:  # started by a control route
                self.transport.close()
                self.transport = None
            elif self.transport is not None:
                self.transport.configure(namespace=self.config.namespace, client_cas=[], subject_names=None)
                self.transport.set_state("up")
                self.transport.events.clear()

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def close(self) -> None:
        """Stop the remote cluster server (the HTTP side stops with `Running.stop`)."""
        self.connections.close_all()
        if self.rcs is not None:
            self.rcs.close()
        if self.transport is not None:
            self.transport.close()

    # --- routing ---------------------------------------------------------------------------------------------
    def _routes(self) -> None:
        api = self._api
        self.route("GET", r"/", api(self._info))
        self.route("HEAD", r"/", api(self._info))
        self.route("GET", r"/_license", api(self._get_licence, ("local", "accept_enterprise")))
        self.route("POST", r"/_security/cross_cluster/api_key", api(self._create_key, licensed=True))
        self.route("PUT", r"/_security/cross_cluster/api_key/(?P<id>[^/]+)", api(self._update_key, licensed=True))
        get_key_params = (
            "id",
            "name",
            "username",
            "realm_name",
            "owner",
            "with_limited_by",
            "with_profile_uid",
            "active_only",
        )
        self.route("GET", r"/_security/api_key", api(self._get_keys, get_key_params))
        self.route("DELETE", r"/_security/api_key", api(self._invalidate_keys))
        for method in ("PUT", "POST"):
            self.route(method, r"/_security/role/(?P<name>[^/]+)", api(self._put_role, ("refresh",)))
        self.route("GET", r"/_security/role", api(self._get_roles))
        self.route("GET", r"/_security/role/(?P<name>[^/]+)", api(self._get_roles))
        self.route("DELETE", r"/_security/role/(?P<name>[^/]+)", api(self._delete_role, ("refresh",)))
        settings_params = ("flat_settings", "master_timeout", "timeout")
        self.route("GET", r"/_cluster/settings", api(self._get_settings, (*settings_params, "include_defaults")))
        self.route("PUT", r"/_cluster/settings", api(self._put_settings, settings_params))
        self.route("GET", r"/_remote/info", api(self._remote_info))
        resolve_params = ("ignore_unavailable", "ignore_throttled", "allow_no_indices", "expand_wildcards", "timeout")
        if self.version.at_least("8.13.0"):  # elastic/elasticsearch#102726 (8.13): before it, an unknown route
            for method in ("GET", "POST"):
                resolve = api(self._resolve_cluster, resolve_params, locked=False)
                self.route(method, r"/_resolve/cluster/(?P<name>[^/]+)", resolve)
        search_params = (
            "size",
            "q",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "ccs_minimize_roundtrips",
        )
        for method in ("GET", "POST"):
            self.route(
                method, r"/(?P<target>[^/_][^/]*:[^/]*)/_search", api(self._remote_search, search_params, locked=False)
            )
        self.route("POST", r"/_nodes/reload_secure_settings", api(self._reload, ("timeout",)))
        self.route("POST", r"/_nodes/(?P<node_id>[^/]+)/reload_secure_settings", api(self._reload, ("timeout",)))

    def _api(
        self, handler: ApiHandler, params: tuple[str, ...] = (), *, locked: bool = True, licensed: bool = False
    ) -> ApiHandler:
        """`licensed`: the route needs `advanced-remote-cluster-security`, checked (as ES's security REST handlers
        do) before the parameters and the body are looked at (see `licence`)."""
        allowed = COMMON_PARAMS | frozenset(params)

        def serve(request: Request, match: re.Match[str]) -> Response:
            # A real 8.19.21 node authenticates first (401 whatever the media types), then checks the compatible
            # version (400 media_type_header_exception, sent as plain JSON), then the body's Content-Type (406).
            media_type = answer_media_type(request)
            try:
                authenticate(request, self.config.elastic_password, self._api_key_error)
                error = compatible_version_error(request, self.version.major)
                if error is not None:
                    media_type = "application/json"
                    raise error
                error = content_type_error(request)
                if error is not None:
                    raise error
                if licensed:
                    with self.lock:
                        self.licence.check_cross_cluster_api_keys()
                check_params(request, allowed)
                if locked:
                    with self.lock:
                        response = handler(request, match)
                else:
                    response = handler(request, match)
            except EsError as failure:
                response = failure.response()
                response.content_type = media_type
                return response
            if 200 <= response.status < 300 and request.param("filter_path") and isinstance(response.body, dict | list):
                response.body = filter_path.apply(response.body, request.param("filter_path") or "")
            response.headers = {**PRODUCT_HEADER, **response.headers}
            if response.content_type == "application/json":
                response.content_type = media_type
            return response

        return serve

    def not_found(self, request: Request) -> Response:
        reason = f"no handler found for uri [{request.path}] and method [{request.method}]"
        return illegal_argument(reason).response()

    def method_not_allowed(self, request: Request) -> Response:
        allowed = sorted({m for m, pattern, _h in self.routes if pattern.fullmatch(request.path)})
        reason = f"Incorrect HTTP method for uri [{request.path}] and method [{request.method}], allowed: [{', '.join(allowed)}]"
        failure = EsError(405, "illegal_argument_exception", reason, headers={"Allow": ",".join(allowed)})
        return failure.response()

    # --- authentication --------------------------------------------------------------------------------------
    def _api_key_error(self, encoded: str) -> EsError:
        with self.lock:
            return error_for_api_key_auth(self.api_keys, encoded)

    def _authenticate_remote(self, encoded: str) -> tuple[bool, str, str | None]:
        with self.lock:
            return self.api_keys.authenticate(encoded)

    # --- handlers: info and security -------------------------------------------------------------------------
    def _info(self, _request: Request, _match: re.Match[str]) -> Response:
        nine = self.version.major >= 9
        return Response(
            200,
            {
                "name": self.node_name,
                "cluster_name": self.config.cluster_name,
                "cluster_uuid": _stable_id(f"cluster:{self.config.cluster_name}", 22),
                "version": {
                    "number": str(self.version),
                    "build_flavor": "default",
                    "build_type": "docker",
                    "build_hash": hashlib.sha1(str(self.version).encode()).hexdigest(),  # noqa: S324 - an id, not security
                    "build_date": "2026-01-01T00:00:00.000000000Z",
                    "build_snapshot": False,
                    "lucene_version": "10.3.2" if nine else "9.12.0",
                    "minimum_wire_compatibility_version": "8.19.0" if nine else "7.17.0",
                    "minimum_index_compatibility_version": "8.0.0" if nine else "7.0.0",
                },
                "tagline": "You Know, for Search",
            },
        )

    def _get_licence(self, _request: Request, _match: re.Match[str]) -> Response:
        return Response(200, self.licence.render())

    def _create_key(self, request: Request, _match: re.Match[str]) -> Response:
        return Response(200, self.api_keys.create(required_body(request)))

    def _update_key(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self.api_keys.update(unquote(match["id"]), required_body(request)))

    def _get_keys(self, request: Request, _match: re.Match[str]) -> Response:
        status, body = self.api_keys.get(
            key_id=request.param("id") or None,
            name=request.param("name") or None,
            username=request.param("username") or None,
            realm_name=request.param("realm_name") or None,
            owner=flag(request, "owner"),
            active_only=flag(request, "active_only"),
        )
        return Response(status, body)

    def _invalidate_keys(self, request: Request, _match: re.Match[str]) -> Response:
        return Response(200, self.api_keys.invalidate(required_body(request)))

    def _put_role(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self.roles.put(unquote(match["name"]), required_body(request)))

    def _get_roles(self, _request: Request, match: re.Match[str]) -> Response:
        raw = match.groupdict().get("name")
        names = [unquote(n) for n in raw.split(",") if n] if raw else None
        status, body = self.roles.get(names)
        return Response(status, body)

    def _delete_role(self, request: Request, match: re.Match[str]) -> Response:
        status, body = self.roles.delete(unquote(match["name"]))
        return Response(status, body)

    # --- handlers: settings, remote info, reload -------------------------------------------------------------
    def _get_settings(self, request: Request, _match: re.Match[str]) -> Response:
        flat = flag(request, "flat_settings")
        body = {
            "persistent": render(self.settings.persistent, flat_settings=flat),
            "transient": render(self.settings.transient, flat_settings=flat),
        }
        if flag(request, "include_defaults"):
            body["defaults"] = render(self.settings.defaults(), flat_settings=flat)
        return Response(200, body)

    def _put_settings(self, request: Request, _match: re.Match[str]) -> Response:
        body = required_body(request)
        error = check_body(body.data)
        if error is not None:
            raise error
        echo = self.settings.update(body.data)
        self.rebuild_connections(self.credential_aliases())
        flat = flag(request, "flat_settings")
        return Response(
            200,
            {
                "acknowledged": True,
                "persistent": render(echo["persistent"], flat_settings=flat),
                "transient": render(echo["transient"], flat_settings=flat),
            },
        )

    def _remote_info(self, _request: Request, _match: re.Match[str]) -> Response:
        body = {}
        for remote in self.settings.remotes():
            credentials = f"cluster.remote.{remote.alias}.credentials" in self.keystore.effective
            body[remote.alias] = remote_info.entry(remote, self.connections.connected(remote.alias), credentials)
        return Response(200, body)

    def _resolve_cluster(self, _request: Request, match: re.Match[str]) -> Response:
        """Each remote of the expression gets one request (over the open connection, or one attempt); they run without
        the lock, since an attempt may take up to `connect_timeout`."""
        with self.lock:
            remotes = {remote.alias: remote for remote in self.settings.remotes()}
            wanted: dict[str, Any] = {}
            local = False
            for part in unquote(match["name"]).split(","):
                alias, colon, _index = part.rpartition(":")
                if not colon:
                    local = True
                    continue
                names = [a for a in remotes if fnmatch.fnmatchcase(a, alias)] if "*" in alias else [alias]
                for name in names:
                    if name not in remotes:
                        raise _no_such_remote(name)
                    wanted[name] = (remotes[name], self._plan(remotes[name]))
        body: dict[str, Any] = {}
        if local:
            body["(local)"] = {
                "connected": True,
                "skip_unavailable": False,
                "matching_indices": False,
                "version": remote_info.version_info(str(self.version)),
            }
        for alias, (remote, plan) in wanted.items():
            outcome = self.connections.request(remote, plan)
            body[alias] = remote_info.resolved(outcome, remote.skip_unavailable, str(self.version))
        return Response(200, body)

    def _remote_search(self, _request: Request, match: re.Match[str]) -> Response:
        """A search of remote indices only (`<alias>:<index>`): one request to each remote over its connection, or one
        attempt. The emulated remotes hold no indices, so a search that crosses finds nothing. A remote that cannot be
        reached, or refuses the key, is skipped when `skip_unavailable` (the default since 8.15), with the failure in
        `_clusters.details` (the shape a real 8.19.21 node answers); otherwise the search fails."""
        with self.lock:
            remotes = {remote.alias: remote for remote in self.settings.remotes()}
            wanted: dict[str, tuple[Any, Any, str]] = {}
            for part in unquote(match["target"]).split(","):
                alias, _colon, index = part.partition(":")
                if alias not in remotes:
                    raise _no_such_remote(alias)
                wanted[alias] = (remotes[alias], self._plan(remotes[alias]), index)
        details: dict[str, Any] = {}
        for alias, (remote, plan, index) in wanted.items():
            outcome = self.connections.request(remote, plan)
            if outcome.connected:
                details[alias] = {"status": "successful", "indices": index, "took": 1, "timed_out": False}
                continue
            if not remote.skip_unavailable:
                raise EsError(500, "connect_transport_exception", f"[{alias}] {outcome.reason}")
            reason = {"type": "connect_transport_exception", "reason": outcome.reason}
            details[alias] = {
                "status": "skipped",
                "indices": index,
                "timed_out": False,
                "failures": [{"shard": -1, "index": None, "reason": reason}],
            }
        statuses = [detail["status"] for detail in details.values()]
        return Response(
            200,
            {
                "took": 1,
                "timed_out": False,
                "num_reduce_phases": 0,
                "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
                "_clusters": {
                    "total": len(details),
                    "successful": statuses.count("successful"),
                    "skipped": statuses.count("skipped"),
                    "running": 0,
                    "partial": 0,
                    "failed": 0,
                    "details": details,
                },
                "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
            },
        )

    def rebuild_connections(self, credentials_before: set[str]) -> None:
        """After settings or a keystore reload: ES rebuilds a remote whose strategy or credential presence changed."""
        after = self.credential_aliases()
        self.connections.apply(
            self.settings.remotes(),
            self._plan,
            frozenset(credentials_before ^ after),
        )

    def _plan(self, remote: Remote) -> Attempt:
        """What a connection attempt to `remote` uses now: address, CAs, credential, restrictions, identity."""
        return remote_info.plan(remote, self.keystore, self.trusted, self.restrictions, self.transport_identity)

    def credential_aliases(self) -> set[str]:
        return {m[1] for key in self.keystore.effective if (m := CREDENTIALS.fullmatch(key))}

    def _reload(self, request: Request, match: re.Match[str]) -> Response:
        body = read_body(request, required=False)
        if body is not None:
            data = body.object("reload_secure_settings")
            body.reject_unknown("reload_secure_settings", ("secure_settings_password",))
            if "secure_settings_password" in data:
                body.expect("reload_secure_settings", "secure_settings_password", data["secure_settings_password"], str)
        wanted = (match.groupdict().get("node_id") or "_all").split(",")
        nodes: dict[str, Any] = {}
        if any(n in ("_all", "_local", "*", self.node_id, self.node_name) for n in wanted):
            if self.reload_failure is not None:
                nodes[self.node_id] = {"name": self.node_name, "reload_exception": dict(self.reload_failure)}
            else:
                if self.version.hot_reload_credentials:
                    before = self.credential_aliases()
                    self.keystore.reload()
                    self.rebuild_connections(before)
                nodes[self.node_id] = {"name": self.node_name}
                if self.version.reload_keystore_details:
                    nodes[self.node_id] |= {
                        "secure_setting_names": sorted({"keystore.seed", *self.keystore.effective}),
                        "keystore_path": "/usr/share/elasticsearch/config/elasticsearch.keystore",
                        "keystore_digest": self.keystore.digest(),
                        "keystore_last_modified_time": self.keystore.modified,
                    }
        count = len(nodes)
        return Response(
            200,
            {
                "_nodes": {"total": count, "successful": count, "failed": 0},
                "cluster_name": self.config.cluster_name,
                "nodes": nodes,
            },
        )

    # --- control routes --------------------------------------------------------------------------------------
    def control_extra(self, what: str, request: Request) -> Response:
        try:
            answer = control.handle(self, what, request.method, request.json() if request.body else None)
        except (ValueError, TypeError, KeyError) as error:
            return Response(400, {"error": str(error)})
        return answer if answer is not None else super().control_extra(what, request)

    def trust_state(self) -> dict[str, Any]:
        good, problems = valid_certificates(self.trusted)
        return {"certificates": list(self.trusted), "valid": len(good), "problems": problems}

    def transport_state(self) -> dict[str, Any]:
        """The local transport layer as ECE configured it (`/_emulator/transport`)."""
        identity = self.transport_identity
        return {
            "direct": render_entries(self.restrictions),
            "certificate": None if identity is None else identity.certificate_pem,
        }

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "cluster_name": self.config.cluster_name,
                "version": str(self.version),
                "node": {"id": self.node_id, "name": self.node_name},
                "api_keys": self.api_keys.state(),
                "roles": self.roles.roles,
                "settings": {"persistent": dict(self.settings.persistent), "transient": dict(self.settings.transient)},
                "keystore": self.keystore.state(),
                "trust": self.trust_state(),
                "transport": self.transport_state(),
                "remote_connections": dict(self.connections.records),
                "rcs": None if self.rcs is None else self.rcs.state(),
                "transport_server": None if self.transport is None else self.transport.state(),
                "clock_offset_ms": self.clock_offset_ms,
                "reload_failure": self.reload_failure,
                "license": self.licence.state(),
            }
