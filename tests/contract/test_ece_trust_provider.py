"""`EceTrustedCa` against the ECE emulator over HTTP: every operation ends with the emulator's state asserted,
and nothing that is not ours (other direct entries, accounts, external trust) is ever lost or changed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from components import names
from components.dynamic import UNKNOWN
from components.ece.client import EceApiError, EcePlanError
from components.ece.connection_props import client_from
from components.ece.trust import EceTrustedCaProvider, EntryRef, change_entry, dropping, normalise
from tests.support.aliases import ALIASES, twin
from tests.support.certs import make_ca
from tests.support.ece_swagger import swagger
from tools.emulated_link import REF_ID, EmulatedLink

CA1 = make_ca("eck-ca-1")
CA2 = make_ca("eck-ca-2")


def props(
    env: EmulatedLink, *, name: str = "ece-eck-remote-logs", certificates: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    news = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "entry_name": name,
        "model": "api-key",
        "certificates": certificates or [CA1.certificate_pem],
        "plan_timeout_seconds": 10,
        **extra,
    }
    return EceTrustedCaProvider().check({}, news).inputs


def foreign(env: EmulatedLink) -> dict[str, Any]:
    """Everything in the deployment's trust that is not ours."""
    trust = env.ece_resource()["trust"]
    return {
        "accounts": trust.get("accounts"),
        "external": trust.get("external"),
        "direct": [e for e in trust.get("direct") or [] if not e["name"].startswith("ece-eck-remote")],
    }


def ours(env: EmulatedLink, name: str = "ece-eck-remote-logs") -> dict[str, Any] | None:
    return next((e for e in env.direct_entries() if e["name"] == name), None)


def pems(entry: dict[str, Any] | None) -> list[str]:
    return normalise([c["pem"] for c in (entry or {}).get("certificates") or []])


def test_create_adds_exactly_our_proxy_entry_and_keeps_everything_else(env: EmulatedLink) -> None:
    before = foreign(env)
    result = EceTrustedCaProvider().create(props(env))
    entry = ours(env)
    assert entry is not None
    assert entry["type"] == "proxy" and entry["trust_all"] is False
    assert "scope_id" not in entry and "trust_allowlist" not in entry and "additional_node_names" not in entry
    assert pems(entry) == normalise([CA1.certificate_pem])
    assert foreign(env) == before
    assert result.id == f"{env.deployment_id}/{REF_ID}/ece-eck-remote-logs"
    assert result.outs["uid"] == entry["uid"]
    assert env.ece_resource()["plans"]["pending"] is None
    # the finished plan pushed the trusted CAs to the deployment's Elasticsearch
    trusted = env.control(env.local, "GET", "trust")["certificates"]
    assert normalise(trusted).count(normalise([CA1.certificate_pem])[0]) == 1


def test_every_request_is_in_the_swagger(env: EmulatedLink) -> None:
    EceTrustedCaProvider().create(props(env))
    for entry in env.requests_to(env.ece):
        swagger().assert_documented(entry["method"], entry["path"], entry["status"])


def test_certificate_model_entry_is_generic_with_the_namespace_scope(env: EmulatedLink) -> None:
    created = EceTrustedCaProvider().create(props(env, model="certificate", scope_id="observability.es.local"))
    entry = ours(env)
    assert entry is not None
    assert entry["type"] == "generic" and entry["trust_all"] is True and entry["scope_id"] == "observability.es.local"
    read = EceTrustedCaProvider().read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["scope_id"] == "observability.es.local"


def test_certificate_model_needs_a_scope() -> None:
    checked = EceTrustedCaProvider().check(
        {}, {"deployment_id": "d", "entry_name": "e", "certificates": ["x"], "model": "certificate"}
    )
    assert [failure.property for failure in checked.failures if failure.property == "scope_id"] == ["scope_id"]


