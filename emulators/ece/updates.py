"""`PUT /deployments/{id}`: validate a `DeploymentUpdateRequest` and work out what it changes.

Semantics emulated (swagger + shared/reference/ece-api.md §3):
- `resources.elasticsearch[]` payloads name existing resources by `ref_id` (the emulator does not create new ones);
  `plan` is required; it starts a plan when it differs from the latest plan (transient parts aside);
- `settings.trust` present replaces the resource's trust as given (`null` reverts to the default trust), absent
  leaves it unchanged; a trust change starts a plan too; other settings keys replace theirs without a plan;
- `settings.keystore_contents` (write-only) is applied like a keystore PATCH;
- `prune_orphans: false` leaves omitted Elasticsearch resources alone; `true` shuts them down (they disappear
  from the deployment and are listed in `shutdown_resources`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from emulators.ece.errors import INVALID_DATA, INVALID_PLAN, Problem
from emulators.ece.model import Deployment, ElasticsearchResource, KeystoreEntry, keystore_entry
from emulators.ece.trust import apply_trust, default_trust, validate_trust

VERSION = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
AUTO_OPS = ("connected", "not_connected", "excluded")
OTHER_KINDS = ("kibana", "apm", "appsearch", "enterprise_search", "integrations_server")


@dataclass
class ResourceChange:
    resource: ElasticsearchResource
    plan: dict[str, Any]
    plan_changed: bool
    trust: dict[str, Any] | None = None  # the new stored trust, when it changes
    settings: dict[str, Any] = field(default_factory=dict)  # other settings keys to replace
    keystore: dict[str, KeystoreEntry | None] | None = None  # keystore_contents: None value = remove

    @property
    def starts_plan(self) -> bool:
        return self.plan_changed or self.trust is not None


@dataclass
class Update:
    name: str | None
    alias: str | None
    changes: list[ResourceChange]
    pruned: list[ElasticsearchResource]
    autoscaling_enabled: bool | None = None
    auto_ops_status: str | None = None
    tags: list[dict[str, str]] | None = None


def without_transient(plan: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(plan)
    stripped.pop("transient", None)
    return stripped


def _invalid(where: str, message: str, code: str = INVALID_DATA) -> Problem:
    return Problem(code, message, [where])


def validate_plan(plan: Any, where: str) -> list[Problem]:
    """The parts of an `ElasticsearchClusterPlan` the emulator relies on."""
    if not isinstance(plan, dict):
        return [_invalid(where, "plan is required and must be an ElasticsearchClusterPlan object", INVALID_PLAN)]
    problems: list[Problem] = []
    topology = plan.get("cluster_topology")
    if not isinstance(topology, list) or not topology or not all(isinstance(item, dict) for item in topology):
        problems.append(
            _invalid(f"{where}.cluster_topology", "cluster_topology must be a non-empty array", INVALID_PLAN)
        )
    elasticsearch = plan.get("elasticsearch")
    if not isinstance(elasticsearch, dict):
        problems.append(_invalid(f"{where}.elasticsearch", "elasticsearch is required", INVALID_PLAN))
    elif "version" in elasticsearch and not (
        isinstance(elasticsearch["version"], str) and VERSION.fullmatch(elasticsearch["version"])
    ):
        problems.append(_invalid(f"{where}.elasticsearch.version", "version must look like 9.3.2", INVALID_PLAN))
    return problems


def validate_keystore_contents(contents: Any, where: str) -> list[Problem]:
    """A `KeystoreContents` object: `secrets` maps names to `KeystoreSecret` objects."""
    if not isinstance(contents, dict) or not isinstance(contents.get("secrets"), dict):
        return [_invalid(where, "a KeystoreContents object with a secrets map is required")]
    problems: list[Problem] = []
    for key, secret in contents["secrets"].items():
        at = f"{where}.secrets.{key}"
        if not key or not isinstance(secret, dict):
            problems.append(_invalid(at, "each secret must be a KeystoreSecret object"))
        elif "as_file" in secret and secret["as_file"] is not None and not isinstance(secret["as_file"], bool):
            problems.append(_invalid(f"{at}.as_file", "as_file must be a boolean"))
    return problems


def keystore_changes(contents: dict[str, Any]) -> dict[str, KeystoreEntry | None]:
    return {key: keystore_entry(secret) for key, secret in contents["secrets"].items()}


def _payload_change(deployment: Deployment, payload: Any, where: str, problems: list[Problem]) -> ResourceChange | None:
    if not isinstance(payload, dict):
        problems.append(_invalid(where, "an ElasticsearchPayload must be an object"))
        return None
    found = len(problems)
    for name in ("ref_id", "region"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            problems.append(_invalid(f"{where}.{name}", f"{name} is required"))
    problems.extend(validate_plan(payload.get("plan"), f"{where}.plan"))
    settings = payload.get("settings")
    if settings is not None and not isinstance(settings, dict):
        problems.append(_invalid(f"{where}.settings", "settings must be an object"))
        settings = None
    settings = settings or {}
    if settings.get("trust") is not None:
        problems.extend(validate_trust(settings["trust"], f"{where}.settings.trust"))
    if "keystore_contents" in settings and settings["keystore_contents"] is not None:
        problems.extend(
            validate_keystore_contents(settings["keystore_contents"], f"{where}.settings.keystore_contents")
        )
    resource = deployment.resource(payload["ref_id"]) if isinstance(payload.get("ref_id"), str) else None
    if isinstance(payload.get("ref_id"), str) and resource is None:
        problems.append(
            _invalid(
                f"{where}.ref_id",
                f"no Elasticsearch resource [{payload['ref_id']}]: the emulator does not create resources",
            )
        )
    if resource is not None and isinstance(payload.get("region"), str) and payload["region"] != resource.region:
        problems.append(_invalid(f"{where}.region", f"the resource is in region [{resource.region}]"))
    if len(problems) > found or resource is None:
        return None
    plan = copy.deepcopy(payload["plan"])
    change = ResourceChange(resource, plan, without_transient(plan) != without_transient(resource.plans.latest_plan()))
    if "trust" in settings:
        wanted = settings["trust"] if settings["trust"] is not None else default_trust(deployment.organization_id)
        trust = apply_trust(resource.trust, wanted)
        change.trust = trust if trust != resource.trust else None
    for key, value in settings.items():
        if key not in ("trust", "keystore_contents") and resource.settings.get(key) != value:
            change.settings[key] = copy.deepcopy(value)
    if settings.get("keystore_contents") is not None:
        change.keystore = keystore_changes(settings["keystore_contents"])
    return change


def parse_update(deployment: Deployment, body: Any) -> tuple[Update | None, list[Problem]]:
    """The changes a `DeploymentUpdateRequest` asks for, or every problem found in it."""
    if not isinstance(body, dict):
        return None, [_invalid("body", "the body must be a DeploymentUpdateRequest object")]
    problems: list[Problem] = []
    if not isinstance(body.get("prune_orphans"), bool):
        problems.append(_invalid("prune_orphans", "prune_orphans is required and must be a boolean"))
    for name in ("name", "alias"):
        if name in body and not isinstance(body[name], str):
            problems.append(_invalid(name, f"{name} must be a string"))
    resources = body.get("resources") or {}
    if not isinstance(resources, dict):
        problems.append(_invalid("resources", "resources must be an object"))
        resources = {}
    # `null` is an absent list: cloud-sdk-go's DeploymentUpdateResources has no `omitempty` on its kinds, so every
    # update built by deploymentapi.NewUpdateRequest (ecctl, terraform-provider-ec) sends `"kibana": null` and the
    # like for the kinds the deployment lacks, and real ECE accepts those updates.
    for kind in ("elasticsearch", *OTHER_KINDS):
        if resources.get(kind) is not None and not isinstance(resources[kind], list):
            problems.append(_invalid(f"resources.{kind}", f"{kind} must be an array"))
    payloads: list[Any] = resources["elasticsearch"] if isinstance(resources.get("elasticsearch"), list) else []
    changes: list[ResourceChange] = []
    for index, payload in enumerate(payloads):
        change = _payload_change(deployment, payload, f"resources.elasticsearch[{index}]", problems)
        if change is not None:
            if any(other.resource is change.resource for other in changes):
                problems.append(_invalid(f"resources.elasticsearch[{index}].ref_id", "a resource appears twice"))
            changes.append(change)
    settings = body.get("settings") or {}
    autoscaling = settings.get("autoscaling_enabled") if isinstance(settings, dict) else None
    if autoscaling is not None and not isinstance(autoscaling, bool):
        problems.append(_invalid("settings.autoscaling_enabled", "autoscaling_enabled must be a boolean"))
    auto_ops = settings.get("auto_ops") if isinstance(settings, dict) else None
    status = auto_ops.get("status") if isinstance(auto_ops, dict) else None
    if auto_ops is not None and status not in AUTO_OPS:
        problems.append(_invalid("settings.auto_ops.status", f"status must be one of {', '.join(AUTO_OPS)}"))
    metadata = body.get("metadata") or {}
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    if tags is not None and not (
        isinstance(tags, list)
        and all(
            isinstance(tag, dict) and isinstance(tag.get("key"), str) and isinstance(tag.get("value"), str)
            for tag in tags
        )
    ):
        problems.append(_invalid("metadata.tags", "tags must be an array of {key, value} strings"))
    if problems:
        return None, problems
    kept = {id(change.resource) for change in changes}
    pruned = (
        [resource for resource in deployment.resources if id(resource) not in kept] if body["prune_orphans"] else []
    )
    return (
        Update(
            name=body.get("name"),
            alias=body.get("alias"),
            changes=changes,
            pruned=pruned,
            autoscaling_enabled=autoscaling,
            auto_ops_status=status,
            tags=copy.deepcopy(tags) if tags is not None else None,
        ),
        [],
    )
