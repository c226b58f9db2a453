"""Calls to an Elasticsearch cluster, directly or through ECE's management proxy, on the shared HTTP layer.

A target is plain data (dynamic-resource inputs), turned into a caller at call time:
  {"kind": "direct", "url": ..., "ca_certificate": ..., "insecure": false}       credentials {"username", "password"}
  {"kind": "ece-proxy", "ece": {url, region, ca_certificate, insecure}, "deployment_id": ..., "ref_id": ...}
                                                                                  credentials = the ECE credentials
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests
from pulumi.dynamic import CheckFailure

from ..dynamic import is_unknown
from ..ece.client import MANAGEMENT_HEADER, EceApiError, EceConnection, auth_from_props
from ..http import ApiError, Auth, HttpClient, RetryPolicy, Tls


class ElasticsearchApiError(ApiError):
    """`{"error":{"type","reason"},"status"}`; through the ECE proxy, ECE's own `{"errors":[...]}` too."""

    api_name = "Elasticsearch API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            reason = error.get("reason")
            caused = error.get("caused_by") or {}
            if caused.get("reason") and caused.get("reason") != reason:
                reason = f"{reason} (caused by: {caused['reason']})"
            return error.get("type"), reason or "no reason"
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return None, body["error"]
        return EceApiError.parse_body(body)


class ElasticsearchCaller:
    def __init__(self, http: HttpClient, description: str) -> None:
        self.http = http
        self.description = description

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        ok: Iterable[int] = (200,),
        idempotent: bool | None = None,
        secrets: Iterable[str] = (),
    ) -> requests.Response:
        return self.http.request(
            operation, method, path, json=json, params=params, ok=ok, idempotent=idempotent, secrets=secrets
        )


def caller(
    target: Mapping[str, Any], credentials: Mapping[str, Any], *, retry: RetryPolicy | None = None
) -> ElasticsearchCaller:
    if target.get("kind") == "ece-proxy":
        ece = EceConnection.from_props(target["ece"])
        prefix = ece.api_prefix("deployments")  # global in ECE: never under /regions/<region> (see api_prefix)
        base = f"{ece.url.rstrip('/')}{prefix}/deployments/{target['deployment_id']}/elasticsearch/{target.get('ref_id') or '_main'}/proxy"
        http = HttpClient(
            base,
            ElasticsearchApiError,
            auth=auth_from_props(credentials),
            tls=Tls(ca_pem=ece.ca_certificate, insecure=ece.insecure),
            headers=MANAGEMENT_HEADER,
            retry=retry or RetryPolicy(),
            timeout=(min(5.0, ece.request_timeout_seconds), ece.request_timeout_seconds),
        )
        return ElasticsearchCaller(http, f"deployment {target['deployment_id']} (through ECE)")
    auth = (
        Auth.api_key(str(credentials["api_key"]))
        if credentials.get("api_key")
        else Auth.basic(str(credentials.get("username") or "elastic"), str(credentials["password"]))
    )
    http = HttpClient(
        str(target["url"]),
        ElasticsearchApiError,
        auth=auth,
        tls=Tls(ca_pem=target.get("ca_certificate"), insecure=bool(target.get("insecure"))),
        retry=retry or RetryPolicy(),
        timeout=(min(5.0, seconds := float(target.get("request_timeout_seconds") or 30.0)), seconds),
    )
    return ElasticsearchCaller(http, str(target["url"]))


def target_key(target: Mapping[str, Any]) -> str:
    """A stable, readable identity of a target, used in resource ids."""
    if target.get("kind") == "ece-proxy":
        return f"ece:{target['deployment_id']}/{target.get('ref_id') or '_main'}"
    return str(target["url"])


def check_target(
    news: Mapping[str, Any], key: str = "target", credentials_key: str = "credentials"
) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    target = news.get(key)
    if is_unknown(target):
        return failures
    if not isinstance(target, Mapping) or target.get("kind") not in ("direct", "ece-proxy"):
        return [CheckFailure(key, f"{key}.kind must be 'direct' or 'ece-proxy'")]
    if (
        target["kind"] == "direct"
        and not str(target.get("url", "")).startswith(("http://", "https://"))
        and not is_unknown(target.get("url"))
    ):
        failures.append(CheckFailure(key, f"{key}.url must be an http(s) URL"))
    if target["kind"] == "ece-proxy" and not target.get("deployment_id"):
        failures.append(CheckFailure(key, f"{key}.deployment_id is required for the ECE proxy"))
    credentials = news.get(credentials_key)
    if not is_unknown(credentials) and not (
        isinstance(credentials, Mapping) and (credentials.get("password") or credentials.get("api_key"))
    ):
        failures.append(CheckFailure(credentials_key, f"{credentials_key} needs a password or an api_key"))
    return failures
