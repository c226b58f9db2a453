"""Components and dynamic providers that link ECE deployments to ECK clusters as remote clusters.

Installed with pip, this folder is the package `ece_eck_remote` (see `pyproject.toml`); in this repository the program
imports it as `components`. The public surface is what this module exports:

    from ece_eck_remote import EceApi, EckLinkEndArgs, ElasticsearchApi, RemoteClusterLink, RemoteClusterLinkArgs

    link = RemoteClusterLink(
        "search-logs",
        RemoteClusterLinkArgs(
            alias="logs",
            ece=EceApi(url="https://ece.example.com:12443"),
            deployment_id=deployment.id,                  # any Input: an Output of another resource
            eck=EckLinkEndArgs(
                address=service_address,                  # Outputs too
                server_name="quickstart-es-remote-cluster.elastic.svc",
                ca_certificate=ca_pem,
                api=ElasticsearchApi(url=es_url, credentials={"username": "elastic", "password": password}),
                access={"search": [{"names": ["logs-*"]}]},
            ),
        ),
    )
    pulumi.export("connected", link.connected)

Several links to one deployment share its trust, so that their entries cost one ECE plan:

    with deployment_trust("search-trust", ece, deployment.id) as trust:   # declared at the end of the block
        for alias in ("logs", "metrics"):
            RemoteClusterLink(f"search-{alias}", RemoteClusterLinkArgs(alias=alias, ..., trust=trust))

Type tokens are part of the state and never change: components are `eceeck:index:<Name>`, dynamic resources
`pulumi-python:dynamic/eceeck:<Name>`. A dynamic resource's provider is recorded by its module path, so provider
classes keep their module (or leave an import at the old path) from one version to the next.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .credentials import ece_reference, kubernetes_secret_reference
    from .ece.trust_group import DeploymentTrust
    from .eck_remote_cluster import EckRemoteCluster, EckRemoteClusterArgs
    from .link import (
        CertificateTrust,
        EceApi,
        EckLinkEnd,
        EckLinkEndArgs,
        ElasticsearchApi,
        RemoteClusterLink,
        RemoteClusterLinkArgs,
        RemoteEnd,
        deployment_trust,
    )
    from .settings.model import Adoption, Role

# Loaded on first use (PEP 562), not with the package: a dynamic provider process imports the package only to reach
# one provider's module, and would otherwise load the whole library with it (the Kubernetes resources, the settings).
_EXPORTED_FROM = {
    "ece_reference": ".credentials",
    "kubernetes_secret_reference": ".credentials",
    "DeploymentTrust": ".ece.trust_group",
    "EckRemoteCluster": ".eck_remote_cluster",
    "EckRemoteClusterArgs": ".eck_remote_cluster",
    **dict.fromkeys(
        (
            "CertificateTrust",
            "EceApi",
            "EckLinkEnd",
            "EckLinkEndArgs",
            "ElasticsearchApi",
            "RemoteClusterLink",
            "RemoteClusterLinkArgs",
            "RemoteEnd",
            "deployment_trust",
        ),
        ".link",
    ),
    "Adoption": ".settings.model",
    "Role": ".settings.model",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTED_FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "Adoption",
    "CertificateTrust",
    "DeploymentTrust",
    "EceApi",
    "EckLinkEnd",
    "EckLinkEndArgs",
    "EckRemoteCluster",
    "EckRemoteClusterArgs",
    "ElasticsearchApi",
    "RemoteClusterLink",
    "RemoteClusterLinkArgs",
    "RemoteEnd",
    "Role",
    "deployment_trust",
    "ece_reference",
    "kubernetes_secret_reference",
]
