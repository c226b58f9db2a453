"""What the HTTP layer shows and sends that its loopback tests leave loose: the exact message of each failure with no
answer (TLS, timeouts, refused, dropped) or with an unreadable one, how long it waits between attempts and which
answers it tries again, which errors mean nothing answers at the address, the client certificate it presents, the
warning when verification is off, and which secrets it hides from messages."""

from __future__ import annotations

import json
import logging
import os
import random
import stat
import warnings
from typing import Any

import pytest
import requests
import urllib3.exceptions

from components import http as http_layer
from components import progress
from components.http import (
    REFUSED,
    UNRESOLVED,
    ApiError,
    HttpClient,
    RetryableError,
    RetryPolicy,
    Tls,
    TransportError,
    UnreachableError,
    parse_errors_list,
    redact,
    unreachable_error,
)
from tests.support.certs import make_ca, make_server
from tests.support.progress_capture import progress_lines
from tests.support.scripted_http import Scripted, response

URL = "https://ece.example:12443"
POLICY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, unreachable_attempts=2)
INSECURE = "TLS certificate verification is switched off by configuration"


class WireError(ApiError):
    """An API answering errors as ECE does: `{"errors": [{"code", "message"}]}`."""

    api_name = "Wire API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        return parse_errors_list(body)


def scripted(
    *outcomes: requests.Response | Exception, policy: RetryPolicy = POLICY, source: str | None = None
) -> tuple[HttpClient, Scripted, list[float]]:
    slept: list[float] = []
    client = HttpClient(URL, WireError, retry=policy, source=source, sleep=slept.append)
    session = Scripted(*outcomes)
    client._session = session  # type: ignore[assignment]
    return client, session, slept


def connect_timeout() -> requests.exceptions.ConnectTimeout:
    """What requests raises when the TCP connection is not accepted within the connect timeout."""
    reason = urllib3.exceptions.ConnectTimeoutError(None, "Connection to ece.example timed out. (connect timeout=5.0)")
    return requests.exceptions.ConnectTimeout(urllib3.exceptions.MaxRetryError(None, "/thing", reason=reason))


# Redaction


def test_a_secret_inside_a_longer_one_does_not_leave_the_rest_of_the_longer_one_shown() -> None:
    """Longest first: replacing `word` inside `password-1234` first would show `pass` and `-1234`."""
    assert redact("sent password-1234 then word", ["word", "password-1234"]) == "sent [redacted] then [redacted]"


def test_secrets_of_four_characters_are_hidden_and_shorter_ones_left_alone() -> None:
    """A one-to-three-character value would shred every message it happens to occur in: too short to hide."""
    assert redact("pin 1234, id abc", ["1234", "abc", ""]) == "pin [redacted], id abc"


# Messages of answers that do not say what went wrong


@pytest.mark.parametrize(
    ("headers", "body", "detail"),
    [
        ({"Content-Type": "text/html; charset=utf-8"}, b"<html>Bad gateway</html>", "unexpected text/html body"),
        ({}, b"Bad gateway", "unexpected no content type body"),
        ({"Content-Type": "application/json"}, b"", "empty body"),
        ({"Content-Type": "application/json"}, b'{"errors": []}', "unexpected application/json body"),
    ],
    ids=["html", "no-content-type", "empty", "json-of-another-shape"],
)
def test_an_error_answer_that_cannot_be_read_says_what_came_back(
    headers: dict[str, str], body: bytes, detail: str
) -> None:
    client, session, _slept = scripted(response(404, headers, body))
    with pytest.raises(WireError) as raised:
        client.request("get thing", "GET", "thing")
    assert str(raised.value) == f"Wire API get thing failed: HTTP 404: {detail}"
    assert (raised.value.operation, raised.value.status, raised.value.code) == ("get thing", 404, None)
    assert session.sent == [("GET", f"{URL}/thing")]


