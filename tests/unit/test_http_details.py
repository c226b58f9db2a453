"""The details of the HTTP layer that its loopback tests do not pin: Retry-After given as an HTTP date, what counts as
a request never sent (so safe to send again even when not idempotent), the message naming the host, port and config
key where nothing answers, the resolver's error found however deeply it is wrapped, and bearer tokens redacted."""

from __future__ import annotations

import email.utils
import os
import socket
import stat
import threading
import time
from typing import Any

import pytest
import requests
import urllib3.exceptions

from components.http import (
    REFUSED,
    UNRESOLVED,
    ApiError,
    Auth,
    HttpClient,
    RetryableError,
    RetryPolicy,
    Tls,
    in_cluster_hint,
    parse_errors_list,
    unreachable_detail,
    unreachable_error,
)
from tests.support.scripted_http import Scripted, response

TOKEN = "bearer-t0ken-value-123"
POLICY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=30.0)


class FakeError(ApiError):
    api_name = "Fake API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        if not isinstance(body, dict):
            return None, None
        return body.get("code"), str(body.get("message"))


def scripted_client(*outcomes: requests.Response | Exception) -> tuple[HttpClient, Scripted, list[float]]:
    slept: list[float] = []
    client = HttpClient("https://ece.example:12443", FakeError, retry=POLICY, sleep=slept.append)
    session = Scripted(*outcomes)
    client._session = session  # type: ignore[assignment]
    return client, session, slept


def http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


# Retry-After as an HTTP date


def test_a_retry_after_date_in_the_future_is_waited_for() -> None:
    client, session, slept = scripted_client(response(503, {"Retry-After": http_date(10)}), response(200))
    assert client.request("get", "GET", "thing").status_code == 200
    assert session.calls == 2
    assert len(slept) == 1 and 8.5 <= slept[0] <= 10.5


def test_a_retry_after_date_already_past_means_retry_at_once() -> None:
    client, _session, slept = scripted_client(response(429, {"Retry-After": http_date(-60)}), response(200))
    assert client.request("get", "GET", "thing").status_code == 200
    assert len(slept) == 1 and slept[0] <= POLICY.max_delay


def test_a_retry_after_in_seconds_is_waited_for() -> None:
    client, _session, slept = scripted_client(response(503, {"Retry-After": " 3 "}), response(200))
    assert client.request("get", "GET", "thing").status_code == 200
    assert slept == [3.0]


@pytest.mark.parametrize("header", ["soon", "Mon, 99 Foo 2026 00:00:00 GMT", "-1"])
def test_a_retry_after_that_cannot_be_read_leaves_the_wait_to_the_backoff(header: str) -> None:
    """A 429 or 5xx with a malformed `Retry-After` is retried with the usual backoff, not failed with a bare
    ValueError (Python 3.11's `parsedate_to_datetime` raises on it)."""
    client, session, slept = scripted_client(response(503, {"Retry-After": header}), response(200))
    assert client.request("get", "GET", "thing").status_code == 200
    assert session.calls == 2
    assert len(slept) == 1 and slept[0] <= POLICY.max_delay


# A request never sent is sent again, even a POST


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ProxyError("Unable to connect to proxy: Connection refused"),
        requests.exceptions.ConnectionError(
            "Max retries exceeded (Caused by NewConnectionError('<HTTPSConnection>: [Errno 113] No route to host'))"
        ),
        requests.exceptions.ConnectionError("[Errno 101] Failed to establish a connection: Network is unreachable"),
    ],
    ids=["proxy-refused", "new-connection-error", "failed-to-establish"],
)
def test_a_post_that_never_left_is_sent_again_and_said_refused(error: Exception) -> None:
    client, session, _slept = scripted_client(error, response(200))
    assert client.request("create", "POST", "thing", json={}).status_code == 200
    assert session.calls == 2
    client, session, _slept = scripted_client(error, error, error)
    with pytest.raises(ApiError, match="connection refused") as raised:
        client.request("create", "POST", "thing", json={})
    assert session.calls == POLICY.attempts and raised.value.status is None


# Where nothing answers: host, port and the config key


def test_a_refused_https_address_without_port_names_port_443_and_the_config_key() -> None:
    message, host = unreachable_detail(REFUSED, "https://ece.example", "ece.url")
    assert message == "connection refused by ece.example:443; https://ece.example is ece.url"
    assert host == "ece.example"


def test_a_refused_http_address_without_port_names_port_80() -> None:
    assert unreachable_detail(REFUSED, "http://es.example/", None) == (
        "connection refused by es.example:80",
        "es.example",
    )


def test_a_refused_ipv6_address_is_shown_in_brackets() -> None:
    message, host = unreachable_detail(REFUSED, "https://[fd00::1]:9200", "eckClusters[0].http.url")
    assert message == "connection refused by [fd00::1]:9200; https://[fd00::1]:9200 is eckClusters[0].http.url"
    assert host == "fd00::1"


def test_a_refused_in_cluster_address_gets_no_resolver_hint() -> None:
    message, _host = unreachable_detail(REFUSED, "https://es-http.elastic.svc:9200", "eckClusters[0].http.url")
    assert message == "connection refused by es-http.elastic.svc:9200; https://es-http.elastic.svc:9200 is " + (
        "eckClusters[0].http.url"
    )


