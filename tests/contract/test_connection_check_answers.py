"""`RemoteConnectionCheck` read over scripted answers of the local cluster (faults on the local Elasticsearch
emulator, every answer replaced): the exact failure a user reads for each shape of answer (sniff mode, no
credentials, not connected, an alias it does not know, the pre-8.13 search probe and each of its statuses), the
errors that name the operation, what is sent on the wire (paths, query, how often), what `refresh` records and which
changes `diff` shows. A timeout of 0 makes one probe, so each test stays fast."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from components.elasticsearch import connection_check
from components.elasticsearch.client import ElasticsearchApiError
from components.elasticsearch.connection_check import (
    INPUTS,
    RemoteConnectionCheckProvider,
    RemoteConnectionError,
)
from components.polling import wait_for
from tests.support.progress_capture import Clock, progress_lines
from tools.emulated_link import LOCAL_PASSWORD, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink

ALIAS = "logs"
ADDRESS = "rcs.example.com:9443"
REDACTED = "::es_redacted::"
PREFIX = f"remote cluster '{ALIAS}' did not connect within 0s"
API_KEY_PATH = (
    "settings, credentials, trust and key all look right from the APIs, so check the path itself: the load "
    "balancer's port must forward to targetPort 9443, the remote cluster server must be enabled, the TLS server "
    "name must be in the remote certificate's SANs, and the key's access must cover what is used"
)
TLS_PATH = (
    "settings and trust look right from the APIs, so check the path itself (TLS-certificate model): the "
    "transport Service's port must forward to 9300, the remote nodes must trust the ECE deployment's CA and "
    "name its nodes in their trust.yml (trust.subject_name), and the TLS server name must be in the remote "
    "certificate's SANs"
)
NO_CREDENTIALS = f"credentials: no keystore entry cluster.remote.{ALIAS}.credentials is loaded"
NOT_CONFIGURED = f"alias '{ALIAS}' is not configured on the local cluster"


def props(env: EmulatedLink, **changes: Any) -> dict[str, Any]:
    """The check's inputs against the local emulator; a change to None removes the input (older state)."""
    base: dict[str, Any] = {
        "target": {"kind": "direct", "url": env.local.url, "request_timeout_seconds": 5.0},
        "credentials": {"username": "elastic", "password": LOCAL_PASSWORD},
        "alias": ALIAS,
        "expected": {"proxy_address": ADDRESS, "server_name": SERVER_NAME},
        "requires_credentials": True,
        "remote": None,
        "trust": None,
        "timeout_seconds": 0,
    }
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if value is not None or key in ("remote", "trust")}


