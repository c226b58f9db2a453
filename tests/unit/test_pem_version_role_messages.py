"""Rules that need no cluster: the fingerprint of a CA as ECE shows it, what a user is told when a bundle holds no
certificate or one that does not parse, the version text named when it does not parse, and that an empty role name
is only reported as missing."""

from __future__ import annotations

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from components.elasticsearch.roles import RemoteRoleProvider
from components.pem import PemError, check_ca_bundle, fingerprint
from components.validation import Version
from tests.support.certs import make_ca

TARGET = {"kind": "direct", "url": "https://es.example.com:9200"}
ROLE = {"cluster": ["cross_cluster_search"]}


def ece_style(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as ECE lists it: upper-case hex pairs joined by ':'."""
    return ":".join(f"{byte:02X}" for byte in certificate.fingerprint(hashes.SHA256()))


def test_the_fingerprint_is_the_sha256_of_the_first_certificate_in_upper_case_hex_pairs() -> None:
    first, second = make_ca("first-ca"), make_ca("second-ca")
    value = fingerprint(first.certificate_pem + second.certificate_pem)
    assert value == ece_style(first.certificate)
    assert len(value) == 32 * 3 - 1  # 32 pairs, 31 colons


def test_text_without_a_certificate_block_is_refused_with_what_was_looked_for() -> None:
    with pytest.raises(PemError) as raised:
        check_ca_bundle("MIIB... (a certificate pasted without its BEGIN/END lines)")
    assert str(raised.value) == "no '-----BEGIN CERTIFICATE-----' block found"


def test_a_block_that_does_not_parse_is_refused_with_the_parser_reason() -> None:
    with pytest.raises(PemError) as raised:
        check_ca_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    message = str(raised.value)
    assert message.startswith("a certificate block does not parse (") and message.endswith(")")
    assert len(message) > len("a certificate block does not parse ()")


@pytest.mark.parametrize("text", ["9.3", "9.3.2-SNAPSHOT", "v9.3.2"])
def test_a_version_that_does_not_parse_is_named_in_the_error(text: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        Version.of(text)


def test_an_empty_role_name_is_reported_once_as_missing() -> None:
    news = {"target": TARGET, "credentials": {"password": "x"}, "role_name": "", "role": ROLE}
    failures = RemoteRoleProvider().check({}, news).failures
    assert [(f.property, f.reason) for f in failures] == [("role_name", "'role_name' is required")]
