"""Remote cluster settings and roles on the local cluster, through ECE's Elasticsearch proxy: only our alias's keys,
nothing else touched, drift found, deletes exact and idempotent; requests as the rest-api-spec defines them."""

from __future__ import annotations

from typing import Any

import pytest

from components.elasticsearch.client import caller
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.elasticsearch.roles import RemoteRoleProvider
from tests.support.aliases import ALIASES, neighbours
from tests.support.es_spec import check_request
from tools.emulated_link import EmulatedLink

ROLE = {
    "cluster": ["cross_cluster_search"],
    "remote_indices": [{"clusters": ["logs"], "names": ["logs-*"], "privileges": ["read", "read_cross_cluster"]}],
    "remote_cluster": [{"clusters": ["logs"], "privileges": ["monitor_enrich"]}],
}


def settings_props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    news = {
        "target": env.local_target(),
        "credentials": env.ece_credentials(),
        "alias": "logs",
        "proxy_address": "rcs.example.com:9443",
        "server_name": "quickstart-es-remote-cluster.elastic.svc",
        "proxy_socket_connections": None,
        "skip_unavailable": None,
        **extra,
    }
    checked = RemoteClusterSettingsProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def persistent(env: EmulatedLink) -> dict[str, Any]:
    return dict(env.control(env.local, "GET", "state")["settings"]["persistent"])


def seed_foreign(env: EmulatedLink) -> dict[str, Any]:
    """Settings that are not ours: another alias (sniff) and an unrelated cluster setting."""
    es = caller(env.local_target(), env.ece_credentials())
    es.request(
        "seed",
        "PUT",
        "_cluster/settings",
        json={
            "persistent": {
                "cluster.remote.other.seeds": ["10.0.0.1:9300"],
                "cluster.routing.allocation.enable": "primaries",
            }
        },
    )
    return {k: v for k, v in persistent(env).items() if not k.startswith("cluster.remote.logs.")}


def test_create_sets_proxy_mode_for_our_alias_only(env: EmulatedLink) -> None:
    foreign = seed_foreign(env)
    result = RemoteClusterSettingsProvider().create(
        settings_props(env, proxy_socket_connections=6, skip_unavailable=True)
    )
    mine = {k: v for k, v in persistent(env).items() if k.startswith("cluster.remote.logs.")}
    assert mine == {
        "cluster.remote.logs.mode": "proxy",
        "cluster.remote.logs.proxy_address": "rcs.example.com:9443",
        "cluster.remote.logs.server_name": "quickstart-es-remote-cluster.elastic.svc",
        "cluster.remote.logs.proxy_socket_connections": "6",
        "cluster.remote.logs.skip_unavailable": "true",
    }
    assert {k: v for k, v in persistent(env).items() if not k.startswith("cluster.remote.logs.")} == foreign
    assert result.outs["proxy_socket_connections"] == 6 and result.outs["skip_unavailable"] is True
    for entry in env.requests_to(env.local):
        check_request(entry["method"], entry["path"], entry["query"])


def test_update_changes_the_address_and_clears_dropped_options(env: EmulatedLink) -> None:
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env, proxy_socket_connections=6))
    news = settings_props(env, proxy_address="[2001:db8::1]:9443")
    assert provider.diff(created.id, created.outs, news).changes
    provider.update(created.id, created.outs, news)
    state = persistent(env)
    assert state["cluster.remote.logs.proxy_address"] == "[2001:db8::1]:9443"
    assert "cluster.remote.logs.proxy_socket_connections" not in state


def test_a_sniff_alias_is_switched_to_proxy_in_one_request(env: EmulatedLink) -> None:
    es = caller(env.local_target(), env.ece_credentials())
    es.request(
        "seed", "PUT", "_cluster/settings", json={"persistent": {"cluster.remote.logs.seeds": ["10.0.0.9:9300"]}}
    )
    env.control(env.local, "DELETE", "requests")
    RemoteClusterSettingsProvider().create(settings_props(env))
    state = persistent(env)
    assert "cluster.remote.logs.seeds" not in state and state["cluster.remote.logs.mode"] == "proxy"
    writes = [r for r in env.requests_to(env.local) if (r["method"], r["path"]) == ("PUT", "/_cluster/settings")]
    assert [r["status"] for r in writes] == [200]  # one request: never a moment without the alias or in both modes


def test_delete_nulls_exactly_our_keys_and_is_idempotent(env: EmulatedLink) -> None:
    foreign = seed_foreign(env)
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env, skip_unavailable=False))
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    assert persistent(env) == foreign


