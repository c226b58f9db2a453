"""Transport trust restrictions (`xpack.security.transport.ssl.trust_restrictions.path`), as Elasticsearch applies
them, and the local node's transport identity, as ECE provisions both (pushed to `/_emulator/transport`).

Elasticsearch (elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ssl/):
- `RestrictedTrustConfig.readTrustGroup` reads the YAML file's `trust.subject_name` list;
- `CertificateTrustRestrictions` turns each entry into `Automatons.predicate(pattern)`: `*` matches any characters
  (dots included), `?` one character, `\\` escapes the next one, and `/.../` is a Lucene regular expression
  (`Automatons.buildAutomaton` / `wildcard`);
- `RestrictedTrustManager.verifyTrust` runs after the delegate trust manager accepted the chain (so only a chain
  signed by a trusted CA gets here) and reads, by default (`trust_restrictions.x509_fields`, default
  `["subjectAltName.otherName.commonName"]`, since 8.5.3), the leaf's SAN `otherName` values whose type-id is
  `CN_OID = "2.5.4.3"` (a UTF8String). If none matches a pattern, the handshake fails with
  `CertificateException("Certificate for <subject> with fields [...] with values [...] does not match the trusted
  names [...]")` (the 8.5.3+ form of the message, with the lower-cased field names).
ECE composes the node's restriction file from the deployment's trust settings; how exactly is not public. This
module applies, to a chain, the patterns of the `direct` entries whose CA signed it (see `emulators.ece.trust
.subject_names` for the reading of an entry); an entry without patterns (`type: proxy`: the API-key model's remote
cluster server port, where transport trust restrictions do not apply) restricts nothing.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from emulators.certs import COMMON_NAME_OID

DEFAULT_FIELDS = "[subjectaltname.othername.commonname]"  # `x509Fields`, lower-cased by the trust manager
STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


@dataclass(frozen=True)
class TrustEntry:
    """One `direct` trust entry as the node applies it: its CA PEMs and its subject-name patterns (None: none)."""

    name: str
    certificates: tuple[str, ...]
    subject_names: tuple[str, ...] | None


@dataclass(frozen=True)
class TransportIdentity:
    """The local node's transport certificate (from the deployment's CA) and key, presented as a TLS client."""

    certificate_pem: str
    key_pem: str


# --- patterns -------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`Automatons.pattern`: `/regex/` (Lucene syntax, read here as a Python regular expression, which agrees on the
    forms used for node names), else a wildcard with `*`, `?` and `\\` escapes."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return re.compile(pattern[1:-1], re.DOTALL)
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            parts.append(re.escape(pattern[index]))
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, name: str) -> bool:
    return compile_pattern(pattern).fullmatch(name) is not None


# --- certificates ---------------------------------------------------------------------------------------------------
def _der_string(value: bytes) -> str | None:
    """The string inside a DER-encoded ASN.1 string value (RestrictedTrustManager.decodeDerValue also unwraps one
    extra explicit tag, which some encoders add)."""
    if len(value) < 2:
        return None
    tag, length, offset = value[0], value[1], 2
    if length & 0x80:
        size = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + size], "big"), 2 + size
    body = value[offset : offset + length]
    if tag == 0xA0:  # [0] EXPLICIT around the string
        return _der_string(body)
    encoding = STRING_TAGS.get(tag)
    return body.decode(encoding, errors="replace") if encoding else None


def node_names(certificate: x509.Certificate) -> list[str]:
    """The leaf's `subjectAltName.otherName.commonName` values (the default `x509_fields`)."""
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = []
    for other in sans.get_values_for_type(x509.OtherName):
        if other.type_id == COMMON_NAME_OID:
            text = _der_string(other.value)
            if text is not None:
                names.append(text)
    return names