# Messages of calls that got no answer


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (
            requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "TLS handshake failed (check the CA bundle and the server name)",
        ),
        (connect_timeout(), "timed out connecting"),
        (requests.exceptions.ReadTimeout("Read timed out. (read timeout=30.0)"), "timed out waiting for the response"),
        (
            requests.exceptions.ConnectionError(
                "Max retries exceeded (Caused by NewConnectionError('<HTTPSConnection>: [Errno 113] No route to host'))"
            ),
            "connection refused",
        ),
        (
            requests.exceptions.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
            ),
            "connection dropped before a response",
        ),
    ],
    ids=["tls", "connect-timeout", "read-timeout", "no-route", "dropped"],
)
def test_a_call_that_got_no_answer_says_why_after_every_attempt(error: Exception, detail: str) -> None:
    client, session, slept = scripted(*[error] * POLICY.attempts)
    with pytest.raises(TransportError) as raised:
        client.request("get thing", "GET", "thing")
    assert str(raised.value) == f"Wire API get thing failed: no response: {detail}"
    assert not isinstance(raised.value, UnreachableError)
    assert len(session.sent) == POLICY.attempts and len(slept) == POLICY.attempts - 1


def test_a_post_whose_connection_timed_out_never_reached_the_server_and_is_sent_again() -> None:
    """A connect timeout means the TCP connection was never accepted: the request was not sent, so even a POST is
    safe to send again (a read timeout, in contrast, may have created what the POST asked for)."""
    client, session, _slept = scripted(connect_timeout(), response(200, {}, b"{}"))
    assert client.request("create", "POST", "thing", json={}).status_code == 200
    assert session.sent == [("POST", f"{URL}/thing")] * 2
    client, session, _slept = scripted(requests.exceptions.ReadTimeout("Read timed out."))
    with pytest.raises(RetryableError, match="timed out waiting for the response"):
        client.request("create", "POST", "thing", json={})
    assert len(session.sent) == 1


# Nothing answering at the address, told from the error's text when no wrapped error tells


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "HTTPSConnectionPool(host='ece.example', port=12443): Max retries exceeded (Caused by NameResolutionError("
            "\"<HTTPSConnection>: Failed to resolve 'ece.example' ([Errno -3] Temporary failure in name resolution)\"))",
            UNRESOLVED,
        ),
        (
            "Max retries exceeded (Caused by NewConnectionError('<HTTPSConnection>: Failed to establish a new "
            "connection: [Errno -2] Name or service not known'))",
            UNRESOLVED,
        ),
        (
            "Max retries exceeded (Caused by NewConnectionError('<HTTPSConnection>: Failed to establish a new "
            "connection: [Errno 111] Connection refused'))",
            REFUSED,
        ),
    ],
    ids=["urllib3-2-resolver", "glibc-resolver", "refused"],
)
def test_nothing_answering_is_read_from_the_message_when_the_cause_is_not_kept(text: str, reason: str) -> None:
    found = unreachable_error("get", requests.exceptions.ConnectionError(text), URL, "ece.url", api="Wire API")
    assert found is not None
    assert (found.reason, found.host) == (reason, "ece.example")


def test_a_name_that_does_not_resolve_is_tried_only_briefly_and_named_with_its_config_key() -> None:
    error = requests.exceptions.ConnectionError(
        "Failed to resolve 'ece.example' ([Errno -2] Name or service not known)"
    )
    client, session, slept = scripted(*[error] * POLICY.attempts, source="ece.url")
    with pytest.raises(UnreachableError) as raised:
        client.request("get thing", "GET", "thing")
    assert str(raised.value) == (
        "Wire API get thing failed: no response: the host name 'ece.example' does not resolve; "
        "https://ece.example:12443 is ece.url"
    )
    assert len(session.sent) == POLICY.unreachable_attempts and len(slept) == POLICY.unreachable_attempts - 1


def test_a_proxy_refusing_the_connection_does_not_make_the_address_unreachable() -> None:
    """The proxy failed, not the address behind it: the usual attempts, and a message that names no address."""
    error = requests.exceptions.ProxyError("Unable to connect to proxy: [Errno 111] Connection refused")
    assert unreachable_error("get", error, URL, "ece.url", api="Wire API") is None
    client, session, _slept = scripted(*[error] * POLICY.attempts, source="ece.url")
    with pytest.raises(TransportError) as raised:
        client.request("get thing", "GET", "thing")
    assert not isinstance(raised.value, UnreachableError)
    assert str(raised.value) == "Wire API get thing failed: no response: connection refused"
    assert len(session.sent) == POLICY.attempts


