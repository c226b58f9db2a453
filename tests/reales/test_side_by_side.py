"""The emulator against a real Elasticsearch 8.19.21, side by side.

1. The Elasticsearch API: each scenario is a short sequence of requests, run once on a pair of emulated 8.19.21
   clusters and once on the real pair; the two transcripts (tests/reales/side_by_side.py normalises ids, secrets,
   timestamps, node and cluster names) must be equal, request by request.
2. The providers: the same provider-level assertions, parametrized over [emulator 8.19.21, real node]."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from components.elasticsearch import api_key
from components.elasticsearch.api_key import (
    LICENCE_REMEDY,
    CrossClusterApiKeyAccessProvider,
    CrossClusterApiKeyProvider,
    LicenceError,
)
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.elasticsearch.roles import RemoteRoleProvider
from tests.real_nodes import RealNodes
from tests.reales.side_by_side import EmulatorNode, Requester, Transcript, emulator_pair, licence_placeholders
from tools.real_elasticsearch import RealNode, running_nodes

ALIAS = "sbs_remote"
ROLE = "sbs-role"
UNKNOWN_KEY_ID = "sbsUnknownKeyId00000"  # the shape of a key id (20 characters); no cluster has it
ACCESS = {"search": [{"names": ["logs-*", "metrics-*"]}], "replication": [{"names": ["archive-*"]}]}
NEW_ACCESS = {
    "search": [{"names": ["logs-*"], "query": {"term": {"team": "search"}}, "field_security": {"grant": ["*"]}}]
}


def closed_address() -> str:
    """An address on loopback where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


CLOSED = closed_address()  # one for the module: both runs of a scenario must send the same address


# --- 1. the API, side by side ----------------------------------------------------------------------------------
def api_keys(t: Transcript) -> None:
    created = t.call(
        "remote",
        "POST",
        "/_security/cross_cluster/api_key",
        {"name": "sbs-key", "access": ACCESS, "expiration": "1d", "metadata": {"team": "search", "tags": ["a", "b"]}},
    )
    key_id = created["id"]
    for name in ("sbs-*", "_sbs-*"):  # whatever a create made, should one that ought to fail succeed
        t.on_exit(partial(t.clusters["remote"].request, "DELETE", "/_security/api_key", json={"name": name}))
    get = ("GET", "/_security/api_key")
    update = ("PUT", f"/_security/cross_cluster/api_key/{key_id}")
    t.call("remote", *get, params={"id": key_id})
    t.call("remote", *update, {"access": NEW_ACCESS, "metadata": {"team": "logs"}})
    t.call("remote", *get, params={"id": key_id})
    t.call("remote", *update, {"access": NEW_ACCESS, "metadata": {"team": "logs"}})  # nothing changed
    t.call("remote", *update, {"metadata": {"team": "logs", "tier": 2}})  # metadata only
    t.call("remote", *update, {"access": NEW_ACCESS, "certificate_identity": "CN=.*"})  # 9.3+ only
    t.call("remote", *update, {})
    t.call("remote", "PUT", f"/_security/cross_cluster/api_key/{UNKNOWN_KEY_ID}", {"access": NEW_ACCESS})
    t.call("remote", "DELETE", "/_security/api_key", {"ids": [key_id]})
    t.call("remote", *get, params={"id": key_id})
    t.call("remote", *update, {"access": ACCESS})  # invalidated
    t.call("remote", "DELETE", "/_security/api_key", {"ids": [key_id]})  # already invalidated
    t.call("remote", "DELETE", "/_security/api_key", {"ids": [UNKNOWN_KEY_ID]})
    t.call("remote", *get, params={"id": UNKNOWN_KEY_ID})
    # refused creates (none makes a key)
    create = ("POST", "/_security/cross_cluster/api_key")
    t.call("remote", *create, {"access": ACCESS})
    t.call("remote", *create, {"name": "sbs-key"})
    t.call("remote", *create, {"name": "sbs-key", "access": {}})
    t.call("remote", *create, {"name": "sbs-key", "access": {"search": [], "replication": []}})
    t.call(
        "remote",
        *create,
        {"name": "sbs-key", "access": {"replication": [{"names": ["a"], "field_security": {"grant": ["*"]}}]}},
    )
    t.call(
        "remote",
        *create,
        {
            "name": "sbs-key",
            "access": {"search": [{"names": ["a"], "query": {"match_all": {}}}], "replication": [{"names": ["b"]}]},
        },
    )
    t.call("remote", *create, {"name": "sbs-key", "access": ACCESS, "certificate_identity": "CN=.*"})
    t.call("remote", *create, {"name": "_sbs-key", "access": ACCESS})
    t.call("remote", *create, {"name": "sbs-key", "access": ACCESS, "metadata": {"_internal": 1}})
    t.call("remote", *create, {"name": "sbs-key", "access": ACCESS, "unknown": 1})
    t.call("remote", *create, {"name": "sbs-key", "access": {"search": [{"names": ["a"], "bogus": 1}]}})
    t.call("remote", *update, {"access": {"search": [{"names": ["a"], "bogus": 1}]}})
    t.call(
        "remote",
        *create,
        {"name": "sbs-key", "access": {"replication": [{"names": ["a"], "field_security": {"except": []}}]}},
    )
    for field_security in ({"grant": ["f"]}, {"grant": ["*"], "except": ["x"]}, {"grant": []}):
        t.call(
            "remote",
            *create,
            {"name": "sbs-key", "access": {"replication": [{"names": ["a"], "field_security": field_security}]}},
        )
    # `grant: ["*"]` alone is no field level security: allowed on replication, and on search next to replication
    fls_star = {"names": ["a"], "field_security": {"grant": ["*"]}}
    star = t.call("remote", *create, {"name": "sbs-star", "access": {"search": [fls_star], "replication": [fls_star]}})
    t.call("remote", *get, params={"id": star["id"]})
    t.call("remote", "DELETE", "/_security/api_key", {"ids": [star["id"]]})


