"""Certificates made on the fly for the emulators, the tests and the local control plane (never committed): CAs
(EC P-256: fast to make), server certificates they sign, CAs made elsewhere adopted to sign with, TLS contexts."""

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


def key_pem(key: CertificateIssuerPrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_key() -> str:
    return key_pem(ec.generate_private_key(ec.SECP256R1()))


def _issued(certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes) -> Issued:
    return Issued(certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem(key), certificate, key)


def make_ca(
    common_name: str = "test-ca",
    *,
    days: int = 365,
    is_ca: bool = True,
    expired: bool = False,
    organization: str | None = None,
) -> Issued:
    """A self-signed certificate; a CA unless `is_ca` is false; already expired when `expired`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    start, end = (
        (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1))
        if expired
        else (
            now - datetime.timedelta(minutes=5),
            now + datetime.timedelta(days=days),
        )
    )
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attributes)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if is_ca:
        usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    return _issued(builder.sign(key, hashes.SHA256()), key)


def adopt(certificate_pem: str, private_key_pem: str) -> Issued:
    """A CA made elsewhere (an ECK operator's transport CA, say), to issue certificates from."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be RSA or ECDSA")
    return Issued(certificate_pem, private_key_pem, certificate, key)


def _authority_key_identifier(ca: Issued) -> x509.AuthorityKeyIdentifier:
    """Point at the CA's own subject key identifier when it has one (a CA made by another tool may compute it
    differently), so that path building finds the issuer."""
    try:
        ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def make_server(ca: Issued, dns_name: str, ip: str | None = "127.0.0.1", *, days: int = 365) -> Issued:
    """A server certificate signed by `ca`, for `dns_name` and `ip` (none when `ip` is None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(dns_name), *([x509.IPAddress(ipaddress.ip_address(ip))] if ip else [])]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_identifier(ca), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return _issued(certificate, key)


def server_context(server: Issued) -> ssl.SSLContext:
    """A TLS server context holding `server` (loaded through a temporary file, deleted at once)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="emulator-tls-") as directory:
        path = os.path.join(directory, "server.pem")
        with open(path, "w", encoding="ascii") as handle:
            handle.write(server.certificate_pem + server.key_pem)
        context.load_cert_chain(path)
    return context
