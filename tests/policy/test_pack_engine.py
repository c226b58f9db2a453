"""Each rule of the policy pack, run by the real engine (`pulumi preview --policy-pack policy/analyzer`) on a stack
that passes it and one that fails it, with the messages a user sees. A mandatory violation fails the preview; the
advisory one is shown and the preview succeeds."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.policy.conftest import PolicyPreview, PolicyProject
from tools.emulated_link import EmulatedLink
from tools.engine_stack import link_config

KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey: search-quickstart-eck-api-key"
KEY_ACCESS = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess: search-quickstart-eck-api-key-access"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust: search-trust"
RETIREMENT = "pulumi-python:dynamic/eceeck:EceTrustRetirement: search-trust-retirement"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials: search-quickstart-keystore"
SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings: search-quickstart-settings"
ROLE = "pulumi-python:dynamic/eceeck:RemoteRole: search-quickstart-role-quickstart-reader"
CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck: search-quickstart-connection"
ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
SERVICE = "kubernetes:core/v1:Service"
RULES = (
    "no-certificate-model-in-production",
    "cross-cluster-key-expiration",
    "no-insecure-skip-verify",
    "no-restricted-indices",
    "load-balancer-source-ranges",
    "skip-unavailable-false",
)
CERTIFICATE_MODEL = (
    "The TLS-certificate security model (deprecated since Elasticsearch 9.0) is not allowed in production stacks."
)
API_KEY_MODEL = (
    "Set securityModel: api-key (the default) on its cluster in eckClusters[]; if the stack is not production, change "
    "productionStacks in the policy config."
)
LOAD_BALANCER_REMEDY = (
    "Set eckClusters[].remoteClusterServer.loadBalancerSourceRanges to the ranges of the ECE proxies, or make the load "
    "balancer internal with your cloud's annotation in eckClusters[].remoteClusterServer.annotations (e.g. "
    "service.beta.kubernetes.io/aws-load-balancer-scheme: internal)."
)


def compliant(env: EmulatedLink, project: PolicyProject) -> dict[str, Any]:
    """One link as `link_config` makes it (exposure external: no load balancer), with an expiring key."""
    config = link_config(env, rendered=project.project.parent / "rendered")
    config["links"][0]["expiration"] = "90d"
    return config


def certificate_model(env: EmulatedLink, project: PolicyProject) -> dict[str, Any]:
    """As tests/engine/test_certificate_model.py: no key, no remote_indices role, the transport server name."""
    config = compliant(env, project)
    cluster = config["eckClusters"][0]
    cluster["securityModel"] = "certificate"
    cluster.pop("serverName")
    for link in config["links"]:
        for key in ("access", "roles", "expiration"):
            link.pop(key)
    return config


def load_balancers(env: EmulatedLink, project: PolicyProject, *, open_: bool) -> dict[str, Any]:
    """Two clusters: `quickstart` on ECK 3.2 (our own LoadBalancer Service), `archive` on ECK 3.5 (the operator's
    Service made a LoadBalancer through the custom resource). Open: no source ranges and not internal, and ranges
    that include any address; else an internal annotation and private ranges."""
    config = compliant(env, project)
    quickstart = config["eckClusters"][0]
    archive = copy.deepcopy(quickstart)
    quickstart["operatorVersion"] = "3.2.0"
    quickstart["remoteClusterServer"] = {"exposure": "own-service", "address": env.rcs_address}
    archive.update(name="archive", namespace="archive", operatorVersion="3.5.0")
    archive["remoteClusterServer"] = {
        "exposure": "operator-service",
        "address": "archive.example:9443",
        "loadBalancerSourceRanges": ["10.40.12.0/24", "0.0.0.0/0"] if open_ else ["10.40.12.0/24"],
    }
    if not open_:
        quickstart["remoteClusterServer"]["annotations"] = {
            "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
        }
    config["eckClusters"].append(archive)
    return config


def assert_passes(preview: PolicyPreview, *rules: str) -> None:
    assert preview.completed.returncode == 0, preview.output
    assert "✅ ece-eck-remote@v1.0.0 (local: policy/analyzer)" in preview.completed.stdout, preview.output
    for rule in rules:
        assert preview.of(rule) == [], rule


def assert_fails(preview: PolicyPreview) -> None:
    assert preview.completed.returncode != 0, preview.output
    assert "❌ ece-eck-remote@v1.0.0 (local: policy/analyzer)" in preview.completed.stdout
    assert "error: preview failed" in preview.completed.stdout


def found(preview: PolicyPreview, rule: str) -> list[tuple[str, str, str]]:
    return [(v.level, v.resource, v.message) for v in preview.of(rule)]


def test_a_compliant_production_stack_passes_every_rule(policy_project: PolicyProject) -> None:
    preview = policy_project.preview("prod", compliant(policy_project.env, policy_project))
    assert_passes(preview, *RULES)
    assert preview.violations == []


def test_the_certificate_model_is_refused_in_a_production_stack(policy_project: PolicyProject) -> None:
    env = policy_project.env
    preview = policy_project.preview("prod", certificate_model(env, policy_project))
    assert_fails(preview)
    production = "Stack 'prod' is production (it matches productionStacks: prod, prod-*, production, production-*)"
    assert found(preview, "no-certificate-model-in-production") == [
        (
            "mandatory",
            f"{ES}: quickstart-elasticsearch",
            f"{production}, and the Elasticsearch resource elastic/quickstart runs no remote cluster server "
            "(spec.remoteClusterServer.enabled): remote clusters reach it with the TLS-certificate model, on its "
            f"transport port. {API_KEY_MODEL}",
        ),
        (
            "mandatory",
            TRUST,
            f"{production}, and the ECE trust entry 'ece-eck-remote-quickstart' of deployment {env.deployment_id} is a "
            f"TLS-certificate model entry (type generic, trust_all, scope elastic.es.local). {API_KEY_MODEL}",
        ),
        (
            "mandatory",
            CHECK,
            f"{production}, and link 'quickstart' connects with the TLS-certificate model (no cross-cluster API key). "
            f"{API_KEY_MODEL}",
        ),
    ]
    assert {v.description for v in preview.violations} == {CERTIFICATE_MODEL}


def test_the_certificate_model_passes_outside_production(policy_project: PolicyProject) -> None:
    preview = policy_project.preview("dev", certificate_model(policy_project.env, policy_project))
    assert_passes(preview, *RULES)


def test_production_stacks_come_from_the_policy_config(policy_project: PolicyProject, tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"no-certificate-model-in-production": {"productionStacks": ["dev", "live-*"]}}))
    preview = policy_project.preview(
        "dev", certificate_model(policy_project.env, policy_project), "--policy-pack-config", str(config)
    )
    assert_fails(preview)
    assert [(v.resource, v.message.split(", and ")[0]) for v in preview.of("no-certificate-model-in-production")] == [
        (resource, "Stack 'dev' is production (it matches productionStacks: dev, live-*)")
        for resource in (f"{ES}: quickstart-elasticsearch", TRUST, CHECK)
    ]


def test_a_cross_cluster_key_without_expiration_is_refused(policy_project: PolicyProject) -> None:
    config = compliant(policy_project.env, policy_project)
    del config["links"][0]["expiration"]
    preview = policy_project.preview("prod", config)
    assert_fails(preview)
    assert found(preview, "cross-cluster-key-expiration") == [
        (
            "mandatory",
            KEY,
            "The cross-cluster API key 'ece-eck-remote-prod-search-quickstart' never expires. Set expiration on its "
            "link in links[] (a duration like 90d), and rotate the key before it ends (links[].rotation).",
        )
    ]
    assert [v.description for v in preview.violations] == ["Cross-cluster API keys must expire."]


def test_insecure_skip_verify_is_refused(policy_project: PolicyProject) -> None:
    env = policy_project.env
    config = compliant(env, policy_project)
    config["ece"]["insecureSkipVerify"] = True
    config["eckClusters"][0]["http"]["insecureSkipVerify"] = True
    preview = policy_project.preview("dev", config)
    assert_fails(preview)
    eck = (
        f"The Elasticsearch API of the ECK cluster at {env.remote.url} is called without verifying its TLS certificate "
        "(eckClusters[].http.insecureSkipVerify: true). Leave it false: the operator's CA is used by default, or give "
        "http.caCertificate."
    )
    ece = (
        f"The ECE API at {env.ece.url} is called without verifying its TLS certificate (ece.insecureSkipVerify: true). "
        "Give the API's CA instead (ece.caCertificate or ece.caCertificateFile)."
    )
    assert sorted(found(preview, "no-insecure-skip-verify")) == sorted(
        [
            ("mandatory", KEY, eck),
            ("mandatory", KEY_ACCESS, eck),
            ("mandatory", KEYSTORE, ece),
            ("mandatory", TRUST, ece),
            ("mandatory", RETIREMENT, ece),
            ("mandatory", SETTINGS, ece),
            ("mandatory", CHECK, ece),
            ("mandatory", ROLE, ece),
        ]
    )
    assert {v.policy for v in preview.violations} == {"no-insecure-skip-verify"}


def test_restricted_indices_are_refused(policy_project: PolicyProject) -> None:
    config = compliant(policy_project.env, policy_project)
    link = config["links"][0]
    link["access"] = {
        "search": [{"names": ["logs-*"]}, {"names": [".security*"], "allow_restricted_indices": True}],
        "replication": [{"names": ["audit-*"], "allow_restricted_indices": True}],
    }
    link["roles"][0]["remoteIndices"][0]["allow_restricted_indices"] = True
    preview = policy_project.preview("prod", config)
    assert_fails(preview)
    key = "The cross-cluster API key 'ece-eck-remote-prod-search-quickstart' grants"
    assert found(preview, "no-restricted-indices") == [
        (
            "mandatory",
            KEY,
            f"{key} access.replication[0] (names: audit-*) with allow_restricted_indices: true. Remove it from "
            "links[].access.replication[0].",
        ),
        (
            "mandatory",
            KEY,
            f"{key} access.search[1] (names: .security*) with allow_restricted_indices: true. Remove it from "
            "links[].access.search[1].",
        ),
        (
            "mandatory",
            ROLE,
            "The role 'quickstart-reader' grants remote_indices[0] (names: logs-*) with allow_restricted_indices: "
            "true. Remove it from links[].roles[].remoteIndices[0].",
        ),
    ]
    assert {v.policy for v in preview.violations} == {"no-restricted-indices"}


def test_open_load_balancers_are_refused(policy_project: PolicyProject) -> None:
    config = load_balancers(policy_project.env, policy_project, open_=True)
    preview = policy_project.preview("lb", config, clusters=("quickstart", "archive"))
    assert_fails(preview)
    assert found(preview, "load-balancer-source-ranges") == [
        (
            "mandatory",
            f"{SERVICE}: quickstart-remote-cluster-lb",
            "The LoadBalancer Service elastic/quickstart-es-remote-cluster-lb is not internal and accepts connections "
            f"from any address. {LOAD_BALANCER_REMEDY}",
        ),
        (
            "mandatory",
            f"{ES}: archive-elasticsearch",
            "The LoadBalancer of the Elasticsearch resource archive/archive (spec.remoteClusterServer.service) is not "
            "internal and its loadBalancerSourceRanges (10.40.12.0/24, 0.0.0.0/0) let in any address. "
            f"{LOAD_BALANCER_REMEDY}",
        ),
    ]
    assert {v.policy for v in preview.violations} == {"load-balancer-source-ranges"}


def test_internal_or_restricted_load_balancers_pass(policy_project: PolicyProject) -> None:
    config = load_balancers(policy_project.env, policy_project, open_=False)
    preview = policy_project.preview("lb", config, clusters=("quickstart", "archive"))
    assert_passes(preview, *RULES)


def test_skip_unavailable_false_warns_and_the_preview_succeeds(policy_project: PolicyProject) -> None:
    config = compliant(policy_project.env, policy_project)
    config["links"][0]["skipUnavailable"] = False
    preview = policy_project.preview("prod", config)
    assert preview.completed.returncode == 0, preview.output
    assert "⚠️ ece-eck-remote@v1.0.0 (local: policy/analyzer)" in preview.completed.stdout
    assert "preview failed" not in preview.output
    assert found(preview, "skip-unavailable-false") == [
        (
            "advisory",
            SETTINGS,
            "cluster.remote.quickstart.skip_unavailable is false (links[].skipUnavailable): every search that "
            "includes 'quickstart:' fails while the ECK cluster is unreachable. Leave it unset or true "
            "(Elasticsearch's default since 8.15) unless such searches must fail.",
        )
    ]
    assert [v.description for v in preview.violations] == [
        "skip_unavailable: false makes cross-cluster searches fail while the remote is unreachable."
    ]
