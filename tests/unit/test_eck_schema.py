"""The generated `Elasticsearch` resources validate against ECK's v1 schema, strictly (no unknown fields)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components import eck_spec
from components.settings import EckCluster
from tests.support.certs import make_ca
from tests.support.configs import eck_cluster, program_config
from tests.support.specs import SPECS
from tests.support.stacks import stack_config, stack_names, stack_project_dir, with_operator_secrets
from tests.unit.test_settings import parse

SCHEMA_FILE = SPECS / "eck-elasticsearch-v1-schema.json"


def strict(schema: Any) -> Any:
    """Kubernetes prunes unknown fields silently; reject them instead, so a misspelt field fails the test."""
    if isinstance(schema, dict):
        result = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = strict(json.loads(SCHEMA_FILE.read_text()))
    return jsonschema.Draft7Validator(schema)


def manifest(cluster: EckCluster, ece_ca_files: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": eck_spec.ELASTICSEARCH_API_VERSION,
        "kind": "Elasticsearch",
        "metadata": eck_spec.elasticsearch_metadata(cluster),
        "spec": eck_spec.elasticsearch_spec(cluster, ece_ca_files),
    }


CA = make_ca()
OPTIONS: dict[str, dict[str, Any]] = {
    "operator-service": eck_cluster(
        remoteClusterServer={
            "exposure": "operator-service",
            "port": 443,
            "annotations": {"a": "b"},
            "loadBalancerSourceRanges": ["10.0.0.0/8"],
            "loadBalancerClass": "nlb",
        }
    ),
    "own-service": eck_cluster(operatorVersion="3.1.0"),
    "external": eck_cluster(remoteClusterServer={"exposure": "external", "address": "[2001:db8::1]:9443"}),
    "user-managed-ca": eck_cluster(transportCa={"source": "user-managed", "certificate": CA.certificate_pem}),
    "supplied-ca": eck_cluster(transportCa={"source": "supplied", "certificate": CA.certificate_pem}),
    "no-ca": eck_cluster(transportCa={"source": "none"}),
    "certificate-model": eck_cluster(securityModel="certificate", version="8.18.0"),
    "many-node-sets": eck_cluster(
        nodeSets=[
            {"name": "master", "count": 3, "config": {"node.roles": ["master"]}},
            {"name": "hot", "count": 2, "podTemplate": {"spec": {"containers": [{"name": "elasticsearch"}]}}},
        ]
    ),
}


def _secrets_for(option: str) -> dict[str, Any]:
    return {"eckClusters": {"quickstart": {"transportCaKey": CA.key_pem}}} if option == "user-managed-ca" else {}


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_validates_against_the_eck_schema(
    stack: str, validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    for cluster in parse(with_operator_secrets(stack_config(stack)), stack_project_dir(tmp_path)).eck_clusters:
        errors = [error.message for error in validator.iter_errors(manifest(cluster))]
        assert errors == []


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_option_validates_against_the_eck_schema(option: str, validator: jsonschema.protocols.Validator) -> None:
    cluster = parse(program_config(OPTIONS[option], secrets=_secrets_for(option))).eck_clusters[0]
    errors = [error.message for error in validator.iter_errors(manifest(cluster))]
    assert errors == []


def test_the_certificate_model_mounts_validate_against_the_eck_schema(
    validator: jsonschema.protocols.Validator,
) -> None:
    cluster = parse(program_config(OPTIONS["certificate-model"])).eck_clusters[0]
    document = manifest(cluster, ("ece-search-ca.crt", "ece-ops-ca.crt"))
    assert "xpack.security.transport.ssl.trust_restrictions.path" in document["spec"]["nodeSets"][0]["config"]
    assert [error.message for error in validator.iter_errors(document)] == []


def test_the_schema_check_catches_a_misspelt_field(validator: jsonschema.protocols.Validator) -> None:
    document = manifest(parse(program_config()).eck_clusters[0])
    broken = copy.deepcopy(document)
    broken["spec"]["remoteClusterServer"]["service"]["spec"]["loadBalancerSourceRange"] = ["10.0.0.0/8"]
    assert any("loadBalancerSourceRange" in error.message for error in validator.iter_errors(broken))
    too_long = copy.deepcopy(document)
    too_long["spec"]["nodeSets"][0]["name"] = "n" * 24
    assert list(validator.iter_errors(too_long))
