"""ECE REST API client (basePath `/api/v1`) on the shared HTTP layer.

Only the routes the providers use: get and update a deployment, its Elasticsearch keystore, a restart, the
deployment CA, the Elasticsearch proxy, and plan tracking (as cloud-sdk-go's `pkg/plan` does it). All of them are
`/deployments` routes, which ECE serves only at the global path: the configured region never prefixes them
(see `api_prefix`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..credentials import resolve
from ..http import ApiError, Auth, HttpClient, RetryPolicy, Tls, UnreachableError, parse_errors_list, redact
from ..progress import Waiting

if TYPE_CHECKING:
    import requests  # annotations only: the calls go through `http.py`, which imports it when it calls

MANAGEMENT_HEADER = {"X-Management-Request": "true"}
# cloud-sdk-go pkg/api/client_runtime.go, `globalPath` and `CloudClientRuntime.getRuntime` (commit 8c0d792): these
# first path segments go to `/api/v1/...`, everything else to `/api/v1/regions/<region>/...`, and so do deployment
# notes (`/deployments/{id}/notes`, "Deployment notes do not work with a regionless path", elastic/cloud-sdk-go#49).
# `/deployments` is global because it "does not work with the region interpolated in the URL" (elastic/cloud-sdk-go#46).
GLOBAL_ROUTES = frozenset({"deployments", "phone-home", "user", "users", "billing", "organizations", "saas"})
# cloud-sdk-go pkg/plan/track_step.go: the last step of a finished plan, and the status of a failed one.
PLAN_COMPLETED, ERROR_STATUS = "plan-completed", "error"
UNKNOWN_PLAN_ERROR = "plan failed due to unknown error"  # StepErrorOrUnknownError, same file


def api_prefix(route: str, region: str | None) -> str:
    """`/api/v1`, or `/api/v1/regions/<region>` for a route that cloud-sdk-go sends to a region.

    Without a region every route takes the plain form (cloud-sdk-go refuses instead; the ECE docs show
    `/api/v1/platform/...` working without one)."""
    parts = route.strip("/").split("/")
    notes = parts[0] == "deployments" and parts[2:3] == ["notes"]
    if not region or (parts[0] in GLOBAL_ROUTES and not notes):
        return "/api/v1"
    return f"/api/v1/regions/{region}"


class EceApiError(ApiError):
    api_name = "ECE API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        return parse_errors_list(body)

    @property
    def is_version_conflict(self) -> bool:
        """A 409 whatever its code, or any answer whose code names a version conflict.

        The swagger documents no conflict answer for `PUT /deployments/{id}?version=`; its other versioned resources
        answer 409 with `<area>.version_conflict` (`templates.`, `extensions.`, `roles.`, `adminconsole.base_url.`)
        or `<area>.<thing>_version_conflict` (`proxies.proxies_filtered_group_version_conflict`), so both shapes
        count, on a 409 or a 400. A 449 is not one: cloud-sdk-go (pkg/api/apierror/error.go) reads it as "needs
        elevated permissions"."""
        codes = [code.strip() for code in (self.code or "").split(",")]
        return self.status == 409 or any(code.rsplit(".", 1)[-1].endswith("version_conflict") for code in codes)


class EcePlanError(RuntimeError):
    """A plan that ECE ran for a change failed, or did not finish in time."""


@dataclass(frozen=True)
class PlanTracking:
    """How a plan is awaited: cloud-sdk-go's `TrackFrequencyConfig` (pkg/plan/track_change_params.go). The
    defaults are terraform-provider-ec's (poll every 2 s, `MaxRetries` 4): a plan that has not shown up as pending
    is trusted to be absent only after 4 reads without one, about 8 s."""

    poll_seconds: float = 2.0
    max_retries: int = 4


@dataclass(frozen=True)
class EceConnection:
    """Where ECE is and how to reach it. Credentials are separate (secret inputs).

    `region` only prefixes the routes cloud-sdk-go sends to a region (`api_prefix`); every route used here is a
    global `/deployments` route, so it changes no URL today."""

    url: str
    region: str | None = None
    ca_certificate: str | None = None
    insecure: bool = False
    request_timeout_seconds: float = 40.0
    plan_tracking: PlanTracking = PlanTracking()

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> EceConnection:
        return cls(
            props["url"],
            props.get("region"),
            props.get("ca_certificate"),
            bool(props.get("insecure")),
            float(props.get("request_timeout_seconds") or 40.0),
        )

    def api_prefix(self, route: str) -> str:
        return api_prefix(route, self.region)


