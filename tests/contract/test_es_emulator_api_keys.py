"""Cross-cluster API keys on the Elasticsearch emulator: every validation rule and message of the reference
(section 1), the create response, and the update / get / invalidate semantics."""

# ruff: noqa: F811 - the fixtures `es`, `make_es` and `emulators` come from test_es_emulator
from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest

from tests.contract.test_es_emulator import SEARCH_ACCESS, Es, emulators, error_of, es, make_es  # noqa: F401

CREATE = "/_security/cross_cluster/api_key"
BOTH = {"search": [{"names": ["metrics"]}], "replication": [{"names": ["logs"], "allow_restricted_indices": True}]}
DLS = {"term": {"tag": 42}}
FLS = {"grant": ["*"], "except": ["private"]}
DAY_MS = 86_400_000


def get_key(es: Es, key_id: str) -> dict[str, Any]:
    response = es.api.get("/_security/api_key", params={"id": key_id})
    assert response.status_code == 200, response.text
    [item] = response.json()["api_keys"]
    return dict(item)


# A create whose access the builder refuses (checked on a real 8.19.21 node): wrapped by the create parser, the
# builder's message in `caused_by`; an update answers the builder's error itself.
BUILD_FAILED = "Failed to build [cross_cluster_api_key_request] after last required field arrived"
NON_EMPTY = "must specify non-empty access for either [search] or [replication]"


def built_error(error: dict[str, Any]) -> dict[str, Any]:
    """The builder's error inside a create's answer."""
    assert error["type"] == "x_content_parse_exception" and error["reason"] == BUILD_FAILED
    return dict(error["caused_by"])


def create_error(es: Es, body: Any, status: int = 400) -> dict[str, Any]:
    return error_of(es.api.post(CREATE, json=body), status)


# --- create: the response -----------------------------------------------------------------------------------
def test_create_answers_id_name_key_and_encoded(es: Es) -> None:
    body = es.create_key(name="eck-link")
    assert list(body) == ["id", "name", "api_key", "encoded"]  # no expiration asked, none answered
    assert re.fullmatch(r"[A-Za-z0-9_-]{20}", body["id"]) and re.fullmatch(r"[A-Za-z0-9_-]{22}", body["api_key"])
    assert base64.b64decode(body["encoded"]).decode() == f"{body['id']}:{body['api_key']}"
    assert body["name"] == "eck-link"


