"""`components.pem`: what a user is told when a CA bundle or a transport CA key pair is not usable.

The messages name the faulty certificate by its place in the bundle (counted from 1) and its subject, so that a user
with a bundle of several CAs can find the one to replace."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa
from cryptography.x509.oid import NameOID

from components.pem import PemError, check_ca_bundle, check_key_matches
from tests.support.certs import make_ca, make_key


def _self_signed(
    subject: x509.Name,
    *,
    constraints: x509.BasicConstraints | None,
    not_after: datetime.datetime | None = None,
) -> str:
    """A self-signed certificate with the given subject (possibly empty) and basicConstraints (possibly none)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
    )
    if constraints is not None:
        builder = builder.add_extension(constraints, critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _error(text: str, **options: object) -> str:
    with pytest.raises(PemError) as raised:
        check_ca_bundle(text, **options)  # type: ignore[arg-type]
    return str(raised.value)


def test_a_bundle_must_hold_ca_certificates_unless_told_otherwise() -> None:
    leaf = make_ca("leaf", is_ca=False).certificate_pem
    assert _error(leaf) == "certificate 1 (CN=leaf) is not a CA certificate (basicConstraints CA:TRUE is missing)"
    assert check_ca_bundle(leaf, require_ca=False) == [leaf]


def test_a_certificate_without_basic_constraints_is_not_a_ca() -> None:
    bare = _self_signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bare")]), constraints=None)
    assert _error(bare) == "certificate 1 (CN=bare) is not a CA certificate (basicConstraints CA:TRUE is missing)"


def test_an_expired_certificate_is_named_by_its_place_in_the_bundle_and_its_subject() -> None:
    good, expired = make_ca("current-ca"), make_ca("old-ca", expired=True)
    message = _error(good.certificate_pem + expired.certificate_pem)
    assert message == f"certificate 2 (CN=old-ca) expired on {expired.certificate.not_valid_after_utc:%Y-%m-%d}"
    # the first of the bundle is certificate 1
    message = _error(expired.certificate_pem + good.certificate_pem)
    assert message.startswith("certificate 1 (CN=old-ca) expired on ")


def test_a_non_ca_certificate_is_named_by_its_place_in_the_bundle() -> None:
    bundle = make_ca("root").certificate_pem + make_ca("intermediate").certificate_pem
    bundle += make_ca("server", is_ca=False).certificate_pem
    assert _error(bundle).startswith("certificate 3 (CN=server) is not a CA certificate")


def test_a_certificate_without_a_subject_is_said_to_have_none() -> None:
    nameless = _self_signed(x509.Name([]), constraints=x509.BasicConstraints(ca=False, path_length=None))
    assert _error(nameless).startswith("certificate 1 (no subject) is not a CA certificate")


def test_a_certificate_is_valid_up_to_and_including_its_last_second() -> None:
    end = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
    ca = _self_signed(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]),
        constraints=x509.BasicConstraints(ca=True, path_length=None),
        not_after=end,
    )
    assert check_ca_bundle(ca, now=end) == [ca]
    assert _error(ca, now=end + datetime.timedelta(seconds=1)) == "certificate 1 (CN=ca) expired on 2030-01-01"


def test_a_key_that_does_not_parse_is_reported_with_the_kind_of_failure() -> None:
    ca = make_ca()
    with pytest.raises(PemError) as raised:
        check_key_matches(ca.certificate_pem, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    assert str(raised.value) == "the private key does not parse as an unencrypted PEM key (ValueError)"
    encrypted = ca.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(PemError) as raised:
        check_key_matches(ca.certificate_pem, encrypted)
    assert str(raised.value) == "the private key does not parse as an unencrypted PEM key (TypeError)"


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: dsa.generate_private_key(2048), id="dsa"),
        pytest.param(ed448.Ed448PrivateKey.generate, id="ed448"),
    ],
)
def test_a_key_eck_cannot_sign_with_is_refused(key: object) -> None:
    private = key()  # type: ignore[operator]
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(PemError) as raised:
        check_key_matches(make_ca().certificate_pem, pem)
    assert str(raised.value) == "the private key must be RSA, ECDSA or Ed25519"


def test_a_key_of_another_certificate_is_refused() -> None:
    with pytest.raises(PemError) as raised:
        check_key_matches(make_ca().certificate_pem, make_key())
    assert str(raised.value) == "the private key does not belong to the certificate"


def test_the_key_of_the_certificate_is_accepted() -> None:
    ca = make_ca()
    check_key_matches(ca.certificate_pem, ca.key_pem)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(PemError, match="does not belong"):
        check_key_matches(
            ca.certificate_pem,
            rsa_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
        )
