"""What every emulator shares: a threaded loopback HTTP(S) server, routing, a request log, fault injection on any
route, and control routes under `/_emulator/` (never counted, never faulted).

Faults (one JSON object each, `POST /_emulator/faults`):
  {"route": "PUT /api/v1/deployments/.*", "kind": "status", "status": 503, "times": 2}
  kinds: "status" (with "status" and optional "body"), "retry_after" (429 + Retry-After: "seconds"),
         "slow" (sleep "delay" seconds, then answer normally), "drop" (close the connection without answering),
         "html" (a text/html error page with "status"), "conflict" (the emulator's own version-conflict answer),
         "lost_response" (the request is carried out, then the connection closes without an answer).
  "times": how many matching requests it hits (default 1; -1 for every one). "route" is "METHOD path-regex",
  matched against the path without the query string.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_emulator/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str, default: bool) -> bool:
        value = self.param(name)
        return default if value is None else value.lower() in ("true", "1", "")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[Request, re.Match[str]], Response]


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    kind: str
    status: int = 500
    delay: float = 0.0
    retry_after: int = 1
    body: Any = None
    times: int = 1

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Fault:
        method, _, path = str(spec["route"]).partition(" ")
        kind = str(spec["kind"])
        if kind not in ("status", "retry_after", "slow", "drop", "html", "conflict", "lost_response"):
            raise ValueError(f"unknown fault kind {kind!r}")
        return cls(
            method=method.upper(),
            pattern=re.compile(path),
            kind=kind,
            status=int(spec.get("status", 429 if kind == "retry_after" else 500)),
            delay=float(spec.get("delay", 0.0)),
            retry_after=int(spec.get("retry_after", 1)),
            body=spec.get("body"),
            times=int(spec.get("times", 1)),
        )

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and self.method in (method, "*") and self.pattern.fullmatch(path) is not None


@dataclass
class LoggedRequest:
    """One request as `GET /_emulator/requests` lists it. `at`: when it arrived; `answered`: when its answer (or its
    drop) was ready, the work done. Both wall-clock seconds (`time.time()`), so that requests to different emulators
    can be put in order."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    fault: str | None
    at: float = 0.0
    answered: float = 0.0


class Emulator:
    """Base class: subclasses add routes with `self.route(method, path_regex, handler)` and keep their own state."""

    name = "emulator"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.log: list[LoggedRequest] = []
        self.conflict_response: Callable[[Request], Response] = lambda _request: Response(409, {"error": "conflict"})

    # --- routing -----------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, match)
        if any(pattern.fullmatch(request.path) for _m, pattern, _h in self.routes):
            return self.method_not_allowed(request)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": f"no route for {request.method} {request.path}"})

    def method_not_allowed(self, request: Request) -> Response:
        return Response(405, {"error": f"method {request.method} not allowed on {request.path}"})

    # --- control routes ----------------------------------------------------------------------------------------
    def state(self) -> Any:
        """A JSON view of everything the emulator holds, for tests to assert on."""
        return {}

    def control(self, request: Request) -> Response:
        what = request.path[len(CONTROL_PREFIX) :]
        with self.lock:
            if what == "faults" and request.method == "POST":
                try:
                    specs = request.json()
                    self.faults.extend(Fault.parse(spec) for spec in (specs if isinstance(specs, list) else [specs]))
                except (ValueError, KeyError, TypeError) as error:
                    return Response(400, {"error": str(error)})
                return Response(200, {"faults": len(self.faults)})
            if what == "faults" and request.method == "DELETE":
                self.faults.clear()
                return Response(200, {})
            if what == "requests" and request.method == "GET":
                return Response(200, [entry.__dict__ for entry in self.log])
            if what == "requests" and request.method == "DELETE":
                self.log.clear()
                return Response(200, {})
            if what == "state" and request.method == "GET":
                return Response(200, self.state())
            return self.control_extra(what, request)

    def control_extra(self, what: str, request: Request) -> Response:
        """Subclasses: emulator-specific controls (fixtures, delays, links to other emulators)."""
        return Response(404, {"error": f"unknown control {what}"})

    def faults_from(self, specs: list[dict[str, Any]]) -> None:
        """Add faults in-process (the same shapes as `POST /_emulator/faults`)."""
        with self.lock:
            self.faults.extend(Fault.parse(spec) for spec in specs)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None


def _handler_class(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes; no 40 ms delayed-ACK stall

        def log_message(self, *_args: Any) -> None:
            return

        def _handle(self) -> None:
            arrived = time.time()
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), dict(self.headers), body
            )
            if request.path.startswith(CONTROL_PREFIX):
                self._send(emulator.control(request))
                return
            fault = emulator.take_fault(request.method, request.path)
            response: Response | None = None
            if fault is not None:
                response = self._apply(fault, request)
                if response is None and fault.kind == "drop":
                    self._log(request, 0, fault.kind, arrived)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
            if response is None:
                try:
                    response = emulator.dispatch(request)
                except Exception as error:  # an emulator bug must answer 500, not hang the client
                    response = Response(500, {"error": f"emulator failure: {type(error).__name__}: {error}"})
            if fault is not None and fault.kind == "lost_response":
                self._log(request, response.status, fault.kind, arrived)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._log(request, response.status, fault.kind if fault else None, arrived)
            self._send(response)

        def _apply(self, fault: Fault, request: Request) -> Response | None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return None
            if fault.kind in ("drop", "lost_response"):
                return None
            if fault.kind == "retry_after":
                return Response(fault.status, fault.body, {"Retry-After": str(fault.retry_after)})
            if fault.kind == "html":
                page = f"<html><body><h1>{fault.status} Service Unavailable</h1></body></html>"
                return Response(fault.status, page, content_type="text/html")
            if fault.kind == "conflict":
                return emulator.conflict_response(request)
            return Response(fault.status, fault.body)

        def _log(self, request: Request, status: int, fault: str | None, arrived: float) -> None:
            with emulator.lock:
                emulator.log.append(
                    LoggedRequest(request.method, request.path, request.query, status, fault, arrived, time.time())
                )

        def _send(self, response: Response) -> None:
            payload = response.encoded()
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            try:
                self.end_headers()
                if payload and self.command != "HEAD":
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (a "slow" fault past its timeout): nothing left to answer.
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    return RequestHandler


@dataclass
class Running:
    emulator: Emulator
    url: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(emulator: Emulator, *, port: int = 0, tls_cert: str | None = None, tls_key: str | None = None) -> Running:
    """Serve `emulator` on 127.0.0.1 in a background thread (HTTPS when a certificate is given)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(emulator))
    server.daemon_threads = True
    scheme = "http"
    if tls_cert and tls_key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{emulator.name}-server", daemon=True
    )
    thread.start()
    return Running(emulator, f"{scheme}://127.0.0.1:{server.server_address[1]}", server, thread)


@contextmanager
def running(emulator: Emulator, **kwargs: Any) -> Iterator[Running]:
    handle = start(emulator, **kwargs)
    try:
        yield handle
    finally:
        handle.stop()


def main(
    factory: Callable[[argparse.Namespace], Emulator], configure: Callable[[argparse.ArgumentParser], None]
) -> None:
    """`python -m emulators.<name> --port N`: serve until interrupted; print one line when ready."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    configure(parser)
    args = parser.parse_args()
    emulator = factory(args)
    handle = start(emulator, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
    print(f"{emulator.name} emulator ready on {handle.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.stop()
        sys.exit(0)
