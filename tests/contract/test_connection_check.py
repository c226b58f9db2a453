"""The whole link built with the providers against the three emulators: connected only when every part is right,
and each single wrong part gives a failed check that names it; aliases with every allowed character; and readiness
over the shapes real answers take, none of the wrong ones taken for connected (on `up` or `refresh`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from components.ece.keystore import EceKeystoreCredentialsProvider
from components.ece.local_side import EceLocalSide
from components.ece.trust import EceTrustedCaProvider
from components.elasticsearch.api_key import CrossClusterApiKeyProvider
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider, RemoteConnectionError
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.pem import fingerprint
from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.support.aliases import ALIASES, twin
from tests.support.certs import make_ca
from tools.emulated_link import LOCAL_PASSWORD, REF_ID, SERVER_NAME, EmulatedLink

ALIAS = "logs"
OTHER_CA = make_ca("not-the-remote-ca")


@dataclass
class Chain:
    """Inputs of every resource of one link; a test breaks one part before building it."""

    env: EmulatedLink
    address: str = ""
    server_name: str = SERVER_NAME
    trusted_ca: str = ""
    alias: str = ALIAS
    keystore_alias: str = ""
    settings_alias: str = ""
    created: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keystore_alias = self.keystore_alias or self.alias
        self.settings_alias = self.settings_alias or self.alias

    @property
    def entry_name(self) -> str:
        return f"ece-eck-remote-{self.alias}"

    def build(self) -> None:
        env = self.env
        key = CrossClusterApiKeyProvider().create(
            CrossClusterApiKeyProvider()
            .check(
                {},
                {
                    "target": env.remote_target(),
                    "credentials": env.remote_credentials(),
                    "name": f"ece-eck-remote-t-{self.alias}",
                    "access": {"search": [{"names": ["logs-*"]}]},
                },
            )
            .inputs
        )
        self.created["key"] = key
        ece = {
            "ece": env.ece_props(),
            "ece_credentials": env.ece_credentials(),
            "deployment_id": env.deployment_id,
            "ref_id": REF_ID,
            "plan_timeout_seconds": 10,
        }
        self.created["trust"] = EceTrustedCaProvider().create(
            {
                **ece,
                "entry_name": self.entry_name,
                "model": "api-key",
                "certificates": [self.trusted_ca or env.rcs_ca],
            }
        )
        self.created["keystore"] = EceKeystoreCredentialsProvider().create(
            {**ece, "alias": self.keystore_alias, "value": key.outs["encoded"]}
        )
        self.created["settings"] = RemoteClusterSettingsProvider().create(
            {
                "target": env.local_target(),
                "credentials": env.ece_credentials(),
                "alias": self.settings_alias,
                "proxy_address": self.address or env.rcs_address,
                "server_name": self.server_name,
            }
        )

    def check_props(self, *, timeout: float = 1.5) -> dict[str, Any]:
        env = self.env
        return {
            "target": env.local_target(),
            "credentials": env.ece_credentials(),
            "alias": self.alias,
            "expected": {
                "proxy_address": env.rcs_address,
                "server_name": SERVER_NAME,
                "ca_fingerprints": [fingerprint(env.rcs_ca)],
            },
            "requires_credentials": True,
            "remote": {
                "target": env.remote_target(),
                "credentials": env.remote_credentials(),
                "key_id": self.created["key"].id,
            },
            "trust": {
                "ece": env.ece_props(),
                "ece_credentials": env.ece_credentials(),
                "deployment_id": env.deployment_id,
                "ref_id": REF_ID,
                "entry_name": self.entry_name,
                "plan_timeout_seconds": 10,
            },
            "timeout_seconds": timeout,
        }


def test_connected_when_every_part_is_right(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    result = RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=10))
    assert result.outs["connected"] is True
    assert result.outs["proxy_address"] == env.rcs_address
    connection = env.control(env.local, "GET", "state")["remote_connections"][ALIAS]
    assert connection["connected"] is True


@pytest.mark.parametrize("alias", ALIASES)
def test_an_alias_with_any_allowed_character_connects_and_its_twin_is_told_apart(env: EmulatedLink, alias: str) -> None:
    """With `-`, `_` and digits in the alias, the check probes `_resolve/cluster/<alias>:*` and reads the alias's
    answer; a link whose alias differs only by `-`/`_` is a link of its own (its own trust entry, key and settings)
    and connects too. Its keystore key under the twin's name is named as an alias mismatch."""
    chain, other = Chain(env, alias=alias), Chain(env, alias=twin(alias))
    chain.build()
    other.build()
    provider = RemoteConnectionCheckProvider(EceLocalSide())
    for built in (chain, other):
        result = provider.create(built.check_props(timeout=10))
        assert result.id == f"{built.alias}-connection" and result.outs["connected"] is True
        assert provider.read(result.id, result.outs).outs["connected"] is True
    probes = [(r["method"], r["path"], r["status"]) for r in env.requests_to(env.local)]
    assert ("GET", f"/_resolve/cluster/{alias}:*", 200) in probes
    entries = {e["name"]: e for e in env.direct_entries()}
    assert {f"ece-eck-remote-{alias}", f"ece-eck-remote-{twin(alias)}"} <= set(entries)

    env.reset()
    mismatched = Chain(env, alias=alias, keystore_alias=twin(alias))
    mismatched.build()
    with pytest.raises(RemoteConnectionError) as raised:
        provider.create(mismatched.check_props())
    message = str(raised.value)
    assert f"no keystore entry cluster.remote.{alias}.credentials is loaded" in message, message
    assert f"keystore holds cluster.remote.{twin(alias)}.credentials (alias mismatch?)" in message, message


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BREAKAGES: dict[str, tuple[Callable[[Chain], None], str]] = {
    "address": (lambda chain: setattr(chain, "address", f"127.0.0.1:{closed_port()}"), "address: proxy_address is"),
    "server name": (
        lambda chain: setattr(chain, "server_name", "wrong-name.elastic.svc"),
        "server name: server_name is 'wrong-name.elastic.svc'",
    ),
    "CA": (
        lambda chain: setattr(chain, "trusted_ca", OTHER_CA.certificate_pem),
        "CA: the deployment does not trust the remote's CA",
    ),
    "alias mismatch": (
        lambda chain: setattr(chain, "keystore_alias", "logz"),
        "keystore holds cluster.remote.logz.credentials (alias mismatch?)",
    ),
}