def proxy_entry(**changes: Any) -> dict[str, Any]:
    """`_remote/info`'s entry for a connected proxy-mode alias with API-key credentials; None removes a field."""
    entry: dict[str, Any] = {
        "connected": True,
        "mode": "proxy",
        "proxy_address": ADDRESS,
        "server_name": SERVER_NAME,
        "num_proxy_sockets_connected": 18,
        "max_proxy_socket_connections": 18,
        "initial_connect_timeout": "30s",
        "skip_unavailable": True,
        "cluster_credentials": REDACTED,
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


SNIFF_ENTRY = {
    "connected": True,
    "mode": "sniff",
    "seeds": [ADDRESS],
    "num_nodes_connected": 1,
    "max_connections_per_cluster": 3,
    "initial_connect_timeout": "30s",
    "skip_unavailable": True,
    "cluster_credentials": REDACTED,
}
CONNECTED = (200, {ALIAS: {"connected": True, "skip_unavailable": True}})
NOT_CONNECTED = (200, {ALIAS: {"connected": False, "skip_unavailable": True}})
UNKNOWN_ROUTE = (
    400,
    {
        "error": {
            "root_cause": [{"type": "illegal_argument_exception", "reason": "no handler found for uri"}],
            "type": "illegal_argument_exception",
            "reason": "no handler found for uri",
        },
        "status": 400,
    },
)
SEARCH_CONNECTED = (
    200,
    {
        "took": 1,
        "timed_out": False,
        "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
        "_clusters": {"total": 1, "successful": 1, "skipped": 0, "running": 0, "partial": 0, "failed": 0},
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
    },
)
SEARCH_SKIPPED = (
    200,
    {
        "took": 1,
        "timed_out": False,
        "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
        "_clusters": {"total": 1, "successful": 0, "skipped": 1, "running": 0, "partial": 0, "failed": 0},
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
    },
)
SEARCH_UNEXPECTED = (400, {"error": {"type": "parsing_exception", "reason": "the search probe decided"}})


def no_such_remote(where: str) -> dict[str, Any]:
    """An error caused by no_such_remote_cluster_exception, the type found only at `where`."""
    cause = {"type": "no_such_remote_cluster_exception", "reason": f"no such remote cluster: [{ALIAS}]"}
    other = {"type": "security_exception", "reason": "action [indices:admin/resolve/cluster] is unauthorized"}
    if where == "type":
        return {"error": cause, "status": 404}
    if where == "root_cause":
        return {"error": {**other, "root_cause": [cause]}, "status": 403}
    wrapper = {"type": "exception", "reason": "wrapped", "caused_by": cause}
    return {"error": {**other, "root_cause": [other], "caused_by": wrapper}, "status": 403}


@dataclass
class Answers:
    """What the local cluster answers to each of the check's requests."""

    info: dict[str, Any] | None = None
    resolve: tuple[int, Any] | None = None
    search: tuple[int, Any] | None = None
    extra: list[tuple[str, int, Any]] = field(default_factory=list)

    def install(self, env: EmulatedLink) -> None:
        routes: list[tuple[str, int, Any]] = list(self.extra)
        if self.info is not None:
            routes.append(("GET /_remote/info", 200, self.info))
        if self.resolve is not None:
            routes.append((f"GET {re.escape(f'/_resolve/cluster/{ALIAS}:*')}", *self.resolve))
        if self.search is not None:
            routes.append((f"GET {re.escape(f'/{ALIAS}:*/_search')}", *self.search))
        for route, status, body in routes:
            env.fault(env.local, route=route, kind="status", status=status, body=body, times=-1)


def failure_of(env: EmulatedLink, answers: Answers, provider: Any = None, **changes: Any) -> str:
    answers.install(env)
    with pytest.raises(RemoteConnectionError) as raised:
        (provider or RemoteConnectionCheckProvider()).create(props(env, **changes))
    return str(raised.value)


def sent(env: EmulatedLink) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in env.requests_to(env.local)]


# --- the exact failure for each shape of answer ----------------------------------------------------------------


def test_a_connected_sniff_alias_fails_saying_the_local_cluster_reached_it_and_every_setting_that_differs(
    env: EmulatedLink,
) -> None:
    message = failure_of(env, Answers(info={ALIAS: SNIFF_ENTRY}, resolve=CONNECTED))
    assert message == (
        f"{PREFIX} (mode=sniff, proxy_address=None, server_name=, credentials=yes; the local cluster said: "
        f"connected). mode is 'sniff', expected 'proxy' | address: proxy_address is 'None', expected '{ADDRESS}' | "
        f"server name: server_name is 'None', expected '{SERVER_NAME}'"
    )


def test_a_proxy_alias_without_credentials_at_another_address_names_each_wrong_part(env: EmulatedLink) -> None:
    info = proxy_entry(proxy_address="10.0.0.9:9443", server_name="other.elastic.svc", cluster_credentials=None)
    message = failure_of(env, Answers(info={ALIAS: info}, resolve=CONNECTED))
    assert message == (
        f"{PREFIX} (mode=proxy, proxy_address=10.0.0.9:9443, server_name=other.elastic.svc, credentials=none; "
        "the local cluster said: connected). address: proxy_address is '10.0.0.9:9443', expected "
        f"'{ADDRESS}' | server name: server_name is 'other.elastic.svc', expected '{SERVER_NAME}' | {NO_CREDENTIALS}"
    )


def test_an_alias_the_local_cluster_does_not_have_is_named_with_the_settings_that_are_missing(
    env: EmulatedLink,
) -> None:
    message = failure_of(env, Answers(info={}, resolve=(403, no_such_remote("caused_by"))))
    assert message == (
        f"{PREFIX} (not configured; the local cluster said: {NOT_CONFIGURED}). {NOT_CONFIGURED} "
        f"(cluster.remote.{ALIAS}.* settings are missing)"
    )