@pytest.mark.parametrize(("expiration", "millis"), [("1d", DAY_MS), ("30d", 30 * DAY_MS), ("12h", DAY_MS // 2)])
def test_expiration_is_answered_as_absolute_epoch_millis(es: Es, expiration: str, millis: int) -> None:
    before = int(time.time() * 1000)
    body = es.create_key(expiration=expiration)
    after = int(time.time() * 1000)
    assert before + millis <= body["expiration"] <= after + millis
    assert get_key(es, body["id"])["expiration"] == body["expiration"]


def test_names_are_not_unique(es: Es) -> None:
    first, second = es.create_key(name="same"), es.create_key(name="same")
    assert first["id"] != second["id"]
    found = es.api.get("/_security/api_key", params={"name": "same"}).json()["api_keys"]
    assert [item["id"] for item in found] == [first["id"], second["id"]]


# --- create: validation, message by message -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        ({"access": SEARCH_ACCESS}, "illegal_argument_exception", "Required [name]"),
        ({"name": "k"}, "illegal_argument_exception", "Required [access]"),
        ({"metadata": {}}, "illegal_argument_exception", "Required [name, access]"),
        (
            {"name": "k", "access": None},
            "x_content_parse_exception",
            "access doesn't support values of type: VALUE_NULL",
        ),
        (
            {"name": "k", "access": {}},
            "x_content_parse_exception",
            BUILD_FAILED,
        ),
        (
            {"name": "k", "access": {"search": []}},
            "x_content_parse_exception",
            BUILD_FAILED,
        ),
        (
            {"name": "k", "access": {"replication": []}},
            "x_content_parse_exception",
            BUILD_FAILED,
        ),
        (
            {"name": "k", "access": {"search": [], "replication": []}},
            "x_content_parse_exception",
            BUILD_FAILED,
        ),
        (
            {"name": "k", "access": SEARCH_ACCESS, "colour": "red"},
            "x_content_parse_exception",
            "[cross_cluster_api_key_request] unknown field [colour]",
        ),
        (
            {"name": 5, "access": SEARCH_ACCESS},
            "x_content_parse_exception",
            "name doesn't support values of type: VALUE_NUMBER",
        ),
    ],
)
def test_create_required_fields_and_access(es: Es, body: dict[str, Any], kind: str, reason: str) -> None:
    error = create_error(es, body)
    assert error["type"] == kind
    assert error["reason"].endswith(reason) if kind == "x_content_parse_exception" else error["reason"] == reason
    if reason == BUILD_FAILED:
        assert error["caused_by"] == {"type": "illegal_argument_exception", "reason": NON_EMPTY}
        assert error["root_cause"] == [{"type": "x_content_parse_exception", "reason": BUILD_FAILED}]
    assert es.control("GET", "state")["api_keys"] == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "api key name is required"),
        ("x" * 257, "api key name may not be more than 256 characters long"),
        (" padded", "api key name may not begin or end with whitespace"),
        ("padded ", "api key name may not begin or end with whitespace"),
        ("_hidden", "api key name may not begin with an underscore"),
    ],
)
def test_create_name_rules(es: Es, name: str, message: str) -> None:
    error = create_error(es, {"name": name, "access": SEARCH_ACCESS})
    assert error["type"] == "action_request_validation_exception"
    assert error["reason"] == f"Validation Failed: 1: {message};"


def test_name_of_256_characters_and_inner_spaces_are_fine(es: Es) -> None:
    es.create_key(name="y" * 256)
    es.create_key(name="inner space")


def test_metadata_keys_may_not_start_with_underscore(es: Es) -> None:
    error = create_error(es, {"name": "k", "access": SEARCH_ACCESS, "metadata": {"ok": 1, "_reserved": 2}})
    assert error["reason"] == "Validation Failed: 1: API key metadata keys may not start with [_];"


def test_several_validation_problems_are_numbered(es: Es) -> None:
    error = create_error(es, {"name": "_x ", "access": SEARCH_ACCESS, "metadata": {"_a": 1}})
    assert error["reason"] == (
        "Validation Failed: 1: api key name may not begin or end with whitespace;"
        "2: api key name may not begin with an underscore;3: API key metadata keys may not start with [_];"
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"names": ["logs"], "query": DLS},
        {"names": ["logs"], "field_security": FLS},
        {"names": ["logs"], "query": DLS, "field_security": FLS},
    ],
)
def test_replication_does_not_support_dls_or_fls(es: Es, entry: dict[str, Any]) -> None:
    error = built_error(create_error(es, {"name": "k", "access": {"replication": [entry]}}))
    assert error["type"] == "illegal_argument_exception"
    assert error["reason"] == "replication does not support document or field level security"


def test_granting_all_fields_is_no_field_level_security(es: Es) -> None:
    """`grant: ["*"]` alone is what a UI sends for "no FLS": a real 8.19.21 node takes it on replication."""
    everything = {"names": ["logs"], "field_security": {"grant": ["*"]}}
    key = es.create_key(access={"search": [everything], "replication": [everything]})
    assert get_key(es, key["id"])["access"]["replication"] == [{**everything, "allow_restricted_indices": False}]


@pytest.mark.parametrize("entry", [{"names": ["logs"], "query": DLS}, {"names": ["logs"], "field_security": FLS}])
def test_search_dls_or_fls_is_refused_with_replication(es: Es, entry: dict[str, Any]) -> None:
    access = {"search": [entry], "replication": [{"names": ["logs"]}]}
    error = built_error(create_error(es, {"name": "k", "access": access}))
    assert error["reason"] == "search does not support document or field level security if replication is assigned"
    update = es.api.put(f"{CREATE}/{es.create_key()['id']}", json={"access": access})
    assert error_of(update, 400)["reason"] == error["reason"]