@pytest.mark.parametrize("part", sorted(BREAKAGES))
def test_each_wrong_part_fails_the_check_naming_it(env: EmulatedLink, part: str) -> None:
    chain = Chain(env)
    breakage, expected = BREAKAGES[part]
    breakage(chain)
    chain.build()
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    message = str(raised.value)
    assert expected in message, message
    assert "did not connect within" in message
    for secret in ("remote-elastic-password-42", "ece-test-api-key", chain.created["key"].outs["encoded"]):
        assert secret not in message


def test_an_invalidated_key_fails_the_check_naming_it(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    CrossClusterApiKeyProvider().delete(chain.created["key"].id, chain.created["key"].outs)
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    assert f"key: cross-cluster API key {chain.created['key'].id} is invalidated" in str(raised.value)


def test_a_wrong_path_with_right_settings_points_at_port_and_target_port(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    env.control(env.remote, "PUT", "rcs", {"state": "refuse"})
    try:
        with pytest.raises(RemoteConnectionError) as raised:
            RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    finally:
        env.control(env.remote, "PUT", "rcs", {"state": "up"})
    assert "targetPort 9443" in str(raised.value)


def test_refresh_sees_a_broken_link_and_the_next_up_checks_again(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    provider = RemoteConnectionCheckProvider(EceLocalSide())
    props = chain.check_props(timeout=10)
    created = provider.create(props)
    assert not provider.diff(created.id, created.outs, props).changes
    CrossClusterApiKeyProvider().delete(chain.created["key"].id, chain.created["key"].outs)
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["connected"] is False
    assert provider.diff(created.id, refreshed.outs, props).changes


def test_an_alias_the_local_cluster_does_not_know_is_named_as_not_configured(env: EmulatedLink) -> None:
    """`_resolve/cluster` on an unknown alias answers 403 caused by no_such_remote_cluster_exception (as a real
    8.19.21 node does): the check says the alias is not configured instead of failing on the 403."""
    chain = Chain(env)
    chain.build()
    props = {**chain.check_props(), "alias": "nobody"}
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    message = str(raised.value)
    assert "alias 'nobody' is not configured on the local cluster" in message, message


def test_before_resolve_cluster_existed_a_cross_cluster_search_is_the_probe(env: EmulatedLink) -> None:
    """Elasticsearch before 8.13 has no `_resolve/cluster` (an unknown route, 400): the check then probes with a
    cross-cluster search of `<alias>:*` and reads its `_clusters` section."""
    old = ElasticsearchEmulator(
        Config(cluster_name="ece-local-8-12", version="8.12.2", elastic_password=LOCAL_PASSWORD)
    )
    with running(old) as handle:
        env.control(
            env.ece,
            "POST",
            "elasticsearch-link",
            {"deployment_id": env.deployment_id, "url": handle.url, "password": LOCAL_PASSWORD},
        )
        chain = Chain(env)
        chain.build()
        created = RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=10))
        assert created.outs["connected"] is True
        paths = [
            (entry["method"], entry["path"], entry["status"])
            for entry in requests.get(f"{handle.url}/_emulator/requests", timeout=5).json()
        ]
        assert ("GET", f"/_resolve/cluster/{ALIAS}:*", 400) in paths
        assert ("GET", f"/{ALIAS}:*/_search", 200) in paths
        env.control(env.remote, "PUT", "rcs", {"state": "down"})
        try:
            with pytest.raises(RemoteConnectionError) as raised:
                RemoteConnectionCheckProvider(EceLocalSide()).update("x", created.outs, chain.check_props(timeout=1.5))
        finally:
            env.control(env.remote, "PUT", "rcs", {"state": "up"})
        assert "did not connect within" in str(raised.value)


# --- readiness over the shapes real answers take ---------------------------------------------------------------
# Every other part of the link is right; the local cluster's answer to one probe is replaced (a fault on the local
# emulator, behind ECE's proxy) by an answer of a shape a real node gives (reference/elasticsearch-api.md; a real
# 8.19.21 node for the 403). Through ECE's proxy the two probes may reach different nodes, so one can say connected
# while the other says otherwise. None of these may pass for connected: not on `up`, not on `refresh`.
REDACTED = "::es_redacted::"


def info_entry(chain: Chain) -> dict[str, Any]:
    """`_remote/info`'s entry for a proxy-mode alias that is connected with API-key credentials loaded."""
    env = chain.env
    return {
        "connected": True,
        "mode": "proxy",
        "proxy_address": env.rcs_address,
        "server_name": SERVER_NAME,
        "num_proxy_sockets_connected": 18,
        "max_proxy_socket_connections": 18,
        "initial_connect_timeout": "30s",
        "skip_unavailable": True,
        "cluster_credentials": REDACTED,
    }


def sniff_mode(chain: Chain) -> dict[str, Any]:
    """Connected, with credentials, but in sniff mode (its fields instead of the proxy ones)."""
    return {
        "connected": True,
        "mode": "sniff",
        "seeds": [chain.env.rcs_address],
        "num_nodes_connected": 1,
        "max_connections_per_cluster": 3,
        "initial_connect_timeout": "30s",
        "skip_unavailable": True,
        "cluster_credentials": REDACTED,
    }


def no_credentials(chain: Chain) -> dict[str, Any]:
    """Proxy mode and connected, but no `cluster_credentials`: not an API-key remote (no keystore entry loaded)."""
    entry = info_entry(chain)
    del entry["cluster_credentials"]
    return entry


def not_connected(skip_unavailable: bool, error: str | None = None) -> Callable[[Chain], dict[str, Any]]:
    def answer(_chain: Chain) -> dict[str, Any]:
        entry: dict[str, Any] = {"connected": False, "skip_unavailable": skip_unavailable}
        return {**entry, "error": error} if error else entry

    return answer


def no_such_remote(alias: str) -> dict[str, Any]:
    """A real 8.19.21 node's answer to `_resolve/cluster` for an alias it does not have (as `elastic`)."""
    cause = {"type": "no_such_remote_cluster_exception", "reason": f"no such remote cluster: [{alias}]"}
    reason = (
        "action [indices:admin/resolve/cluster] is unauthorized for user [elastic] with effective roles [superuser], "
        "this action is granted by the index privileges [view_index_metadata,manage,read,read_cross_cluster,all]"
    )
    return {"error": {"root_cause": [cause], "type": "security_exception", "reason": reason, "caused_by": cause}}


@dataclass(frozen=True)
class Shape:
    """Replaced answers: `info` for `GET _remote/info` (the alias's entry), `resolve` for `GET _resolve/cluster`
    (the alias's entry, or a whole error body with `resolve_status`); `search` for the pre-8.13 probe. `said`: what
    the failed check must say."""

    said: str
    info: Callable[[Chain], dict[str, Any]] | None = None
    resolve: Callable[[Chain], dict[str, Any]] | None = None
    resolve_status: int = 200
    search: tuple[int, dict[str, Any]] | None = None


def skipped_search(alias: str) -> dict[str, Any]:
    """A cross-cluster search whose remote was skipped (skip_unavailable: true): 200, the failure in `_clusters`."""
    reason = {"type": "connect_transport_exception", "reason": f"[{alias}] connect_exception"}
    return {
        "took": 1,
        "timed_out": False,
        "num_reduce_phases": 0,
        "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
        "_clusters": {
            "total": 1,
            "successful": 0,
            "skipped": 1,
            "running": 0,
            "partial": 0,
            "failed": 0,
            "details": {
                alias: {
                    "status": "skipped",
                    "indices": "*",
                    "timed_out": False,
                    "failures": [{"shard": -1, "index": None, "reason": reason}],
                }
            },
        },
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
    }


UNKNOWN_ROUTE = {
    "error": {
        "root_cause": [{"type": "illegal_argument_exception", "reason": "no handler found for uri"}],
        "type": "illegal_argument_exception",
        "reason": "no handler found for uri",
    },
    "status": 400,
}
CONNECT_FAILED = {
    "error": {"type": "connect_transport_exception", "reason": "[logs] connect_exception"},
    "status": 500,
}

WRONG: dict[str, Shape] = {
    "connected in sniff mode": Shape("mode is 'sniff', expected 'proxy'", info=sniff_mode),
    "connected without credentials": Shape(
        "credentials: no keystore entry cluster.remote.logs.credentials is loaded; the keystore holds it, but the "
        "deployment has not loaded it",
        info=no_credentials,
    ),
    "not connected, skip_unavailable true": Shape("did not connect", resolve=not_connected(True)),
    "not connected, skip_unavailable false": Shape("did not connect", resolve=not_connected(False)),
    "key refused": Shape(
        "invalid credentials for API key",
        resolve=not_connected(
            True, "unable to authenticate with provided credentials: invalid credentials for API key"
        ),
    ),
    "no such remote cluster (403)": Shape(
        "alias 'logs' is not configured on the local cluster",
        resolve=lambda chain: no_such_remote(chain.alias),
        resolve_status=403,
    ),
    "search probe, remote skipped (skip_unavailable true)": Shape(
        "the cross-cluster search skipped the remote",
        resolve=lambda _chain: UNKNOWN_ROUTE,
        resolve_status=400,
        search=(200, skipped_search(ALIAS)),
    ),
    "search probe, search failed (skip_unavailable false)": Shape(
        "connect_exception",
        resolve=lambda _chain: UNKNOWN_ROUTE,
        resolve_status=400,
        search=(500, CONNECT_FAILED),
    ),
}


def answer_with(chain: Chain, shape: Shape) -> None:
    env, alias = chain.env, chain.alias
    if shape.info is not None:
        env.fault(
            env.local, route="GET /_remote/info", kind="status", status=200, body={alias: shape.info(chain)}, times=-1
        )
    if shape.resolve is not None:
        body = shape.resolve(chain)
        resolved = {alias: body} if shape.resolve_status == 200 else body
        route = f"GET /_resolve/cluster/{alias}.*"
        env.fault(env.local, route=route, kind="status", status=shape.resolve_status, body=resolved, times=-1)
    if shape.search is not None:
        status, body = shape.search
        env.fault(env.local, route=f"GET /{alias}.*/_search", kind="status", status=status, body=body, times=-1)


@pytest.mark.parametrize("shape", list(WRONG))
def test_the_check_accepts_no_wrong_answer(env: EmulatedLink, shape: str) -> None:
    chain = Chain(env)
    chain.build()
    answer_with(chain, WRONG[shape])
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=1.5))
    message = str(raised.value)
    assert "did not connect within" in message and WRONG[shape].said in message, message