@pytest.mark.parametrize("where", ["type", "root_cause", "caused_by"])
def test_no_such_remote_cluster_is_recognised_wherever_the_error_names_it(env: EmulatedLink, where: str) -> None:
    """As the error itself, as a root cause, or deep in the `caused_by` chain (a real node's 403 has it there)."""
    status = 404 if where == "type" else 403
    answers = Answers(info={}, resolve=(status, no_such_remote(where)), search=SEARCH_UNEXPECTED)
    assert f"the local cluster said: {NOT_CONFIGURED})" in failure_of(env, answers)
    assert ("GET", f"/{ALIAS}:*/_search") not in sent(env)


def test_a_link_not_connected_with_nothing_wrong_to_see_points_at_the_path_of_an_api_key_remote(
    env: EmulatedLink,
) -> None:
    """State written before `requires_credentials` existed has no such input: the API-key model, by default."""
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=NOT_CONNECTED), requires_credentials=None)
    assert message == (
        f"{PREFIX} (mode=proxy, proxy_address={ADDRESS}, server_name={SERVER_NAME}, credentials=yes; the local "
        f"cluster said: the local cluster could not reach the remote). {API_KEY_PATH}"
    )


def test_a_certificate_model_link_needs_no_credentials_and_points_at_the_transport_path(env: EmulatedLink) -> None:
    info = proxy_entry(cluster_credentials=None)
    message = failure_of(env, Answers(info={ALIAS: info}, resolve=NOT_CONNECTED), requires_credentials=False)
    assert message == (
        f"{PREFIX} (mode=proxy, proxy_address={ADDRESS}, server_name={SERVER_NAME}, credentials=none; the local "
        f"cluster said: the local cluster could not reach the remote). {TLS_PATH}"
    )


def test_without_the_requires_credentials_input_a_link_without_credentials_is_not_ready(env: EmulatedLink) -> None:
    info = proxy_entry(cluster_credentials=None)
    message = failure_of(env, Answers(info={ALIAS: info}, resolve=CONNECTED), requires_credentials=None)
    assert message.endswith(f"credentials=none; the local cluster said: connected). {NO_CREDENTIALS}"), message


def test_an_empty_server_name_matches_an_empty_expected_one(env: EmulatedLink) -> None:
    info = proxy_entry(server_name=None, cluster_credentials=None)
    expected = {"proxy_address": ADDRESS, "server_name": ""}
    message = failure_of(env, Answers(info={ALIAS: info}, resolve=CONNECTED), expected=expected)
    assert message.endswith(f"server_name=, credentials=none; the local cluster said: connected). {NO_CREDENTIALS}")


def test_the_search_probe_saying_connected_is_reported_as_connected(env: EmulatedLink) -> None:
    message = failure_of(env, Answers(info={ALIAS: SNIFF_ENTRY}, resolve=UNKNOWN_ROUTE, search=SEARCH_CONNECTED))
    assert "credentials=yes; the local cluster said: connected). mode is 'sniff', expected 'proxy' | " in message


def test_a_skipped_search_without_an_error_says_the_search_skipped_the_remote(env: EmulatedLink) -> None:
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=UNKNOWN_ROUTE, search=SEARCH_SKIPPED))
    assert f"; the local cluster said: the cross-cluster search skipped the remote). {API_KEY_PATH}" in message


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 503])
def test_each_failed_search_status_is_read_as_not_connected_with_its_reason(env: EmulatedLink, status: int) -> None:
    """Answered once and read (not retried, not raised): the search's own reason is what the user reads."""
    body = {"error": {"type": "some_exception", "reason": f"[{ALIAS}] refused with {status}"}, "status": status}
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=UNKNOWN_ROUTE, search=(status, body)))
    assert f"; the local cluster said: [{ALIAS}] refused with {status}). " in message, message
    assert sent(env).count(("GET", f"/{ALIAS}:*/_search")) == 1