def auth_from_props(credentials: Mapping[str, Any]) -> Auth:
    credentials = resolve(credentials)
    if credentials.get("api_key"):
        return Auth.api_key(str(credentials["api_key"]))
    if credentials.get("username") and credentials.get("password"):
        return Auth.basic(str(credentials["username"]), str(credentials["password"]))
    raise ValueError("ECE credentials need an api_key, or a username and password")


def proxy_target(ece: Mapping[str, Any], deployment_id: str, ref_id: str | None) -> dict[str, Any]:
    """How the Elasticsearch side reaches a deployment's Elasticsearch: through ECE's management proxy, as a plain
    target (`components/elasticsearch/client.py`). Its credentials are the ECE credentials. `name` is the
    target's identity in resource ids (what they were before targets were built here, so ids do not change)."""
    connection = EceConnection.from_props(ece)
    ref = ref_id or "_main"
    route = f"deployments/{deployment_id}/elasticsearch/{ref}/proxy"
    return {
        "kind": "direct",
        "url": f"{connection.url.rstrip('/')}{connection.api_prefix(route)}/{route}",
        "ca_certificate": connection.ca_certificate,
        "insecure": connection.insecure,
        "headers": dict(MANAGEMENT_HEADER),
        "request_timeout_seconds": connection.request_timeout_seconds,
        "name": f"ece:{deployment_id}/{ref}",
    }


@dataclass(frozen=True)
class Deployment:
    """A deployment as read, with the version to write it back with."""

    body: dict[str, Any]
    version: str | None

    def elasticsearch(self, ref_id: str) -> dict[str, Any]:
        resources = self.body.get("resources", {}).get("elasticsearch", [])
        if ref_id == "_main" and len(resources) == 1:
            return dict(resources[0])
        for resource in resources:
            if resource.get("ref_id") == ref_id:
                return dict(resource)
        raise EceApiError(
            "find Elasticsearch resource",
            404,
            "deployments.deployment_resource_not_found",
            f"no Elasticsearch resource with ref_id '{ref_id}'",
        )

    def trust(self, ref_id: str) -> dict[str, Any]:
        settings = self.elasticsearch(ref_id).get("info", {}).get("settings") or {}
        return dict(settings.get("trust") or {})

    def plans(self, ref_id: str) -> dict[str, Any]:
        """`ElasticsearchClusterPlansInfo` of the resource."""
        return dict((self.elasticsearch(ref_id).get("info") or {}).get("plan_info") or {})

    def plan_attempt_ids(self, ref_id: str) -> set[str]:
        """The ids of the current and pending plan attempts as read: plans that started before a change."""
        plans = self.plans(ref_id)
        return {
            str(p["plan_attempt_id"])
            for p in (plans.get("current"), plans.get("pending"))
            if p and p.get("plan_attempt_id")
        }

    def es_version(self, ref_id: str) -> str | None:
        plan = (((self.elasticsearch(ref_id).get("info") or {}).get("plan_info") or {}).get("current") or {}).get(
            "plan"
        ) or {}
        version = (plan.get("elasticsearch") or {}).get("version")
        return str(version) if version else None


def _ended_plan(plans: Mapping[str, Any]) -> dict[str, Any]:
    """The plan that ended last: the current one, or the last in history when there is no current plan or it has no
    log (cloud-sdk-go pkg/plan/track_response_builder.go `getPlanStepInfo`, "resources which failed to create")."""
    current = plans.get("current") or {}
    if current.get("plan_attempt_log"):
        return dict(current)
    history = plans.get("history") or []
    return dict(history[-1]) if history else dict(current)


