"""Calls to an Elasticsearch cluster on the shared HTTP layer.

A target is plain data (dynamic-resource inputs) saying how to reach a cluster, turned into a caller at call time:
  {"kind": "direct", "url": ..., "ca_certificate": ..., "insecure": false, "headers": {...},
   "request_timeout_seconds": ..., "name": ...}                credentials {"api_key"} or {"username", "password"}
Only `url` is required. Whoever knows the way builds the target: a cluster behind ECE is reached through ECE's
management proxy, whose target the link builds with `components.ece.client.proxy_target` (its URL, its header, and
the ECE credentials). `name`, when given, is the target's identity in resource ids (the URL otherwise). `source`, when
given, names where the URL comes from in the configuration, for errors; otherwise `target_source` tells it from the
target (no new input, so states written before show no change).

State written before the link built targets holds the older `{"kind": "ece-proxy", ...}` form; `current_form`
reads it as the target the link builds now, so such a state calls the same URL and shows no change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pulumi.dynamic import CheckFailure

from ..credentials import is_reference, resolve
from ..dynamic import is_unknown
from ..http import ApiError, Auth, HttpClient, RetryPolicy, Tls, parse_errors_list

if TYPE_CHECKING:
    import requests

LEGACY_PROXY_KIND = "ece-proxy"
ECE_PROXY_NAME_PREFIX = "ece:"
"""The `name` of a target through ECE's proxy (`components.ece.client.proxy_target`, `current_form`)."""
DEFAULT_HTTP_HOST = re.compile(r"^(?P<cluster>.+)-es-http\.(?P<namespace>[^.]+)\.svc(\.cluster\.local)?\.?$")
"""The host of an ECK cluster's default HTTP URL (`names.default_http_url`): its in-cluster Service."""


class ElasticsearchApiError(ApiError):
    """`{"error":{"type","reason"},"status"}`; from a proxy in front of the cluster, `{"errors":[...]}` too."""

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
        return parse_errors_list(body)


def current_form(target: Mapping[str, Any]) -> dict[str, Any]:
    """A target as the link builds it now. The older `ece-proxy` form (`{"ece": {url, ca_certificate, insecure,
    request_timeout_seconds?}, "deployment_id", "ref_id"}`, kept only in state written before) becomes the target
    `components.ece.client.proxy_target` returns for the same deployment (a unit test holds the two equal)."""
    if target.get("kind") != LEGACY_PROXY_KIND:
        return dict(target)
    ece, ref = target["ece"], target.get("ref_id") or "_main"
    return {
        "kind": "direct",
        "url": f"{str(ece['url']).rstrip('/')}/api/v1/deployments/{target['deployment_id']}/elasticsearch/{ref}/proxy",
        "ca_certificate": ece.get("ca_certificate"),
        "insecure": bool(ece.get("insecure")),
        "headers": {"X-Management-Request": "true"},
        "request_timeout_seconds": float(ece.get("request_timeout_seconds") or 40.0),
        "name": f"ece:{target['deployment_id']}/{ref}",
    }


def comparable(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with their `target` in the current form, without null fields (the engine drops them from maps) and
    its numbers as floats, for a diff: a state written with the older form compares equal to the same target built
    now."""
    target = props.get("target")
    if not isinstance(target, Mapping) or is_unknown(target):
        return dict(props)
    current = {key: value for key, value in current_form(target).items() if value is not None}
    seconds = current.get("request_timeout_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        current["request_timeout_seconds"] = float(seconds)
    return {**props, "target": current}


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
    target = current_form(target)
    credentials = resolve(credentials)
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
        headers={str(k): str(v) for k, v in (target.get("headers") or {}).items()},
        retry=retry or RetryPolicy(),
        timeout=(min(5.0, seconds := float(target.get("request_timeout_seconds") or 30.0)), seconds),
        source=target_source(target),
    )
    return ElasticsearchCaller(http, str(target.get("name") or target["url"]))


def target_source(target: Mapping[str, Any]) -> str:
    """Where a target's URL comes from in the configuration, named when nothing answers there: its `source`, else
    `ece.url` for ECE's proxy, else an ECK cluster's `eckClusters[].http.url` (with the cluster, when the URL is the
    default in-cluster one)."""
    if target.get("source"):
        return str(target["source"])
    if str(target.get("name") or "").startswith(ECE_PROXY_NAME_PREFIX):
        return "ece.url"
    default = DEFAULT_HTTP_HOST.match(urlsplit(str(target.get("url") or "")).hostname or "")
    if default:
        return (
            f"the default of eckClusters[].http.url for cluster '{default['cluster']}' "
            f"(namespace '{default['namespace']}'): its in-cluster Service"
        )
    return "eckClusters[].http.url"


def target_key(target: Mapping[str, Any]) -> str:
    """A stable, readable identity of a target, used in resource ids: its `name`, or its URL."""
    current = current_form(target)
    return str(current.get("name") or current["url"])


def check_target(
    news: Mapping[str, Any], key: str = "target", credentials_key: str = "credentials"
) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    target = news.get(key)
    if is_unknown(target):
        return failures
    if not isinstance(target, Mapping) or target.get("kind") != "direct":
        return [CheckFailure(key, f"{key}.kind must be 'direct'")]
    if not str(target.get("url", "")).startswith(("http://", "https://")) and not is_unknown(target.get("url")):
        failures.append(CheckFailure(key, f"{key}.url must be an http(s) URL"))
    headers = target.get("headers")
    if headers is not None and not is_unknown(headers) and not isinstance(headers, Mapping):
        failures.append(CheckFailure(key, f"{key}.headers must be a map of header names to values"))
    credentials = news.get(credentials_key)
    if not is_unknown(credentials) and not (
        is_reference(credentials)
        or (isinstance(credentials, Mapping) and (credentials.get("password") or credentials.get("api_key")))
    ):
        failures.append(CheckFailure(credentials_key, f"{credentials_key} needs a password or an api_key"))
    return failures
