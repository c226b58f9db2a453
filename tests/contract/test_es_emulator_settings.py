"""`_cluster/settings` on the Elasticsearch emulator: every rule of the reference's section 2 for the remote
cluster settings (mode mixing, the enabled-remote dependency, per-scope checks, unknown keys, aliases, ports,
counts), nulls and wildcard deletes, the response echo, flat and nested rendering, defaults."""

# ruff: noqa: F811 - the fixtures `es`, `make_es` and `emulators` come from test_es_emulator
from __future__ import annotations

from typing import Any

import pytest

from tests.contract.test_es_emulator import Es, emulators, error_of, es, make_es  # noqa: F401

PROXY = {"cluster.remote.a.mode": "proxy", "cluster.remote.a.proxy_address": "eck.example:9443"}


def put(es: Es, body: dict[str, Any], **params: str) -> Any:
    return es.api.put("/_cluster/settings", json=body, params=params or None)


def flat(es: Es) -> dict[str, Any]:
    return dict(es.api.get("/_cluster/settings", params={"flat_settings": "true"}).json())


def refused(es: Es, body: dict[str, Any]) -> str:
    """The reason of a refused update, after checking nothing changed."""
    before = flat(es)
    error = error_of(put(es, body), 400)
    assert error["type"] == "illegal_argument_exception"
    assert flat(es) == before
    return str(error["reason"])


# --- the echo and rendering ---------------------------------------------------------------------------------
def test_echo_is_nested_strings_of_the_applied_updates(es: Es) -> None:
    body = {
        "persistent": {
            **PROXY,
            "cluster.remote.a.skip_unavailable": True,
            "cluster.remote.a.proxy_socket_connections": 6,
        }
    }
    response = put(es, body)
    assert response.status_code == 200
    assert response.json() == {
        "acknowledged": True,
        "persistent": {
            "cluster": {
                "remote": {
                    "a": {
                        "mode": "proxy",
                        "proxy_address": "eck.example:9443",
                        "skip_unavailable": "true",
                        "proxy_socket_connections": "6",
                    }
                }
            }
        },
        "transient": {},
    }


def test_flat_settings_echo_and_get(es: Es) -> None:
    response = put(es, {"persistent": PROXY}, flat_settings="true")
    assert response.json()["persistent"] == PROXY
    assert flat(es) == {"persistent": PROXY, "transient": {}}


def test_nested_and_dotted_bodies_are_the_same(es: Es) -> None:
    put(es, {"persistent": {"cluster": {"remote": {"a": {"mode": "proxy", "proxy_address": "eck.example:9443"}}}}})
    assert flat(es)["persistent"] == PROXY
    nested = es.api.get("/_cluster/settings").json()
    assert nested["persistent"] == {
        "cluster": {"remote": {"a": {"mode": "proxy", "proxy_address": "eck.example:9443"}}}
    }


def test_nulls_delete_and_are_not_echoed(es: Es) -> None:
    put(es, {"persistent": {**PROXY, "cluster.remote.a.server_name": "eck.svc"}})
    response = put(es, {"persistent": {"cluster.remote.a.server_name": None}})
    assert response.json() == {"acknowledged": True, "persistent": {}, "transient": {}}
    assert flat(es)["persistent"] == PROXY


def test_deleting_a_remote_key_by_key_in_one_request(es: Es) -> None:
    put(
        es,
        {
            "persistent": {
                **PROXY,
                "cluster.remote.a.skip_unavailable": "true",
                "cluster.remote.a.transport.compress": "true",
            }
        },
    )
    nulls = {key: None for key in flat(es)["persistent"]}
    assert put(es, {"persistent": nulls}).json()["persistent"] == {}
    assert flat(es)["persistent"] == {}
    assert es.api.get("/_remote/info").json() == {}


def test_deleting_a_remote_with_a_wildcard(es: Es) -> None:
    other = {"cluster.remote.b.mode": "proxy", "cluster.remote.b.proxy_address": "other:9443"}
    put(
        es,
        {
            "persistent": {
                **PROXY,
                "cluster.remote.a.skip_unavailable": "false",
                **other,
                "action.auto_create_index": "false",
            }
        },
    )
    assert put(es, {"persistent": {"cluster.remote.a.*": None}}).status_code == 200
    assert flat(es)["persistent"] == {**other, "action.auto_create_index": "false"}


def test_other_settings_are_kept_untouched(es: Es) -> None:
    kept = {"indices.recovery.max_bytes_per_sec": "50mb", "cluster.routing.allocation.enable": "primaries"}
    put(es, {"persistent": kept, "transient": {"action.destructive_requires_name": False}})
    put(es, {"persistent": PROXY})
    put(es, {"persistent": {"cluster.remote.a.*": None}})
    assert flat(es) == {"persistent": kept, "transient": {"action.destructive_requires_name": "false"}}