def plan_failure(plans: Mapping[str, Any]) -> str | None:
    """Why the plan that ended last failed, or None when it did not.

    As cloud-sdk-go reads it (pkg/plan/track_step.go `GetStepName`, `StepErrorOrUnknownError`, `stepDetails`): failed
    when its last step is `plan-completed` with status `error`; the reason is that step's last `info_log` message and
    its `failure_type`. `internal_details` ("sensitive details ... visible only to admins") is never used."""
    plan = _ended_plan(plans)
    steps = plan.get("plan_attempt_log") or []
    if not steps or steps[-1].get("step_id") != PLAN_COMPLETED or steps[-1].get("status") != ERROR_STATUS:
        return None
    messages = steps[-1].get("info_log") or []
    last = messages[-1] if messages else {}
    # cloud-sdk-go falls back to its own words; the attempt's `error` (ClusterPlanAttemptError) says more, if present.
    reason = str(last.get("message") or (plan.get("error") or {}).get("message") or UNKNOWN_PLAN_ERROR)
    failed_at = next((s.get("step_id") for s in steps[:-1] if s.get("status") == ERROR_STATUS), None)
    where = f" at step '{failed_at}'" if failed_at else ""
    kind = f" [{last['failure_type']}]" if last.get("failure_type") else ""
    return f"failed{where}: {reason}{kind}"


def _pending_detail(pending: Mapping[str, Any] | None) -> str:
    """Where a plan stands, for progress lines: its current step when the log shows one."""
    if not pending:
        return "no pending plan seen yet"
    steps = pending.get("plan_attempt_log") or []
    step = steps[-1].get("step_id") if steps and isinstance(steps[-1], Mapping) else None
    return f"plan pending, at step '{step}'" if step else "plan pending"


def _transient(error: ApiError) -> bool:
    """Worth another read: no answer, 429, 5xx. Not an address where nothing answers (`ece.url` wrong or out of
    reach), which another read would not change."""
    if isinstance(error, UnreachableError):
        return False
    return error.status is None or error.status == 429 or error.status >= 500


