"""`EceDeploymentTrust`: the trust entries of every link to one ECE deployment's Elasticsearch resource, as one
resource, so that n links cost one read-modify-write, one `PUT` and one ECE plan, in `up`, `destroy` and a rotation
alike. A plan takes tens of seconds to minutes on a real ECE; terraform-provider-ec holds a deployment's trust in one
resource for the same reason.

Each entry is written as `trust.EceTrustedCa` writes its one entry: every other direct entry, account and external
trust is kept as read, the write carries `?version=` and is retried on a conflict, and the certificates an entry held
that it no longer wants stay beside the new ones (`retiring_certificates`) until the link's connection check confirms
the new CA alone (`retirement.EceTrustRetirement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..dynamic import (
    ConfiguredProvider,
    changed_keys,
    credentials_change_touches_nothing,
    credentials_input,
    is_unknown,
    require,
)
from .client import EceApiError, EceConnection
from .connection_props import check_connection, client_from
from .trust import MODELS, EntryRef, Mutation, claim, entry_body, entry_pems, find_entry, normalise, write_together

INPUTS = ("ece", "ece_credentials", "deployment_id", "ref_id", "entries", "plan_timeout_seconds")
REPLACE_ON = ("deployment_id", "ref_id")
ENTRY_KEYS = ("name", "model", "scope_id", "certificates")
"""What an entry is; `adopt_entry` only says where it comes from on its first write, so changing it changes nothing."""


def _ref(props: Mapping[str, Any], name: str) -> EntryRef:
    return EntryRef(props["deployment_id"], props.get("ref_id") or "_main", name)


def _entries(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("entries") or [])


def _comparable(entries: Any) -> Any:
    """The entries without `adopt_entry`, as diff compares them."""
    if is_unknown(entries) or not isinstance(entries, list):
        return entries
    return [{key: entry.get(key) for key in ENTRY_KEYS} for entry in entries]


def _placing(spec: Mapping[str, Any], retiring: dict[str, list[str]]) -> Mutation:
    """Our entry as `spec` wants it; the certificates it holds now and no longer wants stay, as retiring."""
    wanted = normalise(spec["certificates"])

    def mutate(current: dict[str, Any] | None) -> dict[str, Any]:
        retiring[spec["name"]] = [pem for pem in entry_pems(current) if pem not in wanted]
        uid = (current or {}).get("uid")
        return entry_body(spec["name"], spec["model"], wanted + retiring[spec["name"]], uid, spec.get("scope_id"))

    return mutate


def _removing(_current: dict[str, Any] | None) -> None:
    return None


def _outputs(
    props: Mapping[str, Any], stored: Mapping[str, dict[str, Any] | None], retiring: dict[str, list[str]]
) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for spec in _entries(props):
        entry = stored.get(spec["name"])
        trusted = entry_pems(entry)
        state[spec["name"]] = {
            "uid": (entry or {}).get("uid"),
            "trusted_certificates": trusted,
            "retiring_certificates": [pem for pem in retiring.get(spec["name"], []) if pem in trusted],
        }
    return {**{key: props.get(key) for key in INPUTS}, "entries_state": state}


class EceDeploymentTrustProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_connection(news) + require(news, ("deployment_id",))
        entries = news.get("entries")
        normalised: Any = entries
        if isinstance(entries, list) or not is_unknown(entries):  # a list is checked around what it holds unknown
            if not isinstance(entries, list):
                failures.append(CheckFailure("entries", "entries must be a list of trust entries"))
                normalised = []
            else:
                normalised = [
                    {**entry, "model": entry.get("model") or "api-key"} if isinstance(entry, Mapping) else entry
                    for entry in entries
                ]
                failures.extend(_entry_failures(normalised))
        news = {**news, "ref_id": news.get("ref_id") or "_main", "entries": normalised}
        if not failures:
            self._claim(news)
        return CheckResult(news, failures)

    @staticmethod
    def _claim(news: Mapping[str, Any]) -> None:
        """Tell an `EceTrustedCa` of an earlier version, deleted later in this update, that its entry is ours now."""
        known = (news.get("ece"), news.get("deployment_id"), news.get("ref_id"), news.get("entries"))
        if any(is_unknown(value) for value in known) or not isinstance(news.get("ece"), Mapping):
            return
        connection = EceConnection.from_props(news["ece"])
        for entry in _entries(news):
            claim(connection.url, _ref(news, entry["name"]))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, [key for key in INPUTS if key != "entries"])
        if is_unknown(news.get("entries")) or _comparable(olds.get("entries")) != _comparable(news.get("entries")):
            changes.append("entries")
        replaces = [key for key in changes if key in REPLACE_ON]
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """An entry of the same name already there (a stack of an earlier version, or an `up` killed after its write) is
        taken as it is; with `adopt_entry`, an entry made by hand becomes ours: renamed, its `uid` kept."""
        specs = _entries(props)
        retiring: dict[str, list[str]] = {}
        changes = [(_ref(props, spec["name"]), _placing(spec, retiring), spec.get("adopt_entry")) for spec in specs]
        stored = self._write(props, changes)
        return CreateResult(f"{props['deployment_id']}/{props['ref_id']}", _outputs(props, stored, retiring))

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """One write: entries added (adopting, if they say so), changed (the old CA retiring) and removed."""
        before = {entry["name"] for entry in _entries(olds)}
        after = {entry["name"] for entry in _entries(news)}
        retiring: dict[str, list[str]] = {}
        changes: list[tuple[EntryRef, Mutation, str | None]] = [
            (
                _ref(news, spec["name"]),
                _placing(spec, retiring),
                spec.get("adopt_entry") if spec["name"] not in before else None,
            )
            for spec in _entries(news)
        ]
        changes += [(_ref(news, name), _removing, None) for name in sorted(before - after)]
        stored = self._write(news, changes)
        return UpdateResult(_outputs(news, stored, retiring))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        deployment_id, ref_id = id_.split("/", 1)
        props = {**props, "deployment_id": deployment_id, "ref_id": ref_id}
        try:
            trust = client_from(props).get_deployment(deployment_id).trust(ref_id)
        except EceApiError as error:
            if error.status == 404:
                return ReadResult("", {})
            raise
        recorded = {name: state.get("retiring_certificates") or [] for name, state in _state(props).items()}
        entries, stored, retiring = [], {}, {}
        for spec in _entries(props):
            entry = find_entry(trust, spec["name"])
            if entry is None:
                continue  # gone: the next `up` writes it again
            retiring[spec["name"]] = [
                pem for pem in normalise(recorded.get(spec["name"], [])) if pem in entry_pems(entry)
            ]
            model = "api-key" if entry.get("type") == "proxy" else "certificate"
            entries.append(
                {
                    **spec,
                    "model": model,
                    "scope_id": entry.get("scope_id") if model == "certificate" else None,
                    "certificates": [pem for pem in entry_pems(entry) if pem not in retiring[spec["name"]]],
                }
            )
            stored[spec["name"]] = entry
        inputs = {
            **{key: props.get(key) for key in INPUTS},
            "entries": entries,
            "plan_timeout_seconds": props.get("plan_timeout_seconds") or 600,
        }
        return ReadResult(id_, _outputs(inputs, stored, retiring), inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        changes: list[tuple[EntryRef, Mutation, str | None]] = [
            (_ref(props, spec["name"]), _removing, None) for spec in _entries(props)
        ]
        try:
            self._write(props, changes)
        except EceApiError as error:
            if error.status != 404:
                raise

    @staticmethod
    def _write(
        props: Mapping[str, Any], changes: list[tuple[EntryRef, Mutation, str | None]]
    ) -> dict[str, dict[str, Any] | None]:
        if not changes:
            return {}
        stored = write_together(client_from(props), changes, float(props.get("plan_timeout_seconds") or 600))
        return {ref.name: entry for (ref, _mutate, _absorb), entry in zip(changes, stored, strict=True)}


def _state(props: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    state = props.get("entries_state")
    return dict(state) if isinstance(state, Mapping) else {}


def _entry_failures(entries: list[Any]) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"entries[{index}]"
        if not isinstance(entry, Mapping):
            if not is_unknown(entry):
                failures.append(CheckFailure("entries", f"{where} must be a trust entry"))
            continue
        name = entry.get("name")
        if is_unknown(name):
            continue
        if not isinstance(name, str) or not name:
            failures.append(CheckFailure("entries", f"{where}.name is required"))
        elif name in seen:
            failures.append(CheckFailure("entries", f"{where}.name '{name}' is given twice"))
        else:
            seen.add(name)
        model = entry.get("model")
        if model not in MODELS and not is_unknown(model):
            failures.append(CheckFailure("entries", f"{where}.model must be one of {', '.join(MODELS)}"))
        if model == "certificate" and not entry.get("scope_id"):
            failures.append(
                CheckFailure("entries", f"{where}: the certificate model needs a scope_id (<namespace>.es.local)")
            )
        certificates = entry.get("certificates")
        if not is_unknown(certificates) and (
            not isinstance(certificates, list) or not normalise([str(c) for c in certificates])
        ):
            failures.append(
                CheckFailure("entries", f"{where}.certificates must be a non-empty list of PEM certificates")
            )
    return failures


class EceDeploymentTrust(Resource, module="eceeck", name="EceDeploymentTrust"):
    """Named direct trust entries on an ECE deployment's Elasticsearch resource, one per link, written together."""

    entries_state: pulumi.Output[dict[str, Any]]
    """Per entry name: `uid`, `trusted_certificates`, `retiring_certificates`."""

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        entries: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]],
        ref_id: pulumi.Input[str] = "_main",
        plan_timeout_seconds: int = 600,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`entries`: `{name, certificates, model ("api-key" or "certificate"), scope_id, adopt_entry}` each;
        `adopt_entry` names an entry made by hand that the named entry takes over on its first write."""
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "entries": entries,
            "plan_timeout_seconds": plan_timeout_seconds,
            "entries_state": None,
        }
        super().__init__(EceDeploymentTrustProvider(), name, props, opts)