def test_refresh_finds_settings_changed_by_hand_and_import_works(env: EmulatedLink) -> None:
    provider = RemoteClusterSettingsProvider()
    created = provider.create(settings_props(env))
    es = caller(env.local_target(), env.ece_credentials())
    es.request(
        "edit",
        "PUT",
        "_cluster/settings",
        json={"persistent": {"cluster.remote.logs.proxy_address": "evil.example.com:9443"}},
    )
    read = provider.read(created.id, created.outs)
    assert read.inputs["proxy_address"] == "evil.example.com:9443"
    assert provider.diff(created.id, read.outs, settings_props(env)).changes
    imported = provider.read(
        created.id, {"target": env.local_target(), "credentials": env.ece_credentials(), "alias": "logs"}
    )
    assert imported.inputs["server_name"] == "quickstart-es-remote-cluster.elastic.svc"
    es.request("remove", "PUT", "_cluster/settings", json={"persistent": {"cluster.remote.logs.*": None}})
    assert provider.read(created.id, created.outs).id == ""


def of_alias(env: EmulatedLink, alias: str) -> dict[str, Any]:
    return {k: v for k, v in persistent(env).items() if k.startswith(f"cluster.remote.{alias}.")}


@pytest.mark.parametrize("alias", ALIASES)
def test_the_settings_keys_are_the_alias_own_whatever_its_characters(env: EmulatedLink, alias: str) -> None:
    """`cluster.remote.<alias>.*` exactly, with `-`, `_` and digits, through create, refresh, update and delete; the
    settings of aliases that differ only by `-`/`_` or that the alias is a prefix of are never read or touched."""
    es = caller(env.local_target(), env.ece_credentials())
    for i, other in enumerate(neighbours(alias)):
        es.request(
            "seed",
            "PUT",
            "_cluster/settings",
            json={
                "persistent": {
                    f"cluster.remote.{other}.mode": "proxy",
                    f"cluster.remote.{other}.proxy_address": f"neighbour-{i}.example.com:9443",
                    f"cluster.remote.{other}.skip_unavailable": False,
                }
            },
        )
    theirs = {k: v for k, v in persistent(env).items() if not k.startswith(f"cluster.remote.{alias}.")}
    provider = RemoteClusterSettingsProvider()
    news = settings_props(env, alias=alias, proxy_socket_connections=3, skip_unavailable=True)
    created = provider.create(news)
    assert created.id.endswith(f"/{alias}")
    assert of_alias(env, alias) == {
        f"cluster.remote.{alias}.mode": "proxy",
        f"cluster.remote.{alias}.proxy_address": "rcs.example.com:9443",
        f"cluster.remote.{alias}.server_name": "quickstart-es-remote-cluster.elastic.svc",
        f"cluster.remote.{alias}.proxy_socket_connections": "3",
        f"cluster.remote.{alias}.skip_unavailable": "true",
    }
    assert created.outs["proxy_socket_connections"] == 3 and created.outs["skip_unavailable"] is True
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.inputs["alias"] == alias and refreshed.inputs["proxy_address"] == "rcs.example.com:9443"
    assert not provider.diff(created.id, refreshed.outs, news).changes
    imported = provider.read(created.id, {"target": env.local_target(), "credentials": env.ece_credentials()})
    assert imported.inputs["alias"] == alias and imported.inputs["skip_unavailable"] is True
    changed = settings_props(env, alias=alias, proxy_address="[2001:db8::1]:9443")
    provider.update(created.id, created.outs, changed)
    assert of_alias(env, alias)[f"cluster.remote.{alias}.proxy_address"] == "[2001:db8::1]:9443"
    assert f"cluster.remote.{alias}.proxy_socket_connections" not in of_alias(env, alias)
    assert {k: v for k, v in persistent(env).items() if not k.startswith(f"cluster.remote.{alias}.")} == theirs
    provider.delete(created.id, changed)
    assert persistent(env) == theirs
    assert provider.read(created.id, changed).id == ""


@pytest.mark.parametrize("alias", ALIASES)
def test_a_role_names_the_alias_in_its_clusters_whatever_its_characters(env: EmulatedLink, alias: str) -> None:
    provider = RemoteRoleProvider()
    role = {
        "remote_indices": [{"clusters": [alias], "names": ["logs-*"], "privileges": ["read"]}],
        "remote_cluster": [{"clusters": [alias], "privileges": ["monitor_enrich"]}],
    }
    raw = {"target": env.local_target(), "credentials": env.ece_credentials(), "role_name": f"{alias}-reader"}
    checked = provider.check({}, {**raw, "role": role})
    assert checked.failures == []
    created = provider.create(checked.inputs)
    stored = env.control(env.local, "GET", "state")["roles"][f"{alias}-reader"]
    assert stored["remote_indices"][0]["clusters"] == [alias] and stored["remote_cluster"][0]["clusters"] == [alias]
    refreshed = provider.read(created.id, created.outs)
    assert not provider.diff(created.id, refreshed.outs, checked.inputs).changes
    provider.delete(created.id, created.outs)
    assert f"{alias}-reader" not in env.control(env.local, "GET", "state")["roles"]


