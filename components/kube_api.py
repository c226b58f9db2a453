"""A small Kubernetes API client on the shared HTTP layer, configured from the same kubeconfig as kubectl.

The dynamic providers use it only to read what the ECK operator publishes (Secrets, Service status). It honours
`KUBECONFIG` (a list of files; the first file to define a name wins, as kubectl does) or `~/.kube/config`, the
current or a chosen context, and token, token file, client certificate, basic and exec credentials.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .http import ApiError, Auth, HttpClient, RetryPolicy, Tls


class KubeApiError(ApiError):
    api_name = "Kubernetes API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        if isinstance(body, dict) and body.get("kind") == "Status":
            return body.get("reason"), body.get("message")
        return None, None


class KubeconfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class KubeTarget:
    server: str
    tls: Tls
    auth: Auth


def _load_files() -> list[dict[str, Any]]:
    listed = os.environ.get("KUBECONFIG")
    paths = [Path(p) for p in listed.split(os.pathsep) if p] if listed else [Path.home() / ".kube" / "config"]
    documents = []
    for path in paths:
        if path.is_file():
            documents.append(yaml.safe_load(path.read_text()) or {})
    if not documents:
        raise KubeconfigError("no kubeconfig found (set KUBECONFIG or create ~/.kube/config)")
    return documents


def _named(documents: list[dict[str, Any]], section: str, name: str) -> dict[str, Any]:
    for document in documents:
        for item in document.get(section) or []:
            if item.get("name") == name:
                return dict(item.get(section[:-1]) or {})
    raise KubeconfigError(f"kubeconfig has no {section[:-1]} named '{name}'")


def _data_or_file(node: dict[str, Any], data_key: str, file_key: str) -> str | None:
    if node.get(data_key):
        return base64.b64decode(node[data_key]).decode()
    if node.get(file_key):
        return Path(node[file_key]).read_text()
    return None


def load_target(context: str | None = None) -> KubeTarget:
    documents = _load_files()
    chosen = context or next((d.get("current-context") for d in documents if d.get("current-context")), None)
    if not chosen:
        raise KubeconfigError("kubeconfig has no current-context and none was configured")
    ctx = _named(documents, "contexts", chosen)
    cluster = _named(documents, "clusters", ctx["cluster"])
    user = _named(documents, "users", ctx["user"]) if ctx.get("user") else {}
    tls = Tls(
        ca_pem=_data_or_file(cluster, "certificate-authority-data", "certificate-authority"),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        client_cert_pem=_data_or_file(user, "client-certificate-data", "client-certificate"),
        client_key_pem=_data_or_file(user, "client-key-data", "client-key"),
    )
    return KubeTarget(str(cluster["server"]), tls, _auth(user))


def _auth(user: dict[str, Any]) -> Auth:
    if user.get("token"):
        return Auth.bearer(str(user["token"]))
    if user.get("tokenFile"):
        return Auth.bearer(Path(user["tokenFile"]).read_text().strip())
    if user.get("username") and user.get("password"):
        return Auth.basic(str(user["username"]), str(user["password"]))
    if user.get("exec"):
        return _exec_auth(user["exec"])
    return Auth.none()


def _exec_auth(spec: dict[str, Any]) -> Auth:
    """client.authentication.k8s.io exec plugins (EKS, GKE, AKS): run the command, take its token."""
    env = {**os.environ, **{e["name"]: e["value"] for e in spec.get("env") or []}}
    completed = subprocess.run(  # noqa: S603 (the user's own kubeconfig names the command)
        [spec["command"], *(spec.get("args") or [])], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    if completed.returncode != 0:
        raise KubeconfigError(f"the kubeconfig exec credential plugin '{spec['command']}' failed")
    status = json.loads(completed.stdout).get("status") or {}
    if not status.get("token"):
        raise KubeconfigError(f"the exec credential plugin '{spec['command']}' returned no token")
    return Auth.bearer(str(status["token"]))


class KubeClient:
    """Reads namespaced objects. `get` returns None for a 404, so callers can wait for objects to appear."""

    def __init__(self, target: KubeTarget, *, retry: RetryPolicy | None = None) -> None:
        self.http = HttpClient(
            target.server,
            KubeApiError,
            auth=target.auth,
            tls=target.tls,
            timeout=(5.0, 20.0),
            retry=retry or RetryPolicy(),
        )

    @classmethod
    def from_kubeconfig(cls, context: str | None = None) -> KubeClient:
        return cls(load_target(context))

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        path, singular = NAMESPACED[kind]
        response = self.http.request(
            f"get {singular} {namespace}/{name}", "GET", f"{path}/namespaces/{namespace}/{kind}/{name}", ok=(200, 404)
        )
        if response.status_code == 404:
            return None
        result: dict[str, Any] = response.json()
        return result

    def get_definition(self, name: str) -> dict[str, Any] | None:
        """A CustomResourceDefinition, or None when it is absent or this user may not read it (cluster scope)."""
        response = self.http.request(
            f"get customresourcedefinition {name}",
            "GET",
            f"apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
            ok=(200, 403, 404),
        )
        if response.status_code != 200:
            return None
        result: dict[str, Any] = response.json()
        return result


NAMESPACED = {
    "secrets": ("api/v1", "secret"),
    "services": ("api/v1", "service"),
    "endpoints": ("api/v1", "endpoints"),
    "configmaps": ("api/v1", "configmap"),
    "elasticsearches": ("apis/elasticsearch.k8s.elastic.co/v1", "elasticsearch"),
}
"""The API path and the singular name (in error messages) of each namespaced kind `KubeClient.get` reads."""


def secret_value(secret: dict[str, Any], key: str) -> str | None:
    data = secret.get("data") or {}
    if key not in data:
        return None
    return base64.b64decode(data[key]).decode()


def load_balancer_host(service: dict[str, Any]) -> str | None:
    """The first ingress IP or host name of a LoadBalancer Service's status, if allocated."""
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    for entry in ingress:
        host = entry.get("ip") or entry.get("hostname")
        if host:
            return str(host)
    return None
