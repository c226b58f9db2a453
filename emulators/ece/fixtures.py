"""The deployment the emulator starts with, and the default plan a fixture gets when it gives none.

A fixture (CLI `--fixture FILE.json`, or `POST /_emulator/deployments`) is one object, or a list of them:
  {"id": "<32 hex>", "name": "...", "alias": "...", "organization_id": "...", "owner_id": "...",
   "environment_id": "<ECE environment (scope) id>", "domain": "<ECE deployment domain>",
   "elasticsearch_url": "...", "elasticsearch_password": "...", "elasticsearch_ca_file": "...",
   "elasticsearch": [{"ref_id": "main-elasticsearch", "cluster_id": "<32 hex>", "region": "ece-region",
                      "version": "9.3.2",              # used when "plan" is absent
                      "plan": {ElasticsearchClusterPlan},
                      "settings": {ElasticsearchClusterSettings, with "trust"},
                      "keystore": {"<key>": {"value": "...", "as_file": false}}}]}
Only "id" is required; everything else has a realistic default (see `emulators/ece/model.py`).
"""

from __future__ import annotations

import copy
from typing import Any

from emulators.ece.certs import generate_ca

DEPLOYMENT_ID = "9d3f6c1a8e2b4f70a5c7e1d2b3f4a6c8"
CLUSTER_ID = "4e8b2d6f1a3c4e5f9b7d0c2a6e8f1b3d"
ORGANIZATION_ID = "e1c7a3b9d5f24c6e8a0b2d4f6c8e0a21"
OWNER_ID = "admin"
ENVIRONMENT_ID = "2207193844"
DOMAIN = "192.168.44.10.ip.es.io"
REGION = "ece-region"
VERSION = "9.3.2"
EXTERNAL_TRUST_ID = "b5a1f3c7e9d24b6a8c0e2f4a6b8d0c13"
PARTNER_UID = "6f2e9a4c1b7d4e3f8a5c0b9d2e7f1a46"
PARTNER_CLUSTER_ID = "c3d5e7f9a1b24c6d8e0f2a4b6c8d0e15"
FOREIGN_KEYSTORE_KEY = "s3.client.default.secret_key"
FOREIGN_KEYSTORE_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _system_settings() -> dict[str, Any]:
    return {
        "reindex_whitelist": [],
        "monitoring_history_duration": "3d",
        "monitoring_collection_interval": -1,
        "destructive_requires_name": False,
        "auto_create_index": True,
        "scripting": {"inline": {"enabled": True}, "stored": {"enabled": True}},
        "enable_close_index": True,
    }


def _tier(tier_id: str, instance_configuration: str, roles: list[str], size: int, zones: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "id": tier_id,
        "zone_count": zones,
        "instance_configuration_id": instance_configuration,
        "node_roles": roles,
        "size": {"resource": "memory", "value": size},
        "topology_element_control": {"min": {"resource": "memory", "value": 1024 if size else 0}},
        "elasticsearch": {"system_settings": _system_settings()},
    }
    if tier_id == "hot_content":
        element["elasticsearch"]["node_attributes"] = {"data": "hot"}
        element["autoscaling_max"] = {"resource": "memory", "value": 65536}
    return element


def default_plan(version: str = VERSION) -> dict[str, Any]:
    """An ECE `default` template plan: hot/content data nodes in two zones, the other tiers at size 0."""
    return {
        "autoscaling_enabled": False,
        "cluster_topology": [
            _tier("coordinating", "coordinating", ["ingest", "remote_cluster_client"], 0, 2),
            _tier(
                "hot_content",
                "data.default",
                ["master", "ingest", "transform", "data_hot", "remote_cluster_client", "data_content"],
                4096,
                2,
            ),
            _tier("master", "master", ["master", "remote_cluster_client"], 0, 3),
            _tier("ml", "ml", ["ml", "remote_cluster_client"], 0, 1),
        ],
        "elasticsearch": {"version": version},
        "deployment_template": {"id": "default"},
        "transient": {
            "plan_configuration": {
                "calm_wait_time": 5,
                "timeout": 32768,
                "skip_snapshot": False,
                "max_snapshot_attempts": 3,
                "move_only": False,
                "reallocate_instances": False,
                "extended_maintenance": False,
                "override_failsafe": False,
            },
            "strategy": {"autodetect": {}},
        },
    }


def default_settings(organization_id: str, name: str) -> dict[str, Any]:
    """Resource settings apart from trust (which `model` keeps on its own)."""
    return {
        "curation": {"specs": []},
        "dedicated_masters_threshold": 6,
        "snapshot": {"enabled": True, "slm": True, "suspended": [], "retention": {}},
        "metadata": {
            "name": name,
            "organization_id": organization_id,
            "owner_id": OWNER_ID,
            "subscription_level": "standard",
            "hidden": False,
            "system_owned": False,
        },
    }


def default_fixture() -> dict[str, Any]:
    """The starting deployment: trust for its own organization, one external and one foreign direct entry
    (with its own freshly made CA), and one keystore key that belongs to someone else."""
    partner_ca = generate_ca("partner-datacenter transport CA")
    trust = {
        "accounts": [{"account_id": ORGANIZATION_ID, "trust_all": True, "name": "Default trust for own organization"}],
        "external": [
            {
                "trust_relationship_id": EXTERNAL_TRUST_ID,
                "trust_all": False,
                "trust_allowlist": [PARTNER_CLUSTER_ID],
                "name": "ece-dr-environment",
            }
        ],
        "direct": [
            {
                "uid": PARTNER_UID,
                "name": "partner-datacenter",
                "type": "generic",
                "trust_all": False,
                "additional_node_names": ["node1.partner.example.com", "node2.partner.example.com"],
                "certificates": [{"pem": partner_ca.certificate_pem}],
            }
        ],
    }
    settings = default_settings(ORGANIZATION_ID, "logging-prod")
    settings["trust"] = trust
    return {
        "id": DEPLOYMENT_ID,
        "name": "logging-prod",
        "alias": "logging-prod",
        "organization_id": ORGANIZATION_ID,
        "owner_id": OWNER_ID,
        "environment_id": ENVIRONMENT_ID,
        "domain": DOMAIN,
        "elasticsearch": [
            {
                "ref_id": "main-elasticsearch",
                "cluster_id": CLUSTER_ID,
                "region": REGION,
                "plan": default_plan(VERSION),
                "settings": copy.deepcopy(settings),
                "keystore": {FOREIGN_KEYSTORE_KEY: {"value": FOREIGN_KEYSTORE_VALUE, "as_file": False}},
            }
        ],
    }