def test_search_dls_and_fls_alone_are_fine(es: Es) -> None:
    key = es.create_key(access={"search": [{"names": ["logs"], "query": DLS, "field_security": FLS}]})
    [entry] = get_key(es, key["id"])["access"]["search"]
    assert entry == {
        "names": ["logs"],
        "field_security": FLS,
        "query": '{"term":{"tag":42}}',
        "allow_restricted_indices": False,
    }


def test_search_entry_needs_names(es: Es) -> None:
    error = create_error(es, {"name": "k", "access": {"search": [{"query": DLS}]}})
    # wrapped by both object parsers, the role parser's error the root cause (as a real 8.19.21 node answers)
    assert error["type"] == "x_content_parse_exception"
    assert error["reason"].endswith("[cross_cluster_api_key_request] failed to parse field [access]")
    assert error["caused_by"]["reason"].endswith(
        "[cross_cluster_api_key_request_access] failed to parse field [search]"
    )
    [root] = error["root_cause"]
    assert root["type"] == "parse_exception"
    assert (
        root["reason"] == "failed to parse indices privileges for role [cross_cluster]. missing required [names] field"
    )


@pytest.mark.parametrize(
    ("value", "kind", "reason"),
    [
        (
            "abc",
            "parse_exception",
            "failed to parse setting [expiration] with value [abc] as a time value: unit is missing or unrecognized",
        ),
        ("1.5d", "parse_exception", "failed to parse [1.5d], fractional time values are not supported"),
        (None, "x_content_parse_exception", "expiration doesn't support values of type: VALUE_NULL"),
    ],
)
def test_expiration_must_be_a_time_value(es: Es, value: Any, kind: str, reason: str) -> None:
    error = create_error(es, {"name": "k", "access": SEARCH_ACCESS, "expiration": value})
    assert error["type"] == kind and error["reason"].endswith(reason)


def test_certificate_identity_is_a_regex_kept_on_the_key(es: Es) -> None:
    error = create_error(es, {"name": "k", "access": SEARCH_ACCESS, "certificate_identity": "CN=(unclosed"})
    assert error["reason"] == "Invalid certificate_identity format: [CN=(unclosed]. Must be a valid regex."
    key = es.create_key(certificate_identity="CN=eck-.*,O=example")
    item = get_key(es, key["id"])
    assert item["certificate_identity"] == "CN=eck-.*,O=example" and list(item)[-1] == "certificate_identity"
    assert "certificate_identity" not in get_key(es, es.create_key()["id"])


@pytest.mark.parametrize("version", ["8.14.3", "8.19.21", "9.0.8", "9.2.4"])
@pytest.mark.parametrize("value", ["CN=.*", None])
def test_certificate_identity_is_unknown_before_9_3_even_null(make_es: Any, version: str, value: Any) -> None:
    """As a real 8.19.21 node answers (reference section 1): both parsers refuse the field, whatever its value."""
    es = make_es(version=version)
    error = create_error(es, {"name": "k", "access": SEARCH_ACCESS, "certificate_identity": value})
    assert error["type"] == "x_content_parse_exception"
    assert error["reason"].endswith("[cross_cluster_api_key_request] unknown field [certificate_identity]")
    key = es.create_key()
    error = error_of(update(es, key["id"], {"access": SEARCH_ACCESS, "certificate_identity": value}), 400)
    assert error["type"] == "x_content_parse_exception"
    assert error["reason"].endswith(
        "[update_cross_cluster_api_key_request_payload] unknown field [certificate_identity]"
    )
    assert "certificate_identity" not in get_key(es, key["id"])


