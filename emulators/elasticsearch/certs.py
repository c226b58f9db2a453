"""Certificates for the remote cluster server stand-in: a CA made at startup (and on rotation) and a server
certificate it signs for the TLS server name and 127.0.0.1. EC P-256: fast to make."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    certificate_pem: str
    key_pem: str
    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes


def adopt(certificate_pem: str, key_pem: str) -> Issued:
    """A CA made elsewhere (an ECK operator's transport CA, say), to issue certificates from."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be RSA or ECDSA")
    return Issued(certificate_pem, key_pem, certificate, key)


def _pem(certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes) -> tuple[str, str]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def _validity() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=365)


def make_ca(common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start, end = _validity()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(*_pem(certificate, key), certificate, key)


def make_server(ca: Issued, dns_name: str, ip: str = "127.0.0.1") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns_name), x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_identifier(ca), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(*_pem(certificate, key), certificate, key)


def _authority_key_identifier(ca: Issued) -> x509.AuthorityKeyIdentifier:
    """Point at the CA's own subject key identifier when it has one (a CA made by another tool may compute it
    differently), so that path building finds the issuer."""
    try:
        ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def server_context(server: Issued) -> ssl.SSLContext:
    """A TLS server context holding `server` (loaded through a temporary file, deleted at once)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="es-emulator-rcs-") as directory:
        path = os.path.join(directory, "server.pem")
        with open(path, "w", encoding="ascii") as handle:
            handle.write(server.certificate_pem + server.key_pem)
        context.load_cert_chain(path)
    return context


def write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".ca-")
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)


def valid_certificates(pems: list[str]) -> tuple[list[str], list[str]]:
    """(PEMs that parse as X.509 certificates, problems with the others)."""
    good: list[str] = []
    problems: list[str] = []
    for index, pem in enumerate(pems):
        try:
            x509.load_pem_x509_certificate(pem.encode())
        except (ValueError, TypeError) as error:
            problems.append(f"certificates[{index}] is not a PEM certificate: {error}")
            continue
        good.append(pem)
    return good, problems
