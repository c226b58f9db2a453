"""`EceKeystoreCredentials`: what a refresh and an import read back, what `check` fills in, what adoption keeps and
refuses, how a deployment that is gone is handled, and what the resource registers with the engine."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from components.dynamic import AdoptionError
from components.ece.client import EceApiError
from components.ece.connection_props import client_from
from components.ece.keystore import EceKeystoreCredentials, EceKeystoreCredentialsProvider
from tests.contract.test_ece_keystore_provider import SETTING, VALUE, props, stored
from tests.support.pulumi_mocks import RecordingMocks, resolve, run_under_mocks, unwrap_secret
from tools.emulated_link import REF_ID, EmulatedLink

KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"


def test_check_defaults_the_ref_id_to_main(env: EmulatedLink) -> None:
    news = {k: v for k, v in props(env).items() if k != "ref_id"}
    checked = EceKeystoreCredentialsProvider().check({}, news)
    assert checked.failures == [] and checked.inputs["ref_id"] == "_main"
    checked = EceKeystoreCredentialsProvider().check({}, {**news, "ref_id": ""})
    assert checked.inputs["ref_id"] == "_main"


def test_an_alias_change_creates_the_new_key_before_deleting_the_old(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    diff = provider.diff(created.id, created.outs, props(env, alias="logs2"))
    assert diff.replaces == ["alias"] and not diff.delete_before_replace


def test_refresh_keeps_the_setting_and_whether_a_restart_was_made(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    read = provider.read(created.id, created.outs)
    assert read.id == created.id
    assert read.outs["setting"] == SETTING and read.outs["restarted"] is False
    again = provider.read(created.id, {**created.outs, "restarted": True})
    assert again.outs["restarted"] is True


def test_import_reads_deployment_ref_id_and_alias_from_the_id(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    imported = provider.read(created.id, {"ece": env.ece_props(), "ece_credentials": env.ece_credentials()})
    assert imported.id == created.id and imported.inputs is not None
    assert imported.inputs["deployment_id"] == env.deployment_id
    assert imported.inputs["ref_id"] == REF_ID
    assert imported.inputs["alias"] == "logs"
    assert imported.outs["setting"] == SETTING


def test_refresh_of_a_key_removed_by_hand_reports_it_gone(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    client_from(props(env)).patch_keystore(env.deployment_id, REF_ID, {SETTING: {}})
    read = provider.read(created.id, created.outs)
    assert read.id == "" and read.outs == {}


def test_refresh_and_delete_when_the_deployment_is_gone(env: EmulatedLink) -> None:
    """ECE answers 404 for the keystore of a deployment that no longer exists: refresh reports the key gone (an
    empty id and no outputs, which the engine takes as deleted) and delete succeeds."""
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    env.fault(env.ece, route="GET .*/keystore", kind="status", status=404, times=-1)
    env.fault(env.ece, route="PATCH .*/keystore", kind="status", status=404, times=-1)
    read = provider.read(created.id, created.outs)
    assert read.id == "" and read.outs == {}
    provider.delete(created.id, created.outs)


def test_delete_reports_an_ece_error_that_is_not_a_404(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    env.fault(env.ece, route="PATCH .*/keystore", kind="status", status=400, times=-1)
    with pytest.raises(EceApiError) as raised:
        provider.delete(created.id, created.outs)
    assert raised.value.status == 400
    env.fault(env.ece, route="PATCH .*/keystore", kind="status", status=405, times=-1)
    with pytest.raises(EceApiError):
        provider.delete(created.id, created.outs)


def test_refresh_reports_an_ece_error_that_is_not_a_404(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    env.fault(env.ece, route="GET .*/keystore", kind="status", status=405, times=-1)
    with pytest.raises(EceApiError):
        provider.read(created.id, created.outs)


def test_adoption_keeps_the_entry_set_by_hand_and_writes_nothing(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    client_from(props(env)).patch_keystore(env.deployment_id, REF_ID, {SETTING: {"value": VALUE, "as_file": False}})
    news = props(env, value="", adopt=True)
    created = provider.create(news)
    assert created.id == f"{env.deployment_id}/{REF_ID}/{SETTING}"
    outs = created.outs
    assert outs["deployment_id"] == env.deployment_id and outs["ref_id"] == REF_ID and outs["alias"] == "logs"
    assert outs["ece"] == env.ece_props() and outs["plan_timeout_seconds"] == 10
    assert outs["setting"] == SETTING and outs["restarted"] is False and outs["adopted"] is True
    assert stored(env)[SETTING]["value"] == VALUE


def test_adoption_of_a_missing_entry_names_the_remote_entries_there(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    client = client_from(props(env))
    news = props(env, value="", adopt=True)
    with pytest.raises(AdoptionError) as raised:
        provider.create(news)
    assert str(raised.value).endswith("(its cluster.remote entries: none)")
    for alias in ("b-side", "a-side"):
        key = f"cluster.remote.{alias}.credentials"
        client.patch_keystore(env.deployment_id, REF_ID, {key: {"value": VALUE, "as_file": False}})
    with pytest.raises(AdoptionError) as raised:
        provider.create(news)
    text = str(raised.value)
    assert f"has no {SETTING}" in text
    assert text.endswith(
        "(its cluster.remote entries: cluster.remote.a-side.credentials, cluster.remote.b-side.credentials)"
    )
    assert "s3.client" not in text


def registered(**extra: Any) -> tuple[RecordingMocks, Any]:
    mocks = RecordingMocks(outputs=lambda args: {"setting": SETTING, "restarted": True})

    def build() -> Any:
        return EceKeystoreCredentials(
            "key",
            ece={"url": "https://ece.example.com:12443"},
            ece_credentials={"api_key": "ece-key"},
            deployment_id="d" * 32,
            alias="logs",
            value=VALUE,
            **extra,
        )

    return mocks, run_under_mocks(build, mocks)


def test_the_resource_registers_its_inputs_and_defaults() -> None:
    mocks, resource = registered()
    inputs = mocks.one(KEYSTORE).inputs
    assert inputs["ece"] == {"url": "https://ece.example.com:12443"}
    assert inputs["ref_id"] == "_main" and inputs["plan_timeout_seconds"] == 600 and inputs["adopt"] is False
    # the provider the engine runs: the pickled EceKeystoreCredentialsProvider class
    assert b"EceKeystoreCredentialsProvider" in base64.b64decode(unwrap_secret(inputs["__provider"])[0])
    assert resolve(resource.setting).value == SETTING and resolve(resource.restarted).value is True
    mocks, _ = registered(adopt=True, plan_timeout_seconds=30)
    inputs = mocks.one(KEYSTORE).inputs
    assert inputs["adopt"] is True and inputs["plan_timeout_seconds"] == 30