def test_certificate_identity_null_is_refused_on_create_at_9_3(es: Es) -> None:
    """Create declares the field ValueType.STRING: a null is a parse error, not "no identity"."""
    error = create_error(es, {"name": "k", "access": SEARCH_ACCESS, "certificate_identity": None})
    assert error["type"] == "x_content_parse_exception"
    assert error["reason"].endswith(
        "[cross_cluster_api_key_request] certificate_identity doesn't support values of type: VALUE_NULL"
    )
    assert es.control("GET", "state")["api_keys"] == []


def test_certificate_identity_alone_is_an_update_at_9_3(es: Es) -> None:
    key = es.create_key()
    assert update(es, key["id"], {"certificate_identity": None}).json() == {"updated": False}  # none to clear
    assert update(es, key["id"], {"certificate_identity": "CN=a"}).json() == {"updated": True}
    assert update(es, key["id"], {"certificate_identity": "CN=a"}).json() == {"updated": False}
    assert get_key(es, key["id"])["certificate_identity"] == "CN=a"
    assert update(es, key["id"], {"certificate_identity": None}).json() == {"updated": True}
    assert "certificate_identity" not in get_key(es, key["id"])


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("8.19.21", "must update either [access] or [metadata] for cross-cluster API keys"),
        ("9.2.4", "must update either [access] or [metadata] for cross-cluster API keys"),
        ("9.3.2", "must update [access], [metadata], or [certificate_identity] for cross-cluster API keys"),
    ],
)
def test_an_update_must_change_something(make_es: Any, version: str, message: str) -> None:
    es = make_es(version=version)
    key = es.create_key()
    for body in ({}, {"expiration": "1d"}):
        error = error_of(update(es, key["id"], body), 400)
        assert (error["type"], error["reason"]) == (
            "action_request_validation_exception",
            f"Validation Failed: 1: {message};",
        )


def test_create_needs_a_body(es: Es) -> None:
    error = error_of(es.api.post(CREATE), 400)
    assert error["type"] == "parse_exception" and error["reason"] == "request body is required"


# --- get ----------------------------------------------------------------------------------------------------
def test_get_item_fields_order_and_derived_role_descriptor(es: Es) -> None:
    key = es.create_key(access=BOTH, expiration="7d", metadata={"tag": "shared", "points": 0})
    item = get_key(es, key["id"])
    assert list(item) == [
        "id", "name", "type", "creation", "expiration", "invalidated", "username", "realm", "realm_type",
        "metadata", "role_descriptors", "access",
    ]  # fmt: skip
    assert item["type"] == "cross_cluster" and item["invalidated"] is False
    assert (item["username"], item["realm"], item["metadata"]) == (
        "elastic",
        "reserved",
        {"tag": "shared", "points": 0},
    )
    assert item["role_descriptors"] == {
        "cross_cluster": {
            "cluster": ["cross_cluster_search", "monitor_enrich", "cross_cluster_replication"],
            "indices": [
                {
                    "names": ["metrics"],
                    "privileges": ["read", "read_cross_cluster", "view_index_metadata"],
                    "allow_restricted_indices": False,
                },
                {
                    "names": ["logs"],
                    "privileges": ["cross_cluster_replication", "cross_cluster_replication_internal"],
                    "allow_restricted_indices": True,
                },
            ],
            "applications": [],
            "run_as": [],
            "metadata": {},
            "transient_metadata": {"enabled": True},
        }
    }
    assert item["access"] == {
        "search": [{"names": ["metrics"], "allow_restricted_indices": False}],
        "replication": [{"names": ["logs"], "allow_restricted_indices": True}],
    }


@pytest.mark.parametrize(
    ("version", "access", "cluster"),
    [
        ("9.3.2", {"search": [{"names": "a"}]}, ["cross_cluster_search", "monitor_enrich"]),
        ("8.14.3", {"search": [{"names": "a"}]}, ["cross_cluster_search"]),
        (
            "8.14.3",
            {"search": [{"names": "a"}], "replication": [{"names": "b"}]},
            ["cross_cluster_search", "cross_cluster_replication"],
        ),
        ("9.3.2", {"replication": [{"names": "b"}]}, ["cross_cluster_replication"]),
    ],
)
def test_cluster_privileges_follow_access_and_version(
    make_es: Any, version: str, access: dict[str, Any], cluster: list[str]
) -> None:
    es = make_es(version=version)
    item = get_key(es, es.create_key(access=access)["id"])
    assert item["role_descriptors"]["cross_cluster"]["cluster"] == cluster
    assert list(item["access"]) == list(access)  # empty sections are omitted


