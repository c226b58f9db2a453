"""The remote cluster server stand-in (port 9443 of a real cluster): TLS with a certificate from a CA of its own,
then, for as long as the client keeps the connection open, one line each way per request:
`CREDENTIALS <encoded>\\n` -> `OK <version>\\n` or `DENIED <reason>\\n`.

As on a real remote cluster server, the TLS handshake happens once per connection and the credential is checked on
every request that crosses it (the cross-cluster access header travels with each request, checked on a real 8.19.21
node: a key invalidated while the connection stayed open fails the next request). The connection ends when the client
closes it or the server goes down."""

from __future__ import annotations

import collections
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from emulators.certs import Issued, adopt, make_ca, make_server, server_context

from .certs import write_atomically

Authenticator = Callable[[str], tuple[bool, str, str | None]]
STATES = ("up", "refuse", "down")
MAX_LINE = 16_384
IDLE_TIMEOUT = 600.0  # an idle client connection is closed after this long


class RemoteClusterServer:
    """Listens on 127.0.0.1:<port>. `state`: "up" (serve), "refuse" (accept, then close before TLS), "down"
    (no listener: connections are refused)."""

    def __init__(
        self,
        *,
        port: int,
        server_name: str,
        cluster_name: str,
        authenticate: Authenticator,
        ca_out: str | None = None,
        version: str = "9.3.2",
    ) -> None:
        self.server_name = server_name
        self.cluster_name = cluster_name
        self.authenticate = authenticate
        self.ca_out = ca_out
        self.version = version
        self._live: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.rotations = 0
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=50)
        self.mode = "down"
        self._issue()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.set_state("up")

    # --- certificates ----------------------------------------------------------------------------------------
    def _issue(self, ca: Issued | None = None) -> None:
        self.ca: Issued = ca or make_ca(f"{self.cluster_name} remote cluster CA {self.rotations}")
        # As ECK's remote cluster server certificates, it names the Service, not the address clients dial (no IP SAN;
        # cloud-on-k8s certificates/transport/csr.go): so the TLS server name matters.
        self.server: Issued = make_server(self.ca, self.server_name, ip=None)
        self.context = server_context(self.server)
        self.context.sni_callback = self._record_sni
        if self.ca_out:
            write_atomically(self.ca_out, self.ca.certificate_pem)

    def rotate_ca(self) -> str:
        """A new CA and a new server certificate; new connections get the new one."""
        with self.lock:
            self.rotations += 1
            self._issue()
            return self.ca.certificate_pem

    def use_ca(self, certificate_pem: str, key_pem: str) -> None:
        """Serve a certificate issued by a CA made elsewhere, as ECK issues its nodes' certificates from its CA."""
        ca = adopt(certificate_pem, key_pem)
        with self.lock:
            self.rotations += 1
            self._issue(ca)

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
        self._thread = threading.Thread(target=self._accept, args=(listener,), name="es-rcs", daemon=True)
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
            threading.Thread(target=self._serve, args=(connection,), name="es-rcs-conn", daemon=True).start()

    # --- one connection --------------------------------------------------------------------------------------
    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(IDLE_TIMEOUT)
        event: dict[str, Any] = {
            "at": int(time.time() * 1000),
            "sni": None,
            "result": None,
            "reason": None,
            "key_id": None,
            "requests": 0,
        }
        try:
            if self.mode == "refuse":
                event.update(result="refused", reason="listener set to refuse connections")
                return
            with self.lock:
                context = self.context
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
            event["sni"] = getattr(tls, "emulator_sni", None)
            while True:
                line = _read_line(tls)
                if not line:
                    if not event["requests"]:
                        event.update(result="closed", reason="the client sent no credentials")
                    return
                event["requests"] += 1
                command, _, encoded = line.partition(" ")
                if command != "CREDENTIALS" or not encoded:
                    event.update(result="denied", reason="expected CREDENTIALS <encoded api key>")
                    tls.sendall(b"DENIED expected CREDENTIALS <encoded api key>\n")
                    continue
                accepted, reason, key_id = self.authenticate(encoded)
                event.update(result="ok" if accepted else "denied", reason=None if accepted else reason, key_id=key_id)
                tls.sendall(f"OK {self.version}\n".encode() if accepted else f"DENIED {reason}\n".encode())
        except OSError as error:
            event.update(result=event["result"] or "io_error", reason=event["reason"] or str(error))
        finally:
            with self.lock:
                self.events.append(event)
                self._live.discard(connection)
            connection.close()

    def drop_connections(self) -> int:
        """Close every open connection, as a node restart would; returns how many there were."""
        with self.lock:
            live, self._live = list(self._live), set()
        for tls in live:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()
        return len(live)

    @staticmethod
    def _record_sni(tls: Any, server_name: str | None, _context: ssl.SSLContext) -> None:
        tls.emulator_sni = server_name

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "state": self.mode,
                "address": f"127.0.0.1:{self.port}",
                "port": self.port,
                "server_name": self.server_name,
                "ca_pem": self.ca.certificate_pem,
                "ca_out": self.ca_out,
                "rotations": self.rotations,
                "open_connections": len(self._live),
                "events": list(self.events),
            }


def _read_line(tls: ssl.SSLSocket) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_LINE:
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace").strip()
