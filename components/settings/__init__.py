"""The one place that turns stack config into typed settings.

`load_settings` reads raw config values, checks every rule, and returns frozen dataclasses. It runs before any
resource is declared, so bad values stop the program with every problem at once (`SettingsErrors`), one line each,
naming the key, the value and the rule. Secret values are wrapped in `Secret`, whose text never shows in a repr, a log
or an error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from .. import validation as v
from ..validation import SettingsError, SettingsErrors, UnknownSettingError
from .ece import ece_connection, ece_deployments
from .eck import eck_cluster, kubernetes_target
from .keys import PROJECT_KEYS
from .links import links
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
from .reading import Problems, Reader, decode, known, secret_mapping

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
    "SettingsErrors",
    "TransportCa",
    "UnknownSettingError",
    "load_settings",
]


def load_settings(
    raw_config: RawConfig,
    *,
    project: str,
    stack: str,
    project_dir: Path,
    present: Collection[str] | None = None,
    secret_keys: Collection[str] | None = None,
) -> Settings:
    """The stack's settings, or `SettingsErrors` with every problem found, one line each.

    `present`: the project keys the stack sets (unknown ones are refused, with the nearest known one); `secret_keys`:
    those stored encrypted (`secrets` must be). When not given, neither is checked.
    """
    p = Problems()
    reader = Reader(project_dir)
    if present is not None:
        p.value(known, "", {key: None for key in present}, "")
    scope_value = p.value(
        v.one_of, "scope", decode(raw_config("scope")) or Scope.BOTH.value, tuple(s.value for s in Scope)
    )
    scope = Scope(scope_value) if scope_value is not None else None
    raw_secrets = decode(raw_config("secrets"))
    secrets = p.value(secret_mapping, "secrets", raw_secrets if raw_secrets is not None else {})
    if secrets is not None:
        p.value(known, "secrets", secrets, "secrets")
        if secrets and secret_keys is not None and "secrets" not in secret_keys:
            p.add(
                SettingsError(
                    "secrets",
                    secrets,
                    "it is stored in plain text: set each value with `pulumi config set --secret --path 'secrets.<key>' <value>`",
                    secret=True,
                )
            )
    target = p.value(kubernetes_target, decode(raw_config("kubernetes")))
    raw_clusters = decode(raw_config("eckClusters"))
    cluster_items = p.value(v.sequence, "eckClusters", raw_clusters if raw_clusters is not None else []) or []
    parsed = [
        eck_cluster(p, f"eckClusters[{i}]", item, reader=reader, secrets=secrets, target=target)
        for i, item in enumerate(cluster_items)
    ]
    clusters = tuple(cluster for cluster in parsed if cluster is not None)
    cluster_names = _declared_names(p, "eckClusters", cluster_items, "cluster names must be unique in a stack")
    ece_raw = decode(raw_config("ece")) or None  # Pulumi.yaml's default is {}
    raw_deployments = decode(raw_config("eceDeployments"))
    deployments, deployment_names = ece_deployments(p, raw_deployments if raw_deployments is not None else [])
    raw_links = decode(raw_config("links"))
    link_list = links(
        p,
        raw_links if raw_links is not None else [],
        scope=scope,
        clusters=clusters,
        cluster_names=cluster_names,
        deployments=deployment_names,
    )
    ece = None
    if scope is not Scope.ECK and ece_raw is not None:
        ece = ece_connection(p, ece_raw, reader=reader, secrets=secrets)
    elif scope is not Scope.ECK and scope is not None and isinstance(raw_links, list) and raw_links:
        p.add(
            SettingsError(
                "ece.url",
                None,
                "the ECE API is needed when links attach to ECE deployments",
                hint=v.set_command("ece.url", value="https://<ece-host>:12443"),
            )
        )
    remote_stack = decode(raw_config("remoteStack")) or None  # Pulumi.yaml's default is ""
    if scope is Scope.ECE:
        if not (isinstance(remote_stack, str) and remote_stack.count("/") in (0, 2) and all(remote_stack.split("/"))):
            p.add(
                SettingsError(
                    "remoteStack",
                    remote_stack,
                    "scope 'ece' needs the ECK stack's name, like 'acme/ece-eck-remote/eck-prod'",
                    hint=v.set_command("remoteStack", value="<org>/<project>/<stack>"),
                )
            )
        if cluster_items:
            p.add(
                SettingsError(
                    "eckClusters",
                    cluster_names or cluster_items,
                    "scope 'ece' declares no ECK clusters: they come from remoteStack",
                )
            )
    elif remote_stack is not None and scope is not None:
        p.add(SettingsError("remoteStack", remote_stack, "only scope 'ece' reads a remote stack"))
    p.raise_any(order=[key.name for key in PROJECT_KEYS])
    assert scope is not None and target is not None
    return Settings(project, stack, scope, target, clusters, ece, deployments, link_list, remote_stack)


def _declared_names(p: Problems, key: str, items: list[Any], rule: str) -> list[str]:
    """The `name` of each item that has one, in order; a repeated one is refused."""
    declared: list[str] = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            if name in declared:
                p.add(SettingsError(f"{key}[{index}].name", name, rule))
            declared.append(name)
    return declared
