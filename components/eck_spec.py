"""Pure builders for the Kubernetes objects of the ECK side: the `Elasticsearch` spec and our own Services, and the
check of an `Elasticsearch` resource someone else owns against what the link needs from it.

Kept apart from the component so the specs can be checked against the ECK v1 schema without Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from . import eck_ece_trust, names
from . import validation as v
from .settings import CaSource, EckCluster, Exposure, SecurityModel
from .validation import SettingsError

ELASTICSEARCH_API_VERSION = "elasticsearch.k8s.elastic.co/v1"


def _port_entry(name: str, port: int, target: int) -> dict[str, Any]:
    """`targetPort` is always the listening port: Kubernetes would otherwise reuse `port` for it."""
    return {"name": name, "port": port, "targetPort": target, "protocol": "TCP"}


def _load_balancer_spec(cluster: EckCluster, ports: list[dict[str, Any]]) -> dict[str, Any]:
    server = cluster.remote_cluster_server
    spec: dict[str, Any] = {"type": "LoadBalancer", "ports": ports}
    if server.load_balancer_source_ranges:
        spec["loadBalancerSourceRanges"] = list(server.load_balancer_source_ranges)
    if server.load_balancer_class:
        spec["loadBalancerClass"] = server.load_balancer_class
    return spec


def _service_metadata(cluster: EckCluster) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": names.managed_labels(cluster.name)}
    if cluster.remote_cluster_server.annotations:
        metadata["annotations"] = dict(cluster.remote_cluster_server.annotations)
    return metadata


def elasticsearch_metadata(cluster: EckCluster) -> dict[str, Any]:
    return {"name": cluster.name, "namespace": cluster.namespace, "labels": names.managed_labels(cluster.name)}


def elasticsearch_spec(cluster: EckCluster, ece_ca_files: tuple[str, ...] | None = None) -> dict[str, Any]:
    """`spec` of the `Elasticsearch` resource. `ece_ca_files` (TLS-certificate model): the mounted ECE CAs."""
    extra_config = eck_ece_trust.node_set_config(ece_ca_files) if ece_ca_files else {}
    extra_template = eck_ece_trust.pod_template(cluster.name) if ece_ca_files else {}
    node_sets = []
    for node_set in cluster.node_sets:
        entry: dict[str, Any] = {"name": node_set.name, "count": node_set.count}
        config = {**node_set.config, **extra_config}
        if config:
            entry["config"] = config
        template = merge(node_set.pod_template, extra_template)
        if template:
            entry["podTemplate"] = template
        node_sets.append(entry)
    spec: dict[str, Any] = {"version": str(cluster.version), "nodeSets": node_sets}
    server = cluster.remote_cluster_server
    if cluster.security_model is SecurityModel.API_KEY:
        spec["remoteClusterServer"] = remote_cluster_server(cluster, ours=True)
    transport: dict[str, Any] = {}
    if cluster.transport_ca.source is CaSource.USER_MANAGED:
        transport["tls"] = {"certificate": {"secretName": names.user_managed_transport_ca_secret(cluster.name)}}
    if cluster.security_model is SecurityModel.CERTIFICATE and server.exposure is Exposure.OPERATOR_SERVICE:
        ports = [_port_entry("tls-transport", server.port, names.TRANSPORT_PORT)]
        transport["service"] = {"metadata": _service_metadata(cluster), "spec": _load_balancer_spec(cluster, ports)}
    if transport:
        spec["transport"] = transport
    return spec


def remote_cluster_server(cluster: EckCluster, *, ours: bool) -> dict[str, Any]:
    """`spec.remoteClusterServer` (API-key model): enabled and, for exposure 'operator-service', the operator's Service
    as the LoadBalancer. `ours=False` is what an owner's manifest needs (`managed: false`): no labels of ours."""
    remote: dict[str, Any] = {"enabled": True}
    server = cluster.remote_cluster_server
    if server.exposure is Exposure.OPERATOR_SERVICE:
        ports = [_port_entry("rcs", server.port, names.REMOTE_CLUSTER_PORT)]
        service_spec = _load_balancer_spec(cluster, ports)
        remote["service"] = (
            {"metadata": _service_metadata(cluster), "spec": service_spec} if ours else {"spec": service_spec}
        )
    return remote


def own_load_balancer_service(cluster: EckCluster) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, spec) of our LoadBalancer Service for ECK versions that cannot customise the operator's one."""
    server = cluster.remote_cluster_server
    if cluster.security_model is SecurityModel.API_KEY:
        name = names.es_remote_cluster_lb_service(cluster.name)
        ports = [_port_entry("rcs", server.port, names.REMOTE_CLUSTER_PORT)]
    else:
        name = names.es_transport_lb_service(cluster.name)
        ports = [_port_entry("tls-transport", server.port, names.TRANSPORT_PORT)]
    metadata = {"name": name, "namespace": cluster.namespace, **_service_metadata(cluster)}
    spec = {**_load_balancer_spec(cluster, ports), "selector": names.pod_selector(cluster.name)}
    return metadata, spec


