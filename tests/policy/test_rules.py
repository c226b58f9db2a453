"""The rules' edge cases, as pure functions (the engine tests show each rule end to end): values not known in a
preview, production patterns, the ways a load balancer is internal or restricted, resources that are not ours; and
how the pack serves them (levels, config schemas, the launcher's virtualenv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy import rules
from policy.__main__ import plain, policies
from policy.rules import UNKNOWN, Resource

POLICY = Path(__file__).resolve().parents[2] / "policy"


def resource(type_: str, props: dict[str, Any], stack: str = "prod") -> Resource:
    return Resource(type_, "r", f"urn:pulumi:{stack}::ece-eck-remote::{type_}::r", props)


def service(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "lb", "namespace": "elastic"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": {"type": "LoadBalancer", **spec}}


def test_the_stack_is_read_from_the_urn() -> None:
    assert resource(rules.SERVICE, {}, stack="prod-eu").stack == "prod-eu"


@pytest.mark.parametrize(
    ("stack", "config", "production"),
    [
        ("prod", {}, True),
        ("prod-eu", {}, True),
        ("production", {}, True),
        ("products", {}, False),
        ("staging", {}, False),
        ("Prod", {}, False),  # patterns are case-sensitive, as stack names are
        ("live-1", {"productionStacks": ["live-*"]}, True),
        ("prod", {"productionStacks": ["live-*"]}, False),  # the config replaces the defaults
    ],
)
def test_production_stacks(stack: str, config: dict[str, Any], production: bool) -> None:
    assert rules.is_production(stack, config) is production


def test_values_unknown_in_a_preview_are_left_for_the_update() -> None:
    assert rules.key_expiration(resource(rules.API_KEY, {"name": "k", "expiration": UNKNOWN}), {}) == []
    assert rules.insecure_tls(resource(rules.API_KEY, {"target": UNKNOWN}), {}) == []
    assert rules.restricted_indices(resource(rules.API_KEY, {"access": UNKNOWN}), {}) == []
    assert (
        rules.load_balancer_source_ranges(resource(rules.SERVICE, service(loadBalancerSourceRanges=UNKNOWN)), {}) == []
    )
    unknown_spec = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "ece-eck-remote"}}, "spec": UNKNOWN}
    assert rules.certificate_model(resource(rules.ELASTICSEARCH, unknown_spec), {}) == []


def test_pulumi_policy_proxies_become_plain_values_with_unknowns() -> None:
    props = unknown_checking_proxy(
        {"target": {"url": UNKNOWN_STRING_VALUE, "insecure": True}, "list": [1, UNKNOWN_STRING_VALUE]}
    )
    assert plain(props) == {"target": {"url": UNKNOWN, "insecure": True}, "list": [1, UNKNOWN]}


def test_an_elasticsearch_resource_of_someone_else_is_not_taken_for_the_certificate_model() -> None:
    theirs = {"metadata": {"name": "x", "namespace": "y", "labels": {}}, "spec": {"version": "9.3.2"}}
    assert rules.certificate_model(resource(rules.ELASTICSEARCH, theirs), {}) == []


@pytest.mark.parametrize(
    ("annotations", "spec", "config", "open_"),
    [
        ({}, {}, {}, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}, {}, {}, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}, {}, {}, False),
        ({"networking.gke.io/load-balancer-type": "internal"}, {}, {}, False),  # values compare case-insensitively
        ({"service.kubernetes.io/qcloud-loadbalancer-internal-subnetid": "subnet-1"}, {}, {}, False),  # any value
        ({}, {"loadBalancerSourceRanges": ["10.0.0.0/8"]}, {}, False),
        ({}, {"loadBalancerSourceRanges": ["10.0.0.0/8", "::/0"]}, {}, True),
        ({"service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8, 10.1.0.0/16"}, {}, {}, False),
        (
            {"example.com/internal": "yes"},
            {},
            {"internalLoadBalancerAnnotations": {"example.com/internal": "yes"}},
            False,
        ),
        (  # the config replaces the default list
            {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
            {},
            {"internalLoadBalancerAnnotations": {"example.com/internal": "yes"}},
            True,
        ),
    ],
)
def test_load_balancers_internal_or_restricted(
    annotations: dict[str, str], spec: dict[str, Any], config: dict[str, Any], open_: bool
) -> None:
    found = rules.load_balancer_source_ranges(resource(rules.SERVICE, service(annotations, **spec)), config)
    assert bool(found) is open_


def test_a_service_that_is_not_a_load_balancer_is_not_checked() -> None:
    props = {"metadata": {"name": "http"}, "spec": {"type": "ClusterIP"}}
    assert rules.load_balancer_source_ranges(resource(rules.SERVICE, props), {}) == []


def test_the_pack_serves_every_rule_at_its_level_with_its_config_defaults() -> None:
    served = {policy.name: policy for policy in policies()}
    assert list(served) == [rule.name for rule in rules.RULES]
    levels = {name: policy.enforcement_level for name, policy in served.items()}
    assert levels == {
        "no-certificate-model-in-production": EnforcementLevel.MANDATORY,
        "cross-cluster-key-expiration": EnforcementLevel.MANDATORY,
        "no-insecure-skip-verify": EnforcementLevel.MANDATORY,
        "no-restricted-indices": EnforcementLevel.MANDATORY,
        "load-balancer-source-ranges": EnforcementLevel.MANDATORY,
        "skip-unavailable-false": EnforcementLevel.ADVISORY,
    }
    production = served["no-certificate-model-in-production"].config_schema
    assert production is not None
    assert production.properties["productionStacks"]["default"] == ["prod", "prod-*", "production", "production-*"]


def test_the_launcher_runs_the_virtualenv_the_pack_declares() -> None:
    declared = yaml.safe_load((POLICY / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
    assert f'virtualenv="$here/{declared}"' in (POLICY / "analyzer").read_text()
    assert (POLICY / "analyzer").stat().st_mode & 0o111


def test_each_certificate_model_entry_of_a_deployment_trust_is_named_and_an_old_per_link_entry_too() -> None:
    entries = [
        {"name": "ece-eck-remote-logs", "model": "api-key", "certificates": ["x"]},
        {
            "name": "ece-eck-remote-metrics",
            "model": "certificate",
            "scope_id": "elastic.es.local",
            "certificates": ["x"],
        },
    ]
    found = rules.certificate_model(resource(rules.DEPLOYMENT_TRUST, {"deployment_id": "d1", "entries": entries}), {})
    assert len(found) == 1
    assert "trust entry 'ece-eck-remote-metrics' of deployment d1" in found[0] and "scope elastic.es.local" in found[0]
    assert rules.certificate_model(resource(rules.DEPLOYMENT_TRUST, {"entries": entries[:1]}), {}) == []
    assert rules.certificate_model(resource(rules.DEPLOYMENT_TRUST, {"entries": UNKNOWN}), {}) == []
    legacy = {"entry_name": "ece-eck-remote-logs", "deployment_id": "d1", "model": "certificate", "scope_id": "s"}
    assert "trust entry 'ece-eck-remote-logs'" in rules.certificate_model(resource(rules.TRUSTED_CA, legacy), {})[0]
    assert rules.certificate_model(resource(rules.TRUSTED_CA, legacy), {"productionStacks": ["live"]}) == []