def test_an_unresolved_in_cluster_name_with_a_trailing_dot_gets_the_whole_hint() -> None:
    message, host = unreachable_detail(UNRESOLVED, "https://es-http.elastic.svc.:9200", "eckClusters[0].http.url")
    assert host == "es-http.elastic.svc."
    assert message == (
        "the host name 'es-http.elastic.svc.' does not resolve; https://es-http.elastic.svc.:9200 is "
        "eckClusters[0].http.url. 'es-http.elastic.svc.' is a Kubernetes in-cluster Service address (*.svc), which "
        "resolves only inside the cluster's network: the runner must reach the Kubernetes API and the ECK cluster's "
        "HTTP endpoint (run Pulumi on a self-hosted runner in the cluster's network, or set eckClusters[].http.url to "
        "an address through an ingress)"
    )


def test_a_name_that_only_looks_like_a_service_gets_no_hint() -> None:
    assert in_cluster_hint("es-http.elastic.svcX") is None


def test_an_unresolved_name_wrapped_by_urllib3_is_found_whatever_the_resolver_says() -> None:
    """musl's resolver says 'Name does not resolve': only the wrapped gaierror tells, through MaxRetryError.reason."""
    wrapped = urllib3.exceptions.MaxRetryError(None, "/", reason=socket.gaierror(-2, "Name does not resolve"))  # type: ignore[arg-type]
    error = requests.exceptions.ConnectionError(wrapped)
    found = unreachable_error("get", error, "https://ece.example:12443", "ece.url", api="Fake API")
    assert found is not None and found.unresolved
    assert found.host == "ece.example"
    assert str(found) == (
        "Fake API get failed: no response: the host name 'ece.example' does not resolve; "
        "https://ece.example:12443 is ece.url"
    )


def test_a_resolver_error_behind_a_cycle_of_wrapped_errors_is_still_found() -> None:
    """Errors can wrap each other in a loop (a context pointing back): each is looked at once, and all are."""
    loop = ValueError("while handling another error")
    error = requests.exceptions.ConnectionError(loop)
    loop.__context__ = error
    error.__cause__ = socket.gaierror(-2, "Name does not resolve")
    found: list[Any] = []
    worker = threading.Thread(
        target=lambda: found.append(unreachable_error("get", error, "https://ece.example", None, api="Fake API")),
        daemon=True,
    )
    worker.start()
    worker.join(5)
    assert found, "the cause chain was walked forever"
    assert found[0] is not None and found[0].unresolved


# Bearer tokens


def test_a_bearer_token_is_sent_and_never_shown() -> None:
    client = HttpClient("https://ece.example", FakeError, auth=Auth.bearer(TOKEN), retry=POLICY)
    session = client.session()
    assert session.headers["Authorization"] == f"Bearer {TOKEN}"
    session.request = Scripted(response(401, {}, f'{{"message": "token {TOKEN} rejected"}}'.encode())).request  # type: ignore[method-assign,assignment]
    with pytest.raises(FakeError) as raised:
        client.request("get", "GET", "thing")
    assert TOKEN not in str(raised.value)
    assert str(raised.value) == "Fake API get failed: HTTP 401: token [redacted] rejected"


# What may have taken effect, and ECE's error bodies


def test_a_post_answered_500_may_have_taken_effect_and_says_what_failed() -> None:
    body = b'{"code": "server.busy", "message": "try later"}'
    client, session, _slept = scripted_client(response(500, {}, body))
    with pytest.raises(RetryableError) as raised:
        client.request("create", "POST", "thing", json={})
    assert session.calls == 1
    error = raised.value
    assert str(error) == "Fake API create failed: HTTP 500 [server.busy]: try later"
    assert (error.api, error.operation, error.status, error.code, error.detail) == (
        "Fake API",
        "create",
        500,
        "server.busy",
        "try later",
    )
    assert isinstance(error.cause, FakeError) and error.cause.status == 500


def test_ece_error_lists_join_every_code_and_message() -> None:
    body = {"errors": [{"code": "a.one", "message": "first"}, {"code": "b.two", "message": "second"}]}
    assert parse_errors_list(body) == ("a.one, b.two", "first; second")


def test_ece_error_lists_skip_entries_that_are_not_objects_or_lack_a_field() -> None:
    body = {"errors": ["plain", {"message": "only a message"}, {"code": "only.code"}]}
    assert parse_errors_list(body) == ("only.code", "only a message")


def test_ece_error_lists_without_messages_say_so() -> None:
    assert parse_errors_list({"errors": [{"code": "a.one"}]}) == ("a.one", "no message")


def test_bodies_that_are_not_error_lists_are_not_parsed() -> None:
    assert parse_errors_list(["errors"]) == (None, None)
    assert parse_errors_list({"errors": []}) == (None, None)
    assert parse_errors_list({"errors": "broken"}) == (None, None)


# CA bundles on disk


def test_a_ca_bundle_is_written_once_to_a_private_named_pem_file() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nunit-test-ca-bundle-for-temp-files\n-----END CERTIFICATE-----\n"
    path = Tls(ca_pem=pem).verify_argument()
    assert isinstance(path, str)
    assert Tls(ca_pem=pem).verify_argument() == path
    assert os.path.basename(path).startswith("ece-eck-") and path.endswith(".pem")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as file:
        assert file.read() == pem