def java_subject(certificate: x509.Certificate) -> str:
    """The subject as `X500Principal.toString()` prints it: most specific RDN first, `, ` between them. (Node names
    outgrow the 64-character CN bound, which `cryptography` warns about when it parses them: not a problem here.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return ", ".join(rdn.rfc4514_string() for rdn in reversed(certificate.subject.rdns))


@lru_cache(maxsize=256)
def _load(pem: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except (ValueError, TypeError):
        return None


def _fingerprint(pem: str) -> bytes | None:
    certificate = _load(pem)
    return certificate.fingerprint(hashes.SHA256()) if certificate is not None else None


def _issued_by(leaf: x509.Certificate, ca: x509.Certificate) -> bool:
    if leaf == ca:
        return True
    try:
        leaf.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _anchors(leaf: x509.Certificate, trusted: tuple[str, ...]) -> list[bytes]:
    """Fingerprints of the trusted CAs that signed `leaf`. Python 3.11's ssl gives no verified chain, so a leaf under
    an intermediate CA matches none; then every trusted CA counts (their restrictions all apply)."""
    signed = [
        fingerprint
        for pem in trusted
        if (ca := _load(pem)) is not None and _issued_by(leaf, ca) and (fingerprint := _fingerprint(pem)) is not None
    ]
    return signed or [fingerprint for pem in trusted if (fingerprint := _fingerprint(pem)) is not None]


def restriction_for(
    leaf: x509.Certificate, trusted: tuple[str, ...], entries: tuple[TrustEntry, ...]
) -> list[str] | None:
    """The patterns `leaf` must match, or None when it is not restricted: a CA that no entry names (a trust push that
    carried no restrictions) or that an entry without patterns names is unrestricted. [] trusts no name."""
    patterns: list[str] = []
    for anchor in _anchors(leaf, trusted):
        naming = [entry for entry in entries if anchor in {_fingerprint(pem) for pem in entry.certificates}]
        if not naming or any(entry.subject_names is None for entry in naming):
            return None
        for entry in naming:
            patterns.extend(p for p in entry.subject_names or () if p not in patterns)
    return patterns


def rejection(certificate: x509.Certificate, patterns: list[str] | tuple[str, ...]) -> str | None:
    """None when one of the certificate's node names matches one of `patterns`; else RestrictedTrustManager's
    message."""
    names = node_names(certificate)
    if any(matches(pattern, name) for pattern in patterns for name in names):
        return None
    return (
        f"Certificate for {java_subject(certificate)} with fields {DEFAULT_FIELDS} with values [{', '.join(names)}] "
        f"does not match the trusted names [{', '.join(patterns)}]"
    )


def check_server(
    certificate: x509.Certificate, trusted: tuple[str, ...], entries: tuple[TrustEntry, ...]
) -> str | None:
    """The client side of a transport connection: None when the remote's certificate passes the restriction."""
    patterns = restriction_for(certificate, trusted, entries)
    return None if patterns is None else rejection(certificate, patterns)


# --- the push -------------------------------------------------------------------------------------------------------
def parse_transport_push(body: Any) -> tuple[tuple[TrustEntry, ...], TransportIdentity | None]:
    """`{"direct": [{"name", "certificates": [pem], "subject_names": [pattern] | null}], "certificate":
    {"certificate": pem, "key": pem} | null}`; ValueError when malformed."""
    shape = (
        'body must be {"direct": [{"name": "...", "certificates": ["<pem>"], "subject_names": ["<pattern>"] | null}], '
        '"certificate"?: {"certificate": "<pem>", "key": "<pem>"} | null}'
    )
    if not isinstance(body, dict) or not isinstance(body.get("direct"), list):
        raise ValueError(shape)
    entries = []
    for item in body["direct"]:
        if not isinstance(item, dict) or not isinstance(item.get("certificates"), list):
            raise ValueError(shape)
        names = item.get("subject_names")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise ValueError("subject_names must be a list of patterns or null")
        if not all(isinstance(pem, str) for pem in item["certificates"]):
            raise ValueError("certificates must be PEM strings")
        entries.append(
            TrustEntry(
                str(item.get("name") or ""),
                tuple(item["certificates"]),
                None if names is None else tuple(names),
            )
        )
    identity = body.get("certificate")
    if identity is None:
        return tuple(entries), None
    if not isinstance(identity, dict) or not all(isinstance(identity.get(k), str) for k in ("certificate", "key")):
        raise ValueError(shape)
    return tuple(entries), TransportIdentity(identity["certificate"], identity["key"])


def render_entries(entries: tuple[TrustEntry, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": entry.name,
            "certificates": len(entry.certificates),
            "subject_names": None if entry.subject_names is None else list(entry.subject_names),
        }
        for entry in entries
    ]
