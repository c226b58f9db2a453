"""Two linked Elasticsearch emulators: a *remote* (with its remote cluster server stand-in) and a *local* that
gets keystore and trust pushed the way ECE pushes them. The local connects as a real node does: a settings change
or a credential added or removed makes one attempt, `_resolve/cluster` reuses the open connection or makes one,
and `_remote/info` only reports. A request crosses only when address, TLS server name, trusted CA, keystore
credential (alias, reload) and the key on the remote are all right; each single wrong part gives
`connected: false` and its own recorded reason."""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from components.elasticsearch.client import caller
from components.elasticsearch.remote_settings import rebuild_connection
from components.polling import wait_for
from emulators.certs import make_server, server_context
from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from emulators.elasticsearch.connect import Attempt, open_connection
from tests.support.certs import make_ca
from tests.support.es_spec import SpecCheckedSession

PASSWORD = "pair-password"
ALIAS = "eck"
# `indices.resolve_cluster` is not among the rest-api-spec files in ../shared/specs; its answer's shape is taken from
# TransportResolveClusterAction / ResolveClusterInfo and held against a real node in tests/reales.
UNSPECIFIED = ("GET /", "GET /_resolve/cluster/{name}")


@dataclass
class Node:
    emulator: ElasticsearchEmulator
    url: str
    api: SpecCheckedSession

    def control(self, method: str, what: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@dataclass
class Pair:
    local: Node
    remote: Node
    ca_out: Path

    @property
    def rcs(self) -> dict[str, Any]:
        return dict(self.remote.control("GET", "rcs"))

    def create_key(self, name: str = "eck-link") -> dict[str, Any]:
        body = {"name": name, "access": {"search": [{"names": ["logs-*"]}]}}
        response = self.remote.api.post("/_security/cross_cluster/api_key", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def configure(self, alias: str = ALIAS, *, address: str | None = None, server_name: str | None = None) -> None:
        rcs = self.rcs
        settings = {
            f"cluster.remote.{alias}.mode": "proxy",
            f"cluster.remote.{alias}.proxy_address": rcs["address"] if address is None else address,
            f"cluster.remote.{alias}.server_name": rcs["server_name"] if server_name is None else server_name,
        }
        response = self.local.api.put("/_cluster/settings", json={"persistent": settings})
        assert response.status_code == 200, response.text

    def trust(self, *pems: str) -> None:
        self.local.control("PUT", "trust", {"certificates": list(pems)})

    def keystore(self, secrets: dict[str, str], *, reload: bool = True) -> None:
        self.local.control("PUT", "keystore", {"secrets": secrets, "reload": reload})

    def link(self, alias: str = ALIAS) -> dict[str, Any]:
        """Everything right: key on the remote, settings, trusted CA and credential on the local."""
        key = self.create_key()
        self.configure(alias)
        self.trust(self.rcs["ca_pem"])
        self.keystore({f"cluster.remote.{alias}.credentials": key["encoded"]})
        self.settle()
        return key

    def resolve(self, alias: str = ALIAS) -> dict[str, Any]:
        """One cross-cluster request: over the open connection, or after one attempt."""
        response = self.local.api.get(f"/_resolve/cluster/{alias}:*")
        assert response.status_code == 200, response.text
        return dict(response.json()[alias])

    def rebuild(self, alias: str = ALIAS) -> None:
        """What the connection check does for a fresh handshake (`remote_settings.rebuild_connection`)."""
        local = caller({"kind": "direct", "url": self.local.url}, {"username": "elastic", "password": PASSWORD})
        rebuild_connection(local, alias)
        self.settle()

    def settle(self) -> None:
        self.local.emulator.connections.settle()

    def info(self, alias: str = ALIAS) -> dict[str, Any]:
        self.settle()
        response = self.local.api.get("/_remote/info")
        assert response.status_code == 200, response.text
        return dict(response.json()[alias])

    def connection(self, alias: str = ALIAS) -> dict[str, Any]:
        """What the local recorded about its last attempt (not part of the API answer)."""
        return dict(self.local.control("GET", "state")["remote_connections"][alias])


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node, Path]]:
    ca_out = tmp_path_factory.mktemp("rcs") / "ca.pem"
    with ExitStack() as stack:
        made = []
        for config in (
            Config(cluster_name="ece-local", elastic_password=PASSWORD),
            Config(cluster_name="eck-remote", elastic_password=PASSWORD, rcs_port=0, rcs_ca_out=str(ca_out)),
        ):
            emulator = ElasticsearchEmulator(config)
            stack.callback(emulator.close)
            handle = stack.enter_context(running(emulator))
            handle.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK stalls
            session = SpecCheckedSession(handle.url, auth=("elastic", PASSWORD), unspecified=UNSPECIFIED)
            stack.callback(session.close)
            made.append(Node(emulator, handle.url, session))
        yield made[0], made[1], ca_out


