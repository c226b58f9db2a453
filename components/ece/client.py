"""ECE REST API client (basePath `/api/v1`, optional `/regions/<region>` prefix) on the shared HTTP layer.

Only the routes the providers use: get and update a deployment, its Elasticsearch keystore, a restart, the
deployment CA, the Elasticsearch proxy, and plan tracking (as cloud-sdk-go's `pkg/plan` does it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..http import ApiError, Auth, HttpClient, RetryPolicy, Tls
from ..polling import WaitTimeoutError, wait_for

MANAGEMENT_HEADER = {"X-Management-Request": "true"}


class EceApiError(ApiError):
    api_name = "ECE API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not errors:
            return None, None
        codes = [str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code")]
        messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
        return (", ".join(codes) or None), ("; ".join(messages) or "no message")

    @property
    def is_version_conflict(self) -> bool:
        return self.status == 409 or (self.code is not None and "version_conflict" in self.code)


class EcePlanError(RuntimeError):
    """A plan that ECE ran for a change failed, or did not finish in time."""


@dataclass(frozen=True)
class EceConnection:
    """Where ECE is and how to reach it. Credentials are separate (secret inputs)."""

    url: str
    region: str | None = None
    ca_certificate: str | None = None
    insecure: bool = False
    request_timeout_seconds: float = 40.0

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> EceConnection:
        return cls(
            props["url"],
            props.get("region"),
            props.get("ca_certificate"),
            bool(props.get("insecure")),
            float(props.get("request_timeout_seconds") or 40.0),
        )


def auth_from_props(credentials: Mapping[str, Any]) -> Auth:
    if credentials.get("api_key"):
        return Auth.api_key(str(credentials["api_key"]))
    if credentials.get("username") and credentials.get("password"):
        return Auth.basic(str(credentials["username"]), str(credentials["password"]))
    raise ValueError("ECE credentials need an api_key, or a username and password")


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

    def es_version(self, ref_id: str) -> str | None:
        plan = (((self.elasticsearch(ref_id).get("info") or {}).get("plan_info") or {}).get("current") or {}).get(
            "plan"
        ) or {}
        version = (plan.get("elasticsearch") or {}).get("version")
        return str(version) if version else None


class EceClient:
    def __init__(self, connection: EceConnection, auth: Auth, *, retry: RetryPolicy | None = None) -> None:
        prefix = f"/api/v1/regions/{connection.region}" if connection.region else "/api/v1"
        self.http = HttpClient(
            connection.url.rstrip("/") + prefix,
            EceApiError,
            auth=auth,
            tls=Tls(ca_pem=connection.ca_certificate, insecure=connection.insecure),
            timeout=(min(5.0, connection.request_timeout_seconds), connection.request_timeout_seconds),
            retry=retry or RetryPolicy(),
        )

    def get_deployment(self, deployment_id: str, *, plan_logs: bool = False) -> Deployment:
        response = self.http.request(
            f"get deployment {deployment_id}",
            "GET",
            f"deployments/{deployment_id}",
            params={
                "show_settings": "true",
                "show_plans": "true",
                "show_plan_logs": str(plan_logs).lower(),
                "clear_transient": "true",
            },
        )
        return Deployment(response.json(), response.headers.get("x-cloud-resource-version"))

    def update_deployment(self, deployment_id: str, body: dict[str, Any], version: str | None) -> dict[str, Any]:
        params = {"version": version} if version is not None else None
        response = self.http.request(
            f"update deployment {deployment_id}", "PUT", f"deployments/{deployment_id}", params=params, json=body
        )
        result: dict[str, Any] = response.json()
        return result

    def get_keystore(self, deployment_id: str, ref_id: str) -> dict[str, Any]:
        response = self.http.request(
            f"get keystore of {deployment_id}/{ref_id}",
            "GET",
            f"deployments/{deployment_id}/elasticsearch/{ref_id}/keystore",
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
            f"deployments/{deployment_id}/elasticsearch/{ref_id}/keystore",
            json={"secrets": secrets},
            idempotent=True,
            secrets=hidden,
        )
        return dict(response.json().get("secrets") or {})

    def restart_elasticsearch(self, deployment_id: str, ref_id: str) -> None:
        self.http.request(
            f"restart Elasticsearch of {deployment_id}/{ref_id}",
            "POST",
            f"deployments/{deployment_id}/elasticsearch/{ref_id}/_restart",
            ok=(200, 202),
            idempotent=True,
        )

    def certificate_authority(self, deployment_id: str) -> dict[str, Any]:
        response = self.http.request(
            f"get CA of {deployment_id}", "GET", f"deployments/{deployment_id}/certificate-authority"
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
            f"deployments/{deployment_id}/elasticsearch/{ref_id}/proxy/{path.lstrip('/')}",
            json=json,
            params=params,
            headers=MANAGEMENT_HEADER,
            ok=ok,
        )

    def wait_for_plan(self, deployment_id: str, ref_id: str, timeout: float) -> Deployment:
        """Wait until the Elasticsearch resource has no pending plan; raise with the plan's error if it failed.

        Returns the deployment as last read, so a caller needs no second read to see the result."""
        last: list[Deployment] = []

        def probe() -> dict[str, Any] | None:
            deployment = self.get_deployment(deployment_id, plan_logs=True)
            last[:] = [deployment]
            plans = deployment.elasticsearch(ref_id).get("info", {}).get("plan_info") or {}
            return None if plans.get("pending") else plans

        try:
            plans = wait_for(
                probe,
                timeout=timeout,
                describe=lambda: f"a plan is still pending on {deployment_id}/{ref_id}",
                max_interval=2.0,
            )
        except WaitTimeoutError as error:
            raise EcePlanError(f"ECE plan on deployment {deployment_id} did not finish: {error}") from None
        steps = (plans.get("current") or {}).get("plan_attempt_log") or []
        step = steps[-1] if steps else {}
        if step.get("status") == "error":
            messages = [entry.get("message", "") for entry in step.get("info_log") or []]
            detail = (
                messages[-1] if messages else (plans.get("current") or {}).get("error", {}).get("message", "no message")
            )
            raise EcePlanError(
                f"ECE plan on deployment {deployment_id} failed at step '{step.get('step_id')}': {detail}"
            )
        return last[0]