def test_unknown_id_is_404_with_empty_list(es: Es) -> None:
    response = es.api.get("/_security/api_key", params={"id": "AAAAAAAAAAAAAAAAAAAA"})
    assert response.status_code == 404 and response.json() == {"api_keys": []}
    other = es.api.get("/_security/api_key", params={"name": "nothing-like-it"})
    assert other.status_code == 200 and other.json() == {"api_keys": []}


def test_get_by_name_prefix_and_filters(es: Es) -> None:
    a, b, _c = es.create_key(name="link-a"), es.create_key(name="link-b"), es.create_key(name="other")
    found = es.api.get("/_security/api_key", params={"name": "link-*"}).json()["api_keys"]
    assert [item["id"] for item in found] == [a["id"], b["id"]]
    assert len(es.api.get("/_security/api_key", params={"name": "*"}).json()["api_keys"]) == 3
    assert (
        len(
            es.api.get("/_security/api_key", params={"username": "elastic", "realm_name": "reserved"}).json()[
                "api_keys"
            ]
        )
        == 3
    )
    assert len(es.api.get("/_security/api_key", params={"owner": "true"}).json()["api_keys"]) == 3
    assert es.api.get("/_security/api_key", params={"realm_name": "native1"}).json() == {"api_keys": []}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"id": "x", "username": "elastic"},
            "username or realm name must not be specified when the api key id or api key name is specified",
        ),
        (
            {"owner": "true", "realm_name": "reserved"},
            "neither username nor realm-name may be specified when retrieving owned API keys",
        ),
        ({"id": "x", "name": "y"}, "only one of [api key id, api key name] can be specified"),
    ],
)
def test_get_parameter_combinations(es: Es, params: dict[str, str], message: str) -> None:
    error = error_of(es.api.get("/_security/api_key", params=params), 400)
    assert (
        error["type"] == "action_request_validation_exception"
        and error["reason"] == f"Validation Failed: 1: {message};"
    )


def test_invalidated_keys_stay_visible_and_active_only_hides_them(es: Es) -> None:
    live, dead = es.create_key(name="live"), es.create_key(name="dead")
    before = int(time.time() * 1000)
    es.api.delete("/_security/api_key", json={"ids": [dead["id"]]})
    item = get_key(es, dead["id"])
    assert item["invalidated"] is True and item["invalidation"] >= before
    assert list(item).index("invalidation") == list(item).index("invalidated") + 1
    active = es.api.get("/_security/api_key", params={"active_only": "true"}).json()["api_keys"]
    assert [key["id"] for key in active] == [live["id"]]
    gone = es.api.get("/_security/api_key", params={"id": dead["id"], "active_only": "true"})
    assert gone.status_code == 404 and gone.json() == {"api_keys": []}


def test_active_only_hides_expired_keys(es: Es) -> None:
    key = es.create_key(expiration="1h")
    es.control("PUT", "clock", {"offset_ms": 2 * 3_600_000})
    assert es.api.get("/_security/api_key", params={"active_only": "true"}).json() == {"api_keys": []}
    assert get_key(es, key["id"])["invalidated"] is False


def test_realm_type_and_invalidation_fields_follow_the_version(make_es: Any) -> None:
    es = make_es(version="8.11.4")
    key = es.create_key()
    es.api.delete("/_security/api_key", json={"ids": [key["id"]]})
    item = get_key(es, key["id"])
    assert "realm_type" not in item and "invalidation" not in item and item["invalidated"] is True


# --- update -------------------------------------------------------------------------------------------------
def update(es: Es, key_id: str, body: Any) -> Any:
    return es.api.put(f"{CREATE}/{key_id}", json=body)