@pytest.fixture
def pair(nodes: tuple[Node, Node, Path]) -> Pair:
    local, remote, ca_out = nodes
    local.emulator.reset()
    remote.emulator.reset()
    return Pair(local, remote, ca_out)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- all right ----------------------------------------------------------------------------------------------
def test_connected_when_everything_is_right(pair: Pair) -> None:
    key = pair.link()
    resolved = pair.resolve()
    assert resolved["connected"] is True and resolved["skip_unavailable"] is True
    assert resolved["version"]["number"] == str(pair.remote.emulator.version)
    info = pair.info()
    assert info["connected"] is True and info["num_proxy_sockets_connected"] == 18
    assert info["cluster_credentials"] == "::es_redacted::"
    assert "reason" not in info and "code" not in info  # the reason lives in the emulator state only
    assert pair.connection()["code"] == "connected"
    # one connection: opened when the credential was loaded, reused by the resolve (the server logs it on close)
    assert pair.rcs["open_connections"] == 1
    pair.rebuild()

    def logged() -> dict[str, Any] | None:
        found = [e for e in pair.rcs["events"] if e["result"] == "ok" and e["requests"] == 2]
        return found[0] if found else None

    event = wait_for(logged, timeout=5, describe=lambda: f"no such event in {pair.rcs['events']}")
    assert event["key_id"] == key["id"]
    assert event["sni"] == pair.rcs["server_name"] == "eck-remote-es-remote-cluster.default.svc"


def test_remote_info_makes_no_attempt(pair: Pair) -> None:
    """As on a real 8.19.21 node: configured while the remote was down, `_remote/info` stays disconnected after the
    remote comes up, until a cross-cluster request makes an attempt."""
    pair.remote.control("PUT", "rcs", {"state": "down"})
    pair.link()
    assert pair.info()["connected"] is False
    pair.remote.control("PUT", "rcs", {"state": "up"})
    for _ in range(3):
        assert pair.info()["connected"] is False
    assert pair.resolve()["connected"] is True
    assert pair.info()["connected"] is True


def test_a_settings_change_makes_one_attempt(pair: Pair) -> None:
    pair.link()
    pair.settle()
    before = pair.connection()["checks"]
    localhost = f"localhost:{pair.rcs['port']}"
    pair.configure(address=localhost)  # a changed strategy: the connection is rebuilt
    assert pair.info()["connected"] is True
    assert pair.connection()["checks"] == before + 1
    pair.configure(address=localhost)  # unchanged: nothing happens
    assert pair.info()["connected"] is True and pair.connection()["checks"] == before + 1


def test_an_open_connection_outlives_a_change_of_trusted_ca(pair: Pair) -> None:
    """The TLS handshake is per connection: a CA no longer trusted shows only when the connection is rebuilt."""
    pair.link()
    assert pair.resolve()["connected"] is True
    pair.trust(make_ca("not-the-remote-ca").certificate_pem)
    assert pair.resolve()["connected"] is True
    pair.rebuild()
    assert pair.resolve()["connected"] is False and pair.connection()["code"] == "tls_untrusted"


def test_a_key_invalidated_under_an_open_connection_fails_the_next_request(pair: Pair) -> None:
    pair.link()
    assert pair.resolve()["connected"] is True
    key_invalidated(pair)
    resolved = pair.resolve()
    assert resolved["connected"] is False and "invalidated" in resolved["error"]
    assert pair.info()["connected"] is True  # the socket stays open: `_remote/info` cannot tell


