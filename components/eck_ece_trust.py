"""TLS-certificate model, ECK side: the ECE deployments' CAs and `trust.yml` go into a Secret and a ConfigMap that
every nodeSet mounts, and the nodeSets' transport settings point at them.

`certificate_authorities` keeps ECK's own CA files first: the user's config replaces ECK's default list, and without
them the nodes would stop trusting each other. `trust.yml` likewise keeps ECK's own node names beside ECE's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from . import names

CA_MOUNT = "/usr/share/elasticsearch/config/other"
TRUST_MOUNT = "/usr/share/elasticsearch/config/trust-filter"
ECK_CA_FILES = (
    "/usr/share/elasticsearch/config/transport-certs/ca.crt",
    "/usr/share/elasticsearch/config/transport-remote-certs/ca.crt",
)


@dataclass(frozen=True)
class EceTrustMaterial:
    """What the ECK nodes need to accept the ECE deployments that connect to them."""

    ca_files: pulumi.Output[dict[str, str]]
    """File name (known when the program is declared) -> PEM bundle of one deployment's CA."""
    file_names: tuple[str, ...]
    subject_names: pulumi.Output[list[str]]
    """The deployments' recommended trust restrictions."""


def ca_file_name(deployment_name: str) -> str:
    return f"ece-{deployment_name}-ca.crt"


def node_set_config(file_names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "xpack.security.transport.ssl.certificate_authorities": [
            *ECK_CA_FILES,
            *(f"{CA_MOUNT}/{f}" for f in file_names),
        ],
        "xpack.security.transport.ssl.trust_restrictions.path": f"{TRUST_MOUNT}/trust.yml",
    }


def pod_template(cluster: str) -> dict[str, Any]:
    return {
        "spec": {
            "containers": [
                {
                    "name": "elasticsearch",
                    "volumeMounts": [
                        {"name": "ece-ca", "mountPath": CA_MOUNT, "readOnly": True},
                        {"name": "ece-trust", "mountPath": TRUST_MOUNT, "readOnly": True},
                    ],
                }
            ],
            "volumes": [
                {"name": "ece-ca", "secret": {"secretName": names.ece_ca_secret(cluster)}},
                {"name": "ece-trust", "configMap": {"name": names.ece_trust_config_map(cluster)}},
            ],
        }
    }


def trust_yml(cluster: str, namespace: str, subject_names: list[str]) -> str:
    patterns = [names.eck_node_subject_pattern(cluster, namespace), *dict.fromkeys(subject_names)]
    return yaml.safe_dump({"trust.subject_name": patterns}, sort_keys=False)
