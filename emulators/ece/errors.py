"""ECE error answers: `BasicFailedReply{errors: [{code, message, fields?}]}` plus the `x-cloud-error-codes` header."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulators.common import Response

DEPLOYMENT_NOT_FOUND = "deployments.deployment_not_found"
RESOURCE_NOT_FOUND = "deployments.deployment_resource_not_found"
PLAN_CHANGE_ERROR = "deployments.deployment_resource_plan_change_error"
CLUSTER_NOT_FOUND = "clusters.cluster_not_found"
INVALID_PLAN = "clusters.cluster_invalid_plan"
INVALID_DATA = "root.invalid_data"
UNAUTHENTICATED = "root.unauthenticated"
# The swagger documents no 409 for PUT /deployments/{id}?version=; the other versioned resources answer 409 with
# `<area>.version_conflict` (templates, extensions, roles, ...), so the deployment conflict follows that pattern.
VERSION_CONFLICT = "deployments.version_conflict"
DEFAULT_CONFLICT_ANSWER = (409, VERSION_CONFLICT)  # (status, code); other shapes via `POST /_emulator/conflict-answer`
# Codes the swagger has no entry for (documented in emulators/ece/__init__.py):
UNKNOWN_ROUTE = "root.resource_not_found"
METHOD_NOT_ALLOWED = "root.method_not_allowed"
PROXY_FAILURE = "clusters.proxy_request_failed"


@dataclass(frozen=True)
class Problem:
    """One validation error: a message and the request field (JSON path) it is about."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def element(self) -> dict[str, object]:
        element: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields:
            element["fields"] = list(self.fields)
        return element


def failed(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    return failed_many(status, [Problem(code, message, fields or [])])


def failed_many(status: int, problems: list[Problem]) -> Response:
    codes = ",".join(dict.fromkeys(problem.code for problem in problems))
    return Response(status, {"errors": [problem.element() for problem in problems]}, {"x-cloud-error-codes": codes})


def deployment_not_found(deployment_id: str) -> Response:
    return failed(404, DEPLOYMENT_NOT_FOUND, f"Deployment [{deployment_id}] cannot be found")


def resource_not_found(deployment_id: str, kind: str, ref_id: str) -> Response:
    return failed(
        404, RESOURCE_NOT_FOUND, f"The [{kind}] resource [{ref_id}] of deployment [{deployment_id}] cannot be found"
    )


def version_conflict(detail: str, answer: tuple[int, str] = DEFAULT_CONFLICT_ANSWER) -> Response:
    status, code = answer
    return failed(status, code, f"The version you sent does not match the persisted version. {detail}".strip())