@pytest.mark.parametrize("shape", list(WRONG))
def test_refresh_accepts_no_wrong_answer(env: EmulatedLink, shape: str) -> None:
    chain = Chain(env)
    chain.build()
    provider = RemoteConnectionCheckProvider(EceLocalSide())
    props = chain.check_props(timeout=10)
    created = provider.create(props)
    answer_with(chain, WRONG[shape])
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["connected"] is False
    assert provider.diff(created.id, refreshed.outs, props).changes  # the next `up` checks again


@pytest.mark.parametrize("skip_unavailable", [True, False, None])
def test_a_connected_alias_is_accepted_whatever_its_skip_unavailable(
    env: EmulatedLink, skip_unavailable: bool | None
) -> None:
    """The right answers pass (so the wrong ones above fail for their shape, not for the chain)."""
    chain = Chain(env)
    chain.build()
    settings = chain.created["settings"]
    news = {**settings.outs, "skip_unavailable": skip_unavailable}
    RemoteClusterSettingsProvider().update(settings.id, settings.outs, news)
    result = RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=10))
    assert result.outs["connected"] is True
    info = requests.get(f"{env.local.url}/_remote/info", auth=("elastic", LOCAL_PASSWORD), timeout=5).json()[ALIAS]
    assert info["skip_unavailable"] is (skip_unavailable is not False)
