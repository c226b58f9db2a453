"""Certificates: the per-deployment CA, PEM parsing and the read-only `CertificateMetaData` of a PEM."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertificateAuthority:
    certificate_pem: str
    key_pem: str


def iso(moment: datetime.datetime) -> str:
    """ECE's date-time format: UTC, milliseconds, `Z`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def generate_ca(common_name: str, *, days: int = 3650) -> CertificateAuthority:
    """A self-signed EC P-256 CA (fast to make; what a test needs to trust or compare)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Elastic Cloud Enterprise"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return CertificateAuthority(certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem)


def load_certificate(pem: str) -> x509.Certificate:
    """Parse one PEM certificate; ValueError when it is not one."""
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("not a PEM certificate (no BEGIN CERTIFICATE block)")
    return x509.load_pem_x509_certificate(pem.encode())


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER, upper-case hex pairs joined by ':'."""
    digest = certificate.fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


@lru_cache(maxsize=256)
def certificate_metadata(pem: str) -> dict[str, str]:
    """`CertificateMetaData` (read-only in the API) computed from the PEM."""
    certificate = load_certificate(pem)
    return {
        "fingerprint": fingerprint(certificate),
        "valid_from": iso(certificate.not_valid_before_utc),
        "valid_to": iso(certificate.not_valid_after_utc),
    }
