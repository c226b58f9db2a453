"""How the API shows state: `DeploymentGetResponse`, `DeploymentUpdateResponse`, `KeystoreContents`,
`CertificateAuthority`. Pure functions of the model and the query options."""

from __future__ import annotations

import base64
import copy
import datetime
from dataclasses import dataclass
from typing import Any

from emulators.common import Request
from emulators.ece.certs import certificate_metadata, iso
from emulators.ece.model import Deployment, ElasticsearchResource
from emulators.ece.plans import RESTART, ViewOptions
from emulators.ece.trust import render_trust

HTTP_PORT, HTTPS_PORT, TRANSPORT_PORT = 9200, 9243, 9300


@dataclass(frozen=True)
class GetOptions:
    """The query parameters of `GET /deployments/{id}` that change the answer (swagger defaults)."""

    plans: ViewOptions
    show_settings: bool = False
    show_metadata: bool = False
    show_system_alerts: int = 0
    show_instance_configurations: bool = True

    @classmethod
    def parse(cls, request: Request) -> GetOptions:
        try:
            alerts = int(request.param("show_system_alerts", "0") or "0")
        except ValueError:
            alerts = 0
        return cls(
            plans=ViewOptions(
                show_plans=request.flag("show_plans", True),
                show_plan_logs=request.flag("show_plan_logs", False),
                show_plan_history=request.flag("show_plan_history", False)
                or request.flag("force_all_plan_history", False),
                clear_transient=request.flag("clear_transient", False),
            ),
            show_settings=request.flag("show_settings", False),
            show_metadata=request.flag("show_metadata", False),
            show_system_alerts=alerts,
            show_instance_configurations=request.flag("show_instance_configurations", True),
        )


def endpoint(deployment: Deployment, resource: ElasticsearchResource) -> str:
    return f"{resource.cluster_id}.{deployment.domain}"


def cloud_id(deployment: Deployment, resource: ElasticsearchResource) -> str:
    encoded = base64.b64encode(f"{deployment.domain}:{HTTPS_PORT}${resource.cluster_id}$".encode()).decode()
    return f"{deployment.name}:{encoded}"


def _status(resource: ElasticsearchResource) -> str:
    pending = resource.plans.visible_pending(datetime.datetime.now(datetime.UTC))
    if pending is None:
        return "started"
    return "restarting" if pending.kind == RESTART else "reconfiguring"


def _instances(resource: ElasticsearchResource) -> list[dict[str, Any]]:
    instances: list[dict[str, Any]] = []
    for element in resource.plans.current.plan.get("cluster_topology", []):
        size = (element.get("size") or {}).get("value", element.get("memory_per_node", 0)) or 0
        if size <= 0:
            continue
        for zone in range(int(element.get("zone_count", 1))):
            instances.append(
                {
                    "instance_name": f"instance-{len(instances):010d}",
                    "instance_configuration": {
                        "id": element.get("instance_configuration_id", "data.default"),
                        "name": element.get("instance_configuration_id", "data.default"),
                        "resource": "memory",
                    },
                    "service_version": resource.version,
                    "healthy": True,
                    "container_started": True,
                    "service_running": True,
                    "maintenance_mode": False,
                    "zone": f"ece-zone-{zone + 1}",
                    "allocator_id": f"192.168.44.{10 + zone}",
                    "memory": {"instance_capacity": size, "memory_pressure": 12},
                    "disk": {"disk_space_available": size * 32, "disk_space_used": 512, "storage_multiplier": 32.0},
                    "node_roles": list(element.get("node_roles", [])),
                    "service_roles": ["ingest", "master", "data"],
                }
            )
    return instances


def _metadata(deployment: Deployment, resource: ElasticsearchResource, show_raw: bool) -> dict[str, Any]:
    host = endpoint(deployment, resource)
    aliased = f"{deployment.alias}.es.{deployment.domain}"
    metadata: dict[str, Any] = {
        "version": resource.metadata_version,
        "last_modified": iso(resource.last_modified),
        "endpoint": host,
        "service_url": f"https://{host}:{HTTPS_PORT}",
        "aliased_endpoint": aliased,
        "aliased_url": f"https://{aliased}:{HTTPS_PORT}",
        "cloud_id": cloud_id(deployment, resource),
        "ports": {"http": HTTP_PORT, "https": HTTPS_PORT, "transport_passthrough": TRANSPORT_PORT},
    }
    if show_raw:
        metadata["raw"] = {
            "cluster_id": resource.cluster_id,
            "organization_id": deployment.organization_id,
            "deployment_id": deployment.id,
        }
    return metadata


def _elasticsearch_health(instances: list[dict[str, Any]]) -> dict[str, Any]:
    names = [instance["instance_name"] for instance in instances]
    return {
        "healthy": True,
        "shards_status": {"status": "green"},
        "shard_info": {"healthy": True, "available_shards": [], "unavailable_shards": [], "unavailable_replicas": []},
        "master_info": {
            "healthy": True,
            "instances_with_no_master": [],
            "masters": [
                {"master_node_id": "mZ3kQ8p1SxO6tW0yB2cD4e", "master_instance_name": names[0], "instances": names}
            ]
            if names
            else [],
        },
        "blocking_issues": {"healthy": True, "cluster_level": [], "index_level": []},
        "cluster_blocking_issues": {"healthy": True, "blocks": []},
    }