def test_update_replaces_access_and_metadata(es: Es) -> None:
    key = es.create_key(metadata={"a": 1, "b": 2})
    assert update(es, key["id"], {"access": BOTH, "metadata": {"c": 3}}).json() == {"updated": True}
    item = get_key(es, key["id"])
    assert item["access"]["search"] == [{"names": ["metrics"], "allow_restricted_indices": False}]
    assert item["metadata"] == {"c": 3}
    assert update(es, key["id"], {"metadata": {"env": "prod"}}).json() == {"updated": True}
    assert get_key(es, key["id"])["access"] == item["access"]  # access untouched by a metadata-only update
    assert update(es, key["id"], {"access": {"search": [{"names": ["blogs"]}]}}).json() == {"updated": True}
    item = get_key(es, key["id"])
    assert item["access"] == {"search": [{"names": ["blogs"], "allow_restricted_indices": False}]}
    assert item["metadata"] == {"env": "prod"}
    assert item["role_descriptors"]["cross_cluster"]["cluster"] == ["cross_cluster_search", "monitor_enrich"]


def test_sending_back_what_get_returned_is_a_noop(es: Es) -> None:
    key = es.create_key(access={"search": [{"names": "logs", "query": DLS}]}, metadata={"m": 1})
    item = get_key(es, key["id"])
    assert update(es, key["id"], {"access": item["access"], "metadata": item["metadata"]}).json() == {"updated": False}
    assert update(es, key["id"], {"access": {"search": [{"names": ["logs"], "query": DLS}]}}).json() == {
        "updated": False
    }
    assert update(es, key["id"], {"metadata": {"m": 1}}).json() == {"updated": False}


def test_update_expiration_moves_it_and_is_never_a_noop(es: Es) -> None:
    key = es.create_key()
    before = int(time.time() * 1000)
    assert update(es, key["id"], {"access": SEARCH_ACCESS, "expiration": "30d"}).json() == {"updated": True}
    assert get_key(es, key["id"])["expiration"] >= before + 30 * DAY_MS
    es.control("PUT", "clock", {"offset_ms": 60_000})
    assert update(es, key["id"], {"access": SEARCH_ACCESS, "expiration": "30d"}).json() == {"updated": True}
    moved = get_key(es, key["id"])["expiration"]
    assert moved >= before + 60_000 + 30 * DAY_MS  # now + expiration, at every update that sends it
    assert update(es, key["id"], {"access": {"search": [{"names": ["other"]}]}}).json() == {"updated": True}
    assert get_key(es, key["id"])["expiration"] == moved  # left out: unchanged
    error = error_of(update(es, key["id"], {"access": SEARCH_ACCESS, "expiration": None}), 400)
    assert error["reason"].endswith("expiration doesn't support values of type: VALUE_NULL")


def test_update_certificate_identity_replace_clear_keep(es: Es) -> None:
    key = es.create_key(certificate_identity="CN=a")
    assert update(es, key["id"], {"metadata": {}}).json() == {"updated": False}
    assert get_key(es, key["id"])["certificate_identity"] == "CN=a"  # omitted: unchanged
    assert update(es, key["id"], {"metadata": {}, "certificate_identity": "CN=b"}).json() == {"updated": True}
    assert get_key(es, key["id"])["certificate_identity"] == "CN=b"
    assert update(es, key["id"], {"metadata": {}, "certificate_identity": None}).json() == {"updated": True}
    assert "certificate_identity" not in get_key(es, key["id"])


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        (
            {"name": "renamed", "access": SEARCH_ACCESS},
            "x_content_parse_exception",
            "[update_cross_cluster_api_key_request_payload] unknown field [name]",
        ),
        (
            {"access": {}},
            "illegal_argument_exception",
            NON_EMPTY,
        ),
        ({"access": None}, "x_content_parse_exception", "access doesn't support values of type: VALUE_NULL"),
        (
            {"metadata": {"_x": 1}},
            "action_request_validation_exception",
            "Validation Failed: 1: API key metadata keys may not start with [_];",
        ),
        (
            {"access": {"replication": [{"names": ["a"], "query": DLS}]}},
            "illegal_argument_exception",
            "replication does not support document or field level security",
        ),
    ],
)
def test_update_validation(es: Es, body: dict[str, Any], kind: str, reason: str) -> None:
    key = es.create_key(name="keep-name")
    error = error_of(update(es, key["id"], body), 400)
    assert error["type"] == kind and error["reason"].endswith(reason)
    assert get_key(es, key["id"])["name"] == "keep-name"


