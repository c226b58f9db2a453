"""Certificates: the per-deployment CA, PEM parsing and the read-only `CertificateMetaData` of a PEM."""

from __future__ import annotations

import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from emulators.certs import Issued, make_ca, make_node


def iso(moment: datetime.datetime) -> str:
    """ECE's date-time format: UTC, milliseconds, `Z`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def generate_ca(common_name: str, *, days: int = 3650) -> Issued:
    """A deployment's CA, as ECE names its issuer."""
    return make_ca(common_name, days=days, organization="Elastic Cloud Enterprise")


def node_certificate(ca: Issued, node_name: str) -> Issued:
    """A node's transport certificate from the deployment's CA, its name in the `otherName` that Elasticsearch's
    trust restrictions read (the same shape ECK gives its nodes, see `emulators.certs.make_node`)."""
    return make_node(ca, node_name)


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
