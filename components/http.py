"""The one HTTP layer every dynamic provider uses: auth, TLS, timeouts, retries, error mapping, redaction.

Retries: connection errors, timeouts, 5xx and 429 are retried with exponential backoff and full jitter, honouring
`Retry-After`; other 4xx never are. A request that may have reached the server (read timeout, dropped connection,
5xx) is only retried when it is idempotent; a non-idempotent call (POST) gets a `RetryableError` instead, so its
caller can look for what the first attempt may have created before trying again (nothing duplicated).

Nothing here logs a body or a header, and every error message passes through `redact`, which replaces each known
secret (credentials, values sent) with `[redacted]`.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import email.utils
import logging
import os
import random
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

log = logging.getLogger("ece_eck_remote.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class ApiError(Exception):
    """A call failed. The message names the API, the operation, the HTTP status and the API's error code."""

    api_name: ClassVar[str] = "HTTP"

    def __init__(
        self, operation: str, status: int | None, code: str | None, detail: str, *, api: str | None = None
    ) -> None:
        self.api = api or self.api_name
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = detail
        where = f"HTTP {status}" if status is not None else "no response"
        coded = f" [{code}]" if code else ""
        super().__init__(f"{self.api} {operation} failed: {where}{coded}: {detail}")

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        """(code, message) from an error body of this API; (None, None) if the body is not its shape."""
        return None, None


def parse_errors_list(body: Any) -> tuple[str | None, str | None]:
    """(codes, messages) from an `{"errors": [{"code", "message"}, ...]}` body, the shape ECE's API answers with,
    its Elasticsearch proxy included; (None, None) for any other body."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return None, None
    codes = [str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code")]
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return (", ".join(codes) or None), ("; ".join(messages) or "no message")


class RetryableError(ApiError):
    """A non-idempotent call failed in a way that may or may not have taken effect on the server."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(cause.operation, cause.status, cause.code, cause.detail, api=cause.api)
        self.cause = cause


class TransportError(ApiError):
    """No HTTP response at all: connection refused or dropped, timeout, TLS failure."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))  # noqa: S311 (jitter, not crypto)


@dataclass(frozen=True)
class Auth:
    """One way to authenticate. `secrets` lists what must never appear in messages."""

    header: str | None = None
    secrets: tuple[str, ...] = ()

    @classmethod
    def api_key(cls, key: str) -> Auth:
        return cls(f"ApiKey {key}", (key,))

    @classmethod
    def basic(cls, username: str, password: str) -> Auth:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return cls(f"Basic {token}", (password, token))

    @classmethod
    def bearer(cls, token: str) -> Auth:
        return cls(f"Bearer {token}", (token,))

    @classmethod
    def none(cls) -> Auth:
        return cls()


@dataclass(frozen=True)
class Tls:
    """TLS verification: on by default, against a CA bundle (PEM text) when given, else the system CAs."""

    ca_pem: str | None = None
    insecure: bool = False
    client_cert_pem: str | None = None
    client_key_pem: str | None = None

    def verify_argument(self) -> bool | str:
        if self.insecure:
            warnings.warn("TLS certificate verification is switched off by configuration", stacklevel=3)
            log.warning("TLS certificate verification is switched off by configuration")
            return False
        if self.ca_pem:
            return _temp_file(self.ca_pem, ".pem")
        return True

    def cert_argument(self) -> tuple[str, str] | None:
        if self.client_cert_pem and self.client_key_pem:
            return _temp_file(self.client_cert_pem, ".crt"), _temp_file(self.client_key_pem, ".key")
        return None


_temp_files: dict[str, str] = {}


def _temp_file(content: str, suffix: str) -> str:
    """requests wants file paths for CAs and client certificates; write each content once, 0600, removed at exit."""
    if content in _temp_files:
        return _temp_files[content]
    handle, path = tempfile.mkstemp(prefix="ece-eck-", suffix=suffix)
    with os.fdopen(handle, "w") as file:
        file.write(content)
    _temp_files[content] = path
    return path


@atexit.register
def _remove_temp_files() -> None:
    for path in _temp_files.values():
        with contextlib.suppress(OSError):
            os.unlink(path)


@dataclass
class HttpClient:
    base_url: str
    error_type: type[ApiError]
    auth: Auth = field(default_factory=Auth.none)
    tls: Tls = field(default_factory=Tls)
    timeout: tuple[float, float] = (5.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    _session: requests.Session | None = field(default=None, init=False, repr=False)

    def session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            # Passed with every request too: a request-level `verify` wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE,
            # which requests would otherwise put in place of the session's CA bundle.
            session.verify = self.tls.verify_argument()
            session.cert = self.tls.cert_argument()
            session.headers.update({"User-Agent": "ece-eck-remote", "Accept": "application/json", **self.headers})
            if self.auth.header:
                session.headers["Authorization"] = self.auth.header
            self._session = session
        return self._session

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: str | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Iterable[int] = (200,),
        idempotent: bool | None = None,
        secrets: Iterable[str] = (),
    ) -> requests.Response:
        """Send a request, retrying what is safe to retry; return a response whose status is in `ok`."""
        accepted = set(ok)
        hidden = (*self.auth.secrets, *secrets)
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        api = self.error_type.api_name
        attempt = 0
        while True:
            failure: ApiError
            reached_server = True
            retry_after: float | None = None
            try:
                session = self.session()
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    verify=session.verify,
                    cert=session.cert,
                )
            except requests.exceptions.ConnectionError as error:
                # A refused connection never reached the server; a reset or a read timeout may have.
                reached_server = not _never_sent(error)
                failure = TransportError(operation, None, None, redact(_describe(error), hidden), api=api)
            except requests.exceptions.Timeout as error:
                reached_server = not isinstance(error, requests.exceptions.ConnectTimeout)
                failure = TransportError(operation, None, None, redact(_describe(error), hidden), api=api)
            else:
                if response.status_code in accepted:
                    log.debug("%s %s %s -> %s", operation, method, path, response.status_code)
                    return response
                failure = self._error(operation, response, hidden)
                if not _retryable_status(response.status_code):
                    raise failure
                retry_after = _retry_after(response.headers.get("Retry-After"))
                reached_server = response.status_code not in (429, 503)
            attempt += 1
            if reached_server and not repeatable:
                raise RetryableError(failure)
            if attempt >= self.retry.attempts:
                raise failure
            delay = self.retry.backoff(attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.retry.max_retry_after))
            log.info("%s: attempt %d failed (%s); retrying in %.2fs", operation, attempt, failure.detail[:80], delay)
            self.sleep(delay)

    def _error(self, operation: str, response: requests.Response, hidden: Iterable[str]) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        code, message = self.error_type.parse_body(body) if body is not None else (None, None)
        if message is None:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            message = f"unexpected {kind} body" if response.content else "empty body"
        return self.error_type(operation, response.status_code, code, redact(message, hidden))


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _never_sent(error: requests.exceptions.ConnectionError) -> bool:
    text = str(error)
    return any(mark in text for mark in ("Connection refused", "NewConnectionError", "Failed to establish"))


def _describe(error: Exception) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed (check the CA bundle and the server name)"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, requests.exceptions.Timeout):
        return "timed out waiting for the response"
    if _never_sent(error):  # type: ignore[arg-type]
        return "connection refused"
    return "connection dropped before a response"
