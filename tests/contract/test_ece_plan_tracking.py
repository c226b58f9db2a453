"""`EceClient.wait_for_plan` on scripted reads, case by case as cloud-sdk-go's tracker tests them
(pkg/plan/track_change_test.go): reads without a pending plan count as retries before the end is trusted, the plan
that ended last is the current one or the last in history, and its last step says how it ended. Also which error
codes count as a version conflict. No HTTP: the reads are served from a script and time is simulated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.ece.client import (
    Deployment,
    EceApiError,
    EceClient,
    EceConnection,
    EcePlanError,
    PlanTracking,
    plan_failure,
)
from components.http import Auth

DEPLOYMENT_ID = "0123456789abcdef0123456789abcdef"
REF_ID = "main-elasticsearch"


def step(step_id: str, status: str, *messages: dict[str, Any]) -> dict[str, Any]:
    return {"step_id": step_id, "status": status, "stage": "completed", "started": "x", "info_log": list(messages)}


def attempt(attempt_id: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {"plan_attempt_id": attempt_id, "healthy": True, "warnings": [], "plan_attempt_log": list(steps)}


DONE = step("plan-completed", "success", {"message": "Plan change completed"})
RUNNING = step("rolling-update-instances", "pending", {"message": "Applying"})


def failed(message: str | None, failure_type: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"internal_details": {"details": "secret-internal"}, "details": {}}
    if message is not None:
        entry["message"] = message
    if failure_type:
        entry["failure_type"] = failure_type
    return (
        step("plan-completed", "error", entry)
        if message is not None or failure_type
        else step("plan-completed", "error")
    )


def read(
    current: dict[str, Any] | None, pending: dict[str, Any] | None = None, history: list[dict[str, Any]] | None = None
) -> Deployment:
    plan_info: dict[str, Any] = {"healthy": True, "history": history or []}
    if current is not None:
        plan_info["current"] = current
    if pending is not None:
        plan_info["pending"] = pending
    return Deployment(
        {"id": DEPLOYMENT_ID, "resources": {"elasticsearch": [{"ref_id": REF_ID, "info": {"plan_info": plan_info}}]}},
        "1",
    )


class Scripted(EceClient):
    """Reads come from `script` (an item that is an exception is raised); the clock moves only when it sleeps."""

    def __init__(self, script: list[Deployment | Exception], tracking: PlanTracking | None = None) -> None:
        self.now = 0.0
        super().__init__(
            EceConnection("https://ece.example:12443", plan_tracking=tracking or PlanTracking()),
            Auth.api_key("secret-internal-key"),
            sleep=self._sleep,
            clock=lambda: self.now,
        )
        self.script: Iterator[Deployment | Exception] = iter(script)
        self.reads: list[tuple[bool, bool]] = []

    def _sleep(self, seconds: float) -> None:
        self.now += seconds

    def get_deployment(self, deployment_id: str, *, plan_logs: bool = False, plan_history: bool = False) -> Deployment:
        self.reads.append((plan_logs, plan_history))
        item = next(self.script)
        if isinstance(item, Exception):
            raise item
        return item


OLD = attempt("old", DONE)
BEFORE = read(OLD)


def test_reads_without_a_pending_plan_are_not_trusted_until_max_retries() -> None:
    """The plan shows up only on the third read; the tracker is still there to see it, and waits for its end."""
    ours = attempt("ours", RUNNING)
    client = Scripted([BEFORE, BEFORE, read(OLD, ours), read(attempt("ours", DONE))])
    client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 600, before=BEFORE)
    assert len(client.reads) == 4
    assert client.now >= 2 * PlanTracking.poll_seconds  # two empty reads, a poll period apart


def test_no_plan_at_all_ends_after_max_retries_with_a_final_read_of_the_history() -> None:
    client = Scripted([BEFORE] * 5)
    assert client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 600, before=BEFORE) is BEFORE
    assert client.reads == [(True, False)] * 4 + [(True, True)]  # cloud-sdk-go: MaxRetries reads, then with history
    assert client.now == pytest.approx(3 * PlanTracking.poll_seconds)


def test_a_failure_in_the_last_history_plan_is_found_when_there_is_no_current_plan() -> None:
    """cloud-sdk-go `getPlanStepInfo`: "a common case for resources which failed to create properly"."""
    history = [attempt("first", failed("could not allocate", "InfrastructureFailure:CapacityExceeded"))]
    client = Scripted([read(None)] * 4 + [read(None, history=history)])
    with pytest.raises(EcePlanError) as raised:
        client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 600)
    assert str(raised.value) == (
        f"ECE plan on deployment {DEPLOYMENT_ID} ({REF_ID}) failed: could not allocate "
        "[InfrastructureFailure:CapacityExceeded]"
    )


def test_a_plan_seen_pending_ends_the_wait_as_soon_as_it_has_ended() -> None:
    client = Scripted([read(OLD, attempt("ours", RUNNING))] * 3 + [read(attempt("ours", DONE))])
    client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 600)  # no `before`: seeing it pending is enough
    assert len(client.reads) == 4 and client.now < PlanTracking.poll_seconds


def test_transient_read_errors_count_as_retries_and_others_are_raised() -> None:
    unavailable = EceApiError("get deployment", 503, "root.unavailable", "later")
    client = Scripted([unavailable, BEFORE, unavailable, BEFORE, BEFORE])
    client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 600, before=BEFORE)
    assert len(client.reads) == 5
    forbidden = EceApiError("get deployment", 403, "root.forbidden", "no")
    with pytest.raises(EceApiError, match="403"):
        Scripted([forbidden]).wait_for_plan(DEPLOYMENT_ID, REF_ID, 600, before=BEFORE)


def test_a_plan_still_pending_at_the_deadline_fails_the_wait() -> None:
    client = Scripted([read(OLD, attempt("ours", RUNNING))] * 100)
    with pytest.raises(EcePlanError, match="did not finish within 30s"):
        client.wait_for_plan(DEPLOYMENT_ID, REF_ID, 30, before=BEFORE)
    assert client.now <= 30


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ([DONE], None),
        ([RUNNING], None),  # not finished: cloud-sdk-go reports no error either
        ([failed(None)], "failed: plan failed due to unknown error"),
        (
            [step("rolling-update-instances", "error"), failed("Timeout exceeded")],
            "failed at step 'rolling-update-instances': Timeout exceeded",
        ),
    ],
)
def test_plan_failure_reads_the_last_step_as_cloud_sdk_go_does(log: list[dict[str, Any]], expected: str | None) -> None:
    plans = {"current": attempt("x", *log), "history": []}
    assert plan_failure(plans) == expected
    assert "secret-internal" not in str(plan_failure(plans))


@pytest.mark.parametrize(
    ("status", "code", "conflict"),
    [
        (409, "deployments.version_conflict", True),
        (409, "deployments.deployment_resource_plan_change_error", True),
        (409, None, True),
        (400, "deployments.version_conflict", True),
        (400, "root.version_conflict", True),
        (400, "adminconsole.base_url.version_conflict", True),
        (400, "proxies.proxies_filtered_group_version_conflict", True),
        (400, "root.invalid_data, deployments.version_conflict", True),
        (400, "root.invalid_data", False),
        (400, "clusters.cluster_invalid_plan", False),
        (400, None, False),
        (449, "deployments.metadata_internal_error", False),
        (404, "deployments.deployment_not_found", False),
    ],
)
def test_which_answers_are_version_conflicts(status: int, code: str | None, conflict: bool) -> None:
    assert EceApiError("update deployment", status, code, "x").is_version_conflict is conflict


def test_a_failed_step_without_a_message_falls_back_to_the_attempt_error() -> None:
    current = attempt("x", failed(None)) | {"error": {"message": "Instance capacity exhausted", "details": {}}}
    assert plan_failure({"current": current, "history": []}) == "failed: Instance capacity exhausted"
