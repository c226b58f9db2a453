"""The transport port stand-in (9300 of an ECK node) for the TLS-certificate model.

It presents a node certificate shaped as ECK issues them (cloud-on-k8s pkg/controller/elasticsearch/certificates/
transport/csr.go: `buildCertificateCommonName` = `<pod>.node.<es>.<namespace>.es.local` as subject CN, `otherName`
commonName and DNS name; the transport Service `<es>-es-transport.<namespace>.svc`; the pod's IP and the loopback IP,
here both 127.0.0.1), signed by the cluster's transport CA (the remote cluster server's CA: ECK issues both from
it). It requires a client certificate (`xpack.security.transport.ssl.client_authentication` defaults to `required`)
signed by its own CA or one of `client_cas` (the ECE deployment CA the program mounts), and, when `subject_names` is
set (the `trust.yml` the program mounts), applies that restriction to the client's certificate as
RestrictedTrustManager.checkClientTrusted does; a client it rejects gets `ALERT certificate_unknown` and is closed,
which is how Java's handshake failure reaches the other side.

Requests carry no API key: `REQUEST\\n` -> `OK <version>\\n` (the transport profile authenticates the node by its
certificate); anything else is denied.
"""

from __future__ import annotations

import contextlib
import ssl
from types import EllipsisType
from typing import Any

from cryptography import x509

from emulators.certs import Issued, make_node, server_context

from .listener import TlsListener, read_line
from .restrictions import java_subject, rejection


def node_name(cluster: str, namespace: str, node_set: str = "default") -> str:
    """ECK's name for the first pod of `node_set`: `<es>-es-<nodeSet>-0.node.<es>.<namespace>.es.local`."""
    return f"{cluster}-es-{node_set}-0.node.{cluster}.{namespace}.es.local"


def transport_service(cluster: str, namespace: str) -> str:
    return f"{cluster}-es-transport.{namespace}.svc"


class TransportServer(TlsListener):
    name = "es-transport"

    def __init__(self, *, port: int, cluster_name: str, namespace: str, ca: Issued, version: str) -> None:
        super().__init__(port)
        self.cluster_name = cluster_name
        self.namespace = namespace
        self.version = version
        self.client_cas: list[str] = []
        self.subject_names: list[str] | None = None
        self._issue(ca)
        self.set_state("up")

    @property
    def node_name(self) -> str:
        return node_name(self.cluster_name, self.namespace)

    @property
    def server_name(self) -> str:
        return transport_service(self.cluster_name, self.namespace)

    def _issue(self, ca: Issued) -> None:
        self.ca = ca
        pod = f"{self.cluster_name}-es-default-0"
        self.node: Issued = make_node(
            ca,
            self.node_name,
            dns_names=(self.server_name, f"{pod}.{self.cluster_name}-es-default.{self.namespace}"),
            ips=("127.0.0.1",),
            organizational_unit=self.cluster_name,
        )
        context = server_context(self.node)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata="\n".join([ca.certificate_pem, *self.client_cas]))
        self.context = context

    def use_ca(self, ca: Issued) -> None:
        """A new transport CA (rotated or replaced along with the remote cluster server's): a new node certificate."""
        with self.lock:
            self._issue(ca)

    def configure(
        self,
        *,
        namespace: str | None = None,
        client_cas: list[str] | None = None,
        subject_names: list[str] | EllipsisType | None = ...,
    ) -> None:
        """Change the namespace (the node's name), the client CAs trusted, or the restriction (None: none; `...`:
        unchanged)."""
        with self.lock:
            if namespace is not None:
                self.namespace = namespace
            if client_cas is not None:
                self.client_cas = list(client_cas)
            if not isinstance(subject_names, EllipsisType):
                self.subject_names = None if subject_names is None else list(subject_names)
            self._issue(self.ca)

    # --- one connection --------------------------------------------------------------------------------------
    def new_event(self) -> dict[str, Any]:
        return {**super().new_event(), "client": None}

    def accepted(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> bool:
        der = tls.getpeercert(binary_form=True)
        certificate = x509.load_der_x509_certificate(der) if der else None
        event["client"] = java_subject(certificate) if certificate is not None else None
        with self.lock:
            patterns = self.subject_names
        if certificate is None or patterns is None:
            return True
        problem = rejection(certificate, patterns)
        if problem is None:
            return True
        event.update(result="restricted", reason=problem)
        # Java fails the handshake with a `certificate_unknown` alert; here the client learns it on its first request
        # (read first: closing with its request unread would reset the connection before it reads the answer).
        tls.settimeout(2.0)
        with contextlib.suppress(OSError):
            read_line(tls)
            tls.sendall(b"ALERT certificate_unknown\n")
        return False

    def converse(self, tls: ssl.SSLSocket, event: dict[str, Any]) -> None:
        while True:
            line = read_line(tls)
            if not line:
                if not event["requests"]:
                    event.update(result="closed", reason="the client sent no request")
                return
            event["requests"] += 1
            if line != "REQUEST":
                event.update(result="denied", reason="the transport port takes node requests (REQUEST) only")
                tls.sendall(b"DENIED the transport port takes no cross-cluster API keys\n")
                continue
            event.update(result="ok", reason=None)
            tls.sendall(f"OK {self.version}\n".encode())

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "state": self.mode,
                "address": f"127.0.0.1:{self.port}",
                "port": self.port,
                "server_name": self.server_name,
                "node_name": self.node_name,
                "ca_pem": self.ca.certificate_pem,
                "client_cas": len(self.client_cas),
                "subject_names": self.subject_names,
                "open_connections": len(self._live),
                "events": list(self.events),
            }
