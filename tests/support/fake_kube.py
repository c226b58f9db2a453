"""A loopback stand-in for the few Kubernetes API reads the wait makes (GET Secret/Service), until the tier with a
real API server. Objects can be published at any time; every request is recorded with its Authorization header."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.fail_next: list[int] = []
        self.lock = threading.Lock()

    def put_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        with self.lock:
            self.objects[("secrets", namespace, name)] = {"kind": "Secret", "metadata": {"name": name}, "data": encoded}

    def put_service(self, namespace: str, name: str, ingress: list[dict[str, str]] | None = None) -> None:
        status = {"loadBalancer": {"ingress": ingress}} if ingress else {"loadBalancer": {}}
        with self.lock:
            self.objects[("services", namespace, name)] = {
                "kind": "Service",
                "metadata": {"name": name},
                "status": status,
            }

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake.requests.append((self.path, self.headers.get("Authorization")))
                with fake.lock:
                    status = fake.fail_next.pop(0) if fake.fail_next else None
                    parts = self.path.strip("/").split("/")
                    found = fake.objects.get((parts[4], parts[3], parts[5])) if len(parts) == 6 else None
                if status is not None:
                    self._send(
                        status, {"kind": "Status", "reason": "InternalError", "message": "injected", "code": status}
                    )
                elif found is None:
                    self._send(
                        404, {"kind": "Status", "reason": "NotFound", "message": f"{parts[-1]} not found", "code": 404}
                    )
                else:
                    self._send(200, found)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@contextmanager
def serve_fake_kube() -> Iterator[tuple[FakeKube, str]]:
    fake = FakeKube()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_kubeconfig(path: Any, server: str, token: str, *, context: str = "test") -> None:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "other",
        "contexts": [
            {"name": "other", "context": {"cluster": "nowhere", "user": "nobody"}},
            {"name": context, "context": {"cluster": "loopback", "user": "admin"}},
        ],
        "clusters": [
            {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}},
            {"name": "loopback", "cluster": {"server": server}},
        ],
        "users": [{"name": "nobody", "user": {}}, {"name": "admin", "user": {"token": token}}],
    }
    path.write_text(json.dumps(document))
