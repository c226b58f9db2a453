"""The program's body: settings in, components out, stack outputs exported. `__main__.py` only calls `run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import get_config

from .eck_remote_cluster import EckRemoteCluster, EckRemoteClusterArgs
from .link import EckLinkEnd, EckLinkEndArgs, RemoteClusterLink, RemoteClusterLinkArgs, RemoteEnd
from .settings import Scope, SecurityModel, Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


def read_settings() -> Settings:
    """Parse the whole stack config once. Raw access avoids the SDK's warning for the (secret) `secrets` key."""
    project = pulumi.get_project()
    return load_settings(
        lambda key: get_config(f"{project}:{key}"),
        project=project,
        stack=pulumi.get_stack(),
        project_dir=PROJECT_DIR,
    )


def kubernetes_provider(settings: Settings) -> k8s.Provider:
    target = settings.kubernetes
    if target.render_only:
        assert target.render_yaml_to_directory is not None
        directory = str((PROJECT_DIR / target.render_yaml_to_directory).resolve())
        return k8s.Provider("kubernetes", render_yaml_to_directory=directory)
    return k8s.Provider("kubernetes", context=target.context)


def eck_side(settings: Settings) -> dict[str, EckRemoteCluster]:
    if not settings.eck_clusters:
        return {}
    provider = kubernetes_provider(settings)
    remotes = {}
    for cluster in settings.eck_clusters:
        remotes[cluster.name] = EckRemoteCluster(
            cluster.name,
            EckRemoteClusterArgs(
                cluster=cluster, render_only=settings.kubernetes.render_only, kube_context=settings.kubernetes.context
            ),
            opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
        )
        pulumi.export(
            f"eck-{cluster.name}",
            {
                "address": remotes[cluster.name].address,
                "serverName": remotes[cluster.name].server_name,
                "caCertificate": remotes[cluster.name].ca_certificate,
            },
        )
    return remotes


def run() -> None:
    settings = read_settings()
    remotes = eck_side(settings)
    reference = pulumi.StackReference(settings.remote_stack) if settings.remote_stack else None
    link_outputs: dict[str, Any] = {}
    link_ends: dict[str, Any] = {}
    link_keys: dict[str, Any] = {}
    for link in settings.links:
        if settings.scope is Scope.ECE:
            assert reference is not None
            end = RemoteEnd.from_stack(reference, link.alias, declares_ca=link.trust_remote_ca)
            model = SecurityModel.API_KEY
        else:
            cluster = settings.eck_cluster(link.eck_cluster)
            model = cluster.security_model
            half = EckLinkEnd(
                f"{link.key}-eck",
                EckLinkEndArgs(link=link, cluster=cluster, remote=remotes[cluster.name], stack=settings.stack),
            )
            end = half.end
            if settings.scope is Scope.ECK:
                link_ends[link.alias] = half.exports()
                link_keys[link.alias] = half.secret_exports()
                continue
        assert settings.ece is not None and link.ece_deployment is not None
        local = RemoteClusterLink(
            link.key,
            RemoteClusterLinkArgs(
                link=link,
                ece=settings.ece,
                deployment=settings.ece_deployment(link.ece_deployment),
                model=model,
                end=end,
            ),
        )
        link_outputs[link.key] = local.outputs()
    if link_ends:
        pulumi.export("linkEnds", link_ends)
        pulumi.export("linkKeys", pulumi.Output.secret(link_keys))
    if link_outputs:
        pulumi.export("links", link_outputs)
