"""The remote cluster server stand-in (port 9443 of a real cluster): TLS with a certificate from a CA of its own,
then, for as long as the client keeps the connection open, one line each way per request:
`CREDENTIALS <encoded>\\n` -> `OK <version>\\n` or `DENIED <reason>\\n`.

As on a real remote cluster server, the TLS handshake happens once per connection and the credential is checked on
every request that crosses it (the cross-cluster access header travels with each request, checked on a real 8.19.21
node: a key invalidated while the connection stayed open fails the next request). The connection ends when the client
closes it or the server goes down."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from emulators.certs import Issued, adopt, make_ca, make_server, server_context

from .certs import write_atomically
from .listener import TlsListener, read_line

Authenticator = Callable[[str], tuple[bool, str, str | None]]


class RemoteClusterServer(TlsListener):
    """Listens on 127.0.0.1:<port>. `state`: "up" (serve), "refuse" (accept, then close before TLS), "down"
    (no listener: connections are refused)."""

    name = "es-rcs"

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
        super().__init__(port)
        self.server_name = server_name
        self.cluster_name = cluster_name
        self.authenticate = authenticate
        self.ca_out = ca_out
        self.version = version
        self.rotations = 0
        self._issue()
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

    # --- one connection --------------------------------------------------------------------------------------
    def new_event(self) -> dict[str, Any]:
        return {**super().new_event(), "sni": None, "key_id": None}

    def accepted(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> bool:
        event["sni"] = getattr(tls, "emulator_sni", None)
        return True

    def converse(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> None:
        while True:
            line = read_line(tls)
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
