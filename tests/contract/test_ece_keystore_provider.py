"""`EceKeystoreCredentials` against the ECE emulator: the one key we own, other keys untouched, values never read
back, a restart for Elasticsearch below 8.14, and no secret in any log line or error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.ece.client import EceApiError, EcePlanError
from components.ece.connection_props import client_from
from components.ece.keystore import EceKeystoreCredentialsProvider
from tests.support.aliases import ALIASES, neighbours
from tests.support.ece_deployments import OLD_DEPLOYMENT, add_old_deployment
from tests.support.ece_swagger import swagger
from tests.support.secrets import assert_hidden
from tools.emulated_link import ECE_API_KEY, REF_ID, EmulatedLink

SETTING = "cluster.remote.logs.credentials"
VALUE = "ZW5jb2RlZC1jcm9zcy1jbHVzdGVyLWtleS12YWx1ZS0x"


def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    news = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "alias": "logs",
        "value": VALUE,
        "plan_timeout_seconds": 10,
        **extra,
    }
    return EceKeystoreCredentialsProvider().check({}, news).inputs


def stored(env: EmulatedLink, deployment: str | None = None) -> dict[str, Any]:
    return env.control(env.ece, "GET", f"keystore/{deployment or env.deployment_id}/{REF_ID}")["secrets"]


def test_create_sets_only_our_key_and_reaches_elasticsearch(env: EmulatedLink) -> None:
    result = EceKeystoreCredentialsProvider().create(props(env))
    secrets = stored(env)
    assert secrets[SETTING] == {"value": VALUE, "as_file": False}
    assert "s3.client.default.secret_key" in secrets
    assert result.id == f"{env.deployment_id}/{REF_ID}/{SETTING}"
    assert result.outs["restarted"] is False
    assert env.control(env.local, "GET", "keystore")["effective"][SETTING] == VALUE
    for entry in env.requests_to(env.ece):
        swagger().assert_documented(entry["method"], entry["path"], entry["status"])


def test_update_overwrites_the_value_and_a_no_op_sends_nothing(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    env.control(env.ece, "DELETE", "requests")
    same = props(env)
    assert not provider.diff(created.id, created.outs, same).changes
    provider.update(created.id, created.outs, same)
    assert env.requests_to(env.ece) == []
    news = props(env, value="bmV3LXZhbHVl")
    assert provider.diff(created.id, created.outs, news).changes
    provider.update(created.id, created.outs, news)
    assert stored(env)[SETTING]["value"] == "bmV3LXZhbHVl"


def test_alias_change_replaces_and_delete_removes_only_ours(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    old = provider.create(props(env))
    news = props(env, alias="logs2")
    assert provider.diff(old.id, old.outs, news).replaces == ["alias"]
    provider.create(news)
    provider.delete(old.id, old.outs)
    secrets = stored(env)
    assert SETTING not in secrets and "cluster.remote.logs2.credentials" in secrets
    assert "s3.client.default.secret_key" in secrets
    provider.delete(old.id, old.outs)  # already gone: success


@pytest.mark.parametrize("alias", ALIASES)
def test_the_key_is_named_after_the_alias_whatever_its_characters(env: EmulatedLink, alias: str) -> None:
    """`cluster.remote.<alias>.credentials` exactly, with `-`, `_` and digits: created, loaded by the deployment's
    Elasticsearch, read back (refresh, import) as the same alias, deleted; the keys of aliases that differ only by
    `-`/`_` or that the alias is a prefix of stay as they are."""
    provider = EceKeystoreCredentialsProvider()
    others = {
        f"cluster.remote.{other}.credentials": f"b3RoZXItYWxpYXMta2V5LXZhbHVlLQ-{i}"
        for i, other in enumerate(neighbours(alias))
    }
    for other in neighbours(alias):
        provider.create(props(env, alias=other, value=others[f"cluster.remote.{other}.credentials"]))
    key = f"cluster.remote.{alias}.credentials"
    news = props(env, alias=alias)
    assert provider.check({}, news).failures == []
    created = provider.create(news)
    assert created.id == f"{env.deployment_id}/{REF_ID}/{key}" and created.outs["setting"] == key
    secrets = stored(env)
    assert secrets[key]["value"] == VALUE
    assert {k: secrets[k]["value"] for k in others} == others
    assert env.control(env.local, "GET", "keystore")["effective"][key] == VALUE
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.inputs["alias"] == alias
    assert not provider.diff(created.id, refreshed.outs, news).changes
    imported = provider.read(created.id, {"ece": env.ece_props(), "ece_credentials": env.ece_credentials()})
    assert imported.inputs["alias"] == alias
    provider.delete(created.id, created.outs)
    secrets = stored(env)
    assert key not in secrets and {k: secrets[k]["value"] for k in others} == others
    assert provider.read(created.id, created.outs).id == ""


def test_refresh_reads_only_whether_the_key_is_there_and_keeps_the_value_from_state(env: EmulatedLink) -> None:
    """Values cannot be read back (the ECE API lists keys only: test_ece_emulator.py): a refresh makes one GET,
    writes nothing, keeps the value state holds (no drift from what it cannot see), and a value changed by hand is
    not taken for ours."""
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    client_from(props(env)).patch_keystore(env.deployment_id, REF_ID, {SETTING: {"value": "Y2hhbmdlZC1ieS1oYW5k"}})
    env.control(env.ece, "DELETE", "requests")
    read = provider.read(created.id, created.outs)
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in env.requests_to(env.ece)] == [("GET", "keystore")]
    assert read.outs["value"] == VALUE and read.inputs["value"] == VALUE
    assert not provider.diff(created.id, read.outs, props(env)).changes


def test_read_serves_refresh_and_import(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(props(env))
    imported = provider.read(created.id, {"ece": env.ece_props(), "ece_credentials": env.ece_credentials()})
    assert imported.id == created.id and imported.inputs["alias"] == "logs"
    env.control(env.ece, "DELETE", "requests")
    # someone removes the key in the ECE UI: refresh finds it gone, and the next up recreates it
    client_view = client_from(props(env))
    client_view.patch_keystore(env.deployment_id, REF_ID, {SETTING: {}})
    assert provider.read(created.id, created.outs).id == ""


def old_plans(env: EmulatedLink) -> dict[str, Any]:
    return dict(env.control(env.ece, "GET", "state")["deployments"][OLD_DEPLOYMENT]["resources"][REF_ID]["plans"])


def test_below_8_14_the_deployment_is_restarted_to_load_the_key(env: EmulatedLink) -> None:
    add_old_deployment(env)
    result = EceKeystoreCredentialsProvider().create(props(env, deployment_id=OLD_DEPLOYMENT))
    assert result.outs["restarted"] is True
    history = env.control(env.ece, "GET", "state")["deployments"][OLD_DEPLOYMENT]["resources"][REF_ID]["plans"]
    assert history["pending"] is None
    assert any(attempt["kind"] == "restart" for attempt in [history["current"], *history["history"]])
    pushes = [
        p
        for p in env.control(env.ece, "GET", "pushes")
        if p["deployment_id"] == OLD_DEPLOYMENT and p["url"].endswith("/_emulator/keystore")
    ]
    assert [p["payload"]["reload"] for p in pushes] == [False, True]


def test_a_restart_whose_plan_shows_up_late_is_awaited(env: EmulatedLink) -> None:
    """Right after `_restart` no plan is pending yet; that read is not trusted (cloud-sdk-go pkg/plan/track_change.go)."""
    add_old_deployment(env)
    env.control(env.ece, "POST", "pending-delay", {"seconds": 1.0})
    result = EceKeystoreCredentialsProvider().create(props(env, deployment_id=OLD_DEPLOYMENT))
    assert result.outs["restarted"] is True
    plans = old_plans(env)
    assert plans["pending"] is None
    assert (plans["current"]["kind"], plans["current"]["outcome"]) == ("restart", "success")


@pytest.mark.parametrize("delay", [0.0, 1.0], ids=["pending-at-once", "pending-late"])
def test_a_restart_that_fails_is_reported_from_the_plan_log_without_secrets(
    env: EmulatedLink, caplog: pytest.LogCaptureFixture, delay: float
) -> None:
    caplog.set_level(logging.DEBUG)
    add_old_deployment(env)
    env.control(env.ece, "POST", "pending-delay", {"seconds": delay})
    env.control(
        env.ece,
        "POST",
        "fail-next-plan",
        {
            "deployment_id": OLD_DEPLOYMENT,
            # the plan log repeats the value and the ECE API key (as a log might): the error must not
            "message": "Failed to detect running cluster - instance was not detected as running in time. "
            f"(keystore {SETTING}={VALUE}, by {ECE_API_KEY})",
            "failure_type": "ClusterFailure:InstanceDidNotStartWhileWaitingForRunning",
            "internal_details": {"details": "Instance is not running [instance-0000000038]"},
        },
    )
    with pytest.raises(EcePlanError) as raised:
        EceKeystoreCredentialsProvider().create(props(env, deployment_id=OLD_DEPLOYMENT))
    text = str(raised.value)
    assert OLD_DEPLOYMENT in text and "failed at step 'rolling-restart-instances'" in text
    assert "instance was not detected as running in time" in text
    assert "[ClusterFailure:InstanceDidNotStartWhileWaitingForRunning]" in text
    assert_hidden(f"{text}\n{caplog.text}", VALUE, ECE_API_KEY)
    assert "instance-0000000038" not in text and "instance-0000000038" not in caplog.text  # internal details
    assert old_plans(env)["current"]["outcome"] == "error"


def test_faults_converge_and_keep_other_keys(env: EmulatedLink) -> None:
    for fault in (
        {"route": "PATCH .*/keystore", "kind": "status", "status": 503, "times": 1},
        {"route": "PATCH .*/keystore", "kind": "lost_response", "times": 1},
        {"route": "GET .*/keystore", "kind": "retry_after", "retry_after": 1, "times": 1},
        {"route": "PATCH .*/keystore", "kind": "drop", "times": 1},
    ):
        env.fault(env.ece, **fault)
    EceKeystoreCredentialsProvider().create(props(env))
    secrets = stored(env)
    assert secrets[SETTING]["value"] == VALUE and "s3.client.default.secret_key" in secrets


def test_a_permanent_fault_fails_clearly_without_the_value(env: EmulatedLink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    message = f"could not store {VALUE} for {ECE_API_KEY}"
    env.fault(
        env.ece,
        route="PATCH .*/keystore",
        kind="status",
        status=500,
        times=-1,
        body={"errors": [{"code": "deployments.metadata_internal_error", "message": message}]},
    )
    with pytest.raises(EceApiError) as raised:
        EceKeystoreCredentialsProvider().create(props(env))
    text = str(raised.value)
    assert "HTTP 500 [deployments.metadata_internal_error]" in text
    assert "could not store" in text
    assert_hidden(f"{text}\n{caplog.text}", VALUE, ECE_API_KEY)
    assert SETTING not in stored(env)


def test_wrong_credentials_fail_with_the_ece_code_and_no_secret(env: EmulatedLink) -> None:
    """The 401 repeats the key it refused (as an API may): the error has ECE's code, never the key."""
    wrong = "wrong-ece-api-key-0123456789"
    env.fault(
        env.ece,
        route="PATCH .*/keystore",
        kind="status",
        status=401,
        body={"errors": [{"code": "root.unauthenticated", "message": f"The API key [{wrong}] is not valid"}]},
    )
    news = props(env, ece_credentials={"api_key": wrong})
    with pytest.raises(EceApiError) as raised:
        EceKeystoreCredentialsProvider().create(news)
    assert raised.value.status == 401 and raised.value.code == "root.unauthenticated"
    assert "is not valid" in str(raised.value)
    assert_hidden(str(raised.value), wrong, VALUE)


def test_check_tolerates_unknowns_and_rejects_a_bad_alias(env: EmulatedLink) -> None:
    provider = EceKeystoreCredentialsProvider()
    assert provider.check({}, {**props(env), "value": UNKNOWN}).failures == []
    failures = provider.check({}, {**props(env), "alias": "Logs.Prod"}).failures
    assert failures and "lowercase" in failures[0].reason