def test_no_op_update_writes_nothing(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    env.control(env.ece, "DELETE", "requests")
    news = props(env)
    assert not provider.diff(created.id, created.outs, news).changes
    provider.update(created.id, created.outs, news)
    assert [r for r in env.requests_to(env.ece) if r["method"] == "PUT"] == []


def test_a_ca_change_keeps_the_old_ca_beside_the_new_one_as_retiring(env: EmulatedLink) -> None:
    """The provider's half of a CA rotation: the new CA is added beside the old one, which it names as retiring.
    Dropping it once the link is confirmed with the new CA alone is the connection check's (test_connection_check.py
    `test_a_ca_rotation_is_finished_once_the_new_ca_alone_connects`, `..._has_not_finished_keeps_both_cas`); here the
    removal is called by hand, only to show that the state it leaves reads back without drift."""
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    before = foreign(env)
    news = props(env, certificates=[CA2.certificate_pem])
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes and not diff.replaces
    updated = provider.update(created.id, created.outs, news)
    assert pems(ours(env)) == normalise([CA2.certificate_pem, CA1.certificate_pem])
    assert updated.outs["retiring_certificates"] == normalise([CA1.certificate_pem])
    assert ours(env)["uid"] == created.outs["uid"]
    # what the connection check's confirmation does (called by hand here)
    change_entry(client_from(news), EntryRef.of(news), dropping(updated.outs["retiring_certificates"]), 10)
    assert pems(ours(env)) == normalise([CA2.certificate_pem])
    assert foreign(env) == before
    # and the state left by the rotation reads back without drift
    read = provider.read(created.id, updated.outs)
    assert not provider.diff(created.id, read.outs, news).changes


def test_alias_change_replaces_the_entry(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    old = provider.create(props(env))
    news = props(env, name="ece-eck-remote-logs2")
    assert provider.diff(old.id, old.outs, news).replaces == ["entry_name"]
    provider.create(news)
    provider.delete(old.id, old.outs)
    names = [e["name"] for e in env.direct_entries()]
    assert "ece-eck-remote-logs2" in names and "ece-eck-remote-logs" not in names
    assert "partner-datacenter" in names


@pytest.mark.parametrize("alias", ALIASES)
def test_the_entry_is_named_after_the_alias_whatever_its_characters(env: EmulatedLink, alias: str) -> None:
    """`ece-eck-remote-<alias>` exactly (the name a link's entry has, `names.trust_entry_name`): two aliases that
    differ only by `-`/`_` own two entries, each with its own CA, and each is read and deleted alone."""
    provider = EceTrustedCaProvider()
    name, other = names.trust_entry_name(alias), names.trust_entry_name(twin(alias))
    assert name == f"ece-eck-remote-{alias}" and other == f"ece-eck-remote-{twin(alias)}"
    before = foreign(env)
    created = provider.create(props(env, name=name, certificates=[CA1.certificate_pem]))
    theirs = provider.create(props(env, name=other, certificates=[CA2.certificate_pem]))
    assert created.id == f"{env.deployment_id}/{REF_ID}/{name}"
    assert pems(ours(env, name)) == normalise([CA1.certificate_pem])
    assert pems(ours(env, other)) == normalise([CA2.certificate_pem])
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.inputs["entry_name"] == name
    assert not provider.diff(created.id, refreshed.outs, props(env, name=name)).changes
    provider.delete(created.id, created.outs)
    assert ours(env, name) is None and pems(ours(env, other)) == normalise([CA2.certificate_pem])
    provider.delete(theirs.id, theirs.outs)
    assert foreign(env) == before


def test_delete_removes_only_ours_and_is_idempotent(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    before = foreign(env)
    created = provider.create(props(env))
    provider.delete(created.id, created.outs)
    assert ours(env) is None
    assert foreign(env) == before
    provider.delete(created.id, created.outs)  # already gone: success
    gone = {**created.outs, "deployment_id": "0" * 32}
    provider.delete(f"{'0' * 32}/{REF_ID}/ece-eck-remote-logs", gone)  # deployment gone: success


def test_import_reads_the_entry_from_its_id(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    imported = provider.read(created.id, {"ece": env.ece_props(), "ece_credentials": env.ece_credentials()})
    assert imported.id == created.id
    assert imported.inputs["certificates"] == normalise([CA1.certificate_pem])
    assert imported.inputs["model"] == "api-key"
    assert imported.outs["uid"] == created.outs["uid"]


def change_behind_our_back(env: EmulatedLink, mutate) -> None:
    """Another writer (a person in the ECE UI) changes the deployment's trust."""
    client = client_from(props(env))
    deployment = client.get_deployment(env.deployment_id)
    resource = deployment.elasticsearch(REF_ID)
    trust = deployment.trust(REF_ID)
    trust["direct"] = mutate(
        [{**e, "certificates": [{"pem": c["pem"]} for c in e["certificates"]]} for e in trust["direct"]]
    )
    body = {
        "prune_orphans": False,
        "resources": {
            "elasticsearch": [
                {
                    "ref_id": REF_ID,
                    "region": resource["region"],
                    "plan": resource["info"]["plan_info"]["current"]["plan"],
                    "settings": {"trust": trust},
                }
            ]
        },
    }
    client.update_deployment(env.deployment_id, body, deployment.version)
    client.wait_for_plan(env.deployment_id, REF_ID, 10)


def test_refresh_reports_our_entry_changed_and_up_repairs_it(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    change_behind_our_back(
        env,
        lambda direct: [
            ({**e, "certificates": [{"pem": CA2.certificate_pem}]} if e["name"] == "ece-eck-remote-logs" else e)
            for e in direct
        ],
    )
    read = provider.read(created.id, created.outs)
    assert read.inputs["certificates"] == normalise([CA2.certificate_pem])
    desired = props(env)
    assert provider.diff(created.id, read.outs, desired).changes
    provider.update(created.id, read.outs, desired)
    assert normalise([CA1.certificate_pem])[0] in pems(ours(env))


def test_refresh_reports_our_entry_removed(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    change_behind_our_back(env, lambda direct: [e for e in direct if e["name"] != "ece-eck-remote-logs"])
    assert provider.read(created.id, created.outs).id == ""


def test_check_tolerates_unknowns_in_preview_and_diff_makes_no_call(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    news = {**props(env), "certificates": UNKNOWN}
    assert provider.check({}, news).failures == []
    env.control(env.ece, "DELETE", "requests")
    diff = provider.diff("id", props(env), news)
    assert diff.changes
    assert env.requests_to(env.ece) == []


def test_check_rejects_bad_inputs() -> None:
    failures = (
        EceTrustedCaProvider()
        .check(
            {},
            {
                "ece": {"url": "ftp://x"},
                "ece_credentials": {},
                "deployment_id": "d",
                "entry_name": "n",
                "certificates": ["not a pem"],
                "model": "x",
            },
        )
        .failures
    )
    reasons = " | ".join(f.reason for f in failures)
    assert "http(s) URL" in reasons and "credentials" in reasons and "PEM" in reasons and "model" in reasons


TRANSIENT_FAULTS = [
    {"route": "GET /api/v1/deployments/[0-9a-f]+", "kind": "status", "status": 503, "times": 2},
    {"route": "PUT /api/v1/deployments/[0-9a-f]+", "kind": "status", "status": 502, "times": 1},
    {"route": "PUT /api/v1/deployments/[0-9a-f]+", "kind": "retry_after", "retry_after": 1, "times": 1},
    {"route": "GET /api/v1/deployments/[0-9a-f]+", "kind": "slow", "delay": 1.5, "times": 1},
    {"route": "GET /api/v1/deployments/[0-9a-f]+", "kind": "drop", "times": 1},
    {"route": "PUT /api/v1/deployments/[0-9a-f]+", "kind": "html", "status": 503, "times": 1},
    {"route": "PUT /api/v1/deployments/[0-9a-f]+", "kind": "conflict", "times": 2},
    {"route": "PUT /api/v1/deployments/[0-9a-f]+", "kind": "lost_response", "times": 1},
]


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=lambda f: f"{f['kind']}-{f['route'].split()[0]}")
def test_transient_faults_converge_and_lose_nothing(env: EmulatedLink, fault: dict[str, Any]) -> None:
    before = foreign(env)
    env.fault(env.ece, **fault)
    EceTrustedCaProvider().create(props(env) | {"ece": env.ece_props(timeout=1.0)})
    assert pems(ours(env)) == normalise([CA1.certificate_pem])
    assert foreign(env) == before
    assert [e["name"] for e in env.direct_entries()].count("ece-eck-remote-logs") == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            {
                "route": "PUT /api/v1/deployments/[0-9a-f]+",
                "kind": "status",
                "status": 500,
                "times": -1,
                "body": {"errors": [{"code": "deployments.internal_error", "message": "boom"}]},
            },
            "HTTP 500 [deployments.internal_error]: boom",
        ),
        (
            {"route": "GET /api/v1/deployments/[0-9a-f]+", "kind": "html", "status": 502, "times": -1},
            "HTTP 502: unexpected text/html body",
        ),
        (
            {
                "route": "PUT /api/v1/deployments/[0-9a-f]+",
                "kind": "status",
                "status": 400,
                "times": 1,
                "body": {"errors": [{"code": "root.invalid_data", "message": "bad"}]},
            },
            "HTTP 400 [root.invalid_data]: bad",
        ),
    ],
)
def test_permanent_faults_fail_clearly_and_change_nothing(
    env: EmulatedLink, fault: dict[str, Any], expected: str
) -> None:
    before = env.ece_resource()["trust"]
    env.fault(env.ece, **fault)
    with pytest.raises(EceApiError) as raised:
        EceTrustedCaProvider().create(props(env) | {"ece": env.ece_props(timeout=1.0)})
    message = str(raised.value)
    assert message.startswith("ECE API ")
    assert expected in message
    assert env.deployment_id in message
    assert "ece-test-api-key" not in message
    assert env.ece_resource()["trust"] == before


def test_a_failed_plan_is_reported_with_its_message(env: EmulatedLink) -> None:
    env.control(env.ece, "POST", "fail-next-plan", {"message": "allocator out of capacity"})
    with pytest.raises(Exception, match="allocator out of capacity"):
        EceTrustedCaProvider().create(props(env))


def test_two_writers_at_the_same_time_both_land(env: EmulatedLink) -> None:
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.2})
    errors: list[BaseException] = []

    def write(name: str, ca: str) -> None:
        try:
            EceTrustedCaProvider().create(props(env, name=name, certificates=[ca]))
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=("ece-eck-remote-a", CA1.certificate_pem)),
        threading.Thread(target=write, args=("ece-eck-remote-b", CA2.certificate_pem)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = [e["name"] for e in env.direct_entries()]
    assert sorted(n for n in names if n.startswith("ece-eck-remote")) == ["ece-eck-remote-a", "ece-eck-remote-b"]
    assert "partner-datacenter" in names


def write_with_an_interleaved_writer(env: EmulatedLink) -> None:
    """Deterministic interleaving: another writer lands after we read; our stale write conflicts and is redone."""
    interleaved = []

    def mutate(entry):
        if not interleaved:
            interleaved.append(True)
            change_behind_our_back(
                env,
                lambda direct: [
                    *direct,
                    {
                        "name": "someone-else",
                        "type": "proxy",
                        "trust_all": False,
                        "certificates": [{"pem": CA2.certificate_pem}],
                    },
                ],
            )
        return {
            "name": "ece-eck-remote-logs",
            "type": "proxy",
            "trust_all": False,
            "certificates": [{"pem": CA1.certificate_pem}],
        }

    news = props(env)
    change_entry(client_from(news), EntryRef.of(news), mutate, 10)


def test_a_write_between_our_read_and_our_write_is_kept(env: EmulatedLink) -> None:
    write_with_an_interleaved_writer(env)
    names = [e["name"] for e in env.direct_entries()]
    assert "someone-else" in names and "ece-eck-remote-logs" in names and "partner-datacenter" in names
    assert any(r["method"] == "PUT" and r["status"] == 409 for r in env.requests_to(env.ece))


# --- plan tracking (cloud-sdk-go pkg/plan/track_change.go) -------------------------------------------------------
def plans(env: EmulatedLink) -> dict[str, Any]:
    return dict(env.ece_resource()["plans"])


def test_a_plan_that_shows_up_late_is_awaited(env: EmulatedLink) -> None:
    """Right after the PUT no plan is pending yet: that read is not trusted, the plan is awaited to its end."""
    env.control(env.ece, "POST", "pending-delay", {"seconds": 1.0})
    before = plans(env)["current"]["name"]
    EceTrustedCaProvider().create(props(env))
    after = plans(env)
    assert after["pending"] is None
    assert after["current"]["name"] != before
    assert (after["current"]["kind"], after["current"]["outcome"]) == ("update", "success")
    trusted = env.control(env.local, "GET", "trust")["certificates"]
    assert normalise([CA1.certificate_pem])[0] in normalise(trusted)


FAILURE_MESSAGE = "Plan change failed: Timeout exceeded. Please adjust plan timeout and/or retry plan."
FAILURE = {
    "message": FAILURE_MESSAGE,
    "failure_type": "InfrastructureFailure:TimeoutExceeded",
    "internal_details": {"details": "allocator 10.1.2.3 token=internal-only-detail"},
}


@pytest.mark.parametrize("delay", [0.0, 1.0], ids=["pending-at-once", "pending-late"])
def test_a_plan_that_fails_after_the_put_is_reported_from_its_log(env: EmulatedLink, delay: float) -> None:
    env.control(env.ece, "POST", "pending-delay", {"seconds": delay})
    env.control(env.ece, "POST", "fail-next-plan", FAILURE)
    with pytest.raises(EcePlanError) as raised:
        EceTrustedCaProvider().create(props(env))
    text = str(raised.value)
    assert env.deployment_id in text
    assert "failed at step 'rolling-update-instances'" in text
    assert FAILURE_MESSAGE in text and "[InfrastructureFailure:TimeoutExceeded]" in text
    assert "internal-only-detail" not in text and "ece-test-api-key" not in text
    assert plans(env)["pending"] is None and plans(env)["current"]["outcome"] == "error"


def test_a_plan_that_ended_before_the_first_read_is_judged_without_waiting(env: EmulatedLink) -> None:
    """The plan finished (and failed) before the tracker's first read: no pending plan was ever seen, but the
    current plan is not the one read before the change, so it is ours (cloud-sdk-go `checkCurrentStatus` reports
    such a failure too, after its retries)."""
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0})
    started = time.monotonic()
    EceTrustedCaProvider().create(props(env, name="ece-eck-remote-fast"))
    assert time.monotonic() - started < 6  # not the 4 x 2 s an unseen plan costs
    env.control(env.ece, "POST", "fail-next-plan", FAILURE)
    with pytest.raises(EcePlanError, match="Timeout exceeded"):
        EceTrustedCaProvider().create(props(env))


