"""The one HTTP layer every dynamic provider uses: auth, TLS, timeouts, retries, error mapping, redaction.

Retries: connection errors, timeouts, 5xx and 429 are retried with exponential backoff and full jitter, honouring
`Retry-After`; other 4xx never are. A request that may have reached the server (read timeout, dropped connection,
5xx) is only retried when it is idempotent; a non-idempotent call (POST) gets a `RetryableError` instead, so its
caller can look for what the first attempt may have created before trying again (nothing duplicated).

Nothing answering at all is told apart from a lost answer: a host name that does not resolve, or a refused
connection, is an `UnreachableError`, retried only briefly (`RetryPolicy.unreachable_attempts`, about a second), and
its message names the host and where the address comes from in the configuration (`HttpClient.source`), so that a
wait can give up on it at once instead of waiting for an answer that cannot come.

Nothing here logs a body or a header, and every error message passes through `redact`, which replaces each known
secret (credentials, values sent) with `[redacted]`. A call retried for more than a few seconds says so through
`components.progress` (no Pulumi here: where progress goes is injected there).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import email.utils
import logging
import os
import random
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from .progress import Waiting

if TYPE_CHECKING:
    import requests

# `requests` (and urllib3 with it, some 50 ms) is imported by the functions that call or classify, not here: a
# preview's provider process (check and diff only) and the program never make a call, and both load this module.

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


UNRESOLVED, REFUSED = "unresolved", "refused"


class UnreachableError(TransportError):
    """Nothing answers at the address: its host name does not resolve (`reason` UNRESOLVED), or the connection is
    refused (REFUSED). The request never reached a server. `host` is the host name or address that failed."""

    def __init__(self, operation: str, detail: str, *, reason: str, host: str, api: str | None = None) -> None:
        super().__init__(operation, None, None, detail, api=api)
        self.reason = reason
        self.host = host

    @property
    def unresolved(self) -> bool:
        return self.reason == UNRESOLVED


IN_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local")


def in_cluster_hint(host: str) -> str | None:
    """For a Kubernetes in-cluster Service name (`*.svc`), what the runner needs to reach it."""
    if not host.rstrip(".").endswith(IN_CLUSTER_SUFFIXES):
        return None
    return (
        f"'{host}' is a Kubernetes in-cluster Service address (*.svc), which resolves only inside the cluster's "
        "network: the runner must reach the Kubernetes API and the ECK cluster's HTTP endpoint (run Pulumi on a "
        "self-hosted runner in the cluster's network, or set eckClusters[].http.url to an address through an ingress)"
    )


def unreachable_detail(reason: str, url: str, source: str | None) -> tuple[str, str]:
    """(message, host) for an address where nothing answers, naming the host and where the address comes from."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    shown = f"[{host}]" if ":" in host else host
    origin = f"{parts.scheme}://{shown}" + (f":{parts.port}" if parts.port else "")
    where = f"{shown}:{port}" if port else shown
    what = f"the host name '{host}' does not resolve" if reason == UNRESOLVED else f"connection refused by {where}"
    message = f"{what}; {origin} is {source}" if source else what
    hint = in_cluster_hint(host) if reason == UNRESOLVED else None
    return (f"{message}. {hint}" if hint else message), host


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    unreachable_attempts: int = 3
    """Attempts when nothing answers (a name that does not resolve, a refused connection): enough for a resolver's
    hiccup (about a second of backoff), not a wait for an address that is wrong or out of reach."""

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
    source: str | None = None
    """Where `base_url` comes from in the configuration (e.g. `ece.url`): named when nothing answers there."""
    sleep: Callable[[float], None] = time.sleep
    _session: requests.Session | None = field(default=None, init=False, repr=False)

    def session(self) -> requests.Session:
        if self._session is None:
            import requests  # noqa: PLC0415

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
        # Retries that last say so, as any wait does (components.progress).
        with Waiting(f"{self.error_type.api_name} {operation}", None) as waiting:
            return self._request(
                waiting,
                operation,
                method,
                path,
                params=params,
                json=json,
                data=data,
                headers=headers,
                ok=ok,
                idempotent=idempotent,
                secrets=secrets,
            )

    def _request(
        self,
        waiting: Waiting,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        data: str | None,
        headers: Mapping[str, str] | None,
        ok: Iterable[int],
        idempotent: bool | None,
        secrets: Iterable[str],
    ) -> requests.Response:
        import requests  # noqa: PLC0415

        accepted = set(ok)
        hidden = (*self.auth.secrets, *secrets)
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        api = self.error_type.api_name
        attempt, attempts = 0, self.retry.attempts
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
            except requests.exceptions.Timeout as error:
                # Before ConnectionError, which a ConnectTimeout is too: a connection never accepted sent nothing.
                reached_server = not isinstance(error, requests.exceptions.ConnectTimeout)
                failure = TransportError(operation, None, None, redact(_describe(error), hidden), api=api)
            except requests.exceptions.ConnectionError as error:
                unreachable = unreachable_error(operation, error, self.base_url, self.source, api=api, hidden=hidden)
                if unreachable is not None:
                    # Nothing answers there: never reached a server; retried only for a resolver's hiccup.
                    reached_server = False
                    attempts = min(attempts, self.retry.unreachable_attempts)
                    failure = unreachable
                else:
                    # A reset or a read timeout may have reached the server.
                    reached_server = not _never_sent(error)
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
            if attempt >= attempts:
                raise failure
            delay = self.retry.backoff(attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.retry.max_retry_after))
            log.info("%s: attempt %d failed (%s); retrying in %.2fs", operation, attempt, failure.detail[:80], delay)
            waiting.tick(f"attempt {attempt} of {attempts} failed: {failure.detail}")
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
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None when absent or unreadable, so the
    backoff decides (on Python 3.11 `parsedate_to_datetime` raises on a malformed date rather than returning None)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: requests wraps urllib3's MaxRetryError, whose `reason` is the connection
    error, raised from the socket's own error."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def unreachable_error(
    operation: str, error: BaseException, url: str, source: str | None, *, api: str, hidden: Iterable[str] = ()
) -> UnreachableError | None:
    """The error to raise when `error` (from requests or urllib3) says that nothing answers at `url`; None when
    something may be there (a dropped connection, a TLS failure, a timeout, a proxy's failure)."""
    reason = _unreachable_reason(error)
    if reason is None:
        return None
    detail, host = unreachable_detail(reason, url, source)
    return UnreachableError(operation, redact(detail, hidden), reason=reason, host=host, api=api)