def resource_info(deployment: Deployment, resource: ElasticsearchResource, options: GetOptions) -> dict[str, Any]:
    """`ElasticsearchResourceInfo`."""
    plan_info = resource.plans.view(options.plans, datetime.datetime.now(datetime.UTC))
    instances = _instances(resource)
    healthy = plan_info["healthy"]
    info: dict[str, Any] = {
        "cluster_id": resource.cluster_id,
        "cluster_name": deployment.name,
        "deployment_id": deployment.id,
        "healthy": healthy,
        "status": _status(resource),
        "region": resource.region,
        "locked": False,
        "plan_info": plan_info,
        "elasticsearch": _elasticsearch_health(instances),
        "metadata": _metadata(deployment, resource, options.show_metadata),
        "topology": {"healthy": True, "instances": instances},
        "snapshots": {"healthy": True, "count": 0, "recent_success": False},
        "associated_kibana_clusters": [],
        "associated_apm_clusters": [],
        "associated_appsearch_clusters": [],
        "associated_enterprise_search_clusters": [],
        "external_links": [],
        "links": {},
    }
    if options.show_settings:
        settings = copy.deepcopy(resource.settings)
        settings["trust"] = render_trust(resource.trust)
        info["settings"] = settings
    if options.show_system_alerts > 0:
        info["system_alerts"] = []
    return {"ref_id": resource.ref_id, "id": resource.cluster_id, "region": resource.region, "info": info}


def deployment_settings(deployment: Deployment) -> dict[str, Any]:
    """`DeploymentSettings` (ECE 3.8 requires `auto_ops`)."""
    return {"autoscaling_enabled": deployment.autoscaling_enabled, "auto_ops": {"status": deployment.auto_ops_status}}


def _instance_configurations(deployment: Deployment) -> list[dict[str, Any]]:
    ids = {
        element["instance_configuration_id"]
        for resource in deployment.resources
        for element in resource.plans.current.plan.get("cluster_topology", [])
        if element.get("instance_configuration_id")
    }
    return [
        {
            "id": ic_id,
            "name": ic_id,
            "instance_type": "elasticsearch",
            "discrete_sizes": {
                "sizes": [1024, 2048, 4096, 8192, 16384, 32768, 65536],
                "default_size": 4096,
                "resource": "memory",
            },
            "storage_multiplier": 32.0,
        }
        for ic_id in sorted(ids)
    ]


def deployment_view(deployment: Deployment, options: GetOptions) -> dict[str, Any]:
    """`DeploymentGetResponse`."""
    resources = [resource_info(deployment, resource, options) for resource in deployment.resources]
    last_plan = max((resource.plans.current.started for resource in deployment.resources), default=deployment.created)
    view: dict[str, Any] = {
        "id": deployment.id,
        "name": deployment.name,
        "alias": deployment.alias,
        "healthy": all(resource["info"]["healthy"] for resource in resources),
        "resources": {
            "elasticsearch": resources,
            "kibana": [],
            "apm": [],
            "appsearch": [],
            "enterprise_search": [],
            "integrations_server": [],
        },
        "settings": deployment_settings(deployment),
        "metadata": {
            "last_modified": iso(deployment.last_modified),
            "last_resource_plan_modified": iso(last_plan),
            "tags": copy.deepcopy(deployment.tags),
            "organization_id": deployment.organization_id,
            "owner_id": deployment.owner_id,
            "subscription_level": "standard",
            "hidden": False,
            "system_owned": False,
        },
    }
    if options.show_instance_configurations:
        view["instance_configurations"] = _instance_configurations(deployment)
    return view


def deployment_resources(deployment: Deployment) -> list[dict[str, Any]]:
    """`DeploymentResource`s of an update answer."""
    return [
        {
            "ref_id": resource.ref_id,
            "id": resource.cluster_id,
            "kind": "elasticsearch",
            "region": resource.region,
            "cloud_id": cloud_id(deployment, resource),
        }
        for resource in deployment.resources
    ]


def keystore_view(resource: ElasticsearchResource) -> dict[str, Any]:
    """`KeystoreContents` with values redacted: key names and `as_file` only."""
    return {"secrets": {key: {"as_file": entry.as_file} for key, entry in sorted(resource.keystore.items())}}


def recommended_trust_restriction(deployment: Deployment, resource: ElasticsearchResource) -> str:
    """Subject-name pattern of this deployment's nodes, in the form of Elastic's ECE trust-restriction docs:
    `*.node.<cluster id>.cluster.<environment id>.account`."""
    return f"*.node.{resource.cluster_id}.cluster.{deployment.environment_id}.account"


def node_name(deployment: Deployment, resource: ElasticsearchResource) -> str:
    """The transport name of the resource's first node: the recommended restriction's pattern made concrete."""
    return recommended_trust_restriction(deployment, resource).replace("*", "instance-0000000000", 1)


def certificate_authority(deployment: Deployment, resource: ElasticsearchResource) -> dict[str, Any]:
    """`CertificateAuthority`."""
    pem = deployment.ca.certificate_pem
    return {
        "public_certificates": [{"active": True, "pem": pem, "metadata": certificate_metadata(pem)}],
        "recommended_trust_restriction": recommended_trust_restriction(deployment, resource),
    }
