"""Control routes under `/_emulator/` (no auth) and the `state` dump.

POST   deployments                    body: a fixture or a list of fixtures (see fixtures.py) -> {"deployments": [ids]}
DELETE deployments/{id}               -> {}
GET    plan-duration                  -> {"seconds": float}
POST   plan-duration                  {"seconds": 0.2} -> {"seconds": 0.2}
GET    pending-delay                  -> {"seconds": float}
POST   pending-delay                  {"seconds": 1.0}: new plans show as pending only that long after they are
                                      started (a GET right after the PUT sees none) -> {"seconds": 1.0}
POST   fail-next-plan                 {"deployment_id"?: id, "message"?: str, "times"?: 1, "failure_type"?: str,
                                       "internal_details"?: {str: str}}: the next plans end with an error step whose
                                      info_log carries them -> {"deployment_id": id|null, "pending_failures": n}
GET    conflict-answer                -> {"status": 409, "code": "deployments.version_conflict"}
POST   conflict-answer                {"status": 409|400, "code": "<area>.version_conflict"|...}: the answer to a
                                      stale `?version=` and to the `conflict` fault -> the shape
POST   api-keys                       {"api_keys": [str, ...]}: the API keys accepted from now on (a key left out
                                      is revoked) -> {"api_keys": n}
GET    keystore/{id}[/{ref_id}]       -> {"secrets": {"<key>": {"value": "...", "as_file": false}}} (with values)
POST   elasticsearch-link             {"deployment_id": id, "url": "http://..."|null, "password"?: str, "ca_file"?: str}
                                      -> {"deployment_id", "url", "password_set", "ca_file"}
GET    pushes                         -> [{"deployment_id", "method", "url", "payload", "at", "status", "error"?}]
DELETE pushes                         -> {}
GET    state                          -> see `state()`
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from emulators.common import Request, Response
from emulators.ece.model import Deployment
from emulators.ece.plans import DEFAULT_FAILURE_TYPE, PlanAttempt, PlanFailure
from emulators.ece.trust import render_trust

if TYPE_CHECKING:
    from emulators.ece.app import EceEmulator

DEFAULT_FAILURE = "Plan change failed: the emulator was told to fail this plan"


def _attempt(attempt: PlanAttempt) -> dict[str, Any]:
    return {
        "name": attempt.name,
        "kind": attempt.kind,
        "outcome": attempt.outcome,
        "failure": attempt.failure,
        "version": attempt.plan.get("elasticsearch", {}).get("version"),
    }


def deployment_state(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "name": deployment.name,
        "alias": deployment.alias,
        "version": deployment.version,
        "organization_id": deployment.organization_id,
        "environment_id": deployment.environment_id,
        "elasticsearch_url": deployment.link.url,
        "elasticsearch_password_set": deployment.link.password is not None,
        "plan_failures": [failure.message for failure in deployment.plan_failures],
        "ca_pem": deployment.ca.certificate_pem,
        "resources": {
            resource.ref_id: {
                "cluster_id": resource.cluster_id,
                "region": resource.region,
                "elasticsearch_version": resource.version,
                "trust": render_trust(resource.trust),
                "keystore": {
                    key: {"value": entry.value, "as_file": entry.as_file}
                    for key, entry in sorted(resource.keystore.items())
                },
                "plans": {
                    "current": _attempt(resource.plans.current),
                    "pending": _attempt(resource.plans.pending) if resource.plans.pending else None,
                    "history": [_attempt(attempt) for attempt in resource.plans.history],
                },
            }
            for resource in deployment.resources
        },
    }


def state(emulator: EceEmulator) -> dict[str, Any]:
    """Everything, with keystore values: `{"plan_seconds", "pending_delay", "plan_failures", "deployments": {id: ...},
    "pushes"}`. A pending plan is listed even while it is not yet shown by the API."""
    with emulator.lock:
        return {
            "plan_seconds": emulator.plan_seconds,
            "pending_delay": emulator.pending_delay,
            "plan_failures": [failure.message for failure in emulator.plan_failures],
            "deployments": {key: deployment_state(value) for key, value in emulator.deployments.items()},
            "pushes": emulator.pusher.snapshot(),
        }


def _bad(message: str) -> Response:
    return Response(400, {"error": message})


def control(emulator: EceEmulator, what: str, request: Request) -> Response:
    """Dispatch one control route (the emulator lock is held by the caller)."""
    parts = what.strip("/").split("/")
    try:
        body = request.json()
    except ValueError as error:
        return _bad(f"invalid JSON: {error}")
    method = request.method
    if parts == ["deployments"] and method in ("POST", "PUT"):
        fixtures = body if isinstance(body, list) else [body]
        try:
            added = [emulator.add_deployment(fixture).id for fixture in fixtures]
        except ValueError as error:
            return _bad(str(error))
        return Response(200, {"deployments": added})
    if len(parts) == 2 and parts[0] == "deployments" and method == "DELETE":
        if emulator.deployments.pop(parts[1], None) is None:
            return Response(404, {"error": f"no deployment {parts[1]}"})
        return Response(200, {})
    if parts in (["plan-duration"], ["pending-delay"]) and method in ("GET", "POST", "PUT"):
        attribute = "plan_seconds" if parts == ["plan-duration"] else "pending_delay"
        if method != "GET":
            seconds = body.get("seconds") if isinstance(body, dict) else None
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                return _bad("seconds must be a non-negative number")
            setattr(emulator, attribute, float(seconds))
        return Response(200, {"seconds": getattr(emulator, attribute)})
    if parts == ["conflict-answer"] and method in ("GET", "POST", "PUT"):
        return _conflict_answer(emulator, body if method != "GET" else None)
    if parts == ["api-keys"] and method in ("POST", "PUT"):
        keys = body.get("api_keys") if isinstance(body, dict) else None
        if not (isinstance(keys, list) and keys and all(isinstance(key, str) and key for key in keys)):
            return _bad("api_keys must be a non-empty list of strings")
        emulator.credentials = replace(emulator.credentials, api_key=keys[0], more_api_keys=tuple(keys[1:]))
        return Response(200, {"api_keys": len(keys)})
    if parts == ["fail-next-plan"] and method == "POST":
        return _fail_next_plan(emulator, body if isinstance(body, dict) else {})
    if parts[0] == "keystore" and len(parts) in (2, 3) and method == "GET":
        deployment = emulator.deployments.get(parts[1])
        resource = deployment.resource(parts[2] if len(parts) == 3 else "_main") if deployment else None
        if resource is None:
            return Response(404, {"error": f"no Elasticsearch resource {'/'.join(parts[1:])}"})
        secrets = {
            key: {"value": entry.value, "as_file": entry.as_file} for key, entry in sorted(resource.keystore.items())
        }
        return Response(200, {"secrets": secrets})
    if parts == ["elasticsearch-link"] and method in ("POST", "PUT"):
        return _link(emulator, body if isinstance(body, dict) else {})
    if parts == ["reset"] and method == "POST":
        emulator.reset()
        return Response(200, {})
    if parts == ["pushes"] and method == "GET":
        return Response(200, emulator.pusher.snapshot())
    if parts == ["pushes"] and method == "DELETE":
        emulator.pusher.clear()
        return Response(200, {})
    return Response(404, {"error": f"unknown control {method} {what}"})


def _conflict_answer(emulator: EceEmulator, body: Any) -> Response:
    if body is not None:
        status, code = (body.get("status"), body.get("code")) if isinstance(body, dict) else (None, None)
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status < 500:
            return _bad("status must be a 4xx status code")
        if not isinstance(code, str) or not code:
            return _bad("code must be a non-empty string")
        emulator.conflict_answer = (status, code)
    status, code = emulator.conflict_answer
    return Response(200, {"status": status, "code": code})


def _fail_next_plan(emulator: EceEmulator, body: dict[str, Any]) -> Response:
    message = body.get("message") or DEFAULT_FAILURE
    times = body.get("times", 1)
    failure_type = body.get("failure_type") or DEFAULT_FAILURE_TYPE
    internal = body.get("internal_details") or {}
    if not isinstance(message, str) or not isinstance(times, int) or times < 1:
        return _bad("message must be a string and times a positive integer")
    if not isinstance(failure_type, str) or not isinstance(internal, dict):
        return _bad("failure_type must be a string and internal_details an object")
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in internal.items()):
        return _bad("internal_details maps strings to strings (ClusterPlanStepLogMessageInfo)")
    failure = PlanFailure(message, failure_type, dict(internal))
    deployment_id = body.get("deployment_id")
    if deployment_id is None:
        emulator.plan_failures.extend([failure] * times)
        return Response(200, {"deployment_id": None, "pending_failures": len(emulator.plan_failures)})
    deployment = emulator.deployments.get(deployment_id)
    if deployment is None:
        return Response(404, {"error": f"no deployment {deployment_id}"})
    deployment.plan_failures.extend([failure] * times)
    return Response(200, {"deployment_id": deployment_id, "pending_failures": len(deployment.plan_failures)})


def _link(emulator: EceEmulator, body: dict[str, Any]) -> Response:
    deployment = emulator.deployments.get(str(body.get("deployment_id")))
    if deployment is None:
        return Response(404, {"error": f"no deployment {body.get('deployment_id')}"})
    for name in ("url", "password", "ca_file"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return _bad(f"{name} must be a string")
    deployment.link.url = body.get("url")
    if "password" in body:
        deployment.link.password = body["password"]
    if "ca_file" in body:
        deployment.link.ca_file = body["ca_file"]
    return Response(
        200,
        {
            "deployment_id": deployment.id,
            "url": deployment.link.url,
            "password_set": deployment.link.password is not None,
            "ca_file": deployment.link.ca_file,
        },
    )