def test_roles_with_remote_privileges_round_trip(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    raw = {"target": env.local_target(), "credentials": env.ece_credentials(), "role_name": "logs-reader", "role": ROLE}
    checked = provider.check({}, raw)
    assert checked.failures == []
    news = checked.inputs
    created = provider.create(news)
    stored = env.control(env.local, "GET", "state")["roles"]["logs-reader"]
    assert stored["remote_indices"][0]["clusters"] == ["logs"]
    assert stored["metadata"]["managed_by"] == "ece-eck-remote"
    read = provider.read(created.id, created.outs)
    assert not provider.diff(created.id, read.outs, news).changes
    changed = {
        **news,
        "role": {
            **ROLE,
            "remote_indices": [{"clusters": ["logs"], "names": ["logs-*", "traces-*"], "privileges": ["read"]}],
        },
    }
    provider.update(created.id, created.outs, changed)
    assert env.control(env.local, "GET", "state")["roles"]["logs-reader"]["remote_indices"][0]["names"] == [
        "logs-*",
        "traces-*",
    ]
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    assert "logs-reader" not in env.control(env.local, "GET", "state")["roles"]
    assert provider.read(created.id, created.outs).id == ""


def test_role_check_rejects_what_elasticsearch_rejects() -> None:
    provider = RemoteRoleProvider()
    base = {"target": {"kind": "direct", "url": "https://es:9200"}, "credentials": {"password": "x"}, "role_name": "r"}
    bad_cluster = {"remote_cluster": [{"clusters": ["a"], "privileges": ["all"]}]}
    assert "monitor_enrich" in provider.check({}, {**base, "role": bad_cluster}).failures[0].reason
    assert (
        "clusters is required"
        in provider.check({}, {**base, "role": {"remote_indices": [{"names": ["a"], "privileges": ["read"]}]}})
        .failures[0]
        .reason
    )


# A role written the short way: `names` as a string, `query` as an object (Elasticsearch answers a list and a string).
SHORT_ROLE = {
    "indices": [
        {
            "names": "app-*",
            "privileges": ["read"],
            "query": {"bool": {"must_not": [{"term": {"tier": "x"}}], "filter": [{"term": {"team": "a"}}]}},
            "field_security": {"grant": ["*"], "except": ["secret"]},
        }
    ],
    "remote_indices": [
        {"clusters": ["logs"], "names": "logs-*", "privileges": ["read"], "query": {"term": {"public": True}}}
    ],
    "remote_cluster": [{"clusters": ["logs"], "privileges": ["monitor_enrich"]}],
}
QUERY_TEXT = '{"bool":{"filter":[{"term":{"team":"a"}}],"must_not":[{"term":{"tier":"x"}}]}}'


def test_a_names_string_and_a_query_object_show_no_change_after_a_refresh(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    raw = {"target": env.local_target(), "credentials": env.ece_credentials(), "role_name": "short", "role": SHORT_ROLE}
    checked = provider.check({}, raw)
    assert checked.failures == []
    news = checked.inputs
    [entry] = news["role"]["indices"]
    assert entry["names"] == ["app-*"] and entry["query"] == QUERY_TEXT and entry["allow_restricted_indices"] is False
    assert news["role"]["remote_indices"][0]["query"] == '{"term":{"public":true}}'
    created = provider.create(news)
    es = caller(env.local_target(), env.ece_credentials())
    live = es.request("get", "GET", "_security/role/short").json()["short"]
    assert live["indices"][0]["names"] == ["app-*"] and live["indices"][0]["query"] == QUERY_TEXT
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["role"] == news["role"]
    assert not provider.diff(created.id, read.outs, news).changes
    # state written before roles were normalised (the role as the program gave it) shows no change either
    assert not provider.diff(created.id, {**created.outs, "role": SHORT_ROLE}, news).changes
    # the same query edited by hand, with other spacing and key order, is the same query
    by_hand = {
        **live,
        "indices": [
            {
                **live["indices"][0],
                "query": '{ "bool": { "must_not": [{"term": {"tier": "x"}}], "filter": [{"term": {"team": "a"}}] } }',
            }
        ],
    }
    by_hand = {key: value for key, value in by_hand.items() if key != "transient_metadata"}
    es.request("edit", "PUT", "_security/role/short", json=by_hand)
    assert not provider.diff(created.id, provider.read(created.id, created.outs).outs, news).changes
    # a real change is seen
    es.request(
        "edit",
        "PUT",
        "_security/role/short",
        json={**by_hand, "indices": [{**by_hand["indices"][0], "names": ["other-*"]}]},
    )
    assert provider.diff(created.id, provider.read(created.id, created.outs).outs, news).changes
    provider.delete(created.id, created.outs)