def test_include_defaults_lists_remote_defaults_of_configured_aliases(es: Es) -> None:
    put(es, {"persistent": PROXY})
    got = es.api.get("/_cluster/settings", params={"flat_settings": "true", "include_defaults": "true"}).json()
    defaults = got["defaults"]
    assert defaults["cluster.remote.a.proxy_socket_connections"] == "18"
    assert defaults["cluster.remote.a.skip_unavailable"] == "true"
    assert defaults["cluster.remote.a.server_name"] == ""
    assert defaults["cluster.remote.initial_connect_timeout"] == "30s"
    assert "cluster.remote.a.mode" not in defaults and "cluster.remote.a.proxy_address" not in defaults


def test_empty_update_is_refused(es: Es) -> None:
    error = error_of(put(es, {"persistent": {}}), 400)
    assert error["type"] == "action_request_validation_exception"
    assert error["reason"] == "Validation Failed: 1: no settings to update;"
    assert error_of(put(es, {"persistant": {}}), 400)["reason"].endswith("unknown field [persistant]")


# --- rule 1: mode -------------------------------------------------------------------------------------------
def test_proxy_settings_need_proxy_mode(es: Es) -> None:
    reason = refused(es, {"persistent": {"cluster.remote.a.proxy_address": "eck.example:9443"}})
    assert reason == (
        'Setting "cluster.remote.a.proxy_address" cannot be used with the configured "cluster.remote.a.mode" '
        "[required=PROXY, configured=SNIFF]"
    )


@pytest.mark.parametrize("key", ["proxy_socket_connections", "server_name"])
def test_each_proxy_setting_needs_proxy_mode(es: Es, key: str) -> None:
    value = "3" if key == "proxy_socket_connections" else "eck.svc"
    reason = refused(es, {"persistent": {f"cluster.remote.a.{key}": value}})
    assert (
        reason.startswith(f'Setting "cluster.remote.a.{key}" cannot be used')
        and "[required=PROXY, configured=SNIFF]" in reason
    )


@pytest.mark.parametrize(("key", "value"), [("seeds", ["h:9300"]), ("node_connections", "3")])
def test_sniff_settings_refused_in_proxy_mode(es: Es, key: str, value: Any) -> None:
    reason = refused(es, {"persistent": {**PROXY, f"cluster.remote.a.{key}": value}})
    assert reason == (
        f'Setting "cluster.remote.a.{key}" cannot be used with the configured "cluster.remote.a.mode" '
        "[required=SNIFF, configured=PROXY]"
    )


def test_mode_is_case_insensitive_and_sent_before_or_with_address(es: Es) -> None:
    assert put(es, {"persistent": {"cluster.remote.a.mode": "PROXY"}}).status_code == 200
    assert put(es, {"persistent": {"cluster.remote.a.proxy_address": "h:1"}}).status_code == 200
    assert es.api.get("/_remote/info").json()["a"]["mode"] == "proxy"


def test_switching_modes_needs_the_other_keys_nulled_in_the_same_request(es: Es) -> None:
    put(es, {"persistent": {"cluster.remote.a.seeds": ["h:9300"], "cluster.remote.a.node_connections": 2}})
    reason = refused(es, {"persistent": PROXY})
    assert "[required=SNIFF, configured=PROXY]" in reason
    switch = {**PROXY, "cluster.remote.a.seeds": None, "cluster.remote.a.node_connections": None}
    assert put(es, {"persistent": switch}).status_code == 200
    assert flat(es)["persistent"] == PROXY


def test_unknown_mode(es: Es) -> None:
    reason = refused(es, {"persistent": {"cluster.remote.a.mode": "tunnel"}})
    assert reason == "No enum constant org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy.TUNNEL"


# --- rule 2: enabled remote ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("skip_unavailable", True),
        ("transport.compress", "true"),
        ("transport.compression_scheme", "deflate"),
        ("transport.ping_schedule", "30s"),
    ],
)
def test_settings_needing_an_enabled_remote(es: Es, key: str, value: Any) -> None:
    body = {"cluster.remote.a.mode": "proxy", f"cluster.remote.a.{key}": value}
    reason = refused(es, {"persistent": body})
    assert reason == f"Cannot configure setting [cluster.remote.a.{key}] if remote cluster is not enabled."
    assert put(es, {"persistent": {**PROXY, f"cluster.remote.a.{key}": value}}).status_code == 200


def test_skip_unavailable_alone_in_sniff_mode_is_refused(es: Es) -> None:
    reason = refused(es, {"persistent": {"cluster.remote.a.skip_unavailable": False}})
    assert reason == "Cannot configure setting [cluster.remote.a.skip_unavailable] if remote cluster is not enabled."


def test_nulling_the_address_alone_fails_while_dependents_remain(es: Es) -> None:
    put(es, {"persistent": {**PROXY, "cluster.remote.a.skip_unavailable": True}})
    reason = refused(es, {"persistent": {"cluster.remote.a.proxy_address": None}})
    assert reason == "Cannot configure setting [cluster.remote.a.skip_unavailable] if remote cluster is not enabled."


