"""Our named entries in a deployment's `settings.trust.direct[]`, and `EceTrustedCa`, one link's entry as one resource
(what stacks made before `deployment_trust.EceDeploymentTrust` hold).

Trust can only be changed by `PUT /deployments/{id}` with the current plan and the complete trust object. Every
write (`write_together`) reads the deployment, changes only our entries (by name), keeps every other direct entry,
account and external trust as read, writes with `?version=`, and on a version conflict reads again and retries. Then
it waits for the plan the change started. On a CA change the old certificates stay in the entry beside the new ones
(`retiring_certificates`) until the link is confirmed with the new CA alone (`retirement.py`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from ..dynamic import (
    AdoptionError,
    ConfiguredProvider,
    changed_keys,
    credentials_change_touches_nothing,
    credentials_input,
    is_unknown,
    require,
)
from ..pem import split_certificates
from .client import EceApiError, EceClient
from .connection_props import check_connection, client_from

MODELS = ("api-key", "certificate")
CONFLICT_ATTEMPTS = 8
INPUTS = (
    "ece",
    "ece_credentials",
    "deployment_id",
    "ref_id",
    "entry_name",
    "model",
    "scope_id",
    "certificates",
    "plan_timeout_seconds",
)
REPLACE_ON = ("deployment_id", "ref_id", "entry_name")


def normalise(pems: list[str]) -> list[str]:
    """One entry per certificate, normalised, order kept, duplicates dropped."""
    seen: list[str] = []
    for pem in pems:
        for block in split_certificates(pem):
            if block not in seen:
                seen.append(block)
    return seen


def entry_body(name: str, model: str, pems: list[str], uid: str | None, scope_id: str | None = None) -> dict[str, Any]:
    """Our direct entry. API-key model: a `proxy` entry (CA of the remote's proxy or LB; no scope or node names).
    Certificate model: a `generic` entry whose `scope_id` is the suffix of the remote nodes' names, which for ECK is
    `<namespace>.es.local` (names.certificate_model_scope)."""
    entry: dict[str, Any] = {"name": name, "certificates": [{"pem": pem} for pem in pems]}
    if model == "api-key":
        entry.update({"type": "proxy", "trust_all": False})
    else:
        entry.update({"type": "generic", "trust_all": True, "scope_id": scope_id})
    if uid:
        entry["uid"] = uid
    return entry


def _writable(trust: dict[str, Any]) -> dict[str, Any]:
    """The trust object as read, minus read-only fields, so it can be sent back unchanged."""
    result = dict(trust)
    result["direct"] = [
        {**entry, "certificates": [{"pem": cert["pem"]} for cert in entry.get("certificates") or []]}
        for entry in trust.get("direct") or []
    ]
    if "external" in trust:
        result["external"] = [{k: v for k, v in entry.items() if k != "name"} for entry in trust.get("external") or []]
    return result


def _comparable(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {**entry, "certificates": entry_pems(entry)}


def find_entry(trust: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    return next((dict(entry) for entry in trust.get("direct") or [] if entry.get("name") == name), None)


def entry_pems(entry: Mapping[str, Any] | None) -> list[str]:
    return normalise([cert["pem"] for cert in (entry or {}).get("certificates") or []])


Mutation = Callable[[dict[str, Any] | None], dict[str, Any] | None]


@dataclass(frozen=True)
class EntryRef:
    """Which entry: deployment, Elasticsearch resource, entry name. Also the resource id, joined by '/'."""

    deployment_id: str
    ref_id: str
    name: str

    @classmethod
    def parse(cls, id_: str) -> EntryRef:
        deployment_id, ref_id, name = id_.split("/", 2)
        return cls(deployment_id, ref_id, name)

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> EntryRef:
        return cls(props["deployment_id"], props.get("ref_id") or "_main", props["entry_name"])

    def __str__(self) -> str:
        return f"{self.deployment_id}/{self.ref_id}/{self.name}"


@dataclass
class _Change:
    """One entry's change, written with the others of the same write."""

    ref: EntryRef
    mutate: Mutation
    absorb: str | None = None
    result: dict[str, Any] | None = None


def change_entry(
    client: EceClient, ref: EntryRef, mutate: Mutation, plan_timeout: float, *, absorb: str | None = None
) -> dict[str, Any] | None:
    """Read-modify-write of our entry only, with optimistic concurrency; returns our entry as stored afterwards.
    `absorb`: the name of an entry made by hand that becomes ours (adoption): it is what `mutate` starts from when
    ours does not exist yet, and it is gone afterwards (renamed, its `uid` kept)."""
    return write_together(client, [(ref, mutate, absorb)], plan_timeout)[0]


def _apply(trust: dict[str, Any], change: _Change, deployment_id: str) -> bool:
    """`change` applied to `trust` (the writable copy); whether it changed anything."""
    name, absorb = change.ref.name, change.absorb
    current = find_entry(trust, name)
    absorbed = find_entry(trust, absorb) if absorb and absorb != name else None
    if absorb and absorb != name and absorbed is None and current is None:
        entries = ", ".join(str(entry.get("name")) for entry in trust.get("direct") or []) or "none"
        raise AdoptionError(
            f"adopt.trustEntry '{absorb}': deployment {deployment_id} has no direct trust entry of that name "
            f"(its entries: {entries})"
        )
    wanted = change.mutate(current if current is not None else absorbed)
    if absorbed is None and _comparable(wanted) == _comparable(current):
        return False
    others = [entry for entry in trust.get("direct") or [] if entry.get("name") not in (name, absorb)]
    trust["direct"] = others + ([wanted] if wanted is not None else [])
    return True


def write_together(
    client: EceClient, changes: list[tuple[EntryRef, Mutation, str | None]], plan_timeout: float
) -> list[dict[str, Any] | None]:
    """Changes of several entries of one Elasticsearch resource (`ref`, `mutate`, `absorb` as for `change_entry`) as
    one read-modify-write, one `PUT`, one plan, all or nothing: an entry that cannot be made (adoption) stops the write
    before anything is sent. Returns each entry as stored afterwards, in order."""
    batch = [_Change(ref, mutate, absorb) for ref, mutate, absorb in changes]
    if not batch:
        return []
    deployment_id, ref_id = batch[0].ref.deployment_id, batch[0].ref.ref_id
    for attempt in range(CONFLICT_ATTEMPTS):
        deployment = client.get_deployment(deployment_id)
        resource = deployment.elasticsearch(ref_id)
        trust = _writable(deployment.trust(ref_id))
        changed = False
        for change in batch:
            changed = _apply(trust, change, deployment_id) or changed
        if not changed:
            stored = deployment.trust(ref_id)
            return [find_entry(stored, change.ref.name) for change in batch]
        plan = (((resource.get("info") or {}).get("plan_info") or {}).get("current") or {}).get("plan")
        body = {
            "prune_orphans": False,
            "resources": {
                "elasticsearch": [
                    {
                        "ref_id": resource["ref_id"],
                        "region": resource["region"],
                        "plan": plan,
                        "settings": {"trust": trust},
                    }
                ]
            },
        }
        try:
            client.update_deployment(deployment_id, body, deployment.version)
        except EceApiError as error:
            if error.is_version_conflict and attempt + 1 < CONFLICT_ATTEMPTS:
                time.sleep(random.uniform(0.05, 0.3) * (attempt + 1))  # noqa: S311 (jitter)
                continue
            raise
        finished = client.wait_for_plan(deployment_id, resource["ref_id"], plan_timeout, before=deployment)
        stored = finished.trust(resource["ref_id"])
        return [find_entry(stored, change.ref.name) for change in batch]
    raise EceApiError(
        f"update trust of {deployment_id}",
        409,
        "deployments.version_conflict",
        "gave up after repeated concurrent changes",
    )


_claimed: set[tuple[str, str]] = set()
_claims_lock = threading.Lock()


def claim(url: str, ref: EntryRef) -> None:
    """`ref` is written by an `EceDeploymentTrust` of this update (deployment_trust.py), which calls this from its
    `check`. The engine checks every resource the program declares before it deletes those the program no longer
    declares, so a per-link `EceTrustedCa` left in state from an earlier version sees the claim when it is deleted,
    and leaves the entry to its new owner instead of removing it."""
    with _claims_lock:
        _claimed.add((url, str(ref)))


def claimed(url: str, ref: EntryRef) -> bool:
    with _claims_lock:
        return (url, str(ref)) in _claimed


def forget_claims() -> None:
    """Between updates served by one process (tests): claims last as long as the update that made them."""
    with _claims_lock:
        _claimed.clear()


def dropping(retiring: list[str]) -> Mutation:
    """The end of a CA rotation for one entry: its `retiring` certificates dropped (never all it has)."""
    drop = set(normalise(retiring))

    def mutate(entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        kept = [cert for cert in entry.get("certificates") or [] if normalise([cert["pem"]])[0] not in drop]
        return {**entry, "certificates": kept} if kept else entry

    return mutate


def _outputs(props: Mapping[str, Any], entry: Mapping[str, Any] | None, retiring: list[str]) -> dict[str, Any]:
    trusted = entry_pems(entry)
    return {
        **{key: props.get(key) for key in INPUTS},
        "uid": (entry or {}).get("uid"),
        "trusted_certificates": trusted,
        "retiring_certificates": [pem for pem in normalise(retiring) if pem in trusted],
    }


class EceTrustedCaProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_connection(news) + require(news, ("deployment_id", "entry_name", "certificates"))
        if news.get("model") not in (*MODELS, None) and not is_unknown(news.get("model")):
            failures.append(CheckFailure("model", f"model must be one of {', '.join(MODELS)}"))
        if news.get("model") == "certificate" and not news.get("scope_id"):
            failures.append(CheckFailure("scope_id", "the certificate model needs a scope_id (<namespace>.es.local)"))
        certificates = news.get("certificates")
        if (certificates is not None and not is_unknown(certificates)) and (
            not isinstance(certificates, list) or not normalise([str(c) for c in certificates])
        ):
            failures.append(CheckFailure("certificates", "certificates must be a non-empty list of PEM certificates"))
        return CheckResult(
            {**news, "ref_id": news.get("ref_id") or "_main", "model": news.get("model") or "api-key"}, failures
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        replaces = [key for key in changes if key in REPLACE_ON]
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """With `adopt_entry`, an entry made by hand becomes ours: renamed, its `uid` kept, and its certificates that
        are not the remote's CA stay trusted (retiring) until the connection check confirms the link without them."""
        client = client_from(props)
        wanted = normalise(props["certificates"])
        retiring: list[str] = []

        def mutate(entry: dict[str, Any] | None) -> dict[str, Any]:
            uid = (entry or {}).get("uid")
            retiring[:] = [pem for pem in entry_pems(entry) if pem not in wanted] if props.get("adopt_entry") else []
            return entry_body(props["entry_name"], props["model"], wanted + retiring, uid, props.get("scope_id"))

        ref = EntryRef.of(props)
        entry = change_entry(
            client, ref, mutate, float(props["plan_timeout_seconds"]), absorb=props.get("adopt_entry") or None
        )
        return CreateResult(str(ref), _outputs(props, entry, retiring))

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = client_from(news)
        wanted = normalise(news["certificates"])
        previously = normalise(olds.get("trusted_certificates") or olds.get("certificates") or [])
        retiring = [pem for pem in previously if pem not in wanted]

        def mutate(entry: dict[str, Any] | None) -> dict[str, Any]:
            # During a rotation the old CA stays trusted beside the new one.
            uid = (entry or {}).get("uid")
            return entry_body(news["entry_name"], news["model"], wanted + retiring, uid, news.get("scope_id"))

        entry = change_entry(client, EntryRef.of(news), mutate, float(news["plan_timeout_seconds"]))
        return UpdateResult(_outputs(news, entry, retiring))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref = EntryRef.parse(id_)
        props = {
            **props,
            "deployment_id": ref.deployment_id,
            "ref_id": props.get("ref_id") or ref.ref_id,
            "entry_name": ref.name,
        }
        client = client_from(props)
        try:
            entry = find_entry(client.get_deployment(ref.deployment_id).trust(ref.ref_id), ref.name)
        except EceApiError as error:
            if error.status == 404:
                return ReadResult("", {})
            raise
        if entry is None:
            return ReadResult("", {})
        retiring = [pem for pem in normalise(props.get("retiring_certificates") or []) if pem in entry_pems(entry)]
        live = [pem for pem in entry_pems(entry) if pem not in retiring]
        model = "api-key" if entry.get("type") == "proxy" else "certificate"
        inputs = {
            **{key: props.get(key) for key in INPUTS},
            "certificates": live,
            "model": model,
            "scope_id": entry.get("scope_id") if model == "certificate" else None,
            "plan_timeout_seconds": props.get("plan_timeout_seconds") or 600,
        }
        return ReadResult(id_, _outputs(inputs, entry, retiring), inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        timeout = float(props.get("plan_timeout_seconds") or 600)
        client = client_from(props)
        if claimed(client.connection.url, EntryRef.parse(id_)):
            pulumi.log.info(f"trust entry {EntryRef.parse(id_).name}: kept, now written with the deployment's trust")
            return
        try:
            change_entry(client, EntryRef.parse(id_), lambda _entry: None, timeout)
        except EceApiError as error:
            if error.status != 404:
                raise


class EceTrustedCa(Resource, module="eceeck", name="EceTrustedCa"):
    """The remote cluster's CA as one named direct trust entry on an ECE deployment's Elasticsearch resource. Links
    write their entries with `EceDeploymentTrust` (one plan for all of a deployment's links); stacks made before it
    hold one of these per link, which hands its entry over when it is deleted."""

    uid: pulumi.Output[str]
    trusted_certificates: pulumi.Output[list[str]]
    retiring_certificates: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        entry_name: pulumi.Input[str],
        certificates: pulumi.Input[list[str]],
        model: str = "api-key",
        scope_id: str | None = None,
        ref_id: pulumi.Input[str] = "_main",
        plan_timeout_seconds: int = 600,
        adopt_entry: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`adopt_entry`: the name of a trust entry made by hand that this resource takes over on create."""
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "adopt_entry": adopt_entry,
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "entry_name": entry_name,
            "model": model,
            "scope_id": scope_id,
            "certificates": certificates,
            "plan_timeout_seconds": plan_timeout_seconds,
            "uid": None,
            "trusted_certificates": None,
            "retiring_certificates": None,
        }
        super().__init__(EceTrustedCaProvider(), name, props, opts)
