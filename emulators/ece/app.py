"""The ECE emulator: API routes (under `/api/v1`, never under `/api/v1/regions/{region}`), auth, plans, pushes."""

from __future__ import annotations

import copy
import datetime
import json
import re
import threading
from dataclasses import replace
from typing import Any

import requests

from emulators.common import Emulator, Handler, Request, Response
from emulators.ece import errors, views
from emulators.ece.auth import DEFAULT_API_KEY, DEFAULT_PASSWORD, DEFAULT_USERNAME, Credentials, header
from emulators.ece.certs import node_certificate
from emulators.ece.controls import control, state
from emulators.ece.errors import failed, failed_many
from emulators.ece.fixtures import default_fixture
from emulators.ece.links import KEYSTORE_PATH, TRANSPORT_PATH, TRUST_PATH, Push, Pusher, forward
from emulators.ece.model import Deployment, ElasticsearchResource, NodeDriver, deployment_from_fixture
from emulators.ece.plans import RESTART, UPDATE, PlanAttempt, PlanFailure
from emulators.ece.trust import direct_pems, direct_restrictions
from emulators.ece.updates import Update, keystore_changes, parse_update, validate_keystore_contents

KEYSTORE_RELOAD_SINCE = (8, 14, 0)

# Every route here is a `/deployments` route, which ECE serves only at the global path: cloud-sdk-go never puts a
# region in front of one because "the /deployments path does not work with the region interpolated in the URL"
# (elastic/cloud-sdk-go#46; pkg/api/client_runtime.go `globalPath`). Under `/regions/<region>` they are unknown
# routes, answered like any other unknown route (404 `root.resource_not_found`, `not_found`).
PREFIX = r"/api/v1"
DEPLOYMENT = r"/deployments/(?P<deployment_id>[^/]+)"
ES_RESOURCE = DEPLOYMENT + r"/elasticsearch/(?P<ref_id>[^/]+)"
PROXY = DEPLOYMENT + r"/(?P<kind>[^/]+)/(?P<ref_id>[^/]+)/proxy/(?P<proxy_path>.*)"