def test_an_empty_server_name_fails_when_the_certificate_names_only_the_service(pair: Pair) -> None:
    """ECK's certificates name the Service, not the load balancer's address: without SNI the dialled host is checked."""
    pair.link()
    pair.configure(server_name="")
    assert pair.resolve()["connected"] is False
    assert pair.connection()["code"] == "tls_hostname_mismatch" and "[127.0.0.1]" in pair.connection()["reason"]


@pytest.mark.parametrize(
    ("server_name", "host", "connects"),
    [
        ("service.es.test", "127.0.0.1", True),
        ("typo.es.test", "127.0.0.1", True),  # the dialled IP is in the certificate
        ("", "127.0.0.1", True),
        ("service.es.test", "localhost", True),
        ("typo.es.test", "localhost", False),  # neither name is
        ("", "localhost", False),
    ],
)
def test_the_identity_is_the_server_name_or_else_the_dialled_host(server_name: str, host: str, connects: bool) -> None:
    """As Java checks a client session (X509TrustManagerImpl.checkIdentity): the SNI name first, then the host dialled.
    Seen on a real 8.19.21 node: a wrong `server_name` still connects when the dialled IP is in the certificate."""
    ca = make_ca("identity-ca")
    server = make_server(ca, "service.es.test", ip="127.0.0.1")
    listener = socket.create_server(("127.0.0.1", 0))
    context = server_context(server)

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    address = f"{host}:{listener.getsockname()[1]}"
    try:
        plan = Attempt(proxy_address=address, server_name=server_name, trusted=(ca.certificate_pem,), credential=None)
        outcome, live = open_connection(plan)
        if live is not None:
            live.close()
    finally:
        listener.close()
    assert outcome.connected is connects, outcome


def test_two_aliases_to_the_same_remote(pair: Pair) -> None:
    first = pair.link("eck")
    pair.configure("eck2")
    pair.keystore(
        {"cluster.remote.eck.credentials": first["encoded"], "cluster.remote.eck2.credentials": first["encoded"]}
    )
    resolved = pair.local.api.get("/_resolve/cluster/eck*:*").json()
    assert resolved["eck"]["connected"] is True and resolved["eck2"]["connected"] is True


# --- one wrong part at a time -------------------------------------------------------------------------------
def wrong_port(pair: Pair) -> None:
    pair.configure(address=f"127.0.0.1:{closed_port()}")


def wrong_server_name(pair: Pair) -> None:
    pair.configure(server_name="someone-else-es-remote-cluster.default.svc")


def wrong_ca(pair: Pair) -> None:
    pair.trust(make_ca("not-the-remote-ca").certificate_pem)


def missing_ca(pair: Pair) -> None:
    pair.trust()


def key_invalidated(pair: Pair) -> None:
    key_id = pair.remote.emulator.api_keys.state()[0]["id"]
    pair.remote.api.delete("/_security/api_key", json={"ids": [key_id]})


def alias_mismatch(pair: Pair) -> None:
    encoded = pair.remote.emulator.api_keys.state()[0]["encoded"]
    pair.keystore({"cluster.remote.other.credentials": encoded})


def not_reloaded(pair: Pair) -> None:
    encoded = pair.create_key("second")["encoded"]
    pair.keystore({}, reload=True)
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": encoded}, reload=False)