@pytest.mark.parametrize(
    "resolve",
    [
        pytest.param(UNKNOWN_ROUTE, id="400 unknown route"),
        pytest.param((404, {"error": "Not Found"}), id="404 from a proxy"),
        pytest.param((405, {"error": "Incorrect HTTP method"}), id="405"),
        pytest.param((200, {}), id="200 without the alias"),
        pytest.param((400, ["not", "an", "object"]), id="a JSON body that is not an object"),
    ],
)
def test_an_answer_without_the_alias_entry_leaves_the_decision_to_the_search_probe(
    env: EmulatedLink, resolve: tuple[int, Any]
) -> None:
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=resolve, search=SEARCH_UNEXPECTED))
    assert "; the local cluster said: the search probe decided). " in message, message


# --- what is sent ------------------------------------------------------------------------------------------------


def test_the_search_probe_asks_for_no_hits_and_tolerates_missing_indices(env: EmulatedLink) -> None:
    failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=UNKNOWN_ROUTE, search=SEARCH_SKIPPED))
    searches = [r for r in env.requests_to(env.local) if r["path"] == f"/{ALIAS}:*/_search"]
    assert [(r["method"], r["query"]) for r in searches] == [
        ("GET", {"size": ["0"], "ignore_unavailable": ["true"], "allow_no_indices": ["true"]})
    ]


def test_a_probe_reads_remote_info_once_and_the_failure_reuses_what_it_read(env: EmulatedLink) -> None:
    failure_of(env, Answers(info={ALIAS: SNIFF_ENTRY}, resolve=CONNECTED))
    assert sent(env) == [("GET", f"/_resolve/cluster/{ALIAS}:*"), ("GET", "/_remote/info")]


def test_every_request_is_logged_with_its_operation_method_and_path(
    env: EmulatedLink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ece_eck_remote.http")
    remote = {"target": remote_target(env), "credentials": remote_credentials(), "key_id": "gone"}
    failure_of(
        env,
        Answers(info={ALIAS: proxy_entry()}, resolve=UNKNOWN_ROUTE, search=SEARCH_SKIPPED),
        remote=remote,
    )
    logged = [r.getMessage() for r in caplog.records if r.name == "ece_eck_remote.http"]
    assert logged == [
        f"resolve remote cluster '{ALIAS}' GET _resolve/cluster/{ALIAS}:* -> 400",
        f"search remote cluster '{ALIAS}' GET {ALIAS}:*/_search -> 200",
        "get remote cluster info GET _remote/info -> 200",
        "get API key GET _security/api_key -> 404",
    ]


# --- errors that name the operation ------------------------------------------------------------------------------


def api_error_of(env: EmulatedLink, answers: Answers) -> str:
    answers.install(env)
    with pytest.raises(ElasticsearchApiError) as raised:
        RemoteConnectionCheckProvider().create(props(env))
    return str(raised.value)


def test_a_forbidden_resolve_is_an_error_naming_the_operation_code_and_reason(env: EmulatedLink) -> None:
    reason = "action [indices:admin/resolve/cluster] is unauthorized for user [elastic]"
    body = {"error": {"root_cause": [], "type": "security_exception", "reason": reason}, "status": 403}
    assert api_error_of(env, Answers(resolve=(403, body))) == (
        f"Elasticsearch API resolve remote cluster '{ALIAS}' failed: HTTP 403 [security_exception]: {reason}"
    )


def test_a_forbidden_resolve_without_a_reason_says_forbidden(env: EmulatedLink) -> None:
    assert api_error_of(env, Answers(resolve=(403, {}))) == (
        f"Elasticsearch API resolve remote cluster '{ALIAS}' failed: HTTP 403: forbidden"
    )


def test_an_unexpected_resolve_status_is_an_error_naming_the_operation(env: EmulatedLink) -> None:
    body = {"error": {"type": "security_exception", "reason": "missing authentication credentials"}, "status": 401}
    assert api_error_of(env, Answers(resolve=(401, body))).startswith(
        f"Elasticsearch API resolve remote cluster '{ALIAS}' failed: HTTP 401 [security_exception]"
    )


def test_an_unexpected_search_status_is_an_error_naming_the_operation(env: EmulatedLink) -> None:
    body = {"error": {"type": "version_conflict_engine_exception", "reason": "conflict"}, "status": 409}
    assert api_error_of(env, Answers(resolve=UNKNOWN_ROUTE, search=(409, body))) == (
        f"Elasticsearch API search remote cluster '{ALIAS}' failed: HTTP 409 [version_conflict_engine_exception]: "
        "conflict"
    )


def test_a_failed_remote_info_is_an_error_naming_the_operation(env: EmulatedLink) -> None:
    body = {"error": {"type": "security_exception", "reason": "unauthorized"}, "status": 403}
    answers = Answers(resolve=CONNECTED, extra=[("GET /_remote/info", 403, body)])
    assert api_error_of(env, answers) == (
        "Elasticsearch API get remote cluster info failed: HTTP 403 [security_exception]: unauthorized"
    )


# --- the API key on the remote -----------------------------------------------------------------------------------


def remote_target(env: EmulatedLink) -> dict[str, Any]:
    return {"kind": "direct", "url": env.remote.url, "request_timeout_seconds": 5.0}


def remote_credentials(password: str = REMOTE_PASSWORD) -> dict[str, Any]:
    return {"username": "elastic", "password": password}


def test_a_key_the_remote_does_not_know_is_named_as_gone_and_only_that_key_is_asked_for(env: EmulatedLink) -> None:
    remote = {"target": remote_target(env), "credentials": remote_credentials(), "key_id": "k-4711"}
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=NOT_CONNECTED), remote=remote)
    assert message.endswith("). key: cross-cluster API key k-4711 no longer exists on the remote"), message
    asked = [r for r in env.requests_to(env.remote) if r["path"] == "/_security/api_key"]
    assert [(r["method"], r["query"], r["status"]) for r in asked] == [("GET", {"id": ["k-4711"]}, 404)]


