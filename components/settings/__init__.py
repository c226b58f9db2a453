"""The one place that turns stack config into typed settings.

`load_settings` reads raw config values, checks every rule, and returns frozen dataclasses. It runs before any
resource is declared, so a bad value stops the program with an error naming the key, the value and the rule.
Secret values are wrapped in `Secret`, whose text never shows in a repr, a log or an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import validation as v
from ..validation import SettingsError
from .ece import ece_connection, ece_deployments
from .eck import eck_cluster, kubernetes_target
from .links import check_scope_pairs, links
from .model import (
    CaSource,
    EceConnectionSettings,
    EceDeployment,
    EckCluster,
    Exposure,
    HttpEndpoint,
    KubernetesTarget,
    Link,
    NodeSet,
    RemoteClusterServer,
    Role,
    Scope,
    Secret,
    SecurityModel,
    Settings,
    TransportCa,
)
from .reading import Reader, decode, known, secret_mapping

RawConfig = Callable[[str], str | None]
"""Returns the raw (JSON or plain string) value of a project config key, or None."""

__all__ = [
    "CaSource",
    "EceConnectionSettings",
    "EceDeployment",
    "EckCluster",
    "Exposure",
    "HttpEndpoint",
    "KubernetesTarget",
    "Link",
    "NodeSet",
    "RawConfig",
    "RemoteClusterServer",
    "Role",
    "Scope",
    "Secret",
    "SecurityModel",
    "Settings",
    "SettingsError",
    "TransportCa",
    "load_settings",
]


def load_settings(raw_config: RawConfig, *, project: str, stack: str, project_dir: Path) -> Settings:
    reader = Reader(project_dir)
    secrets = secret_mapping("secrets", decode(raw_config("secrets")) or {})
    known("secrets", secrets, "secrets", secret=True)
    target = kubernetes_target(decode(raw_config("kubernetes")))
    raw_clusters = decode(raw_config("eckClusters"))
    if raw_clusters is None:
        raw_clusters = []
    clusters = tuple(
        eck_cluster(f"eckClusters[{i}]", item, reader, secrets, target)
        for i, item in enumerate(v.sequence("eckClusters", raw_clusters))
    )
    seen: set[str] = set()
    for index, cluster in enumerate(clusters):
        if cluster.name in seen:
            raise SettingsError(f"eckClusters[{index}].name", cluster.name, "cluster names must be unique in a stack")
        seen.add(cluster.name)
    scope = Scope(v.one_of("scope", decode(raw_config("scope")) or Scope.BOTH.value, tuple(s.value for s in Scope)))
    deployments = ece_deployments(decode(raw_config("eceDeployments")) or [])
    link_list = links(decode(raw_config("links")) or [], scope, clusters, deployments)
    check_scope_pairs(scope, link_list)
    ece_raw = decode(raw_config("ece")) or None  # Pulumi.yaml's default is {}
    ece = None
    if scope is not Scope.ECK and (link_list or ece_raw is not None):
        if ece_raw is None:
            raise SettingsError("ece", None, "is required when links attach to ECE deployments: {url, ...}")
        ece = ece_connection(ece_raw, reader, secrets)
    remote_stack = decode(raw_config("remoteStack")) or None  # Pulumi.yaml's default is ""
    if scope is Scope.ECE:
        if not (isinstance(remote_stack, str) and remote_stack.count("/") in (0, 2) and all(remote_stack.split("/"))):
            raise SettingsError(
                "remoteStack",
                remote_stack,
                "scope 'ece' needs the ECK stack's name, like 'acme/ece-eck-remote/eck-prod'",
            )
        if clusters:
            raise SettingsError(
                "eckClusters",
                [c.name for c in clusters],
                "scope 'ece' declares no ECK clusters: they come from remoteStack",
            )
    elif remote_stack is not None:
        raise SettingsError("remoteStack", remote_stack, "only scope 'ece' reads a remote stack")
    return Settings(project, stack, scope, target, clusters, ece, deployments, link_list, remote_stack)
