"""The shared HTTP layer against a loopback emulator: TLS verified by default (also when the environment names
another CA bundle), retries only where they are safe, Retry-After honoured, clear errors with no secret in them."""

from __future__ import annotations

import logging
import time
import warnings

import pytest

from components.http import ApiError, Auth, HttpClient, RetryableError, RetryPolicy, Tls, TransportError
from emulators.common import Emulator, Response, running
from tests.support.certs import make_ca, make_server

SECRET = "s3cr3t-api-key-value"


class Echo(Emulator):
    """Answers every request with 200 and counts them."""

    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", "/thing", lambda request, _match: Response(200, {"ok": True}))
        self.route("POST", "/thing", lambda request, _match: Response(200, {"created": True}))
        self.route(
            "GET",
            "/leak",
            lambda request, _match: Response(400, {"errors": [{"code": "x.bad", "message": f"bad key {SECRET}"}]}),
        )


class EceLikeError(ApiError):
    api_name = "Test API"

    @classmethod
    def parse_body(cls, body):
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            return errors[0]["code"], errors[0]["message"]
        return None, None


FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_retry_after=2)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    ca = make_ca("http-test-ca")
    server = make_server(ca, "localhost")
    directory = tmp_path_factory.mktemp("tls")
    (directory / "server.crt").write_text(server.certificate_pem)
    (directory / "server.key").write_text(server.key_pem)
    return ca.certificate_pem, str(directory / "server.crt"), str(directory / "server.key")


def client(url: str, **kwargs) -> HttpClient:
    return HttpClient(url, EceLikeError, auth=Auth.api_key(SECRET), retry=FAST, timeout=(1.0, 1.0), **kwargs)


def test_tls_is_verified_against_the_given_ca_even_when_the_environment_names_another(tls_files, monkeypatch) -> None:
    ca_pem, cert, key = tls_files
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with running(Echo(), tls_cert=cert, tls_key=key) as server:
        assert client(server.url, tls=Tls(ca_pem=ca_pem)).request("get", "GET", "thing").json() == {"ok": True}
        with pytest.raises(TransportError, match="TLS handshake failed"):
            client(server.url).request("get", "GET", "thing")  # system CAs do not know this CA
        with pytest.raises(TransportError, match="TLS handshake failed"):
            client(server.url, tls=Tls(ca_pem=make_ca("other").certificate_pem)).request("get", "GET", "thing")


def test_the_insecure_switch_works_and_warns(tls_files, caplog) -> None:
    _ca, cert, key = tls_files
    with running(Echo(), tls_cert=cert, tls_key=key) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client(server.url, tls=Tls(insecure=True)).request("get", "GET", "thing").status_code == 200
    assert any("verification is switched off" in str(w.message) for w in caught)


def test_server_errors_and_429_are_retried_with_retry_after_honoured() -> None:
    emulator = Echo()
    with running(emulator) as server:
        emulator.faults_from([{"route": "GET /thing", "kind": "status", "status": 503, "times": 2}])
        assert client(server.url).request("get", "GET", "thing").status_code == 200
        emulator.faults_from([{"route": "GET /thing", "kind": "retry_after", "retry_after": 1, "times": 1}])
        started = time.monotonic()
        assert client(server.url).request("get", "GET", "thing").status_code == 200
        assert time.monotonic() - started >= 0.9  # waited as told, not the 10 ms backoff
        assert [entry.status for entry in emulator.log] == [503, 503, 200, 429, 200]


def test_other_client_errors_are_not_retried_and_say_what_failed_without_secrets(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = Echo()
    with running(emulator) as server, pytest.raises(EceLikeError) as raised:
        client(server.url).request("read the thing", "GET", "leak")
    message = str(raised.value)
    assert message == "Test API read the thing failed: HTTP 400 [x.bad]: bad key [redacted]"
    assert len(emulator.log) == 1
    assert SECRET not in caplog.text


def test_a_post_that_may_have_taken_effect_is_not_retried_blindly() -> None:
    emulator = Echo()
    with running(emulator) as server:
        emulator.faults_from([{"route": "POST /thing", "kind": "lost_response", "times": 1}])
        with pytest.raises(RetryableError):
            client(server.url).request("create", "POST", "thing")
        assert len(emulator.log) == 1
        emulator.faults_from([{"route": "POST /thing", "kind": "retry_after", "retry_after": 0, "times": 1}])
        assert client(server.url).request("create", "POST", "thing").json() == {"created": True}  # 429: not processed


def test_timeouts_and_dropped_connections_are_retried_for_idempotent_calls() -> None:
    emulator = Echo()
    with running(emulator) as server:
        emulator.faults_from(
            [
                {"route": "GET /thing", "kind": "slow", "delay": 1.5, "times": 1},
                {"route": "GET /thing", "kind": "drop", "times": 1},
                {"route": "GET /thing", "kind": "html", "status": 502, "times": 1},
            ]
        )
        assert client(server.url).request("get", "GET", "thing").status_code == 200


def test_a_refused_connection_names_the_api_and_the_operation() -> None:
    with pytest.raises(TransportError) as raised:
        client("http://127.0.0.1:9").request("get things", "GET", "thing")
    assert str(raised.value) == "Test API get things failed: no response: connection refused by 127.0.0.1:9"
