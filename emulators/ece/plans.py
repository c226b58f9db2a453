"""Plan lifecycle of one Elasticsearch resource: current, pending and history attempts, finished by time.

An attempt is pending from its start until `started + duration`; then it becomes `current` and its
`plan_attempt_log` ends with the step `plan-completed` (status `success`, or `error` when it was made to fail,
with the failure in the step's `info_log` and in the attempt's `error`). This is what cloud-sdk-go's plan
tracker reads. A failed attempt also becomes `current` (healthy false), as the tracker expects.
Starting an attempt while another is pending supersedes it: the old one moves to history as cancelled. What a real
ECE does is not public; the swagger (ece-apidocs.json) documents no error for `PUT /deployments/{id}` while a plan is
pending (only 400, 401, 404), while `_restart` documents one (`cancel_pending`: "If false and there are pending plans,
returns an error"), so the update is accepted here and the newer plan, which carries the whole trust read after the
earlier write (`?version=`), replaces the pending one.
An attempt may start late (`delay`): until then it is held but not shown, as when ECE's constructor has not yet
picked the plan up, so a GET right after the change shows no pending plan.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulators.ece.certs import iso

UPDATE = "update"
RESTART = "restart"
CREATE = "create"
ACTIONS = {
    CREATE: "deployments.create-deployment",
    UPDATE: "deployments.update-deployment",
    RESTART: "deployments.restart-deployment-es-resource",
}
MAIN_STEPS = {
    CREATE: "apply-plan",
    UPDATE: "rolling-update-instances",
    RESTART: "rolling-restart-instances",
}
SUPERSEDED = "The plan was cancelled: a newer plan superseded it"
# A failure type ECE reports (cloud-sdk-go pkg/plan/track_change_test.go), with the `details` shape it uses there.
DEFAULT_FAILURE_TYPE = "UnknownFailure:UnknownErrorEncountered"


@dataclass(frozen=True)
class PlanFailure:
    """What a plan made to fail writes into its failed steps' `ClusterPlanStepLogMessageInfo`."""

    message: str
    failure_type: str = DEFAULT_FAILURE_TYPE
    internal_details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewOptions:
    """What the GET query parameters ask to see of a plan."""

    show_plans: bool = True
    show_plan_logs: bool = False
    show_plan_history: bool = False
    clear_transient: bool = False


@dataclass
class PlanAttempt:
    name: str
    kind: str
    plan: dict[str, Any]
    started: datetime.datetime
    duration: float
    failure: str | None = None
    reload_keystore: bool = False
    failure_type: str = DEFAULT_FAILURE_TYPE
    internal_details: dict[str, str] = field(default_factory=dict)
    attempt_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    outcome: str = "pending"  # pending | success | error | cancelled
    ended: datetime.datetime | None = None
    retired: datetime.datetime | None = None  # when it stopped being current or pending

    @property
    def due(self) -> datetime.datetime:
        return self.started + datetime.timedelta(seconds=self.duration)

    def finish(self, now: datetime.datetime) -> None:
        self.outcome = "error" if self.failure else "success"
        self.ended = min(now, self.due) if self.outcome == "success" else now

    def cancel(self, now: datetime.datetime) -> None:
        self.outcome, self.failure, self.ended, self.retired = "cancelled", SUPERSEDED, now, now

    def _step(
        self,
        step_id: str,
        start: datetime.datetime,
        end: datetime.datetime | None,
        status: str,
        message: str,
        *,
        failed_step: str | None = None,
    ) -> dict[str, Any]:
        stage = "in_progress" if end is None else "completed"
        entry: dict[str, Any] = {"timestamp": iso(end or start), "stage": stage, "message": message, "details": {}}
        if failed_step is not None:  # ClusterPlanStepLogMessageInfo of a failure
            entry.update(failure_type=self.failure_type, details={"stepId": failed_step})
            if self.internal_details:
                entry["internal_details"] = dict(self.internal_details)
        step: dict[str, Any] = {
            "step_id": step_id,
            "started": iso(start),
            "status": status,
            "stage": stage,
            "info_log": [entry],
        }
        if end is not None:
            step["completed"] = iso(end)
            step["duration_in_millis"] = int((end - start).total_seconds() * 1000)
        return step

    def log(self) -> list[dict[str, Any]]:
        """`plan_attempt_log`: a validation step, the work step, and `plan-completed` once finished."""
        validated = self.started + datetime.timedelta(seconds=self.duration / 10)
        steps = [self._step("validate-plan-prerequisites", self.started, validated, "success", "Plan is valid")]
        main = MAIN_STEPS[self.kind]
        if self.outcome == "pending":
            steps.append(self._step(main, validated, None, "pending", "Applying the plan to the instances"))
            return steps
        assert self.ended is not None
        if self.outcome == "success":
            steps.append(self._step(main, validated, self.ended, "success", "Instances updated"))
            steps.append(self._step("plan-completed", self.ended, self.ended, "success", "Plan change completed"))
            return steps
        message = self.failure or "Plan change failed"
        steps.append(self._step(main, validated, self.ended, "error", message, failed_step=main))
        steps.append(self._step("plan-completed", self.ended, self.ended, "error", message, failed_step=main))
        return steps

    def view(self, options: ViewOptions) -> dict[str, Any]:
        """`ElasticsearchClusterPlanInfo`."""
        info: dict[str, Any] = {
            "plan_attempt_id": self.attempt_id,
            "plan_attempt_name": self.name,
            "healthy": self.outcome in ("pending", "success"),
            "attempt_start_time": iso(self.started),
            "plan_attempt_log": self.log() if options.show_plan_logs else [],
            "source": {
                "facilitator": "adminconsole",
                "action": ACTIONS[self.kind],
                "date": iso(self.started),
                "user_id": "admin",
                "remote_addresses": ["127.0.0.1"],
            },
            "warnings": [],
        }
        if self.ended is not None:
            info["attempt_end_time"] = iso(self.ended)
        if self.retired is not None:
            info["plan_end_time"] = iso(self.retired)
        if options.show_plans:
            plan = copy.deepcopy(self.plan)
            if options.clear_transient:
                plan.pop("transient", None)
            info["plan"] = plan
        if self.outcome in ("error", "cancelled"):
            info["error"] = {
                "timestamp": iso(self.ended or self.started),
                "message": self.failure or "Plan change failed",
                "details": {},
                "failure_type": "ClusterFailure:Cancelled" if self.outcome == "cancelled" else self.failure_type,
            }
        return info