def _unreachable_reason(error: BaseException) -> str | None:
    """UNRESOLVED for a host name that does not resolve, REFUSED for a refused connection, None otherwise."""
    import requests  # noqa: PLC0415
    import urllib3.exceptions  # noqa: PLC0415

    proxies = (requests.exceptions.ProxyError, urllib3.exceptions.ProxyError)
    if isinstance(error, requests.exceptions.SSLError) or any(isinstance(c, proxies) for c in _causes(error)):
        return None  # the proxy failed, not necessarily the address
    for cause in _causes(error):
        if isinstance(cause, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return UNRESOLVED
        if isinstance(cause, ConnectionRefusedError):
            return REFUSED
    text = str(error)
    if "Failed to resolve" in text or "Name or service not known" in text:
        return UNRESOLVED
    if "Connection refused" in text:
        return REFUSED
    return None


def _never_sent(error: requests.exceptions.ConnectionError) -> bool:
    text = str(error)
    return any(mark in text for mark in ("Connection refused", "NewConnectionError", "Failed to establish"))


def _describe(error: Exception) -> str:
    import requests  # noqa: PLC0415

    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed (check the CA bundle and the server name)"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, requests.exceptions.Timeout):
        return "timed out waiting for the response"
    if _never_sent(error):  # type: ignore[arg-type]
        return "connection refused"
    return "connection dropped before a response"