# --- rule 3: per scope --------------------------------------------------------------------------------------
def test_dependencies_are_checked_per_scope(es: Es) -> None:
    body = {"transient": PROXY, "persistent": {"cluster.remote.a.skip_unavailable": True}}
    reason = refused(es, body)
    assert reason == "Cannot configure setting [cluster.remote.a.skip_unavailable] if remote cluster is not enabled."
    put(es, {"transient": PROXY})
    assert "not enabled" in refused(es, {"persistent": {"cluster.remote.a.skip_unavailable": True}})
    proxy_in_persistent = refused(es, {"persistent": {"cluster.remote.a.proxy_address": "h:1"}})
    assert "[required=PROXY, configured=SNIFF]" in proxy_in_persistent


# --- rule 4: unknown keys and aliases -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "cluster.remote.a.foo",
        "cluster.remote.a.credentials",
        "cluster.remote.a.b.mode",
        "cluster.remote.a:b.mode",
        "cluster.remote.a*.mode",
        "cluster.remote.a b.mode",
        "cluster.remote.é.mode",
        "no.such.setting",
    ],
)
def test_unknown_keys_are_not_recognized(es: Es, key: str) -> None:
    assert refused(es, {"persistent": {key: "x"}}) == f"persistent setting [{key}], not recognized"
    assert refused(es, {"transient": {key: "x"}}) == f"transient setting [{key}], not recognized"


def test_unknown_key_nulled_is_not_recognized_but_a_wildcard_is_fine(es: Es) -> None:
    assert (
        refused(es, {"persistent": {"cluster.remote.a.foo": None}})
        == "persistent setting [cluster.remote.a.foo], not recognized"
    )
    assert put(es, {"persistent": {"cluster.remote.nothing.*": None}}).status_code == 200


@pytest.mark.parametrize("alias", ["eck-1", "ECK_prod", "a", "9"])
def test_alias_pattern_accepts_letters_digits_dash_underscore(es: Es, alias: str) -> None:
    body = {f"cluster.remote.{alias}.mode": "proxy", f"cluster.remote.{alias}.proxy_address": "h:9443"}
    assert put(es, {"persistent": body}).status_code == 200
    assert list(es.api.get("/_remote/info").json()) == [alias]


def test_node_level_remote_settings_are_static(es: Es) -> None:
    reason = refused(es, {"persistent": {"cluster.remote.initial_connect_timeout": "10s"}})
    assert reason == "persistent setting [cluster.remote.initial_connect_timeout], not dynamically updateable"


# --- values -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("eck.example", "remote hosts need to be configured as [host:port], found [eck.example] instead"),
        ("eck.example:", "failed to parse port"),
        ("eck.example:https", "failed to parse port"),
        ("eck.example:0", "port number must be > 0 but was: [0]"),
    ],
)
def test_proxy_address_needs_a_port(es: Es, address: str, reason: str) -> None:
    assert (
        refused(es, {"persistent": {"cluster.remote.a.mode": "proxy", "cluster.remote.a.proxy_address": address}})
        == reason
    )


def test_bad_seed_port(es: Es) -> None:
    assert refused(es, {"persistent": {"cluster.remote.a.seeds": ["h:9300", "nohost"]}}).startswith("remote hosts need")


@pytest.mark.parametrize(
    ("value", "reason"), [("0", "must be >= 1"), ("-2", "must be >= 1"), ("many", "Failed to parse value [many]")]
)
def test_proxy_socket_connections_at_least_one(es: Es, value: str, reason: str) -> None:
    body = {**PROXY, "cluster.remote.a.proxy_socket_connections": value}
    assert reason in refused(es, {"persistent": body})
    assert put(es, {"persistent": {**PROXY, "cluster.remote.a.proxy_socket_connections": 1}}).status_code == 200


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("skip_unavailable", "yes", "Failed to parse value [yes] as only [true] or [false] are allowed."),
        ("transport.compress", "gzip", "No enum constant org.elasticsearch.transport.Compression.Enabled.GZIP"),
        (
            "transport.compression_scheme",
            "zstd",
            "No enum constant org.elasticsearch.transport.Compression.Scheme.ZSTD",
        ),
        (
            "transport.ping_schedule",
            "often",
            "failed to parse setting [cluster.remote.a.transport.ping_schedule] with value [often] as a time value: unit is missing or unrecognized",
        ),
    ],
)
def test_value_parsing(es: Es, key: str, value: str, reason: str) -> None:
    assert refused(es, {"persistent": {**PROXY, f"cluster.remote.a.{key}": value}}) == reason


def test_compress_values(es: Es) -> None:
    for value in ("true", "false", "indexing_data", "INDEXING_DATA"):
        assert put(es, {"persistent": {**PROXY, "cluster.remote.a.transport.compress": value}}).status_code == 200