# --- version conflicts: the swagger documents no conflict answer for PUT /deployments/{id} ----------------------
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "deployments.version_conflict"),
        (409, "deployments.deployment_resource_plan_change_error"),
        (400, "deployments.version_conflict"),
        (400, "root.version_conflict"),
    ],
)
def test_each_shape_of_version_conflict_is_retried_and_converges(env: EmulatedLink, status: int, code: str) -> None:
    env.control(env.ece, "POST", "conflict-answer", {"status": status, "code": code})
    env.fault(env.ece, route="PUT /api/v1/deployments/[0-9a-f]+", kind="conflict", times=2)
    before = foreign(env)
    EceTrustedCaProvider().create(props(env))
    assert pems(ours(env)) == normalise([CA1.certificate_pem])
    assert foreign(env) == before
    puts = [r["status"] for r in env.requests_to(env.ece) if r["method"] == "PUT"]
    assert puts == [status, status, 200]


def test_a_stale_version_answered_as_a_400_conflict_is_redone(env: EmulatedLink) -> None:
    """A real concurrent writer (not a fault), with ECE answering the stale `?version=` with a 400 conflict code."""
    env.control(env.ece, "POST", "conflict-answer", {"status": 400, "code": "deployments.version_conflict"})
    write_with_an_interleaved_writer(env)
    names = [e["name"] for e in env.direct_entries()]
    assert "someone-else" in names and "ece-eck-remote-logs" in names and "partner-datacenter" in names
    assert any(r["method"] == "PUT" and r["status"] == 400 for r in env.requests_to(env.ece))


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "root.invalid_data"),
        (400, "clusters.cluster_invalid_plan"),
        # 449 only appears in the swagger as "Please retry" on .../metadata/raw (deployments.metadata_internal_error);
        # cloud-sdk-go (pkg/api/apierror/error.go) reads it as "requires elevated permissions": not a conflict.
        (449, "root.needs_elevated_privileges"),
    ],
)
def test_an_error_that_is_not_a_conflict_is_not_retried(env: EmulatedLink, status: int, code: str) -> None:
    before = env.ece_resource()["trust"]
    env.fault(
        env.ece,
        route="PUT /api/v1/deployments/[0-9a-f]+",
        kind="status",
        status=status,
        times=-1,
        body={"errors": [{"code": code, "message": "no"}]},
    )
    with pytest.raises(EceApiError) as raised:
        EceTrustedCaProvider().create(props(env))
    assert (raised.value.status, raised.value.code) == (status, code)
    assert [r["status"] for r in env.requests_to(env.ece) if r["method"] == "PUT"] == [status]
    assert env.ece_resource()["trust"] == before
