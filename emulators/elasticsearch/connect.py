"""The local cluster's side of a proxy-mode connection: `open_connection` makes one attempt (TCP, then TLS verified
against the pushed CAs only, SNI and hostname = `server_name`, else the address's host) and keeps the socket open;
`LiveConnection.request` sends the keystore credential with one request over it, as every cross-cluster request
carries it. The TLS handshake is not repeated while the connection stays open: a CA trusted or untrusted later
matters only to the next connection (checked on a real 8.19.21 node, see tests/reales).

A remote without a credential is reached as the TLS-certificate model does, over the transport profile (Elasticsearch
picks the remote cluster client profile only for an alias with `cluster.remote.<alias>.credentials`): the node
presents its transport certificate (ECE's, pushed to `/_emulator/transport`) and, once the chain is trusted and the
server identity checked, applies the transport trust restriction of the entries whose CA signed the remote's
certificate (`restrictions`; in Java the RestrictedTrustManager runs inside the handshake, after the delegate trust
manager, which also checks the identity). Its requests carry no credential; a remote cluster server (which wants one)
denies them, which shows as the missing credential it is."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass

from cryptography import x509

from emulators.certs import load_chain

from .certs import valid_certificates
from .restrictions import TransportIdentity, TrustEntry, check_server

HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH
UNTRUSTED_CODES = frozenset({2, 18, 19, 20, 21})  # no issuer / self-signed / local issuer / leaf not verifiable


@dataclass(frozen=True)
class Attempt:
    """What a connection needs; equal attempts give equal results while the remote is unchanged."""

    proxy_address: str
    server_name: str
    trusted: tuple[str, ...]
    credential: str | None
    missing_code: str = "credentials_missing"  # or "credentials_not_reloaded"
    missing_reason: str = "no credentials"  # why there is no credential (alias mismatch, not reloaded)
    restrictions: tuple[TrustEntry, ...] = ()  # the transport trust restriction of each direct entry
    identity: TransportIdentity | None = None  # the node's transport certificate, presented without a credential

    @property
    def transport_profile(self) -> bool:
        """Whether this attempt uses the transport profile (no credential: the TLS-certificate model)."""
        return self.credential is None


@dataclass(frozen=True)
class Outcome:
    connected: bool
    code: str
    reason: str
    remote_version: str | None = None


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class LiveConnection:
    """An open TLS connection to a remote cluster server, with the parameters it was opened with."""

    def __init__(self, tls: ssl.SSLSocket, plan: Attempt) -> None:
        self.tls = tls
        self.plan = plan
        self.open = True
        self._lock = threading.Lock()

    def request(
        self, credential: str | None, missing: tuple[str, str] = ("credentials_missing", "no credentials")
    ) -> Outcome:
        """One request across the connection; the remote checks the credential each time."""
        line = "REQUEST" if credential is None else f"CREDENTIALS {credential}"
        with self._lock:
            if not self.open:
                return Outcome(False, "connection_closed", "the connection to the remote cluster was closed")
            try:
                self.tls.sendall(f"{line}\n".encode())
                answer = _read_line(self.tls)
            except ssl.SSLError as error:  # TLS 1.3: the server's verdict on our certificate comes after the handshake
                self._close()
                return Outcome(False, "tls_client_rejected", _client_rejected(error.reason or str(error)))
            except OSError as error:
                self._close()
                return Outcome(False, "connection_closed", f"the remote cluster closed the connection: {error}")
            if not answer:
                self._close()
                return Outcome(False, "connection_closed", "the remote cluster closed the connection")
        if answer == "OK" or answer.startswith("OK "):
            return Outcome(True, "connected", "connected", remote_version=answer[3:] or None)
        if answer.startswith("ALERT"):
            self._close()
            return Outcome(False, "tls_client_rejected", _client_rejected(f"Received fatal alert: {answer[6:]}"))
        if credential is None and answer.startswith("DENIED"):
            return Outcome(False, *missing)  # a remote cluster server: it wants the credential this alias lacks
        if answer.startswith("DENIED"):
            return Outcome(False, "credentials_rejected", f"the remote cluster rejected the credentials: {answer[7:]}")
        return Outcome(False, "protocol_error", f"unexpected answer from the remote cluster server: {answer!r}")

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OSError):
                self.tls.close()


def open_connection(plan: Attempt, timeout: float = 2.0) -> tuple[Outcome, LiveConnection | None]:
    """One connection attempt: TCP and TLS. The outcome is `connected` when the handshake succeeded."""
    try:
        host, port = split_address(plan.proxy_address)
    except ValueError:
        return Outcome(False, "bad_address", f"cannot parse proxy_address [{plan.proxy_address}]"), None
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        reason = f"connecting to [{plan.proxy_address}] timed out after {timeout}s"
        return Outcome(False, "connect_timeout", reason), None
    except OSError as error:
        reason = f"cannot connect to [{plan.proxy_address}]: {error.strerror or error}"
        return Outcome(False, "connect_failed", reason), None
    context = _client_context(plan.trusted, plan.identity if plan.transport_profile else None)
    try:
        tls = context.wrap_socket(raw, server_hostname=plan.server_name or host)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        return _verify_failure(error, plan.server_name or host, plan.trusted), None
    except (ssl.SSLError, OSError) as error:
        raw.close()
        return Outcome(
            False, "tls_handshake_failed", f"TLS handshake with [{plan.proxy_address}] failed: {error}"
        ), None
    mismatch = _identity_mismatch(tls, plan.server_name, host)
    if mismatch is None and plan.transport_profile:
        mismatch = _restricted(tls, plan)
    if mismatch is not None:
        tls.close()
        return mismatch, None
    return Outcome(True, "connected", "connected"), LiveConnection(tls, plan)


def _restricted(tls: ssl.SSLSocket, plan: Attempt) -> Outcome | None:
    """The transport trust restriction (RestrictedTrustManager.verifyTrust) on the remote's certificate."""
    der = tls.getpeercert(binary_form=True)
    if der is None:
        return Outcome(False, "tls_verify_failed", "the remote presented no certificate")
    problem = check_server(x509.load_der_x509_certificate(der), plan.trusted, plan.restrictions)
    if problem is None:
        return None
    return Outcome(False, "tls_trust_restricted", f"TLS handshake with [{plan.proxy_address}] failed: {problem}")