def test_a_key_that_cannot_be_read_says_so_with_the_operation_and_status(env: EmulatedLink) -> None:
    remote = {"target": remote_target(env), "credentials": remote_credentials("wrong-password"), "key_id": "k-1"}
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=NOT_CONNECTED), remote=remote)
    assert "). key: could not read the API key on the remote (Elasticsearch API get API key failed: HTTP 401" in (
        message
    ), message


# --- the local side (trust and keystore) ---------------------------------------------------------------------------


@dataclass
class RecordingLocalSide:
    """A local side that says what it is asked and answers with fixed findings."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def credentials_hint(self, details: Mapping[str, Any], alias: str) -> str:
        self.calls.append(("credentials_hint", (dict(details), alias)))
        return "; the keystore holds it, but the deployment has not loaded it"

    def trust_problems(self, details: Mapping[str, Any], fingerprints: list[str], node_names: list[str]) -> list[str]:
        self.calls.append(("trust_problems", (dict(details), fingerprints, node_names)))
        return ["CA: the deployment does not trust the remote's CA"]


TRUST = {"deployment_id": "d1", "entry_name": f"ece-eck-remote-{ALIAS}"}
NO_CREDS = Answers(info={ALIAS: proxy_entry(cluster_credentials=None)}, resolve=CONNECTED)


def test_the_local_side_is_asked_about_credentials_and_trust_with_the_expected_node_names(env: EmulatedLink) -> None:
    local = RecordingLocalSide()
    expected = {"proxy_address": ADDRESS, "node_names": ["node-a"]}
    provider = RemoteConnectionCheckProvider(local)
    message = failure_of(env, NO_CREDS, provider, trust=TRUST, expected=expected)
    assert message.endswith(
        f"{NO_CREDENTIALS}; the keystore holds it, but the deployment has not loaded it | "
        "CA: the deployment does not trust the remote's CA"
    ), message
    assert local.calls == [("credentials_hint", (TRUST, ALIAS)), ("trust_problems", (TRUST, [], ["node-a"]))]


def test_without_the_link_details_the_local_side_is_not_asked(env: EmulatedLink) -> None:
    local = RecordingLocalSide()
    expected = {"proxy_address": ADDRESS, "ca_fingerprints": ["AB:CD"]}
    message = failure_of(env, NO_CREDS, RemoteConnectionCheckProvider(local), expected=expected)
    assert message.endswith(f"the local cluster said: connected). {NO_CREDENTIALS}"), message
    assert local.calls == []


def test_with_nothing_expected_of_trust_the_local_side_is_asked_only_about_credentials(env: EmulatedLink) -> None:
    local = RecordingLocalSide()
    failure_of(env, NO_CREDS, RemoteConnectionCheckProvider(local), trust=TRUST)
    assert [name for name, _ in local.calls] == ["credentials_hint"]


def test_without_a_local_side_the_link_details_are_not_read(env: EmulatedLink) -> None:
    """The check run on its own (no `LocalSide`): it diagnoses the Elasticsearch side only."""
    expected = {"proxy_address": ADDRESS, "ca_fingerprints": ["AB:CD"]}
    message = failure_of(env, NO_CREDS, trust=TRUST, expected=expected)
    assert message.endswith(f"the local cluster said: connected). {NO_CREDENTIALS}"), message


def test_a_provider_pickled_without_a_local_side_still_checks(env: EmulatedLink) -> None:
    """A provider pickled into state by a version before `local` existed has no such attribute."""
    provider = RemoteConnectionCheckProvider(RecordingLocalSide())
    del provider.local
    message = failure_of(env, NO_CREDS, provider, trust=TRUST)
    assert message.endswith(f"the local cluster said: connected). {NO_CREDENTIALS}"), message


# --- create, refresh and diff --------------------------------------------------------------------------------------


def test_a_connected_check_records_its_inputs_and_the_address_and_name_seen(env: EmulatedLink) -> None:
    Answers(info={ALIAS: proxy_entry(server_name="seen.elastic.svc")}, resolve=CONNECTED).install(env)
    inputs = props(env, timeout_seconds=5)
    created = RemoteConnectionCheckProvider().create(inputs)
    assert created.id == f"{ALIAS}-connection"
    assert created.outs == {
        **{key: inputs.get(key) for key in INPUTS},
        "connected": True,
        "proxy_address": ADDRESS,
        "server_name": "seen.elastic.svc",
    }


SETTINGS_ACK = ("PUT /_cluster/settings", 200, {"acknowledged": True, "persistent": {}, "transient": {}})


def test_refresh_of_a_certificate_model_link_needs_no_credentials(env: EmulatedLink) -> None:
    Answers(info={ALIAS: proxy_entry(cluster_credentials=None)}, resolve=CONNECTED, extra=[SETTINGS_ACK]).install(env)
    state = {**props(env, requires_credentials=False), "connected": True}
    refreshed = RemoteConnectionCheckProvider().read(f"{ALIAS}-connection", state)
    assert refreshed.id == f"{ALIAS}-connection"
    assert refreshed.outs == {**state, "connected": True}
    assert refreshed.inputs == {key: state.get(key) for key in INPUTS}
    assert ("GET", f"/_resolve/cluster/{ALIAS}:*") in sent(env)


def test_refresh_without_the_requires_credentials_input_finds_a_link_without_credentials_broken(
    env: EmulatedLink,
) -> None:
    Answers(info={ALIAS: proxy_entry(cluster_credentials=None)}, resolve=CONNECTED, extra=[SETTINGS_ACK]).install(env)
    state = {**props(env, requires_credentials=None), "connected": True}
    refreshed = RemoteConnectionCheckProvider().read(f"{ALIAS}-connection", state)
    assert refreshed.outs["connected"] is False
    assert refreshed.inputs == {key: state.get(key) for key in INPUTS}
    assert sent(env) == [("GET", "/_remote/info")]  # nothing rebuilt, nothing probed


# --- progress ---------------------------------------------------------------------------------------------------


@pytest.fixture
def lines() -> Iterator[list[str]]:
    with progress_lines() as said:
        yield said


def test_a_long_wait_says_which_remote_it_waits_for_and_what_the_local_cluster_said(
    env: EmulatedLink, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    timed: Callable[..., Any] = partial(wait_for, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(connection_check, "wait_for", timed)
    message = failure_of(env, Answers(info={ALIAS: proxy_entry()}, resolve=NOT_CONNECTED), timeout_seconds=6)
    assert message.startswith(f"remote cluster '{ALIAS}' did not connect within 6s (")
    assert lines == [
        f"waiting for remote cluster '{ALIAS}' to connect: 5s of 6s "
        f"(remote '{ALIAS}': the local cluster could not reach the remote)"
    ]