def test_update_needs_a_body(es: Es) -> None:
    key = es.create_key()
    assert error_of(es.api.put(f"{CREATE}/{key['id']}"), 400)["reason"] == "request body is required"


def test_update_of_unknown_invalidated_or_expired_keys(es: Es) -> None:
    error = error_of(update(es, "AAAAAAAAAAAAAAAAAAAA", {"metadata": {}}), 404)
    assert error["type"] == "resource_not_found_exception"
    assert error["reason"] == "no API key owned by requesting user found for ID [AAAAAAAAAAAAAAAAAAAA]"
    dead = es.create_key()
    es.api.delete("/_security/api_key", json={"ids": [dead["id"]]})
    error = error_of(update(es, dead["id"], {"metadata": {}}), 400)
    assert (error["type"], error["reason"]) == (
        "illegal_argument_exception",
        f"cannot update invalidated API key [{dead['id']}]",
    )
    old = es.create_key(expiration="1d")
    es.control("PUT", "clock", {"offset_ms": 2 * DAY_MS})
    error = error_of(update(es, old["id"], {"metadata": {}}), 400)
    assert error["reason"] == f"cannot update expired API key [{old['id']}]"


def test_expiration_on_update_needs_8_13(make_es: Any) -> None:
    es = make_es(version="8.12.2")
    key = es.create_key()
    error = error_of(update(es, key["id"], {"metadata": {}, "expiration": "1d"}), 400)
    assert error["reason"].endswith("unknown field [expiration]")


# --- invalidate ---------------------------------------------------------------------------------------------
def test_invalidate_by_ids_then_again(es: Es) -> None:
    a, b = es.create_key(), es.create_key()
    body = es.api.delete("/_security/api_key", json={"ids": [a["id"], b["id"], "unknown-id"]}).json()
    assert body == {"invalidated_api_keys": [a["id"], b["id"]], "previously_invalidated_api_keys": [], "error_count": 0}
    again = es.api.delete("/_security/api_key", json={"ids": [a["id"]]})
    assert again.status_code == 200
    assert again.json() == {"invalidated_api_keys": [], "previously_invalidated_api_keys": [], "error_count": 0}


def test_invalidate_by_name_and_deprecated_id(es: Es) -> None:
    a, b, c = es.create_key(name="link-1"), es.create_key(name="link-2"), es.create_key(name="keep")
    assert es.api.delete("/_security/api_key", json={"name": "link-*"}).json()["invalidated_api_keys"] == [
        a["id"],
        b["id"],
    ]
    assert es.api.delete("/_security/api_key", json={"id": c["id"]}).json()["invalidated_api_keys"] == [c["id"]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {},
            "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false;",
        ),
        (
            {"ids": ["a"], "name": "b"},
            "Validation Failed: 1: only one of [api key id(s), api key name] can be specified;",
        ),
        ({"ids": []}, "Field [ids] cannot be an empty array"),
        ({"idz": ["a"]}, "[invalidate_api_key_request] unknown field [idz]"),
    ],
)
def test_invalidate_validation(es: Es, body: dict[str, Any], reason: str) -> None:
    assert error_of(es.api.delete("/_security/api_key", json=body), 400)["reason"].endswith(reason)


def test_invalidate_needs_a_body(es: Es) -> None:
    assert error_of(es.api.delete("/_security/api_key"), 400)["reason"] == "request body is required"
