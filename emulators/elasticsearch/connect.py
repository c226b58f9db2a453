"""One connection attempt from the local cluster to a proxy-mode remote: TCP, TLS verified against the pushed
CAs only (SNI and hostname = `server_name`, else the address's host), then the keystore credential."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from .certs import valid_certificates

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


@dataclass(frozen=True)
class Outcome:
    connected: bool
    code: str
    reason: str


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def attempt(plan: Attempt, timeout: float = 2.0) -> Outcome:
    try:
        host, port = split_address(plan.proxy_address)
    except ValueError:
        return Outcome(False, "bad_address", f"cannot parse proxy_address [{plan.proxy_address}]")
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        return Outcome(False, "connect_timeout", f"connecting to [{plan.proxy_address}] timed out after {timeout}s")
    except OSError as error:
        return Outcome(False, "connect_failed", f"cannot connect to [{plan.proxy_address}]: {error.strerror or error}")
    with raw:
        hostname = plan.server_name or host
        context = _client_context(plan.trusted)
        try:
            tls = context.wrap_socket(raw, server_hostname=hostname)
        except ssl.SSLCertVerificationError as error:
            return _verify_failure(error, hostname, plan.trusted)
        except (ssl.SSLError, OSError) as error:
            return Outcome(False, "tls_handshake_failed", f"TLS handshake with [{plan.proxy_address}] failed: {error}")
        with tls:
            if plan.credential is None:
                return Outcome(False, plan.missing_code, plan.missing_reason)
            try:
                tls.sendall(f"CREDENTIALS {plan.credential}\n".encode())
                answer = _read_line(tls)
            except OSError as error:
                return Outcome(False, "protocol_error", f"no answer from the remote cluster server: {error}")
    if answer == "OK":
        return Outcome(True, "connected", "connected")
    if answer.startswith("DENIED"):
        return Outcome(False, "credentials_rejected", f"the remote cluster rejected the credentials: {answer[7:]}")
    return Outcome(False, "protocol_error", f"unexpected answer from the remote cluster server: {answer!r}")


def _client_context(trusted: tuple[str, ...]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and hostname; no system CAs
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    good, _problems = valid_certificates(list(trusted))
    if good:
        context.load_verify_locations(cadata="\n".join(good))
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
