"""Transport trust restrictions as the emulators apply them (TLS-certificate model): how an ECE `direct` entry reads
as subject-name patterns, how Elasticsearch matches them against a certificate's `otherName` node name, and the
message a rejected certificate gives."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ObjectIdentifier

from emulators.certs import COMMON_NAME_OID, make_ca, make_node, utf8_string
from emulators.ece.links import TRANSPORT_PATH, TRUST_PATH, Push, Pusher
from emulators.ece.model import ElasticsearchLink
from emulators.ece.trust import direct_pems, direct_restrictions, subject_names
from emulators.elasticsearch.restrictions import (
    TrustEntry,
    check_server,
    matches,
    node_names,
    parse_transport_push,
    restriction_for,
)
from emulators.elasticsearch.transport import node_name

ECK_CA = make_ca("quickstart transport CA")
OTHER_CA = make_ca("someone else's CA")
PROD_NODE = make_node(ECK_CA, node_name("quickstart", "prod"), organizational_unit="quickstart")


def generic(scope: str | None, **extra: Any) -> dict[str, Any]:
    entry = {"name": "eck", "type": "generic", "trust_all": True, "certificates": [{"pem": ECK_CA.certificate_pem}]}
    if scope is not None:
        entry["scope_id"] = scope
    return {**entry, **extra}


def entries(*direct: dict[str, Any]) -> tuple[TrustEntry, ...]:
    parsed, _identity = parse_transport_push({"direct": direct_restrictions({"direct": list(direct)})})
    return parsed


# --- Automatons-style patterns ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.prod.es.local", "quickstart-es-default-0.node.quickstart.prod.es.local", True),  # `*` spans dots
        ("*.default.es.local", "quickstart-es-default-0.node.quickstart.prod.es.local", False),
        ("*.node.quickstart.prod.es.local", "quickstart-es-default-0.node.quickstart.prod.es.local", True),
        ("*.node.other.prod.es.local", "quickstart-es-default-0.node.quickstart.prod.es.local", False),
        ("node?.example.com", "node1.example.com", True),
        ("node?.example.com", "node12.example.com", False),
        ("node1.example.com", "node1.example.com", True),
        ("node1.example.com", "node1xexample.com", False),  # `.` is literal
        ("a\\*", "a*", True),  # `\` escapes
        ("a\\*", "ab", False),
        ("/node[0-9]+\\.example\\.com/", "node42.example.com", True),  # `/.../`: a regular expression
        ("*.prod.es.local", "prod.es.local", False),  # the name must end with `.<scope>`
    ],
)
def test_patterns_match_as_elasticsearch_automatons(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name) is expected


# --- what an ECE entry restricts to ------------------------------------------------------------------------------
def test_an_entry_reads_as_subject_name_patterns() -> None:
    assert subject_names(generic("prod.es.local")) == ["*.prod.es.local"]
    allowlist = generic("prod.es.local", trust_all=False, trust_allowlist=["quickstart", "logs"])
    assert subject_names(allowlist) == ["*.node.quickstart.prod.es.local", "*.node.logs.prod.es.local"]
    named = generic(None, trust_all=False, additional_node_names=["node1.partner.example.com"])
    assert subject_names(named) == ["node1.partner.example.com"]
    both = generic("prod.es.local", additional_node_names=["extra.example.com"])
    assert subject_names(both) == ["*.prod.es.local", "extra.example.com"]
    assert subject_names(generic("prod.es.local", trust_all=False)) == []  # a scope that trusts no cluster


def test_a_proxy_entry_restricts_nothing() -> None:
    proxy = {"name": "eck", "type": "proxy", "trust_all": False, "certificates": [{"pem": ECK_CA.certificate_pem}]}
    assert subject_names(proxy) is None
    assert restriction_for(PROD_NODE.certificate, (ECK_CA.certificate_pem,), entries(proxy)) is None
    assert check_server(PROD_NODE.certificate, (ECK_CA.certificate_pem,), entries(proxy)) is None


# --- the certificate's node name ---------------------------------------------------------------------------------
def test_the_node_name_is_read_from_the_common_name_other_name() -> None:
    assert node_names(PROD_NODE.certificate) == ["quickstart-es-default-0.node.quickstart.prod.es.local"]
    san = PROD_NODE.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    [other] = san.get_values_for_type(x509.OtherName)
    assert other.type_id.dotted_string == "2.5.4.3" and other.value[0] == 0x0C  # a UTF8String


def test_other_names_of_another_type_are_not_node_names() -> None:
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ECK_CA.certificate.subject)
        .public_key(ECK_CA.certificate.public_key())  # type: ignore[arg-type]
        .serial_number(1)
        .not_valid_before(ECK_CA.certificate.not_valid_before_utc)
        .not_valid_after(ECK_CA.certificate.not_valid_after_utc)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), utf8_string("upn@example.com")),
                    x509.OtherName(COMMON_NAME_OID, utf8_string("n1.node.c.prod.es.local")),
                    x509.DNSName("dns.prod.es.local"),
                ]
            ),
            critical=False,
        )
        .sign(ECK_CA.key, hashes.SHA256())
    )
    assert node_names(certificate) == ["n1.node.c.prod.es.local"]


# --- the check on the local side ---------------------------------------------------------------------------------
TRUSTED = (ECK_CA.certificate_pem,)


def test_the_namespace_scope_connects() -> None:
    assert check_server(PROD_NODE.certificate, TRUSTED, entries(generic("prod.es.local"))) is None


def test_the_default_namespace_scope_rejects_a_node_of_namespace_prod_as_elasticsearch_says_it() -> None:
    message = check_server(PROD_NODE.certificate, TRUSTED, entries(generic("default.es.local")))
    assert message == (
        "Certificate for CN=quickstart-es-default-0.node.quickstart.prod.es.local, OU=quickstart with fields "
        "[subjectaltname.othername.commonname] with values [quickstart-es-default-0.node.quickstart.prod.es.local] "
        "does not match the trusted names [*.default.es.local]"
    )


def test_an_allowlist_trusts_only_the_clusters_it_names() -> None:
    right = generic("prod.es.local", trust_all=False, trust_allowlist=["quickstart"])
    wrong = generic("prod.es.local", trust_all=False, trust_allowlist=["logs"])
    assert check_server(PROD_NODE.certificate, TRUSTED, entries(right)) is None
    message = check_server(PROD_NODE.certificate, TRUSTED, entries(wrong))
    assert message is not None and "[*.node.logs.prod.es.local]" in message


def test_a_scope_trusting_no_cluster_rejects_every_node() -> None:
    message = check_server(PROD_NODE.certificate, TRUSTED, entries(generic("prod.es.local", trust_all=False)))
    assert message is not None and message.endswith("does not match the trusted names []")


def test_only_the_entries_of_the_signing_ca_restrict() -> None:
    others = {**generic("elsewhere.example"), "name": "other", "certificates": [{"pem": OTHER_CA.certificate_pem}]}
    both = (ECK_CA.certificate_pem, OTHER_CA.certificate_pem)
    assert check_server(PROD_NODE.certificate, both, entries(generic("prod.es.local"), others)) is None
    message = check_server(PROD_NODE.certificate, both, entries(generic("default.es.local"), others))
    assert message is not None and "[*.default.es.local]" in message and "elsewhere" not in message


def test_a_ca_no_entry_names_is_not_restricted() -> None:
    """A trust push without restrictions (an older pusher, a real node's driver) keeps the CAs unrestricted."""
    assert check_server(PROD_NODE.certificate, TRUSTED, ()) is None


def test_a_malformed_push_is_refused() -> None:
    with pytest.raises(ValueError, match="subject_names"):
        parse_transport_push({"direct": [{"certificates": [], "subject_names": "*.prod.es.local"}]})
    with pytest.raises(ValueError, match="body must be"):
        parse_transport_push({"certificates": []})


# --- what reaches a real node ------------------------------------------------------------------------------------
class RecordingNode:
    """A `NodeDriver` (what `tools/real_deployment.py` is for a real node): it takes CA PEMs and keystores only."""

    def __init__(self) -> None:
        self.trust: list[list[str]] = []

    def apply_trust(self, certificates: list[str]) -> None:
        self.trust.append(certificates)

    def apply_keystore(self, secrets: dict[str, str], reload: bool) -> None:
        raise AssertionError("no keystore push expected")


def test_a_real_node_gets_the_ca_pems_and_not_the_restrictions() -> None:
    node = RecordingNode()
    link = ElasticsearchLink(node=node)
    trust = {"direct": [generic("prod.es.local")]}
    pusher = Pusher()
    pusher.enqueue(Push("d", link, TRUST_PATH, {"certificates": direct_pems(trust)}))
    pusher.enqueue(Push("d", link, TRANSPORT_PATH, {"direct": direct_restrictions(trust), "certificate": None}))
    assert node.trust == [[ECK_CA.certificate_pem]]
    assert [record["url"] for record in pusher.snapshot()] == [TRUST_PATH]