def proxy_settings(t: Transcript) -> None:
    prefix = f"cluster.remote.{ALIAS}"
    put = ("PUT", "/_cluster/settings")
    t.on_exit(lambda: t.clusters["local"].request(*put, json={"persistent": {f"{prefix}.*": None}}))
    address = CLOSED
    t.call("local", *put, {"persistent": {f"{prefix}.proxy_address": address}})  # sniff mode: refused
    t.call("local", *put, {"persistent": {f"{prefix}.skip_unavailable": True}})  # not enabled: refused
    t.call("local", *put, {"persistent": {f"{prefix}.foo": "bar"}})
    t.call("local", *put, {"persistent": {f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": "no-port"}})
    valid = {
        f"{prefix}.mode": "proxy",
        f"{prefix}.proxy_address": address,
        f"{prefix}.server_name": "remote-es-remote-cluster.default.svc",
        f"{prefix}.skip_unavailable": False,
        f"{prefix}.proxy_socket_connections": 3,
    }
    t.call("local", *put, {"persistent": valid})
    t.call("local", *put, {"persistent": valid}, params={"flat_settings": "true"})
    t.call("local", "GET", "/_cluster/settings", params={"flat_settings": "true"})
    t.call("local", "GET", "/_cluster/settings")
    t.call("local", *put, {"persistent": {f"{prefix}.proxy_address": None}})  # skip_unavailable still needs it
    t.call("local", *put, {"persistent": dict.fromkeys(valid)})
    t.call("local", "GET", "/_cluster/settings", params={"flat_settings": "true"})
    t.call("local", *put, {"persistent": {"cluster": {"remote": {ALIAS: {"mode": "proxy", "proxy_address": address}}}}})
    t.call("local", *put, {"persistent": {f"{prefix}.*": None}})
    t.call("local", "GET", "/_cluster/settings", params={"flat_settings": "true"})


def roles(t: Transcript) -> None:
    t.on_exit(lambda: t.clusters["local"].request("DELETE", f"/_security/role/{ROLE}"))
    role = {
        "cluster": ["monitor"],
        "remote_indices": [
            {"clusters": [ALIAS], "names": ["logs-*"], "privileges": ["read", "read_cross_cluster"]},
        ],
        "remote_cluster": [{"clusters": [ALIAS], "privileges": ["monitor_enrich"]}],
        "metadata": {"managed_by": "sbs"},
    }
    path = f"/_security/role/{ROLE}"
    t.call("local", "PUT", path, role)
    changed = {**role, "remote_indices": [{**role["remote_indices"][0], "query": {"term": {"team": "a"}}}]}
    t.call("local", "PUT", path, changed)
    t.call("local", "GET", path)
    bad_cluster = {**role, "remote_cluster": [{"clusters": [ALIAS], "privileges": ["monitor", "manage"]}]}
    t.call("local", "PUT", path, bad_cluster)
    t.call("local", "PUT", path, {"remote_indices": [{"names": ["logs-*"], "privileges": ["read"]}]})
    t.call("local", "PUT", path, {"remote_cluster": [{"privileges": ["monitor_enrich"]}]})
    t.call("local", "PUT", path, {"remote_cluster": [{"clusters": [ALIAS]}]})
    t.call("local", "PUT", path, {"remote_cluster": [{}]})
    # the short forms: only an entry's `names` takes a single string; a `query` object is kept as its JSON text, a
    # query string as it is given, an empty one dropped
    short = {
        "indices": [
            {
                "names": "logs-*",
                "privileges": ["read"],
                "query": {"term": {"team": "a"}},
                "field_security": {"grant": ["*"], "except": ["secret"]},
            },
            {"names": ["a"], "privileges": ["read"], "query": ""},
        ],
        "remote_indices": [
            {"clusters": [ALIAS], "names": "logs-*", "privileges": ["read"], "query": '{ "term" : {"team": "a"} }'}
        ],
    }
    t.call("local", "PUT", path, short)
    t.call("local", "GET", path)
    entry = {"names": ["a"], "privileges": ["read"]}
    for refused in (
        {"cluster": "monitor"},
        {"run_as": "u"},
        {"indices": [{**entry, "privileges": "read"}]},
        {"indices": [{**entry, "field_security": {"grant": "a*"}}]},
        {"indices": [{**entry, "field_security": {}}]},
        {"remote_indices": [{**entry, "clusters": ALIAS}]},
        {"remote_cluster": [{"clusters": ALIAS, "privileges": ["monitor_enrich"]}]},
        {"remote_cluster": [{"clusters": [ALIAS], "privileges": "monitor_enrich"}]},
    ):
        t.call("local", "PUT", path, refused)
    t.call("local", "DELETE", path)
    t.call("local", "DELETE", path)
    t.call("local", "GET", path)


def remote_info(t: Transcript) -> None:
    prefix = f"cluster.remote.{ALIAS}"
    put = ("PUT", "/_cluster/settings")
    t.on_exit(lambda: t.clusters["local"].request(*put, json={"persistent": {f"{prefix}.*": None}}))
    t.call("local", "GET", "/_remote/info")
    settings = {f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": CLOSED}
    t.call("local", *put, {"persistent": settings})
    t.call("local", "GET", "/_remote/info")
    t.call("local", "GET", f"/_resolve/cluster/{ALIAS}:*")
    t.call("local", "GET", "/_resolve/cluster/sbs_nobody:*")
    t.call("local", "GET", "/_resolve/cluster/sbs_nobody*:*")  # a pattern that matches nothing
    t.call("local", "GET", "/_remote/info")
    t.call("local", "POST", "/_nodes/reload_secure_settings", {})
    t.call("local", *put, {"persistent": {f"{prefix}.*": None}})
    t.call("local", "GET", "/_remote/info")


def licence(t: Transcript) -> None:
    t.call("remote", "GET", "/_license", adjust=licence_placeholders)
    t.call(
        "local", "GET", "/_license", params={"local": "true", "accept_enterprise": "true"}, adjust=licence_placeholders
    )


SCENARIOS: dict[str, Callable[[Transcript], None]] = {
    "api_keys": api_keys,
    "proxy_settings": proxy_settings,
    "roles": roles,
    "remote_info": remote_info,
    "licence": licence,
}


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, EmulatorNode]]:
    with emulator_pair() as pair:
        yield pair


def run(scenario: Callable[[Transcript], None], clusters: dict[str, Requester], *, emulated: bool) -> list[str]:
    # The harness names node and cluster alike ("local"); the emulator's node is "<cluster>-es-default-0".
    # (`GET /`, where a test could read them, is not served by the harness's node: its build has no rest-root module.)
    names = {name: [name, f"{name}-es-default-0" if emulated else name] for name in clusters}
    transcript = Transcript(clusters, names)
    try:
        scenario(transcript)
    finally:
        transcript.close()
    return transcript.render()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_emulator_answers_as_the_real_node(
    scenario: str, emulators: dict[str, EmulatorNode], nodes_left_as_found: RealNodes
) -> None:
    for node in emulators.values():
        node.emulator.reset()
    emulated = run(SCENARIOS[scenario], dict(emulators), emulated=True)
    real = run(
        SCENARIOS[scenario], {"local": nodes_left_as_found.local, "remote": nodes_left_as_found.remote}, emulated=False
    )
    assert emulated == real


def basic_licence(t: Transcript) -> None:
    """On a basic licence: both key routes answer 403 before the request is read; reading keys works."""
    t.call("remote", "GET", "/_license", adjust=licence_placeholders)
    create = ("POST", "/_security/cross_cluster/api_key")
    t.call("remote", *create, {"name": "sbs-key", "access": ACCESS})
    t.call("remote", *create, {"name": "sbs-key", "colour": "red"})
    t.call("remote", *create, {"name": "sbs-key", "access": ACCESS}, params={"colour": "red"})
    t.call("remote", "PUT", f"/_security/cross_cluster/api_key/{UNKNOWN_KEY_ID}", {"metadata": {}})
    t.call("remote", "GET", "/_security/api_key", params={"name": "sbs-*"})


@pytest.fixture(scope="module")
def basic_remote() -> Iterator[RealNode]:
    """A real node of its own on a basic licence (the shared nodes keep their trial: a cluster starts a trial once)."""
    with running_nodes(1, names=["remote"]) as (node,):
        started = node.request("POST", "/_license/start_basic", params={"acknowledge": "true"})
        assert started.json() == {"acknowledged": True, "basic_was_started": True}, started.text
        yield node


def test_on_a_basic_licence_the_emulator_answers_as_the_real_node(
    emulators: dict[str, EmulatorNode], basic_remote: RealNode
) -> None:
    emulators["remote"].emulator.reset()
    emulators["remote"].control("PUT", "license", {"type": "basic"})
    emulated = run(basic_licence, {"remote": emulators["remote"]}, emulated=True)
    real = run(basic_licence, {"remote": basic_remote}, emulated=False)
    assert emulated == real


# --- 2. the providers, on either ------------------------------------------------------------------------------
class Clusters:
    """The local and remote cluster of one side, as a provider reaches them."""

    def __init__(self, local: Any, remote: Any, *, ca: dict[str, str | None]) -> None:
        self.nodes = {"local": local, "remote": remote}
        self.ca = ca

    def target(self, which: str) -> dict[str, Any]:
        node = self.nodes[which]
        url = node.http_url if hasattr(node, "http_url") else node.url
        return {"kind": "direct", "url": url, "ca_certificate": self.ca[which], "insecure": False}

    def credentials(self, which: str) -> dict[str, Any]:
        return {"username": "elastic", "password": self.nodes[which].password}

    def props(self, which: str, **extra: Any) -> dict[str, Any]:
        return {"target": self.target(which), "credentials": self.credentials(which), **extra}

    def get(self, which: str, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.nodes[which].request("GET", path, params=params)
        return response.status_code, response.json()


@pytest.fixture(params=["emulator", "real"])
def clusters(request: pytest.FixtureRequest, emulators: dict[str, EmulatorNode]) -> Iterator[Clusters]:
    if request.param == "emulator":
        for node in emulators.values():
            node.emulator.reset()
        yield Clusters(emulators["local"], emulators["remote"], ca={"local": None, "remote": None})
    else:
        nodes: RealNodes = request.getfixturevalue("nodes_left_as_found")
        yield Clusters(nodes.local, nodes.remote, ca={"local": nodes.local.ca_pem, "remote": nodes.remote.ca_pem})


def checked(provider: Any, news: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, news)
    assert result.failures == []
    return dict(result.inputs)


def test_api_key_provider_create_read_update_access_delete(clusters: Clusters) -> None:
    keys, accesses = CrossClusterApiKeyProvider(), CrossClusterApiKeyAccessProvider()
    news = clusters.props(
        "remote",
        name="sbs-provider-key",
        access={"search": [{"names": ["logs-*"]}]},
        expiration=None,
        metadata={"team": "search"},
        certificate_identity=None,
        rotation=None,
    )
    props = checked(keys, news)
    created = keys.create(props)
    try:
        key_id = created.id
        assert created.outs["key_id"] == key_id and created.outs["encoded"]
        read = keys.read(key_id, created.outs)
        assert read.id == key_id and read.outs["name"] == "sbs-provider-key"

        access_news = {
            **clusters.props("remote"),
            "key_id": key_id,
            "access": {"search": [{"names": ["logs-*"]}]},
            "expiration": None,
            "metadata": {"team": "search"},
            "certificate_identity": None,
            "rotation": None,
        }
        old = checked(accesses, access_news)
        first = accesses.create(old)
        new = checked(
            accesses,
            {
                **access_news,
                "access": {"search": [{"names": ["metrics-*"]}], "replication": [{"names": ["archive-*"]}]},
            },
        )
        accesses.update(first.id, first.outs or old, new)
        status, body = clusters.get("remote", "/_security/api_key", {"id": key_id})
        [live] = body["api_keys"]
        assert status == 200 and live["id"] == key_id and live["invalidated"] is False
        assert live["access"] == {
            "search": [{"names": ["metrics-*"], "allow_restricted_indices": False}],
            "replication": [{"names": ["archive-*"], "allow_restricted_indices": False}],
        }
        assert accesses.read(first.id, new).outs["access"] == new["access"]
    finally:
        keys.delete(created.id, created.outs)
    status, body = clusters.get("remote", "/_security/api_key", {"id": created.id})
    assert status == 200 and body["api_keys"][0]["invalidated"] is True
    assert keys.read(created.id, created.outs).id == ""


def test_remote_settings_provider_create_read_update_delete(clusters: Clusters) -> None:
    provider = RemoteClusterSettingsProvider()
    news = clusters.props(
        "local",
        alias=ALIAS,
        proxy_address=CLOSED,
        server_name="remote-es-remote-cluster.default.svc",
        proxy_socket_connections=None,
        skip_unavailable=None,
    )
    props = checked(provider, news)
    created = provider.create(props)
    try:
        assert created.outs["mode"] == "proxy" and created.outs["proxy_address"] == CLOSED
        read = provider.read(created.id, created.outs)
        assert read.inputs == {key: created.outs[key] for key in read.inputs}  # no drift
        assert provider.diff(created.id, created.outs, {**props, **read.inputs}).changes is False
        status, info = clusters.get("local", "/_remote/info")
        assert status == 200 and info[ALIAS]["skip_unavailable"] is True  # the default since 8.15
        new = checked(provider, {**news, "proxy_socket_connections": 3, "skip_unavailable": False})
        updated = provider.update(created.id, created.outs, new)
        assert updated.outs["proxy_socket_connections"] == 3 and updated.outs["skip_unavailable"] is False
        assert provider.read(created.id, updated.outs).inputs == {k: updated.outs[k] for k in read.inputs}
    finally:
        provider.delete(created.id, props)
    status, settings = clusters.get("local", "/_cluster/settings", {"flat_settings": "true"})
    assert [key for key in settings["persistent"] if key.startswith(f"cluster.remote.{ALIAS}.")] == []
    assert provider.read(created.id, created.outs).id == ""


def test_remote_role_provider_create_read_delete(clusters: Clusters) -> None:
    provider = RemoteRoleProvider()
    role = {
        "remote_indices": [{"clusters": [ALIAS], "names": ["logs-*"], "privileges": ["read", "read_cross_cluster"]}],
        "remote_cluster": [{"clusters": [ALIAS], "privileges": ["monitor_enrich"]}],
    }
    props = checked(provider, clusters.props("local", role_name=ROLE, role=role))
    created = provider.create(props)
    try:
        read = provider.read(created.id, created.outs)
        assert read.inputs is not None and read.inputs["role"] == props["role"]  # no drift
        status, live = clusters.get("local", f"/_security/role/{ROLE}")
        assert status == 200 and live[ROLE]["metadata"] == {"managed_by": "ece-eck-remote"}
    finally:
        provider.delete(created.id, props)
    assert clusters.get("local", f"/_security/role/{ROLE}") == (404, {})
    assert provider.read(created.id, created.outs).id == ""


def test_remote_role_provider_short_form_shows_no_change(clusters: Clusters) -> None:
    """`names` as a string and `query` as an object: normalised as Elasticsearch answers them, so a refresh sees no
    change."""
    provider = RemoteRoleProvider()
    query = {"bool": {"must_not": [{"term": {"tier": "x"}}], "filter": [{"term": {"team": "a"}}]}}
    role = {
        "indices": [{"names": "logs-*", "privileges": ["read"], "query": query}],
        "remote_indices": [
            {"clusters": [ALIAS], "names": "logs-*", "privileges": ["read"], "query": {"term": {"public": True}}}
        ],
    }
    props = checked(provider, clusters.props("local", role_name=ROLE, role=role))
    created = provider.create(props)
    try:
        read = provider.read(created.id, created.outs)
        assert read.inputs is not None and read.inputs["role"] == props["role"]
        assert not provider.diff(created.id, read.outs, props).changes
        status, live = clusters.get("local", f"/_security/role/{ROLE}")
        [entry] = live[ROLE]["indices"]
        assert status == 200 and entry["names"] == ["logs-*"]
        assert entry["query"] == '{"bool":{"filter":[{"term":{"team":"a"}}],"must_not":[{"term":{"tier":"x"}}]}}'
    finally:
        provider.delete(created.id, props)


@pytest.mark.parametrize("side", ["emulator", "real"])
def test_api_key_provider_names_the_licence_on_a_basic_cluster(
    side: str, request: pytest.FixtureRequest, emulators: dict[str, EmulatorNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    node: Any
    if side == "emulator":
        node = emulators["remote"]
        node.emulator.reset()
        node.control("PUT", "license", {"type": "basic"})
        url, ca = node.url, None
    else:
        node = request.getfixturevalue("basic_remote")
        url, ca = node.http_url, node.ca_pem
    provider = CrossClusterApiKeyProvider()
    news = {
        "target": {"kind": "direct", "url": url, "ca_certificate": ca, "insecure": False},
        "credentials": {"username": "elastic", "password": node.password},
        "name": "sbs-provider-key",
        "access": {"search": [{"names": ["logs-*"]}]},
        "expiration": None,
        "metadata": None,
        "certificate_identity": None,
        "rotation": None,
        "ready_timeout_seconds": 30,
    }
    props = checked(provider, news)
    operation = "Elasticsearch API create cross-cluster API key sbs-provider-key failed"
    with pytest.raises(LicenceError) as read_first:
        provider.create(props)
    assert str(read_first.value) == f"{operation}: {url} has a basic licence (active): {LICENCE_REMEDY}"
    # the licence changes between the check and the create: Elasticsearch's own 403, the same advice
    monkeypatch.setattr(api_key, "_read_licence", lambda _es: {"type": "trial", "status": "active"})
    with pytest.raises(LicenceError) as told:
        provider.create(props)
    assert str(told.value) == (
        f"{operation}: {url} refused it (current license is non-compliant for [advanced-remote-cluster-security]): "
        f"{LICENCE_REMEDY}"
    )
    answer = node.request("GET", "/_security/api_key", params={"name": "sbs-provider-key"})
    assert answer.status_code == 200 and answer.json() == {"api_keys": []}
