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
    ConfiguredProvider,
    changed_keys,
    check_alias,
    credentials_change_touches_nothing,
    credentials_input,
    require,
)
from ..validation import ES_MIN_API_KEY_MODEL, Version
from .client import Deployment, EceApiError, EceClient
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
        client.wait_for_plan(deployment_id, ref_id, float(props["plan_timeout_seconds"]), before=before)
    return {**{k: props.get(k) for k in INPUTS}, "setting": key, "restarted": restarted}


class EceKeystoreCredentialsProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_connection(news) + require(news, ("deployment_id", "alias", "value"))
        failures += check_alias(news)
        return CheckResult({**news, "ref_id": news.get("ref_id") or "_main"}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        return DiffResult(
            changes=bool(changes), replaces=[k for k in changes if k in REPLACE_ON], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "alias": alias,
            "value": pulumi.Output.secret(value),
            "plan_timeout_seconds": plan_timeout_seconds,
            "setting": None,
            "restarted": None,
        }
        super().__init__(EceKeystoreCredentialsProvider(), name, props, opts)