def exposed_service_name(cluster: EckCluster) -> str | None:
    """The Service whose LoadBalancer address is the remote's address, or None when the address is given."""
    server = cluster.remote_cluster_server
    if server.exposure is Exposure.EXTERNAL or server.address is not None:
        return None
    if server.exposure is Exposure.OWN_SERVICE:
        return str(own_load_balancer_service(cluster)[0]["name"])
    if cluster.security_model is SecurityModel.API_KEY:
        return names.es_remote_cluster_service(cluster.name)
    return names.es_transport_service(cluster.name)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into `base`; lists of named items (containers, volumes) merge by `name`."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            result[key] = merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged: dict[Any, Any] = {item.get("name"): item for item in current if isinstance(item, dict)}
            for item in value:
                name = item.get("name") if isinstance(item, dict) else None
                if name in merged and isinstance(item, dict):
                    merged[name] = merge(merged[name], item)
                else:
                    merged[name if name is not None else id(item)] = item
            result[key] = list(merged.values())
        else:
            result[key] = value
    return result


# --- clusters owned elsewhere (`managed: false`) ------------------------------------------------------------------

ELASTICSEARCH_CRD = "elasticsearches.elasticsearch.k8s.elastic.co"


def _dig(node: Any, *path: str) -> Any:
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def crd_has_remote_cluster_service(definition: Mapping[str, Any]) -> bool:
    """Whether an installed Elasticsearch CRD knows `spec.remoteClusterServer.service` (ECK 3.3 and later); an older
    one would silently prune the field from the owner's manifest."""
    for version in _dig(definition, "spec", "versions") or []:
        if _dig(version, "name") == "v1":
            schema = _dig(version, "schema", "openAPIV3Schema", "properties", "spec", "properties")
            return "service" in (_dig(schema, "remoteClusterServer", "properties") or {})
    return False


def owner_manifest_gaps(cluster: EckCluster, live: Mapping[str, Any]) -> list[str]:
    """What the live resource lacks of `remote_cluster_server(cluster, ours=False)`; empty when it has it all."""
    remote = _dig(live, "spec", "remoteClusterServer") or {}
    gaps = []
    if _dig(remote, "enabled") is not True:
        gaps.append("spec.remoteClusterServer.enabled is not true")
    server = cluster.remote_cluster_server
    if server.exposure is Exposure.OPERATOR_SERVICE:
        service = _dig(remote, "service", "spec") or {}
        if _dig(service, "type") != "LoadBalancer":
            gaps.append("spec.remoteClusterServer.service.spec.type is not LoadBalancer")
        ports = [p for p in _dig(service, "ports") or [] if isinstance(p, Mapping)]
        if not any(p.get("port") == server.port and p.get("targetPort") == names.REMOTE_CLUSTER_PORT for p in ports):
            gaps.append(
                f"spec.remoteClusterServer.service.spec.ports has no port {server.port} "
                f"with targetPort {names.REMOTE_CLUSTER_PORT}"
            )
    return gaps


def check_owner_manifest(
    key: str, cluster: EckCluster, live: Mapping[str, Any] | None, definition: Mapping[str, Any] | None
) -> None:
    """Raise, naming the config key, when the live resource of a cluster owned elsewhere (`key` is its config path)
    cannot serve the link as configured, with the exact YAML its owner must add. `definition`: the installed
    Elasticsearch CRD, when it could be read."""
    where = f"the Elasticsearch resource {cluster.namespace}/{cluster.name}"
    if live is None:
        raise SettingsError(
            f"{key}.managed", False, f"{where} does not exist: with managed: false its owner creates it first"
        )
    exposure = cluster.remote_cluster_server.exposure
    too_old = definition is not None and not crd_has_remote_cluster_service(definition)
    if exposure is Exposure.OPERATOR_SERVICE and too_old:
        raise SettingsError(
            f"{key}.remoteClusterServer.exposure",
            exposure.value,
            f"the ECK installed on the cluster is older than {v.ECK_MIN_SERVICE_OVERRIDE} (its Elasticsearch "
            "CRD has no spec.remoteClusterServer.service): choose 'own-service' (this stack's own "
            "LoadBalancer Service) or 'external'",
        )
    gaps = owner_manifest_gaps(cluster, live)
    if not gaps:
        return
    snippet = yaml.safe_dump(
        {"spec": {"remoteClusterServer": remote_cluster_server(cluster, ours=False)}}, sort_keys=False
    )
    enabled = gaps[0].startswith("spec.remoteClusterServer.enabled")
    alternative = "" if enabled else " (or choose exposure 'own-service': this stack's own LoadBalancer Service)"
    raise SettingsError(
        f"{key}.managed" if enabled else f"{key}.remoteClusterServer.exposure",
        False if enabled else exposure.value,
        f"{where} is owned elsewhere and {'; '.join(gaps)}. Add this to its manifest and apply it{alternative}:\n"
        + snippet,
    )