# Which answers are tried again, and how long it waits


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_server_errors_and_too_many_requests_are_tried_again(status: int) -> None:
    client, session, _slept = scripted(response(status), response(200, {}, b"{}"))
    assert client.request("get thing", "GET", "thing").status_code == 200
    assert len(session.sent) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 499])
def test_other_client_errors_are_not_tried_again(status: int) -> None:
    client, session, slept = scripted(response(status), response(200, {}, b"{}"))
    with pytest.raises(WireError, match=f"HTTP {status}"):
        client.request("get thing", "GET", "thing")
    assert len(session.sent) == 1 and slept == []


def test_by_default_six_attempts_wait_at_most_half_a_second_then_twice_as_long_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "uniform", lambda _low, high: high)
    client, session, slept = scripted(*[response(503)] * 6, policy=RetryPolicy())
    with pytest.raises(WireError, match="HTTP 503"):
        client.request("get thing", "GET", "thing")
    assert len(session.sent) == 6
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_the_wait_between_attempts_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda _low, high: high)
    client, _session, slept = scripted(*[response(503)] * 4, policy=RetryPolicy(attempts=4, max_delay=0.75))
    with pytest.raises(WireError):
        client.request("get thing", "GET", "thing")
    assert slept == [0.5, 0.75, 0.75]


def test_full_jitter_may_try_again_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait is drawn from zero up: many clients failing together do not all come back at the same moment."""
    monkeypatch.setattr(random, "uniform", lambda low, _high: low)
    client, _session, slept = scripted(response(503), response(503), response(200, {}, b"{}"), policy=RetryPolicy())
    assert client.request("get thing", "GET", "thing").status_code == 200
    assert slept == [0.0, 0.0]


# TLS: the switch that turns verification off, and client certificates


def test_switching_verification_off_warns_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = HttpClient(URL, WireError, tls=Tls(insecure=True))
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        session = client.session()
    assert session.verify is False
    assert [(str(w.message), w.category) for w in caught] == [(INSECURE, UserWarning)]
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("ece_eck_remote.http", logging.WARNING, INSECURE)
    ]


def test_a_client_certificate_and_its_key_are_presented_from_private_files() -> None:
    ca = make_ca("http-wire-client-ca")
    issued = make_server(ca, "ece-eck-remote-client", ip=None)
    session = HttpClient(URL, WireError, tls=Tls(client_cert_pem=issued.certificate_pem, client_key_pem=issued.key_pem))
    cert = session.session().cert
    assert isinstance(cert, tuple)
    certificate, key = cert
    assert certificate.endswith(".crt") and key.endswith(".key")
    for path, content in ((certificate, issued.certificate_pem), (key, issued.key_pem)):
        assert os.path.basename(path).startswith("ece-eck-")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as file:
            assert file.read() == content


@pytest.mark.parametrize("given", ["certificate", "key"])
def test_a_client_certificate_without_its_key_or_a_key_alone_is_not_presented(given: str) -> None:
    issued = make_server(make_ca("http-wire-half-ca"), "ece-eck-remote-client", ip=None)
    tls = Tls(client_cert_pem=issued.certificate_pem) if given == "certificate" else Tls(client_key_pem=issued.key_pem)
    assert HttpClient(URL, WireError, tls=tls).session().cert is None


def test_every_client_of_the_same_ca_verifies_against_it_and_the_files_go_at_exit() -> None:
    """Each content is written once and reused: the second client of a CA (every provider call makes one) must get
    the same file, not a missing one, which requests would take as "verify against the system CAs"; the exit hook
    removes them all."""
    ca = make_ca("http-wire-shared-ca")
    issued = make_server(ca, "ece-eck-remote-client", ip=None)
    tls = Tls(ca_pem=ca.certificate_pem, client_cert_pem=issued.certificate_pem, client_key_pem=issued.key_pem)
    first, second = HttpClient(URL, WireError, tls=tls).session(), HttpClient(URL, WireError, tls=tls).session()
    assert isinstance(first.verify, str) and first.verify == second.verify
    assert first.cert == second.cert and isinstance(second.cert, tuple)
    paths = [first.verify, *second.cert]
    try:
        for path in paths:
            assert os.path.isfile(path)
        http_layer._remove_temp_files()
        assert not any(os.path.exists(path) for path in paths)
    finally:
        http_layer._temp_files.clear()  # their files are gone: later clients write their own


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://ece.example:12443", "api/v1/x", "https://ece.example:12443/api/v1/x"),
        ("https://ece.example:12443/", "/api/v1/x", "https://ece.example:12443/api/v1/x"),
        ("https://gateway.example/ECE-X/", "/X-api/v1", "https://gateway.example/ECE-X/X-api/v1"),
    ],
)
def test_the_url_joins_base_and_path_with_one_slash(base: str, path: str, url: str) -> None:
    """A configured URL with a trailing '/' and a path with a leading one still make one '/' between them (a '//'
    is another path to some proxies), and only '/' is taken off, whatever the characters beside it."""
    session = Scripted(response(200))
    client = HttpClient(base, WireError, retry=POLICY, sleep=lambda _s: None)
    client._session = session  # type: ignore[assignment]
    client.request("read", "GET", path)
    assert session.sent == [("GET", url)]


def test_every_part_of_the_request_reaches_the_session_on_every_attempt() -> None:
    """Body, headers, query, timeout, verification and client certificate go out as given, on the retry too."""
    client, session, _ = scripted(response(502), response(200))
    client.timeout = (1.5, 7.0)
    session.verify, session.cert = "/tmp/ca.pem", ("/tmp/c.crt", "/tmp/c.key")
    client.request(
        "bulk", "POST", "_bulk", params={"refresh": "true"}, data="{}\n", headers={"Content-Type": "x"}, idempotent=True
    )
    expected = {
        "params": {"refresh": "true"},
        "json": None,
        "data": "{}\n",
        "headers": {"Content-Type": "x"},
        "timeout": (1.5, 7.0),
        "verify": "/tmp/ca.pem",
        "cert": ("/tmp/c.crt", "/tmp/c.key"),
    }
    assert session.arguments == [expected, expected]


def test_a_retry_that_lasts_is_reported_with_the_api_and_the_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress line of a request being retried names the API and the operation, so a user sees what waits."""
    monkeypatch.setattr(progress, "FIRST_REPORT_SECONDS", 0.0)
    with progress_lines() as lines:
        client, _, _ = scripted(response(503), response(200))
        client.request("read the plan", "GET", "plan")
    assert lines and all("Wire API read the plan" in line for line in lines), lines


