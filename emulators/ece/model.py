"""In-memory state: deployments, their Elasticsearch resources (settings, trust, keystore, plans) and CA."""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulators.certs import Issued
from emulators.ece import fixtures
from emulators.ece.certs import generate_ca, iso
from emulators.ece.plans import PlanFailure, PlanState
from emulators.ece.trust import default_trust, validate_trust

HEX32 = re.compile(r"[0-9a-f]{32}")


@dataclass
class KeystoreEntry:
    value: str  # objects are stored as their JSON string, like ECE does
    as_file: bool


def keystore_entry(secret: Any) -> KeystoreEntry | None:
    """A `KeystoreSecret` as stored, or None when it has no value (which means: remove the key)."""
    value = secret.get("value") if isinstance(secret, dict) else secret
    if value is None:
        return None
    as_file = secret.get("as_file") if isinstance(secret, dict) else None
    if isinstance(value, str):
        return KeystoreEntry(value, bool(as_file) if as_file is not None else False)
    return KeystoreEntry(json.dumps(value), bool(as_file) if as_file is not None else True)


class NodeDriver(Protocol):
    """A deployment's Elasticsearch that the emulator changes directly, as ECE's plan steps change a deployment's
    nodes (a real node in the tests, `tools/real_deployment.py`). Called before the plan shows as finished."""

    def apply_trust(self, certificates: list[str]) -> None: ...

    def apply_keystore(self, secrets: dict[str, str], reload: bool) -> None: ...


@dataclass
class ElasticsearchLink:
    """Where this deployment's Elasticsearch listens (proxy target), and how its trust and keystore reach it: pushed
    to an Elasticsearch emulator's control routes, or applied by a `NodeDriver`."""

    url: str | None = None
    password: str | None = None
    ca_file: str | None = None
    node: NodeDriver | None = None


@dataclass
class ElasticsearchResource:
    ref_id: str
    cluster_id: str
    region: str
    settings: dict[str, Any]  # ElasticsearchClusterSettings without trust and keystore_contents
    trust: dict[str, Any]
    keystore: dict[str, KeystoreEntry]
    plans: PlanState
    metadata_version: int = 1
    last_modified: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    @property
    def version(self) -> str:
        """Elasticsearch version of the current plan."""
        return self.plans.version()


@dataclass
class Deployment:
    id: str
    name: str
    alias: str
    organization_id: str
    owner_id: str
    environment_id: str
    domain: str
    created: datetime.datetime
    resources: list[ElasticsearchResource]
    ca: Issued
    link: ElasticsearchLink
    version: int = 1
    last_modified: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    tags: list[dict[str, str]] = field(default_factory=list)
    autoscaling_enabled: bool = False
    auto_ops_status: str = "not_connected"
    plan_failures: list[PlanFailure] = field(default_factory=list)  # for the next plans to fail
    node_certificates: dict[str, Issued] = field(default_factory=dict)  # per ref_id, issued by `ca` when first pushed

    def resource(self, ref_id: str) -> ElasticsearchResource | None:
        """By ref_id; `_main` names the only Elasticsearch resource when there is exactly one."""
        if ref_id == "_main":
            return self.resources[0] if len(self.resources) == 1 else None
        return next((resource for resource in self.resources if resource.ref_id == ref_id), None)

    def touch(self, now: datetime.datetime) -> None:
        """An accepted change: new resource version."""
        self.version += 1
        self.last_modified = now

    def headers(self) -> dict[str, str]:
        return {
            "x-cloud-resource-version": str(self.version),
            "x-cloud-resource-created": iso(self.created),
            "x-cloud-resource-last-modified": iso(self.last_modified),
        }


def _text(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"fixture field {key!r} must be a non-empty string")
    return value


def _resource(data: Any, index: int, deployment: dict[str, Any], now: datetime.datetime) -> ElasticsearchResource:
    if not isinstance(data, dict):
        raise ValueError(f"fixture elasticsearch[{index}] must be an object")
    plan = copy.deepcopy(data.get("plan") or fixtures.default_plan(_text(data, "version", fixtures.VERSION)))
    if not isinstance(plan.get("cluster_topology"), list) or not isinstance(plan.get("elasticsearch"), dict):
        raise ValueError(f"fixture elasticsearch[{index}].plan needs cluster_topology and elasticsearch")
    settings = copy.deepcopy(
        data.get("settings") or fixtures.default_settings(deployment["organization_id"], deployment["name"])
    )
    trust = settings.pop("trust", None) or default_trust(deployment["organization_id"])
    settings.pop("keystore_contents", None)
    problems = validate_trust(trust, f"elasticsearch[{index}].settings.trust")
    if problems:
        raise ValueError("; ".join(f"{problem.fields[0]}: {problem.message}" for problem in problems))
    for entry in trust.get("direct", []):
        entry.setdefault("uid", uuid.uuid4().hex)
        entry.setdefault("type", "generic")
        entry["certificates"] = [{"pem": certificate["pem"]} for certificate in entry["certificates"]]
    for section in ("accounts", "external", "direct"):
        trust.setdefault(section, [])
    keystore: dict[str, KeystoreEntry] = {}
    for key, secret in (data.get("keystore") or {}).items():
        entry = keystore_entry(secret)
        if entry is not None:
            keystore[key] = entry
    return ElasticsearchResource(
        ref_id=_text(data, "ref_id", "main-elasticsearch" if index == 0 else f"elasticsearch-{index}"),
        cluster_id=_text(data, "cluster_id", uuid.uuid4().hex),
        region=_text(data, "region", fixtures.REGION),
        settings=settings,
        trust=trust,
        keystore=keystore,
        plans=PlanState.created(plan, now - datetime.timedelta(days=7)),
        last_modified=now,
    )


def deployment_from_fixture(data: Any, now: datetime.datetime | None = None) -> Deployment:
    """Build a deployment (with a fresh CA) from a fixture object; ValueError when it is not valid."""
    if not isinstance(data, dict):
        raise ValueError("a deployment fixture must be a JSON object")
    now = now or datetime.datetime.now(datetime.UTC)
    deployment_id = _text(data, "id", "")
    if not HEX32.fullmatch(deployment_id):
        raise ValueError("fixture id must be 32 lowercase hex characters")
    base = {
        "name": _text(data, "name", f"deployment-{deployment_id[:6]}"),
        "organization_id": _text(data, "organization_id", fixtures.ORGANIZATION_ID),
    }
    elasticsearch = data.get("elasticsearch", [{}])
    if not isinstance(elasticsearch, list):
        raise ValueError("fixture elasticsearch must be an array")
    resources = [_resource(item, index, base, now) for index, item in enumerate(elasticsearch)]
    if len({resource.ref_id for resource in resources}) != len(resources):
        raise ValueError("fixture elasticsearch ref_ids must be unique")
    return Deployment(
        id=deployment_id,
        name=base["name"],
        alias=_text(data, "alias", base["name"]),
        organization_id=base["organization_id"],
        owner_id=_text(data, "owner_id", fixtures.OWNER_ID),
        environment_id=_text(data, "environment_id", fixtures.ENVIRONMENT_ID),
        domain=_text(data, "domain", fixtures.DOMAIN),
        created=now - datetime.timedelta(days=7),
        resources=resources,
        ca=generate_ca(f"ECE deployment {deployment_id} CA"),
        link=ElasticsearchLink(
            data.get("elasticsearch_url"), data.get("elasticsearch_password"), data.get("elasticsearch_ca_file")
        ),
        last_modified=now,
    )