@dataclass
class PlanState:
    """The plans of one Elasticsearch resource."""

    current: PlanAttempt
    pending: PlanAttempt | None = None
    history: list[PlanAttempt] = field(default_factory=list)
    attempts: int = 1

    @classmethod
    def created(cls, plan: dict[str, Any], when: datetime.datetime) -> PlanState:
        first = PlanAttempt("attempt-0000000000", CREATE, copy.deepcopy(plan), when, 90.0)
        first.finish(first.due)
        return cls(current=first)

    def latest_plan(self) -> dict[str, Any]:
        """The plan the resource is heading to (pending) or running (current)."""
        return (self.pending or self.current).plan

    def version(self) -> str:
        return str(self.current.plan.get("elasticsearch", {}).get("version", ""))

    def start(
        self,
        kind: str,
        *,
        plan: dict[str, Any],
        now: datetime.datetime,
        duration: float,
        failure: PlanFailure | None,
        reload_keystore: bool,
        delay: float = 0.0,
    ) -> PlanAttempt:
        """A new attempt, pending from `now + delay` (hidden until then) for `duration` seconds."""
        if self.pending is not None:
            reload_keystore = reload_keystore or self.pending.reload_keystore
            self.pending.cancel(now)
            self.history.append(self.pending)
        attempt = PlanAttempt(
            f"attempt-{self.attempts:010d}",
            kind,
            copy.deepcopy(plan),
            now + datetime.timedelta(seconds=delay),
            duration,
            failure.message if failure else None,
            reload_keystore,
        )
        if failure is not None:
            attempt.failure_type, attempt.internal_details = failure.failure_type, dict(failure.internal_details)
        self.attempts += 1
        self.pending = attempt
        return attempt

    def advance(self, now: datetime.datetime) -> PlanAttempt | None:
        """Finish the pending attempt when it is due; returns it then."""
        if self.pending is None or now < self.pending.due:
            return None
        finished, self.pending = self.pending, None
        finished.finish(now)
        self.current.retired = finished.ended
        self.history.append(self.current)
        self.current = finished
        return finished

    def visible_pending(self, now: datetime.datetime) -> PlanAttempt | None:
        """The pending attempt, once it has started (a late one is held but not shown before)."""
        return self.pending if self.pending is not None and self.pending.started <= now else None

    def view(self, options: ViewOptions, now: datetime.datetime) -> dict[str, Any]:
        """`ElasticsearchClusterPlansInfo`."""
        info: dict[str, Any] = {
            "healthy": self.current.outcome == "success",
            "current": self.current.view(options),
            "history": [attempt.view(options) for attempt in self.history] if options.show_plan_history else [],
        }
        pending = self.visible_pending(now)
        if pending is not None:  # absent, not null, when nothing is pending (swagger 2.0 has no nullable)
            info["pending"] = pending.view(options)
        return info