BREAKAGES: dict[str, tuple[Callable[[Pair], None], str, str]] = {
    "wrong port": (wrong_port, "connect_failed", "cannot connect to [127.0.0.1:"),
    "wrong server name": (wrong_server_name, "tls_hostname_mismatch", "someone-else-es-remote-cluster.default.svc"),
    "wrong CA": (wrong_ca, "tls_untrusted", "not trusted by the 1 pushed CA(s)"),
    "missing CA": (missing_ca, "tls_untrusted", "no trusted CA certificates were pushed"),
    "key invalidated": (key_invalidated, "credentials_rejected", "has been invalidated"),
    "alias mismatch": (alias_mismatch, "credentials_missing", "holds credentials for [other]"),
    "keystore not reloaded": (not_reloaded, "credentials_not_reloaded", "was not reloaded"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_each_wrong_part_disconnects_with_its_reason(pair: Pair, breakage: str) -> None:
    pair.link()
    assert pair.resolve()["connected"] is True
    breaker, code, reason = BREAKAGES[breakage]
    breaker(pair)
    pair.rebuild()  # a fresh handshake, as the connection check makes
    assert pair.resolve()["connected"] is False
    assert pair.info()["connected"] is False and pair.info()["num_proxy_sockets_connected"] == 0
    recorded = pair.connection()
    assert recorded["connected"] is False
    assert recorded["code"] == code and reason in recorded["reason"], recorded
    assert recorded["last_failure"]["code"] == code


def test_every_wrong_part_has_a_distinct_reason(pair: Pair) -> None:
    reasons = {}
    for name, (breaker, _code, _reason) in BREAKAGES.items():
        pair.local.emulator.reset()
        pair.remote.emulator.reset()
        pair.link()
        breaker(pair)
        pair.rebuild()
        assert pair.resolve()["connected"] is False, name
        reasons[name] = (pair.connection()["code"], pair.connection()["reason"])
    assert len(set(reasons.values())) == len(BREAKAGES), reasons


def test_a_pending_keystore_counts_only_after_a_reload(pair: Pair) -> None:
    key = pair.create_key()
    pair.configure()
    pair.trust(pair.rcs["ca_pem"])
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": key["encoded"]}, reload=False)
    assert pair.info()["connected"] is False and "cluster_credentials" not in pair.info()
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": key["encoded"]}, reload=True)
    assert pair.info()["connected"] is True


def test_reload_secure_settings_loads_the_pending_credential(pair: Pair) -> None:
    key = pair.create_key()
    pair.configure()
    pair.trust(pair.rcs["ca_pem"])
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": key["encoded"]}, reload=False)
    assert pair.info()["connected"] is False
    assert pair.local.api.post("/_nodes/reload_secure_settings").status_code == 200
    assert pair.info()["connected"] is True


def test_fixing_the_wrong_part_reconnects_without_stale_state(pair: Pair) -> None:
    pair.link()
    wrong_server_name(pair)
    assert pair.info()["connected"] is False
    pair.configure()
    assert pair.info()["connected"] is True
    recorded = pair.connection()
    assert recorded["code"] == "connected" and recorded["last_failure"]["code"] == "tls_hostname_mismatch"


def test_an_expired_key_is_rejected_by_the_remote(pair: Pair) -> None:
    key = pair.remote.api.post(
        "/_security/cross_cluster/api_key",
        json={"name": "short", "access": {"search": [{"names": ["a"]}]}, "expiration": "1h"},
    ).json()
    pair.configure()
    pair.trust(pair.rcs["ca_pem"])
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": key["encoded"]})
    assert pair.info()["connected"] is True
    pair.remote.control("PUT", "clock", {"offset_ms": 2 * 3_600_000})
    assert pair.resolve()["connected"] is False
    assert pair.connection()["code"] == "credentials_rejected" and "is expired" in pair.connection()["reason"]


def test_a_credential_with_a_wrong_secret_is_rejected(pair: Pair) -> None:
    key = pair.link()
    forged = base64.b64encode(f"{key['id']}:not-the-secret".encode()).decode()
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": forged})  # same alias: the connection stays open
    assert pair.resolve()["connected"] is False
    assert pair.connection()["reason"].endswith(f"invalid credentials for API key [{key['id']}]")


def test_updating_the_key_access_keeps_the_connection(pair: Pair) -> None:
    key = pair.link()
    body = {"access": {"replication": [{"names": ["archive-*"]}]}}
    assert pair.remote.api.put(f"/_security/cross_cluster/api_key/{key['id']}", json=body).json() == {"updated": True}
    assert pair.info()["connected"] is True


def test_removing_the_remote_settings_removes_it_from_remote_info(pair: Pair) -> None:
    pair.link()
    assert pair.info()["connected"] is True
    pair.local.api.put("/_cluster/settings", json={"persistent": {f"cluster.remote.{ALIAS}.*": None}})
    assert pair.local.api.get("/_remote/info").json() == {}
    assert pair.local.control("GET", "state")["remote_connections"] == {}


# --- the remote cluster server: CA rotation, refuse, stop ---------------------------------------------------
def test_ca_rotation_breaks_the_connection_until_the_new_ca_is_trusted(pair: Pair) -> None:
    pair.link()
    old_ca = pair.rcs["ca_pem"]
    assert pair.ca_out.read_text() == old_ca
    rotated = pair.remote.control("POST", "rcs/rotate_ca")
    new_ca = rotated["ca_pem"]
    assert new_ca != old_ca and rotated["rotations"] >= 1
    assert pair.ca_out.read_text() == new_ca
    assert pair.resolve()["connected"] is True  # the open connection was handshaken before the rotation
    pair.rebuild()
    assert pair.resolve()["connected"] is False and pair.connection()["code"] == "tls_untrusted"
    for trusted, connects in (((old_ca, new_ca), True), ((new_ca,), True), ((old_ca,), False)):
        pair.trust(*trusted)  # during a rotation both are trusted
        pair.rebuild()
        assert pair.resolve()["connected"] is connects, trusted


def test_a_refusing_or_stopped_remote_cluster_server(pair: Pair) -> None:
    pair.link()
    assert pair.info()["connected"] is True
    pair.remote.control("PUT", "rcs", {"state": "refuse"})  # the remote's connections end with it
    assert pair.info()["connected"] is False
    assert pair.resolve()["connected"] is False and pair.connection()["code"] == "tls_handshake_failed"
    pair.remote.control("PUT", "rcs", {"state": "down"})
    assert pair.resolve()["connected"] is False and pair.connection()["code"] == "connect_failed"
    state = pair.remote.control("PUT", "rcs", {"state": "up"})
    assert state["state"] == "up" and state["address"] == pair.rcs["address"]  # same port again
    assert pair.info()["connected"] is False  # nothing reconnects by itself
    assert pair.resolve()["connected"] is True and pair.info()["connected"] is True


def test_a_bad_state_for_the_remote_cluster_server_is_refused(pair: Pair) -> None:
    response = requests.put(f"{pair.remote.url}/_emulator/rcs", json={"state": "sideways"}, timeout=5)
    assert response.status_code == 400 and "state must be one of" in response.json()["error"]


def test_the_remote_cluster_server_can_serve_from_an_adopted_ca(pair: Pair) -> None:
    """ECK issues its nodes' certificates from its transport CA; the stand-in can do the same with a given CA."""
    from tests.support.certs import make_ca

    ca = make_ca("eck-operator-transport-ca")
    pair.remote.control("PUT", "rcs/ca", {"certificate": ca.certificate_pem, "key": ca.key_pem})
    assert pair.rcs["ca_pem"] == ca.certificate_pem
    pair.configure()
    pair.trust(ca.certificate_pem)
    pair.keystore({f"cluster.remote.{ALIAS}.credentials": pair.create_key()["encoded"]})
    assert pair.info()["connected"] is True
    pair.trust(make_ca("another").certificate_pem)
    pair.rebuild()
    assert pair.resolve()["connected"] is False


def test_the_elastic_password_can_be_set_as_eck_would_generate_it(pair: Pair) -> None:
    pair.remote.control("PUT", "elastic-password", {"password": "generated-by-eck-0123"})
    ok = requests.get(f"{pair.remote.url}/_security/api_key", auth=("elastic", "generated-by-eck-0123"), timeout=5)
    assert ok.status_code == 200
    old = requests.get(f"{pair.remote.url}/_security/api_key", auth=("elastic", "changeme"), timeout=5)
    assert old.status_code == 401


def test_a_rebuild_makes_a_fresh_handshake_and_leaves_the_settings_as_they_were(pair: Pair) -> None:
    pair.link()
    before = pair.local.api.get("/_cluster/settings", params={"flat_settings": "true"}).json()
    checks = pair.connection()["checks"]
    pair.rebuild()
    assert pair.connection()["checks"] >= checks + 1  # the connection was opened again
    after = pair.local.api.get("/_cluster/settings", params={"flat_settings": "true"}).json()
    assert after == before
    assert f"cluster.remote.{ALIAS}.proxy_socket_connections" not in after["persistent"]
