"""Certificate files and lists for the Elasticsearch emulator; the certificates themselves come from
`emulators.certs` (the remote cluster server's CA, made at startup and on rotation, and the server certificate)."""

from __future__ import annotations

import os
import tempfile

from cryptography import x509


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
