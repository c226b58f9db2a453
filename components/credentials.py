"""Credentials resolved when an operation needs them, so that no credential is a resource input or lives in state.

A dynamic resource's `credentials` input is either the credentials themselves (a library user may pass them; they then
live in its state as secrets) or a reference that names where to find them:

- `{"from": "ece"}`: the ECE API credentials, from the stack config's `secrets.ece` (given to every dynamic provider
  by `ResourceProvider.configure`, pulumi/pulumi#17673), else from the environment: `ECE_API_KEY`, or `ECE_USERNAME`
  and `ECE_PASSWORD`. Rotating the ECE API key therefore changes no input: `preview` shows nothing, and the next
  operation uses the new key.
- `{"from": "kubernetes-secret", "context", "namespace", "name", "key", "username"}`: a password read from a
  Kubernetes Secret (the ECK operator's `<cluster>-es-elastic-user`) when it is needed.
- `{"from": "stack-secret", "path": [...], "username"}`: a password at `path` under the stack config's `secrets`
  (`secrets.eckClusters.<name>.elasticPassword`, given only when the program renders manifests for a cluster).

Resolved values are `{"api_key": ...}` or `{"username": ..., "password": ...}`. Nothing here knows Pulumi or a product.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

SOURCE = "from"
ECE = "ece"
FROM_KUBERNETES = "kubernetes-secret"
FROM_STACK = "stack-secret"
ENVIRONMENT = ("ECE_API_KEY", "ECE_USERNAME", "ECE_PASSWORD")

_lock = threading.Lock()
_stack_secrets: dict[str, Any] = {}


class CredentialsError(RuntimeError):
    pass


def ece_reference() -> dict[str, Any]:
    """The ECE API credentials from the stack config's `secrets.ece` or the environment, when a provider calls ECE."""
    return {SOURCE: ECE}


def kubernetes_secret_reference(
    *, context: str | None, namespace: str, name: str, key: str, username: str
) -> dict[str, Any]:
    """`username` with the password at `key` of the Secret `namespace/name` (kubeconfig `context`, None for the
    current one), read when a provider needs it: for ECK's `elastic` user, `<cluster>-es-elastic-user`, key
    `elastic`."""
    return {
        SOURCE: FROM_KUBERNETES,
        "context": context,
        "namespace": namespace,
        "name": name,
        "key": key,
        "username": username,
    }


def stack_secret_reference(*path: str, username: str) -> dict[str, Any]:
    return {SOURCE: FROM_STACK, "path": list(path), "username": username}


def is_reference(credentials: Any) -> bool:
    return isinstance(credentials, Mapping) and credentials.get(SOURCE) in (ECE, FROM_KUBERNETES, FROM_STACK)


def remember_stack_secrets(raw: Any) -> None:
    """The stack config's `secrets` value as the engine hands it to a provider (a JSON text or an object)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    with _lock:
        _stack_secrets.clear()
        if isinstance(raw, Mapping):
            _stack_secrets.update(raw)


def ece_from(secrets: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, str] | None:
    """ECE credentials from the config's `secrets.ece`, else from the environment; None when neither has them."""
    given = (secrets or {}).get(ECE) if secrets else None
    if isinstance(given, Mapping) and given.get("apiKey"):
        return {"api_key": str(given["apiKey"])}
    if isinstance(given, Mapping) and given.get("username") and given.get("password"):
        return {"username": str(given["username"]), "password": str(given["password"])}
    if environ.get("ECE_API_KEY"):
        return {"api_key": environ["ECE_API_KEY"]}
    if environ.get("ECE_USERNAME") and environ.get("ECE_PASSWORD"):
        return {"username": environ["ECE_USERNAME"], "password": environ["ECE_PASSWORD"]}
    return None


def resolve(credentials: Mapping[str, Any]) -> Mapping[str, Any]:
    """The credentials to use now: given ones as they are, a reference looked up."""
    source = credentials.get(SOURCE)
    if source is None:
        return credentials
    if source == ECE:
        with _lock:
            secrets = dict(_stack_secrets)
        found = ece_from(secrets, os.environ)
        if found is None:
            raise CredentialsError(
                "no ECE credentials: set secrets.ece.apiKey (pulumi config set --path --secret secrets.ece.apiKey "
                "<key>), or ECE_API_KEY, or ECE_USERNAME and ECE_PASSWORD in the environment of `pulumi`"
            )
        return found
    if source == FROM_KUBERNETES:
        namespace, name, key = credentials["namespace"], credentials["name"], credentials["key"]
        # The Kubernetes client (~0.25 s to import) only when a reference is read, not in every process that
        # loads the components (the program, a preview's provider process).
        from .kube_api import KubeClient, secret_value  # noqa: PLC0415

        secret = KubeClient.from_kubeconfig(credentials.get("context")).get("secrets", namespace, name)
        password = secret_value(secret, key) if secret else None
        if not password:
            raise CredentialsError(f"Secret {namespace}/{name} has no key '{key}' (the ECK operator writes it)")
        return {"username": credentials.get("username") or "elastic", "password": password}
    if source == FROM_STACK:
        path = [str(part) for part in credentials.get("path") or []]
        with _lock:
            value: Any = dict(_stack_secrets)
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if not isinstance(value, str) or not value:
            where = ".".join(["secrets", *path])
            raise CredentialsError(
                f"no value at {where} in the stack config (pulumi config set --path --secret {where})"
            )
        return {"username": credentials.get("username") or "elastic", "password": value}
    raise CredentialsError(f"unknown credentials source '{source}'")