def test_a_secret_in_the_url_is_hidden_when_nothing_answers_there() -> None:
    """The message of an address where nothing answers names the URL; a password written into it (or any secret
    of the request) is hidden there too."""
    password = "s3cr3t-url-password-0123456789"
    refused = requests.exceptions.ConnectionError("[Errno 111] Connection refused")
    session = Scripted(refused, refused)
    client = HttpClient(f"https://admin:{password}@ece.example:12443", WireError, retry=POLICY, sleep=lambda _s: None)
    client._session = session  # type: ignore[assignment]
    with pytest.raises(UnreachableError) as raised:
        client.request("read", "GET", "api", secrets=(password,))
    assert password not in str(raised.value) and "ece.example" in str(raised.value)


def test_each_retry_is_logged_with_the_operation_and_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    client, _, slept = scripted(response(503, {}, b'{"errors": [{"message": "busy now"}]}'), response(200))
    with caplog.at_level(logging.INFO, logger="ece_eck_remote.http"):
        client.request("read the plan", "GET", "plan")
    retries = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    assert len(retries) == 1 and retries[0].startswith("read the plan: attempt 1 failed (")
    assert f"retrying in {slept[0]:.2f}s" in retries[0] and "None" not in retries[0]


def test_every_request_says_who_sends_it_and_that_it_wants_json() -> None:
    headers = HttpClient(URL, WireError).session().headers
    assert headers["User-Agent"] == "ece-eck-remote" and headers["Accept"] == "application/json"
    assert not [name for name in headers if "XX" in name]


def test_a_retry_log_line_keeps_the_first_80_characters_of_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    message = "m" * 79 + "LAST-SHOWN" + "n" * 40
    body = json.dumps({"errors": [{"message": message}]}).encode()
    client, _, _ = scripted(response(503, {}, body), response(200))
    with caplog.at_level(logging.INFO, logger="ece_eck_remote.http"):
        client.request("read the plan", "GET", "plan")
    (line,) = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    shown = line.split(" failed (", 1)[1].rsplit("); retrying in", 1)[0]
    assert len(shown) == 80 and shown.endswith("mL")
