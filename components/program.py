"""The program's body: settings in, components out, stack outputs exported. `__main__.py` only calls `run`."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import get_config

from .eck_remote_cluster import EckRemoteCluster, EckRemoteClusterArgs
from .settings import Settings, load_settings

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


def run() -> None:
    settings = read_settings()
    provider = kubernetes_provider(settings)
    for cluster in settings.eck_clusters:
        remote = EckRemoteCluster(
            cluster.name,
            EckRemoteClusterArgs(
                cluster=cluster,
                render_only=settings.kubernetes.render_only,
                kube_context=settings.kubernetes.context,
            ),
            opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
        )
        pulumi.export(
            f"{cluster.name}",
            {
                "address": remote.address,
                "serverName": remote.server_name,
                "caCertificate": remote.ca_certificate,
                "httpUrl": remote.http_url,
            },
        )
