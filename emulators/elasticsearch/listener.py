"""A TLS listener on 127.0.0.1 with the states the stand-ins share: "up" (serve), "refuse" (accept, then close before
TLS), "down" (no listener: connections are refused). Each connection gets a thread; after the TLS handshake the
subclass's `converse` reads and answers lines until the client goes or the server stops. Every connection leaves
one event (`events`)."""

from __future__ import annotations

import collections
import contextlib
import socket
import ssl
import threading
import time
from typing import Any

STATES = ("up", "refuse", "down")
MAX_LINE = 16_384
IDLE_TIMEOUT = 600.0  # an idle client connection is closed after this long


class TlsListener:
    name = "es-listener"

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.mode = "down"
        self.context: ssl.SSLContext | None = None  # set by the subclass before `set_state("up")`
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=50)
        self._live: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # --- what subclasses give --------------------------------------------------------------------------------
    def new_event(self) -> dict[str, Any]:
        return {"at": int(time.time() * 1000), "result": None, "reason": None, "requests": 0}

    def accepted(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> bool:
        """After the handshake, before any line: False ends the connection (the event says why)."""
        return True

    def converse(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- listener --------------------------------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        with self.lock:
            if state == "down":
                self._close()
            elif self._listener is None:
                self._open()
            self.mode = state
        if state != "up":  # a node going away ends the connections it had
            self.drop_connections()

    def _open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), name=self.name, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        listener, thread = self._listener, self._thread
        self._listener = self._thread = None
        if listener is not None:
            listener.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def close(self) -> None:
        self.set_state("down")

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                connection, _peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), name=f"{self.name}-conn", daemon=True).start()

    def drop_connections(self) -> int:
        """Close every open connection, as a node restart would; returns how many there were."""
        with self.lock:
            live, self._live = list(self._live), set()
        for tls in live:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()
        return len(live)

    def open_connections(self) -> int:
        with self.lock:
            return len(self._live)

    # --- one connection --------------------------------------------------------------------------------------
    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(IDLE_TIMEOUT)
        event = self.new_event()
        try:
            if self.mode == "refuse":
                event.update(result="refused", reason="listener set to refuse connections")
                return
            with self.lock:
                context = self.context
            assert context is not None
            try:
                tls = context.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError) as error:
                event.update(result="tls_failed", reason=str(error))
                return
            connection = tls
            with self.lock:  # a connection made while the server was being stopped ends with it
                if self.mode != "up":
                    event.update(result="closed", reason=f"the server went {self.mode}")
                    return
                self._live.add(tls)
            if self.accepted(tls, event):
                self.converse(tls, event)
        except OSError as error:
            event.update(result=event["result"] or "io_error", reason=event["reason"] or str(error))
        finally:
            with self.lock:
                self.events.append(event)
                self._live.discard(connection)
            connection.close()


def read_line(tls: ssl.SSLSocket) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_LINE:
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace").strip()