def version_tuple(version: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", version.split("-", 1)[0])
    return tuple(int(number) for number in numbers[:3])


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class EceEmulator(Emulator):
    """ECE 3.8 deployments API, the parts an ECE -> ECK remote-cluster link uses."""

    name = "ece"

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        username: str | None = DEFAULT_USERNAME,
        password: str | None = DEFAULT_PASSWORD,
        plan_seconds: float = 0.5,
        fixtures: list[Any] | None = None,
    ) -> None:
        super().__init__()
        self.credentials = self._initial_credentials = Credentials(api_key, username, password)
        self.plan_seconds = plan_seconds
        self.pending_delay = 0.0  # how long a new plan stays unseen before it shows as pending
        self.conflict_answer = errors.DEFAULT_CONFLICT_ANSWER
        self.deployments: dict[str, Deployment] = {}
        self.plan_failures: list[PlanFailure] = []  # for the next plans of any deployment
        self.pusher = Pusher()
        self._nodes: dict[str, NodeDriver] = {}
        self.conflict_response = lambda _request: self._conflict("(injected fault)")
        self._fixtures = copy.deepcopy(fixtures if fixtures is not None else [default_fixture()])
        self._initial_plan_seconds = plan_seconds
        for fixture in self._fixtures:
            self.add_deployment(fixture)
        self._api("GET", DEPLOYMENT, self.get_deployment)
        self._api("PUT", DEPLOYMENT, self.update_deployment)
        self._api("GET", ES_RESOURCE + "/keystore", self.get_keystore)
        self._api("PATCH", ES_RESOURCE + "/keystore", self.patch_keystore)
        self._api("POST", ES_RESOURCE + "/_restart", self.restart)
        self._api("GET", DEPLOYMENT + "/certificate-authority", self.get_certificate_authority)
        for method in ("GET", "POST", "PUT", "DELETE"):
            self._api(method, PROXY, self.proxy)

    # --- fixtures and plumbing ----------------------------------------------------------------------------------
    def add_deployment(self, fixture: Any) -> Deployment:
        """Add or replace a deployment from a fixture (ValueError when it is invalid)."""
        deployment = deployment_from_fixture(fixture)
        with self.lock:
            deployment.link.node = self._nodes.get(deployment.id)
            self.deployments[deployment.id] = deployment
        return deployment

    def attach_node(self, deployment_id: str, node: NodeDriver) -> None:
        """Let `node` receive the deployment's trust and keystore when plans apply (kept across `reset`)."""
        with self.lock:
            self._nodes[deployment_id] = node
            if deployment_id in self.deployments:
                self.deployments[deployment_id].link.node = node

    def reset(self) -> None:
        """Back to the start: the initial fixtures (fresh CAs), plan duration, no faults, log or pushes."""
        with self.lock:
            self.deployments.clear()
            self.plan_failures.clear()
            self.faults.clear()
            self.log.clear()
            self.pusher.clear()
            self.plan_seconds = self._initial_plan_seconds
            self.pending_delay = 0.0
            self.conflict_answer = errors.DEFAULT_CONFLICT_ANSWER
            self.credentials = self._initial_credentials
            for fixture in self._fixtures:
                self.add_deployment(fixture)

    def _api(self, method: str, suffix: str, handler: Handler) -> None:
        def wrapped(request: Request, match: re.Match[str]) -> Response:
            self.tick()
            try:
                return handler(request, match)
            finally:
                self.pusher.flush()

        self.route(method, PREFIX + suffix, wrapped)

    def _conflict(self, detail: str) -> Response:
        return errors.version_conflict(detail, self.conflict_answer)

    def dispatch(self, request: Request) -> Response:
        if not self.credentials.accept(request):
            return failed(401, errors.UNAUTHENTICATED, "The supplied authentication is invalid")
        return super().dispatch(request)

    def not_found(self, request: Request) -> Response:
        return failed(404, errors.UNKNOWN_ROUTE, f"No route for {request.method} {request.path}")

    def method_not_allowed(self, request: Request) -> Response:
        return failed(405, errors.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed on {request.path}")

    def _find(self, match: re.Match[str]) -> tuple[Deployment | None, Response | None]:
        deployment = self.deployments.get(match.group("deployment_id"))
        if deployment is None:
            return None, errors.deployment_not_found(match.group("deployment_id"))
        return deployment, None

    def _find_resource(
        self, match: re.Match[str], kind: str = "elasticsearch"
    ) -> tuple[Deployment | None, ElasticsearchResource | None, Response | None]:
        deployment, problem = self._find(match)
        if deployment is None:
            return None, None, problem
        ref_id = match.group("ref_id")
        resource = deployment.resource(ref_id) if kind == "elasticsearch" else None
        if resource is None:
            return deployment, None, errors.resource_not_found(deployment.id, kind, ref_id)
        return deployment, resource, None

    # --- plans ----------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Finish every plan that is due (lazily on each request, and from timers); queue the pushes."""
        moment = now()
        with self.lock:
            for deployment in self.deployments.values():
                for resource in deployment.resources:
                    finished = resource.plans.advance(moment)
                    if finished is not None:
                        self._finished(deployment, resource, finished)

    def _finished(self, deployment: Deployment, resource: ElasticsearchResource, attempt: PlanAttempt) -> None:
        resource.metadata_version += 1
        resource.last_modified = attempt.ended or now()
        if attempt.outcome != "success":
            return
        self.pusher.enqueue(
            Push(
                deployment.id,
                replace(deployment.link),
                TRUST_PATH,
                {"certificates": direct_pems(resource.trust)},
            )
        )
        self.pusher.enqueue(
            Push(deployment.id, replace(deployment.link), TRANSPORT_PATH, self._transport(deployment, resource))
        )
        if attempt.reload_keystore:
            self._push_keystore(deployment, resource, reload=True)

    @staticmethod
    def _transport(deployment: Deployment, resource: ElasticsearchResource) -> dict[str, Any]:
        """The node's transport layer as the plan leaves it: the direct entries' restrictions, and the node's
        certificate from the deployment CA (issued once per resource)."""
        issued = deployment.node_certificates.get(resource.ref_id)
        if issued is None:
            issued = node_certificate(deployment.ca, views.node_name(deployment, resource))
            deployment.node_certificates[resource.ref_id] = issued
        return {
            "direct": direct_restrictions(resource.trust),
            "certificate": {"certificate": issued.certificate_pem, "key": issued.key_pem},
        }

    def _push_keystore(self, deployment: Deployment, resource: ElasticsearchResource, *, reload: bool) -> None:
        secrets = {key: entry.value for key, entry in sorted(resource.keystore.items())}
        self.pusher.enqueue(
            Push(deployment.id, replace(deployment.link), KEYSTORE_PATH, {"secrets": secrets, "reload": reload})
        )

    def start_plan(
        self, deployment: Deployment, resource: ElasticsearchResource, kind: str, plan: dict[str, Any]
    ) -> PlanAttempt:
        """A new pending attempt (superseding any pending one), shown after `pending_delay` and finished by a timer
        `plan_seconds` later."""
        failures = deployment.plan_failures or self.plan_failures
        failure = failures.pop(0) if failures else None
        attempt = resource.plans.start(
            kind,
            plan=plan,
            now=now(),
            duration=self.plan_seconds,
            failure=failure,
            reload_keystore=kind == RESTART,
            delay=self.pending_delay,
        )
        self._schedule(attempt)
        return attempt

    def _schedule(self, attempt: PlanAttempt) -> None:
        delay = max((attempt.due - now()).total_seconds(), 0.0) + 0.01
        timer = threading.Timer(delay, self._timer_fired, args=(attempt,))
        timer.daemon = True
        timer.start()

    def _timer_fired(self, attempt: PlanAttempt) -> None:
        self.tick()
        self.pusher.flush()
        with self.lock:
            if attempt.outcome == "pending" and not attempt.ended:
                still_pending = any(
                    resource.plans.pending is attempt
                    for deployment in self.deployments.values()
                    for resource in deployment.resources
                )
                if still_pending:
                    self._schedule(attempt)

    # --- routes ---------------------------------------------------------------------------------------------------
    def get_deployment(self, request: Request, match: re.Match[str]) -> Response:
        with self.lock:
            deployment, problem = self._find(match)
            if deployment is None:
                return problem or errors.deployment_not_found("")
            view = views.deployment_view(deployment, views.GetOptions.parse(request))
            return Response(200, view, deployment.headers())

    def update_deployment(self, request: Request, match: re.Match[str]) -> Response:
        # While a plan is pending, an update is accepted and its plan supersedes the pending one: the swagger
        # documents no error for PUT /deployments/{id} in that state (its only pending-plan error,
        # deployments.deployment_resource_plan_change_error, belongs to the resource commands such as _restart).
        with self.lock:
            deployment, problem = self._find(match)
            if deployment is None:
                return problem or errors.deployment_not_found("")
            try:
                body = request.json()
            except ValueError as error:
                return failed(400, errors.INVALID_DATA, f"The request body is not valid JSON: {error}")
            update, problems = parse_update(deployment, body)
            if update is None:
                return failed_many(400, problems)
            expected = request.param("version")
            if expected is not None and expected != str(deployment.version):
                return self._conflict(
                    f"Deployment [{deployment.id}] is at version [{deployment.version}], not [{expected}]."
                )
            if not request.flag("validate_only", False):
                self._apply_update(deployment, update)
            answer: dict[str, Any] = {
                "id": deployment.id,
                "name": update.name if update.name is not None else deployment.name,
                "alias": update.alias if update.alias is not None else deployment.alias,
                "resources": views.deployment_resources(deployment),
                "settings": views.deployment_settings(deployment),
            }
            if update.pruned and not request.flag("hide_pruned_orphans", False):
                answer["shutdown_resources"] = {
                    "elasticsearch": [{"id": resource.cluster_id, "dependents": []} for resource in update.pruned],
                    "kibana": [],
                    "apm": [],
                    "appsearch": [],
                    "enterprise_search": [],
                    "integrations_server": [],
                }
            return Response(200, answer, deployment.headers())

    def _apply_update(self, deployment: Deployment, update: Update) -> None:
        changed = False
        for name in ("name", "alias"):
            value = getattr(update, name)
            if value is not None and value != getattr(deployment, name):
                setattr(deployment, name, value)
                changed = True
        for attribute, value in (
            ("autoscaling_enabled", update.autoscaling_enabled),
            ("auto_ops_status", update.auto_ops_status),
            ("tags", update.tags),
        ):
            if value is not None and value != getattr(deployment, attribute):
                setattr(deployment, attribute, value)
                changed = True
        for change in update.changes:
            resource = change.resource
            if change.trust is not None:
                resource.trust = change.trust
            if change.settings:
                resource.settings.update(change.settings)
            if change.keystore is not None and self._apply_keystore(resource, change.keystore):
                self._push_keystore(deployment, resource, reload=self._reloads(resource))
                changed = True
            if change.starts_plan:
                self.start_plan(deployment, resource, UPDATE, change.plan)
            changed = changed or change.starts_plan or bool(change.settings)
        if update.pruned:
            deployment.resources = [resource for resource in deployment.resources if resource not in update.pruned]
            changed = True
        if changed:
            deployment.touch(now())

    @staticmethod
    def _apply_keystore(resource: ElasticsearchResource, changes: dict[str, Any]) -> bool:
        before = dict(resource.keystore)
        for key, entry in changes.items():
            if entry is None:
                resource.keystore.pop(key, None)
            else:
                resource.keystore[key] = entry
        return before != resource.keystore

    @staticmethod
    def _reloads(resource: ElasticsearchResource) -> bool:
        """Elasticsearch >= 8.14 reloads its keystore by itself; older versions need a restart."""
        return version_tuple(resource.version) >= KEYSTORE_RELOAD_SINCE

    def get_keystore(self, _request: Request, match: re.Match[str]) -> Response:
        with self.lock:
            _deployment, resource, problem = self._find_resource(match)
            if resource is None:
                return problem or errors.deployment_not_found("")
            return Response(200, views.keystore_view(resource))

    def patch_keystore(self, request: Request, match: re.Match[str]) -> Response:
        with self.lock:
            deployment, resource, problem = self._find_resource(match)
            if deployment is None or resource is None:
                return problem or errors.deployment_not_found("")
            try:
                body = request.json()
            except ValueError as error:
                return failed(400, errors.INVALID_DATA, f"The request body is not valid JSON: {error}")
            problems = validate_keystore_contents(body, "body")
            if problems:
                return failed_many(400, problems)
            self._apply_keystore(resource, keystore_changes(body))
            # Pushed after every accepted PATCH (even one that changes nothing): ECE re-applies the keystore.
            self._push_keystore(deployment, resource, reload=self._reloads(resource))
            return Response(200, views.keystore_view(resource))

    def restart(self, request: Request, match: re.Match[str]) -> Response:
        with self.lock:
            deployment, resource, problem = self._find_resource(match)
            if deployment is None or resource is None:
                return problem or errors.deployment_not_found("")
            if resource.plans.pending is not None and not request.flag("cancel_pending", False):
                return failed(
                    422,
                    errors.PLAN_CHANGE_ERROR,
                    f"The resource [{resource.ref_id}] has a pending plan; retry later or set cancel_pending=true",
                )
            plan = dict(resource.plans.current.plan)
            plan["transient"] = {"plan_configuration": {"cluster_reboot": "forced"}}
            self.start_plan(deployment, resource, RESTART, plan)
            deployment.touch(now())
            return Response(202, {"warnings": []})

    def get_certificate_authority(self, _request: Request, match: re.Match[str]) -> Response:
        with self.lock:
            deployment, problem = self._find(match)
            if deployment is None:
                return problem or errors.deployment_not_found("")
            if not deployment.resources:
                return errors.resource_not_found(deployment.id, "elasticsearch", "_main")
            return Response(200, views.certificate_authority(deployment, deployment.resources[0]))

    def proxy(self, request: Request, match: re.Match[str]) -> Response:
        # The swagger requires `X-Management-Request: true` but documents no error for its absence; the answer is
        # a 400 with root.invalid_data, the swagger's generic code for a request that lacks valid input.
        if (header(request, "X-Management-Request") or "").strip().lower() != "true":
            return failed(
                400,
                errors.INVALID_DATA,
                "You must specify the X-Management-Request HTTP header with value true",
                ["X-Management-Request"],
            )
        with self.lock:
            deployment, _resource, problem = self._find_resource(match, match.group("kind"))
            if deployment is None or problem is not None:
                return problem or errors.deployment_not_found("")
            link = deployment.link
        if not link.url:
            return failed(
                404,
                errors.CLUSTER_NOT_FOUND,
                f"The Elasticsearch cluster of deployment [{deployment.id}] cannot be found",
            )
        try:
            answer = forward(
                link,
                method=request.method,
                proxy_path=match.group("proxy_path"),
                query=request.query,
                body=request.body,
                content_type=header(request, "Content-Type"),
            )
        except requests.RequestException as error:
            return failed(
                502, errors.PROXY_FAILURE, f"The Elasticsearch cluster could not be reached: {type(error).__name__}"
            )
        return Response(answer.status, answer.body or None, content_type=answer.content_type or "application/json")

    # --- control --------------------------------------------------------------------------------------------------
    def state(self) -> Any:
        self.tick()
        return state(self)

    def control_extra(self, what: str, request: Request) -> Response:
        return control(self, what, request)


def load_fixtures(path: str) -> list[Any]:
    """A fixture file holds one deployment fixture or a list of them."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data if isinstance(data, list) else [data]
