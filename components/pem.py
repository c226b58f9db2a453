"""PEM certificates: validation of user-supplied CAs, fingerprints, and bundles for rotation."""

from __future__ import annotations

import datetime
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


class PemError(ValueError):
    pass


def split_certificates(text: str) -> list[str]:
    """Every certificate block in a PEM bundle, normalised (one trailing newline each)."""
    return [_normalise(block) for block in _BLOCK.findall(text)]


def _normalise(block: str) -> str:
    lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def load_certificates(text: str) -> list[x509.Certificate]:
    blocks = split_certificates(text)
    if not blocks:
        raise PemError("no '-----BEGIN CERTIFICATE-----' block found")
    try:
        return [x509.load_pem_x509_certificate(block.encode()) for block in blocks]
    except ValueError as error:
        raise PemError(f"a certificate block does not parse ({error})") from None


def check_ca_bundle(text: str, *, now: datetime.datetime | None = None, require_ca: bool = True) -> list[str]:
    """Validate a CA bundle; returns the normalised blocks. Raises PemError with the reason."""
    moment = now or datetime.datetime.now(datetime.UTC)
    certificates = load_certificates(text)
    for index, certificate in enumerate(certificates):
        where = f"certificate {index + 1} ({certificate.subject.rfc4514_string() or 'no subject'})"
        if certificate.not_valid_after_utc < moment:
            raise PemError(f"{where} expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
        if require_ca:
            try:
                constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
            except x509.ExtensionNotFound:
                constraints = None
            if constraints is None or not constraints.ca:
                raise PemError(f"{where} is not a CA certificate (basicConstraints CA:TRUE is missing)")
    return split_certificates(text)


def check_key_matches(certificate_pem: str, key_pem: str) -> None:
    """The user-managed transport CA: ECK signs node certificates with this key, so it must match."""
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise PemError(f"the private key does not parse as an unencrypted PEM key ({type(error).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise PemError("the private key must be RSA, ECDSA or Ed25519")
    certificate = load_certificates(certificate_pem)[0]
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public) != certificate.public_key().public_bytes(*public):
        raise PemError("the private key does not belong to the certificate")


def fingerprint(pem: str) -> str:
    """SHA-256 fingerprint of the first certificate, as ECE shows it (hex pairs joined by ':')."""
    certificate = load_certificates(pem)[0]
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()
