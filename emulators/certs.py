"""Certificates made on the fly for the emulators, the tests and the local control plane (never committed): CAs
(EC P-256: fast to make), server certificates they sign, CAs made elsewhere adopted to sign with, TLS contexts."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# The `otherName` type-id Elasticsearch reads node names from: the X.500 commonName OID (elastic/elasticsearch
# x-pack/plugin/core/.../ssl/RestrictedTrustManager.java, `CN_OID = "2.5.4.3"`, value a UTF8String).
COMMON_NAME_OID = ObjectIdentifier("2.5.4.3")


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


def utf8_string(text: str) -> bytes:
    """DER of an ASN.1 UTF8String (tag 0x0C); the value of a node name's `otherName`."""
    data = text.encode()
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + data


def make_node(
    ca: Issued,
    node_name: str,
    *,
    dns_names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    organizational_unit: str | None = None,
    days: int = 365,
) -> Issued:
    """A transport (node) certificate signed by `ca`, shaped as ECK issues them (cloud-on-k8s
    pkg/controller/elasticsearch/certificates/transport/csr.go, `buildGeneralNames`): subject CN = the node name
    (OU = the cluster), SANs = `otherName` commonName (OID 2.5.4.3, UTF8String) = the node name, the node name as a
    DNS name, then `dns_names` and `ips`; key usage for both TLS server and client (nodes dial each other)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    # Node names outgrow X.520's 64-character CN bound; Go's crypto/x509 (ECK) does not enforce it, so neither here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, node_name, _validate=False)]
    if organizational_unit:  # Go's pkix.Name encodes OU before CN
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, organizational_unit))
    names: list[x509.GeneralName] = [
        x509.OtherName(COMMON_NAME_OID, utf8_string(node_name)),
        x509.DNSName(node_name),
        *(x509.DNSName(name) for name in dns_names),
        *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_identifier(ca), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return _issued(certificate, key)


def load_chain(context: ssl.SSLContext, certificate_pem: str, key_pem: str) -> None:
    """Give `context` a certificate and key (through a temporary file, deleted at once)."""
    with tempfile.TemporaryDirectory(prefix="emulator-tls-") as directory:
        path = os.path.join(directory, "chain.pem")
        with open(path, "w", encoding="ascii") as handle:
            handle.write(certificate_pem + key_pem)
        context.load_cert_chain(path)


def server_context(server: Issued) -> ssl.SSLContext:
    """A TLS server context holding `server` (loaded through a temporary file, deleted at once)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    load_chain(context, server.certificate_pem, server.key_pem)
    return context