class EceClient:
    def __init__(
        self,
        connection: EceConnection,
        auth: Auth,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.sleep, self.clock = sleep, clock
        self.http = HttpClient(
            connection.url.rstrip("/"),
            EceApiError,
            auth=auth,
            tls=Tls(ca_pem=connection.ca_certificate, insecure=connection.insecure),
            timeout=(min(5.0, connection.request_timeout_seconds), connection.request_timeout_seconds),
            retry=retry or RetryPolicy(),
            source="ece.url",
        )

    def _path(self, route: str) -> str:
        return f"{self.connection.api_prefix(route)}/{route}"

    def get_deployment(self, deployment_id: str, *, plan_logs: bool = False, plan_history: bool = False) -> Deployment:
        params = {
            "show_settings": "true",
            "show_plans": "true",
            "show_plan_logs": str(plan_logs).lower(),
            "clear_transient": "true",
        }
        if plan_history:
            params["show_plan_history"] = "true"
        response = self.http.request(
            f"get deployment {deployment_id}", "GET", self._path(f"deployments/{deployment_id}"), params=params
        )
        return Deployment(response.json(), response.headers.get("x-cloud-resource-version"))

    def update_deployment(self, deployment_id: str, body: dict[str, Any], version: str | None) -> dict[str, Any]:
        params = {"version": version} if version is not None else None
        response = self.http.request(
            f"update deployment {deployment_id}",
            "PUT",
            self._path(f"deployments/{deployment_id}"),
            params=params,
            json=body,
        )
        result: dict[str, Any] = response.json()
        return result

    def get_keystore(self, deployment_id: str, ref_id: str) -> dict[str, Any]:
        response = self.http.request(
            f"get keystore of {deployment_id}/{ref_id}",
            "GET",
            self._path(f"deployments/{deployment_id}/elasticsearch/{ref_id}/keystore"),
        )
        return dict(response.json().get("secrets") or {})

    def patch_keystore(
        self, deployment_id: str, ref_id: str, secrets: dict[str, Any], *, hidden: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Set or remove keys; returns the keystore's new contents (names only: values are never returned)."""
        # Setting one key to a value, or removing it, is idempotent: a retry after a lost answer is safe.
        response = self.http.request(
            f"set keystore of {deployment_id}/{ref_id}",
            "PATCH",
            self._path(f"deployments/{deployment_id}/elasticsearch/{ref_id}/keystore"),
            json={"secrets": secrets},
            idempotent=True,
            secrets=hidden,
        )
        return dict(response.json().get("secrets") or {})

    def restart_elasticsearch(self, deployment_id: str, ref_id: str) -> None:
        self.http.request(
            f"restart Elasticsearch of {deployment_id}/{ref_id}",
            "POST",
            self._path(f"deployments/{deployment_id}/elasticsearch/{ref_id}/_restart"),
            ok=(200, 202),
            idempotent=True,
        )

    def certificate_authority(self, deployment_id: str) -> dict[str, Any]:
        response = self.http.request(
            f"get CA of {deployment_id}", "GET", self._path(f"deployments/{deployment_id}/certificate-authority")
        )
        result: dict[str, Any] = response.json()
        return result

    def proxy(
        self,
        deployment_id: str,
        ref_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
        operation: str | None = None,
    ) -> requests.Response:
        """Call the deployment's Elasticsearch through ECE's management proxy."""
        return self.http.request(
            operation or f"{method} {path} on {deployment_id}/{ref_id}",
            method,
            self._path(f"deployments/{deployment_id}/elasticsearch/{ref_id}/proxy/{path.lstrip('/')}"),
            json=json,
            params=params,
            headers=MANAGEMENT_HEADER,
            ok=ok,
        )

    def wait_for_plan(
        self, deployment_id: str, ref_id: str, timeout: float, *, before: Deployment | None = None
    ) -> Deployment:
        """Wait for the plan a change started to end; raise `EcePlanError` with its log's reason if it failed.

        A read that shows no pending plan right after the change does not mean done: ECE may not have picked the plan
        up yet. So, as cloud-sdk-go's tracker does (pkg/plan/track_change.go `trackChange`, `checkCurrentStatus`):
        each read without a pending plan, and each failed read, counts as a retry; after `max_retries` of them the
        change is over, and the plan that ended last (current, or last in history) tells how. Two differences, both
        from knowing which plan is ours: the wait ends at once when a plan seen pending here, or one that is not in
        `before` (the deployment as read before the change), has ended; and polls while a plan is pending start fast
        and slow down to `poll_seconds`. `timeout` bounds the wait for a pending plan.

        Returns the deployment as last read, so a caller needs no second read to see the result. A long wait says
        how it goes (`components.progress`)."""
        what = f"the ECE plan on deployment {deployment_id} ({ref_id}) to finish"
        with Waiting(what, timeout, clock=self.clock) as waiting:
            return self._track_plan(deployment_id, ref_id, timeout, before, waiting)

    def _track_plan(
        self, deployment_id: str, ref_id: str, timeout: float, before: Deployment | None, waiting: Waiting
    ) -> Deployment:
        tracking = self.connection.plan_tracking
        old = before.plan_attempt_ids(ref_id) if before is not None else None
        seen: set[str] = set()
        retries, interval = 0, min(0.1, tracking.poll_seconds)
        deadline = self.clock() + timeout
        while retries < tracking.max_retries:
            pause = tracking.poll_seconds
            try:
                deployment = self.get_deployment(deployment_id, plan_logs=True)
            except EceApiError as error:
                if not _transient(error):
                    raise
                retries += 1
            else:
                plans = deployment.plans(ref_id)
                pending = plans.get("pending")
                if pending:
                    seen.add(str(pending.get("plan_attempt_id") or ""))
                    pause, interval = interval, min(interval * 2, tracking.poll_seconds)
                else:
                    ended = str(_ended_plan(plans).get("plan_attempt_id") or "")
                    if ended and (ended in seen or (old is not None and ended not in old)):
                        return self._judged(deployment_id, ref_id, deployment)
                    retries += 1
                    if retries >= tracking.max_retries:
                        break
                if pending and self.clock() + pause > deadline:
                    raise EcePlanError(
                        f"ECE plan on deployment {deployment_id} ({ref_id}) did not finish within {timeout:g}s"
                    )
                waiting.tick(_pending_detail(pending))
            self.sleep(pause)
        final = self.get_deployment(deployment_id, plan_logs=True, plan_history=True)
        return self._judged(deployment_id, ref_id, final)

    def _judged(self, deployment_id: str, ref_id: str, deployment: Deployment) -> Deployment:
        failure = plan_failure(deployment.plans(ref_id))
        if failure is not None:
            detail = redact(failure, self.http.auth.secrets)
            raise EcePlanError(f"ECE plan on deployment {deployment_id} ({ref_id}) {detail}")
        return deployment
