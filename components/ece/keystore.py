"""`EceKeystoreCredentials`: the key `cluster.remote.<alias>.credentials` in a deployment's Elasticsearch keystore.

Set with `PATCH .../keystore` carrying only that key (other keys are left alone); removed by sending the key without
a value. Values cannot be read back, so `read` can only tell whether the key is there. Elasticsearch below 8.14 does
not reload the keystore by itself: the deployment's Elasticsearch is restarted and the plan awaited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .. import names
from ..dynamic import (
    AdoptionError,
    ConfiguredProvider,
    changed_keys,
    check_alias,
    credentials_change_touches_nothing,
    credentials_input,
    require,
)
from ..http import redact
from ..validation import ES_MIN_API_KEY_MODEL, Version
from .client import Deployment, EceApiError, EceClient, EcePlanError
from .connection_props import check_connection, client_from

INPUTS = ("ece", "ece_credentials", "deployment_id", "ref_id", "alias", "value", "plan_timeout_seconds")
REPLACE_ON = ("deployment_id", "ref_id", "alias")


def _needs_restart(deployment: Deployment, ref_id: str) -> bool:
    version = deployment.es_version(ref_id)
    try:
        return version is not None and Version.of(version) < ES_MIN_API_KEY_MODEL
    except ValueError:
        return False


def _set(client: EceClient, props: Mapping[str, Any]) -> dict[str, Any]:
    key = names.keystore_credentials_key(props["alias"])
    deployment_id, ref_id = props["deployment_id"], props["ref_id"]
    stored = client.patch_keystore(
        deployment_id, ref_id, {key: {"value": props["value"], "as_file": False}}, hidden=(props["value"],)
    )
    if key not in stored:
        raise EceApiError(
            f"set keystore of {deployment_id}/{ref_id}", None, None, f"'{key}' is missing after it was set"
        )
    before = client.get_deployment(deployment_id)
    restarted = _needs_restart(before, ref_id)
    if restarted:
        client.restart_elasticsearch(deployment_id, ref_id)
        try:
            client.wait_for_plan(deployment_id, ref_id, float(props["plan_timeout_seconds"]), before=before)
        except EcePlanError as error:  # the plan log is ECE's text: it is told without the value, as HTTP errors are
            raise EcePlanError(redact(str(error), (props["value"],))) from None
    return {**{k: props.get(k) for k in INPUTS}, "setting": key, "restarted": restarted}


def _adopt(client: EceClient, props: Mapping[str, Any]) -> dict[str, Any]:
    """Take over the entry a person set: it must be there; nothing is written."""
    key = names.keystore_credentials_key(props["alias"])
    present = client.get_keystore(props["deployment_id"], props["ref_id"])
    if key not in present:
        others = ", ".join(sorted(k for k in present if k.startswith("cluster.remote."))) or "none"
        raise AdoptionError(
            f"adopt.apiKeyId: the keystore of {props['deployment_id']}/{props['ref_id']} has no {key}, which must "
            f"hold the adopted key (its cluster.remote entries: {others})"
        )
    return {**{k: props.get(k) for k in INPUTS}, "setting": key, "restarted": False, "adopted": True}


class EceKeystoreCredentialsProvider(ConfiguredProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # An adopted key's value cannot be read anywhere: the entry made by hand is kept until a new key replaces it
        # (also once `adopt` is gone from the config).
        adopted = news.get("adopt") or olds.get("adopted")
        needed = ("deployment_id", "alias") if adopted else ("deployment_id", "alias", "value")
        failures = check_connection(news) + require(news, needed)
        failures += check_alias(news)
        return CheckResult({**news, "ref_id": news.get("ref_id") or "_main"}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        return DiffResult(
            changes=bool(changes), replaces=[k for k in changes if k in REPLACE_ON], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("adopt") and not props.get("value"):
            outs = _adopt(client_from(props), props)
        else:
            outs = _set(client_from(props), props)
        return CreateResult(f"{props['deployment_id']}/{props['ref_id']}/{outs['setting']}", outs)

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news["value"] == olds.get("value"):
            return UpdateResult(
                {**{k: news.get(k) for k in INPUTS}, "setting": olds.get("setting"), "restarted": olds.get("restarted")}
            )
        return UpdateResult(_set(client_from(news), news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        deployment_id, ref_id, setting = id_.split("/", 2)
        client = client_from(props)
        try:
            present = setting in client.get_keystore(deployment_id, ref_id)
        except EceApiError as error:
            if error.status == 404:
                return ReadResult("", {})
            raise
        if not present:
            return ReadResult("", {})
        alias = setting.removeprefix("cluster.remote.").removesuffix(".credentials")
        inputs = {
            **{k: props.get(k) for k in INPUTS},
            "deployment_id": deployment_id,
            "ref_id": props.get("ref_id") or ref_id,
            "alias": alias,
        }
        return ReadResult(id_, {**inputs, "setting": setting, "restarted": props.get("restarted")}, inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        deployment_id, ref_id, setting = id_.split("/", 2)
        try:
            client_from(props).patch_keystore(deployment_id, ref_id, {setting: {}})
        except EceApiError as error:
            if error.status != 404:
                raise


class EceKeystoreCredentials(Resource, module="eceeck", name="EceKeystoreCredentials"):
    """The cross-cluster API key, as `cluster.remote.<alias>.credentials`, in an ECE deployment's keystore."""

    setting: pulumi.Output[str]
    restarted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        alias: pulumi.Input[str],
        value: pulumi.Input[str],
        ref_id: pulumi.Input[str] = "_main",
        plan_timeout_seconds: int = 600,
        adopt: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`adopt`: an empty `value` (an adopted key, whose secret cannot be read) takes over the entry set by hand."""
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "alias": alias,
            "adopt": adopt,
            "value": pulumi.Output.secret(value),
            "plan_timeout_seconds": plan_timeout_seconds,
            "setting": None,
            "restarted": None,
        }
        super().__init__(EceKeystoreCredentialsProvider(), name, props, opts)
