"""The settings rules of `components.validation`, one by one: a bad value gets one line naming the config key, the
value as written and the rule; a good value is accepted and normalised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components import validation as v
from components.validation import SettingsError, SettingsErrors, UnknownSettingError

LONG_253 = ".".join(["a" * 63] * 3 + ["a" * 61])  # 253 characters, every label valid
LONG_254 = ".".join(["a" * 63] * 3 + ["a" * 62])

K = "k"


def bad(value: Any, rule: str, *, shown: str | None = None) -> str:
    return f"config 'k': value {shown if shown is not None else v.show(value)} is invalid: {rule}"


HOST_RULE = "must be an IPv4 address, an IPv6 address or a DNS name (labels of 1-63 [A-Za-z0-9-])"

# (rule, value, keyword arguments, the whole message)
REJECTED: list[tuple[Callable[..., Any], Any, dict[str, Any], str]] = [
    (v.cluster_name, 5, {}, bad(5, "must be a string")),
    (v.cluster_name, "a" * 37, {}, bad("a" * 37, "must be 1 to 36 characters (ECK's limit)")),
    (
        v.cluster_name,
        "1abc",
        {},
        bad("1abc", "must be lowercase letters, digits and '-', start with a letter and end with a letter or digit"),
    ),
    (v.namespace, 5, {}, bad(5, "must be a string")),
    (
        v.namespace,
        "a" * 64,
        {},
        bad("a" * 64, "must be a Kubernetes namespace: 1 to 63 lowercase letters, digits and '-'"),
    ),
    (v.namespace, "Ns", {}, bad("Ns", "must be a Kubernetes namespace: 1 to 63 lowercase letters, digits and '-'")),
    (v.nodeset_name, 5, {}, bad(5, "must be a string")),
    (v.nodeset_name, "a" * 24, {}, bad("a" * 24, v.NODESET_NAME_RULE)),
    (v.version, "9.3", {}, bad("9.3", "must be a version MAJOR.MINOR.PATCH, like '9.3.2'")),
    (v.es_version, "6.8.0", {"api_key_model": False}, bad("6.8.0", "ECK supports Elasticsearch 7.x, 8.x and 9.x only")),
    (
        v.es_version,
        "8.9.9",
        {"api_key_model": True},
        bad("8.9.9", "the remote cluster server needs Elasticsearch >= 8.10.0"),
    ),
    (
        v.es_version,
        "8.10.0",
        {"api_key_model": True},
        bad("8.10.0", "the API-key security model needs Elasticsearch >= 8.14.0"),
    ),
    (
        v.es_version,
        "8.13.9",
        {"api_key_model": True},
        bad("8.13.9", "the API-key security model needs Elasticsearch >= 8.14.0"),
    ),
    (
        v.eck_version,
        "4.0.0",
        {},
        bad("4.0.0", "supported ECK versions are 2.16.0 to 3.x (remoteClusterServer arrived in 2.16)"),
    ),
    (
        v.eck_version,
        "2.15.9",
        {},
        bad("2.15.9", "supported ECK versions are 2.16.0 to 3.x (remoteClusterServer arrived in 2.16)"),
    ),
    (v.port, "x", {}, bad("x", "must be an integer port")),
    (v.port, True, {}, bad(True, "must be an integer port")),
    (v.port, 0, {}, bad(0, "must be a port from 1 to 65535")),
    (v.port, 65536, {}, bad(65536, "must be a port from 1 to 65535")),
    (v.one_of, "c", {"choices": ("a", "b")}, bad("c", "must be one of a, b")),
    (v.positive_int, "x", {"maximum": 5}, bad("x", "must be an integer")),
    (v.positive_int, 0, {"maximum": 5}, bad(0, "must be from 1 to 5")),
    (v.positive_int, 6, {"maximum": 5}, bad(6, "must be from 1 to 5")),
    (v.cidr, 5, {}, bad(5, "must be a CIDR string")),
    (
        v.cidr,
        "10.0.0.1/8",
        {},
        bad("10.0.0.1/8", "must be a CIDR such as 10.0.0.0/8 (10.0.0.1/8 has host bits set)"),
    ),
    (v.host, 5, {}, bad(5, "must be a host name or IP address")),
    (v.host, "[::1", {}, bad("[::1", "brackets are only for IPv6 addresses")),
    (v.host, "[foo]", {}, bad("[foo]", "brackets are only for IPv6 addresses")),
    (v.host, "1.2.3.256", {}, bad("1.2.3.256", "is not a valid IPv4 address")),
    (v.host, "a_b.example", {}, bad("a_b.example", HOST_RULE)),
    (v.host, "", {}, bad("", HOST_RULE)),
    (v.host, LONG_254, {}, bad(LONG_254, HOST_RULE, shown=v.show(LONG_254))),
    (v.address, 5, {"default_port": 443}, bad(5, "must be an address like 'lb.example.com:9443'")),
    (v.address, "[::1", {"default_port": 443}, bad("[::1", "an IPv6 address in brackets needs its closing ']'")),
    (v.address, "[::1]x", {"default_port": 443}, bad("[::1]x", "after '[ipv6]' only ':port' may follow")),
    (v.address, "[::1]]", {"default_port": 443}, bad("[::1]]", "after '[ipv6]' only ':port' may follow")),
    (v.address, "lb.example", {"default_port": None}, bad("lb.example", "needs a port, like 'host:9443'")),
    (v.address, "[::1]", {"default_port": None}, bad("[::1]", "needs a port, like 'host:9443'")),
    (v.address, "lb:abc", {"default_port": 443}, bad("lb:abc", "the port must be a number from 1 to 65535")),
    (v.address, "lb:0", {"default_port": 443}, bad(0, "must be a port from 1 to 65535")),
    (v.server_name, 5, {}, bad(5, "must be a DNS name")),
    (v.url, 5, {}, bad(5, "must be a URL")),
    (v.url, "ftp://h", {}, bad("ftp://h", "must be an http(s) URL like 'https://host:9200'")),
    (v.url, "https://h:0", {}, bad(0, "must be a port from 1 to 65535")),
    (v.url, "https://[foo]", {}, bad("[foo]", "brackets are only for IPv6 addresses")),
    (v.mapping, [], {}, bad([], "must be an object")),
    (v.string_map, {"a": 1}, {}, "config 'k.a': value 1 is invalid: must be a string"),
    (v.sequence, {}, {}, bad({}, "must be a list")),
]


@pytest.mark.parametrize(
    ("rule", "value", "options", "message"),
    REJECTED,
    ids=[f"{rule.__name__}-{value!r}"[:60] for rule, value, _, _ in REJECTED],
)
def test_bad_value_names_key_value_and_rule(
    rule: Callable[..., Any], value: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        rule(K, value, **options)
    assert str(caught.value) == message
    assert caught.value.key in (K, "k.a")
    assert caught.value.rule and caught.value.rule in message
    assert caught.value.missing is False


def test_statefulset_name_too_long_names_the_node_set_and_the_room() -> None:
    with pytest.raises(SettingsError) as caught:
        v.statefulset_name(K, "c" * 30, "n" * 23, 100)
    assert str(caught.value) == (
        f"config 'k': value \"{'n' * 23}\" is invalid: the StatefulSet name '{'c' * 30}-es-{'n' * 23}' is 57"
        " characters; with count 100 ECK allows 49 (63, less '-<ordinal>' and a 10-character revision hash):"
        " shorten the cluster or nodeSet name"
    )
    assert v.statefulset_name(K, "c" * 30, "n" * 9, 100) == f"{'c' * 30}-es-{'n' * 9}"


# (rule, value, keyword arguments, the value accepted)
ACCEPTED: list[tuple[Callable[..., Any], Any, dict[str, Any], Any]] = [
    (v.namespace, "a" * 63, {}, "a" * 63),
    (v.nodeset_name, "a" * 23, {}, "a" * 23),
    (v.es_version, "8.14.0", {"api_key_model": True}, v.Version(8, 14, 0)),
    (v.es_version, "8.10.0", {"api_key_model": False}, v.Version(8, 10, 0)),
    (v.eck_version, "3.9.0", {}, v.Version(3, 9, 0)),
    (v.port, 1, {}, 1),
    (v.port, 65535, {}, 65535),
    (v.positive_int, 1, {"maximum": 5}, 1),
    (v.positive_int, 5, {"maximum": 5}, 5),
    (v.host, "Example.COM.", {}, "example.com"),
    (v.host, "example.com", {}, "example.com"),
    (v.host, "[::1]", {}, "::1"),
    (v.host, LONG_253, {}, LONG_253),
    (v.host, LONG_253 + ".", {}, LONG_253),
    (v.address, "[::1]:9443", {"default_port": None}, v.Address("::1", 9443)),
    (v.address, "[::1]:9443", {"default_port": 443}, v.Address("::1", 9443)),
    (v.address, "lb.example:9443", {"default_port": None}, v.Address("lb.example", 9443)),
    (v.address, "lb.example", {"default_port": 443}, v.Address("lb.example", 443)),
    (v.server_name, "", {}, ""),
    (v.server_name, "Es.Example", {}, "es.example"),
    (v.url, "https://h", {}, "https://h"),
    (v.url, "http://h", {}, "http://h"),
    (v.url, "https://h/", {}, "https://h"),
    (v.url, "https://h/a//", {}, "https://h/a"),
    (v.url, "https://h/X", {}, "https://h/X"),
    (v.url, "https://h/x ", {}, "https://h/x "),
    (v.cidr, "10.0.0.0/8", {}, "10.0.0.0/8"),
]


@pytest.mark.parametrize(
    ("rule", "value", "options", "expected"),
    ACCEPTED,
    ids=[f"{rule.__name__}-{value!r}"[:60] for rule, value, _, _ in ACCEPTED],
)
def test_good_value_is_accepted(rule: Callable[..., Any], value: Any, options: dict[str, Any], expected: Any) -> None:
    assert rule(K, value, **options) == expected


def test_missing_value_error_without_a_command_has_no_set_it_with() -> None:
    error = SettingsError("a.b", None, "it is required", hint="")
    assert str(error) == "config 'a.b' is not set: it is required"
    assert error.rule == "it is required"
    assert error.missing is True


def test_missing_value_error_shows_the_set_command() -> None:
    error = SettingsError("a", None, "it is required", hint="do this")
    assert str(error) == "config 'a' is not set: it is required; set it with: do this"


def test_set_command_uses_path_for_an_index() -> None:
    assert v.set_command("tags[0]") == "pulumi config set --path 'tags[0]' <value>"
    assert v.set_command("tags") == "pulumi config set 'tags' <value>"


def test_require_type_keeps_secret_for_missing_values() -> None:
    with pytest.raises(SettingsError) as caught:
        v.require_type("pw", None, str, "a string", secret=True)
    assert str(caught.value) == "config 'pw' is not set: it is required (a string); set it with: " + v.set_command(
        "pw", secret=True
    )
    assert "--secret" in str(caught.value)


@pytest.mark.parametrize("value", [True, 5])
def test_require_type_hides_a_secret_of_the_wrong_type(value: Any) -> None:
    kind = int if value is True else str
    with pytest.raises(SettingsError) as caught:
        v.require_type("pw", value, kind, "a thing", secret=True)
    assert str(caught.value) == "config 'pw': value (secret) is invalid: must be a thing"


def test_require_type_bool_is_not_an_integer() -> None:
    with pytest.raises(SettingsError) as caught:
        v.require_type(K, True, int, "an integer")
    assert str(caught.value) == bad(True, "must be an integer")
    assert caught.value.missing is False


def test_require_type_accepts_bool_when_a_tuple_of_kinds_has_bool() -> None:
    assert v.require_type(K, True, (bool, int), "a flag") is True


def test_show_converts_what_json_cannot_and_survives_circles() -> None:
    assert v.show({1}) == '"{1}"'
    circle: list[Any] = []
    circle.append(circle)
    assert v.show(circle) == "[[...]]"


def test_show_cuts_only_past_the_limit() -> None:
    exact = "x" * 118  # 120 characters with its quotes
    assert v.show(exact) == f'"{exact}"'
    assert v.show(exact + "x") == '"' + "x" * 116 + "..."
    assert v.show("é") == '"é"'


def test_unknown_setting_suggests_across_case() -> None:
    error = UnknownSettingError("eck.NAMESPACE", {"namespace", "version"})
    assert error.suggestion == "namespace"
    assert error.rule == "did you mean 'namespace'? (known: namespace, version)"
    assert str(error) == "config 'eck.NAMESPACE' is not a known setting; " + error.rule
    assert error.missing is False
    assert error.key == "eck.NAMESPACE"


def test_unknown_setting_suggests_a_typo() -> None:
    error = UnknownSettingError("eck.namespce", {"namespace", "version"})
    assert error.suggestion == "namespace"
    assert error.rule == "did you mean 'namespace'? (known: namespace, version)"


def test_unknown_setting_without_close_key_lists_known() -> None:
    error = UnknownSettingError("eck.zzz", {"namespace", "version"})
    assert error.suggestion is None
    assert error.rule == "known: namespace, version"
    assert error.missing is False


def test_settings_errors_drop_duplicate_lines_and_keep_the_first() -> None:
    first = SettingsError("a", None, "it is required", hint="")
    again = SettingsError("a", None, "it is required", hint="")
    other = SettingsError("b", 1, "must be a string")
    errors = SettingsErrors([first, again, other])
    assert errors.problems == (first, other)
    assert str(errors) == f"{first}\n{other}"
    assert errors.key == "a"
    assert errors.rule == "it is required"
    assert errors.missing is True
    assert SettingsErrors([other]).missing is False


def test_settings_errors_need_a_problem() -> None:
    with pytest.raises(ValueError, match=r"^SettingsErrors needs at least one problem$"):
        SettingsErrors([])