def _client_rejected(detail: str) -> str:
    return f"the remote cluster rejected the local node's transport certificate ({detail})"


def _identity_mismatch(tls: ssl.SSLSocket, server_name: str, host: str) -> Outcome | None:
    """What Elasticsearch's remote cluster client checks (Java's X509TrustManagerImpl.checkIdentity on a client
    session): the certificate must match the SNI server name, or, failing that, the host it dialled; `server_name`
    only sets SNI (SecurityNetty4Transport.ClientSslHandlerInitializer creates the engine for the dialled host).
    Checked on a real 8.19.21 node: a wrong `server_name` still connects when the dialled IP is in the certificate,
    and fails with "No subject alternative names matching IP address" when it is not."""
    der = tls.getpeercert(binary_form=True)
    if der is None:
        return Outcome(False, "tls_verify_failed", "the remote presented no certificate")
    certificate = x509.load_der_x509_certificate(der)
    candidates = [name for name in (server_name, host) if name]
    if any(_matches(certificate, name) for name in candidates):
        return None
    shown = " or ".join(f"[{name}]" for name in candidates)
    return Outcome(False, "tls_hostname_mismatch", f"certificate does not match server name {shown}")


def _matches(certificate: x509.Certificate, name: str) -> bool:
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return address in sans.get_values_for_type(x509.IPAddress)
    wanted = name.lower().rstrip(".")
    for pattern in (dns.lower().rstrip(".") for dns in sans.get_values_for_type(x509.DNSName)):
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def attempt(plan: Attempt, timeout: float = 2.0) -> Outcome:
    """A connection attempt and one request over it, then close (a throwaway connection)."""
    outcome, live = open_connection(plan, timeout)
    if live is None:
        return outcome
    try:
        return live.request(plan.credential, (plan.missing_code, plan.missing_reason))
    finally:
        live.close()


def _client_context(trusted: tuple[str, ...], identity: TransportIdentity | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain against the pushed CAs only
    context.check_hostname = False  # the identity is checked after the handshake, as Java does (see above)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    good, _problems = valid_certificates(list(trusted))
    if good:
        context.load_verify_locations(cadata="\n".join(good))
    if identity is not None:  # the transport profile presents the node's certificate (mutual TLS)
        load_chain(context, identity.certificate_pem, identity.key_pem)
    return context


def _verify_failure(error: ssl.SSLCertVerificationError, hostname: str, trusted: tuple[str, ...]) -> Outcome:
    message = error.verify_message or str(error)
    if error.verify_code == HOSTNAME_MISMATCH:
        return Outcome(
            False, "tls_hostname_mismatch", f"certificate does not match server name [{hostname}]: {message}"
        )
    if error.verify_code in UNTRUSTED_CODES:
        good, problems = valid_certificates(list(trusted))
        if not good:
            detail = "no trusted CA certificates were pushed" if not trusted else "; ".join(problems)
            return Outcome(False, "tls_untrusted", f"certificate not trusted ({message}): {detail}")
        return Outcome(False, "tls_untrusted", f"certificate not trusted by the {len(good)} pushed CA(s): {message}")
    return Outcome(False, "tls_verify_failed", f"certificate verification failed: {message}")


def _read_line(tls: ssl.SSLSocket) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < 4096:
        chunk = tls.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace").strip()
