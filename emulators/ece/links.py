"""Calls from the ECE emulator to a deployment's Elasticsearch: state pushes and the ES proxy.

Pushes to an Elasticsearch emulator are queued while the emulator lock is held (so their order is the order of the
changes) and sent by `flush()` after it is released, one at a time; `flush()` returns only once everything queued
before it was sent. A deployment whose link has a `NodeDriver` (a real node) gets the change applied at once, while
the lock is held, so a plan shows as finished only after its node has it, as an ECE plan ends after its steps ran.
A push failure never fails the ECE answer: it is recorded (see `Pusher.log`).

Trust goes out as two pushes, so that what a real node understands stays as it was: `/_emulator/trust` carries every
`direct` CA PEM (what a `NodeDriver` applies), and `/_emulator/transport` carries what only the Elasticsearch emulator
models: each `direct` entry's subject-name restriction and the node's transport certificate from the deployment CA
(the TLS-certificate model). A real node gets only the first.
"""

from __future__ import annotations

import collections
import datetime
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from emulators.ece.certs import iso
from emulators.ece.model import ElasticsearchLink

PUSH_TIMEOUT = 2.0
TRUST_PATH = "/_emulator/trust"
KEYSTORE_PATH = "/_emulator/keystore"
TRANSPORT_PATH = "/_emulator/transport"
PROXY_TIMEOUT = 30.0
ELASTIC_USER = "elastic"


def _verify(link: ElasticsearchLink) -> bool | str:
    # Emulators talk to emulators on loopback; an https Elasticsearch emulator usually has a throwaway
    # certificate, so it is checked only when the link names a CA file.
    return link.ca_file or False


def _auth(link: ElasticsearchLink) -> tuple[str, str] | None:
    return (ELASTIC_USER, link.password) if link.password else None


def _loggable(push: Push) -> dict[str, Any]:
    """The payload as the log keeps it: without the node's private key."""
    if push.path != TRANSPORT_PATH or not push.payload.get("certificate"):
        return push.payload
    return {**push.payload, "certificate": {"certificate": push.payload["certificate"]["certificate"]}}


@dataclass(frozen=True)
class Push:
    deployment_id: str
    link: ElasticsearchLink
    path: str  # e.g. "/_emulator/keystore"
    payload: dict[str, Any]


class Pusher:
    """An ordered outbox of `PUT {url}{path}` calls, with a log of what happened to each."""

    def __init__(self) -> None:
        self._queue: collections.deque[Push] = collections.deque()
        self._queue_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    def enqueue(self, push: Push) -> None:
        if push.link.node is not None:
            if push.path != TRANSPORT_PATH:  # a real node takes the CA PEMs only (see the module docstring)
                self._apply(push)
            return
        if not push.link.url:
            return
        with self._queue_lock:
            self._queue.append(push)

    def _apply(self, push: Push) -> None:
        node = push.link.node
        assert node is not None
        record: dict[str, Any] = {
            "deployment_id": push.deployment_id,
            "method": "APPLY",
            "url": push.path,
            "payload": {"certificates": len(push.payload.get("certificates") or [])}
            if push.path == TRUST_PATH
            else {"keys": sorted(push.payload.get("secrets") or {}), "reload": push.payload.get("reload")},
            "at": iso(datetime.datetime.now(datetime.UTC)),
        }
        try:
            if push.path == TRUST_PATH:
                node.apply_trust(list(push.payload["certificates"]))
            else:
                node.apply_keystore(dict(push.payload["secrets"]), bool(push.payload["reload"]))
            record["status"] = 200
        except Exception as error:
            record["status"] = None
            record["error"] = f"{type(error).__name__}: {error}"
        with self._log_lock:
            self.log.append(record)

    def flush(self) -> None:
        with self._send_lock:
            while True:
                with self._queue_lock:
                    if not self._queue:
                        return
                    push = self._queue.popleft()
                self._send(push)

    def _send(self, push: Push) -> None:
        assert push.link.url is not None
        url = push.link.url.rstrip("/") + push.path
        record: dict[str, Any] = {
            "deployment_id": push.deployment_id,
            "method": "PUT",
            "url": url,
            "payload": _loggable(push),
            "at": iso(datetime.datetime.now(datetime.UTC)),
        }
        try:
            answer = requests.put(
                url, json=push.payload, auth=_auth(push.link), timeout=PUSH_TIMEOUT, verify=_verify(push.link)
            )
            record["status"] = answer.status_code
            if answer.status_code >= 300:
                record["error"] = f"HTTP {answer.status_code}: {answer.text[:200]}"
        except requests.RequestException as error:
            record["status"] = None
            record["error"] = f"{type(error).__name__}: {error}"
        with self._log_lock:
            self.log.append(record)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self.log)

    def clear(self) -> None:
        """Forget queued pushes and the log."""
        with self._queue_lock:
            self._queue.clear()
        with self._log_lock:
            self.log.clear()


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    content_type: str | None
    body: bytes


def forward(
    link: ElasticsearchLink,
    *,
    method: str,
    proxy_path: str,
    query: dict[str, list[str]],
    body: bytes,
    content_type: str | None,
) -> ProxyAnswer:
    """Send the request to `{url}/{proxy_path}` as the `elastic` user; raises requests.RequestException."""
    assert link.url is not None
    url = link.url.rstrip("/") + "/" + proxy_path.lstrip("/")
    if query:
        url += "?" + urlencode(query, doseq=True)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = requests.request(
        method,
        url,
        data=body or None,
        headers=headers,
        auth=_auth(link),
        timeout=PROXY_TIMEOUT,
        verify=_verify(link),
        allow_redirects=False,
    )
    return ProxyAnswer(answer.status_code, answer.headers.get("Content-Type"), answer.content)
