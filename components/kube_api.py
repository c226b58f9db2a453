"""Kubernetes API reads for the dynamic providers, on the official `kubernetes` client (pinned in requirements.txt).

The providers read what the ECK operator publishes (Secrets, Service status) and, for clusters owned elsewhere, the
`Elasticsearch` resource and its CRD. The configuration is found by client-go's rules, as kubectl and the Pulumi
Kubernetes provider find it, so both act on the same cluster:

- the files listed in `KUBECONFIG` (missing ones skipped), else `~/.kube/config`: merged with the first file to name
  something winning, the current context (of the first file that sets one) or a chosen one; paths relative to the
  file that holds them; token, tokenFile, client certificates, basic and exec credentials (with their `env`),
  `tls-server-name`, `proxy-url`;
- else, when none of those files exists, the pod's service account (in-cluster config: `KUBERNETES_SERVICE_HOST`
  and `_PORT`, the mounted token and CA). Not when a context is chosen: a context names a kubeconfig entry, and
  the pod's own cluster may be another one (client-go fails the same way).

Loading is done by `kubernetes.config`; requests go through its `ApiClient` with the retry rules of `http.py`
(`RetryPolicy`: timeouts, dropped connections, 429 and 5xx retried with backoff and jitter, honouring `Retry-After`;
other 4xx never; a host name that does not resolve or a refused connection only briefly, as an `UnreachableError`
naming where the address comes from; a server certificate that does not verify not at all). A 404 reads as None, so
callers can wait for an object to appear.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config import incluster_config, kube_config
from kubernetes.config.config_exception import ConfigException

from .http import ApiError, RetryPolicy, TransportError, UnreachableError, redact, unreachable_error

log = logging.getLogger("ece_eck_remote.kube_api")

SERVICE_ACCOUNT_TOKEN = Path(incluster_config.SERVICE_TOKEN_FILENAME)
SERVICE_ACCOUNT_CA = Path(incluster_config.SERVICE_CERT_FILENAME)
"""Where a pod's service account is mounted (kubernetes/config/incluster_config.py:24-25); tests point them elsewhere."""

TIMEOUT = (5.0, 20.0)
"""(connect, read) seconds of each request."""
SOURCE = "the Kubernetes API server of the kubeconfig (KUBECONFIG or ~/.kube/config; context: kubernetes.context)"
IN_CLUSTER_SOURCE = "the Kubernetes API server of this pod (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT)"
"""Where the server's address comes from, named when nothing answers there."""


class KubeApiError(ApiError):
    api_name = "Kubernetes API"

    @classmethod
    def parse_body(cls, body: Any) -> tuple[str | None, str | None]:
        if isinstance(body, dict) and body.get("kind") == "Status":
            return body.get("reason"), body.get("message")
        return None, None


class KubeconfigError(RuntimeError):
    pass


# --- configuration ---------------------------------------------------------------------------------------------------


def kubeconfig_files() -> list[Path]:
    """The kubeconfig files that exist, in `KUBECONFIG` order (or `~/.kube/config`). Empty ones are skipped, as
    client-go skips them (the Python merger would reject them, kube_config.py:675-678)."""
    listed = os.environ.get("KUBECONFIG")
    names = [name for name in listed.split(os.pathsep) if name] if listed else ["~/.kube/config"]
    paths = [Path(name).expanduser() for name in names]
    return [path for path in dict.fromkeys(paths) if path.is_file() and path.stat().st_size > 0]


def in_cluster() -> bool:
    """client-go's test for in-cluster config: the service host and port are set and the token is mounted."""
    return bool(
        os.environ.get(incluster_config.SERVICE_HOST_ENV_NAME)
        and os.environ.get(incluster_config.SERVICE_PORT_ENV_NAME)
        and SERVICE_ACCOUNT_TOKEN.is_file()
    )


def load_configuration(context: str | None = None) -> Configuration:
    """A fresh client configuration: the kubeconfig if there is one, else the pod's service account."""
    configuration = Configuration()
    files = kubeconfig_files()
    try:
        if files:
            _load_kubeconfig(files, context, configuration)
        elif in_cluster():
            if context:
                raise KubeconfigError(
                    f"kubernetes.context is '{context}' but there is no kubeconfig (KUBECONFIG or ~/.kube/config); "
                    "unset it to use the service account of the pod this runs in"
                )
            # The loader takes the file names (incluster_config.py:38-47), sets host, CA and bearer token, and
            # re-reads the token file at most a minute after the last read (:47, :87-110): bound tokens rotate.
            incluster_config.InClusterConfigLoader(
                token_filename=str(SERVICE_ACCOUNT_TOKEN), cert_filename=str(SERVICE_ACCOUNT_CA)
            ).load_and_set(configuration)
        else:
            raise KubeconfigError(
                "no kubeconfig found (set KUBECONFIG or create ~/.kube/config), and this is not a pod with a service "
                "account (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT and "
                f"{SERVICE_ACCOUNT_TOKEN})"
            )
    except ConfigException as error:
        raise KubeconfigError(f"Kubernetes configuration: {error}") from None
    _trim_tokens(configuration)
    return configuration


def _load_kubeconfig(files: list[Path], context: str | None, configuration: Configuration) -> None:
    joined = kube_config.ENV_KUBECONFIG_PATH_SEPARATOR.join(str(path) for path in files)
    # The merger keeps the first definition of each context, cluster and user (kube_config.py:693-700) with the path
    # of the file it came from; certificate, key and token file paths are joined to that file's folder
    # (:110-111, :476-485, :494-521), and an exec plugin runs there with its `env` (:443-444, exec_provider.py:48-60,
    # :91-99), so a relative command resolves as client-go resolves it.
    merged = kube_config.KubeConfigMerger(joined)
    chosen = context or _first_current_context(merged)
    if not chosen:
        raise KubeconfigError("the kubeconfig has no current-context and kubernetes.context is not set")
    context_node = merged.config["contexts"].get_with_name(chosen, safe=True)
    if context_node is None:
        raise KubeconfigError(f"the kubeconfig has no context named '{chosen}'")
    with _exec_plugin_errors() as errors:
        # persist_config=False: never write the user's kubeconfig (a refreshed auth-provider token) from a provider.
        kube_config.load_kube_config(
            config_file=joined, context=chosen, client_configuration=configuration, persist_config=False
        )
    if errors and not (configuration.api_key.get("BearerToken") or configuration.cert_file):
        raise KubeconfigError(f"the kubeconfig's exec credential plugin failed: {errors[0][:500]}")
    # tls-server-name becomes the name the server certificate is checked against and sent as SNI (kube_config.py:524-525,
    # client/rest.py:158-159: urllib3's server_hostname); proxy-url the proxy of the requests (kube_config.py:526-527,
    # client/rest.py:173-186: HTTP CONNECT or SOCKS). As with client-go, a cluster's proxy-url takes every request
    # whatever NO_PROXY says; the client would skip it for hosts in NO_PROXY (client/rest.py:173-175).
    cluster = merged.config["clusters"].get_with_name(context_node.value["context"]["cluster"], safe=True)
    if cluster is not None and (cluster.value.get("cluster") or {}).get("proxy-url"):
        configuration.no_proxy = None


def _first_current_context(merged: Any) -> str | None:
    """kubectl's rule: the first file that sets current-context wins. The merger lets the last one win
    (kube_config.py:688-689), so the context is chosen here and passed explicitly."""
    for path in merged.paths:
        current = (merged.config_files.get(path) or {}).get("current-context")
        if current:
            return str(current)
    return None


@contextmanager
def _exec_plugin_errors() -> Iterator[list[str]]:
    """The loader logs a failed exec plugin and goes on without credentials (kube_config.py:439-474, `logging.error`
    on the root logger); collect those messages so the failure can be named instead of answered by a 401."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.module == "kube_config":
                messages.append(record.getMessage())

    handler = Collect(logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield messages
    finally:
        root.removeHandler(handler)


def _trim_tokens(configuration: Configuration) -> None:
    """A token file written with `echo` ends with a newline, which no HTTP header may hold: client-go trims token
    files, the Python loaders do not (kube_config.py:476-485, incluster_config.py:102-107). Their refresh hooks reset
    the token before each request (client/configuration.py:560-561), so the trim wraps them."""
    inner = configuration.refresh_api_key_hook

    def refresh(config: Configuration) -> None:
        if inner is not None:
            inner(config)  # which sets the hook to itself again (kube_config.py:533-537, incluster_config.py:95-100)
            config.refresh_api_key_hook = refresh  # type: ignore[assignment]  # declared as None in the generated class
        token = config.api_key.get("BearerToken")
        if isinstance(token, str):
            config.api_key["BearerToken"] = token.strip()

    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]  # declared as None in the generated class
    refresh(configuration)


# --- requests --------------------------------------------------------------------------------------------------------

NAMESPACED = {
    "secrets": "secret",
    "services": "service",
    "endpoints": "endpoints",
    "configmaps": "configmap",
    "elasticsearches": "elasticsearch",
}
"""The kinds `KubeClient.get` reads, with the singular name used in error messages."""

ELASTICSEARCH_GROUP, ELASTICSEARCH_VERSION = "elasticsearch.k8s.elastic.co", "v1"


class KubeClient:
    """Reads namespaced objects. `get` returns None for a 404, so callers can wait for objects to appear."""

    def __init__(
        self,
        configuration: Configuration,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        source: str = SOURCE,
    ) -> None:
        # The generated API classes are large (about half a second to import): loaded with the first client.
        from kubernetes.client import ApiextensionsV1Api, CoreV1Api, CustomObjectsApi  # noqa: PLC0415

        configuration.retries = False  # urllib3 retries nothing; the policy below decides (client/rest.py:155-156)
        self.configuration = configuration
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.source = source
        api = ApiClient(configuration)
        api.user_agent = "ece-eck-remote"
        self.core = CoreV1Api(api)
        self.custom = CustomObjectsApi(api)
        self.extensions = ApiextensionsV1Api(api)

    @classmethod
    def from_kubeconfig(cls, context: str | None = None) -> KubeClient:
        """From the kubeconfig (`context` or its current one), or in a pod without one, its service account."""
        return cls(load_configuration(context), source=SOURCE if kubeconfig_files() else IN_CLUSTER_SOURCE)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        singular = NAMESPACED[kind]
        call: Callable[..., Any]
        if kind == "elasticsearches":
            call = functools.partial(
                self.custom.get_namespaced_custom_object,
                ELASTICSEARCH_GROUP,
                ELASTICSEARCH_VERSION,
                namespace,
                kind,
                name,
            )
        else:
            method = {"configmaps": "config_map"}.get(kind, singular)
            call = functools.partial(getattr(self.core, f"read_namespaced_{method}"), name, namespace)
        return self._read(f"get {singular} {namespace}/{name}", call, absent=(404,))

    def get_definition(self, name: str) -> dict[str, Any] | None:
        """A CustomResourceDefinition, or None when it is absent or this user may not read it (cluster scope)."""
        return self._read(
            f"get customresourcedefinition {name}",
            functools.partial(self.extensions.read_custom_resource_definition, name),
            absent=(403, 404),
        )

    def _read(self, operation: str, call: Callable[..., Any], *, absent: tuple[int, ...]) -> dict[str, Any] | None:
        """One GET through the generated API, as raw JSON (`_preload_content=False`: no model objects, keys as the
        server wrote them); non-2xx answers arrive as ApiException (client/api_client.py:174-184)."""
        hidden = self._secrets()
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = call(_preload_content=False, _request_timeout=TIMEOUT)
                result: dict[str, Any] = json.loads(response.data)
                return result
            except ApiException as error:
                if error.status in absent:
                    return None
                failure, retryable, retry_after = _api_failure(operation, error, hidden)
            except urllib3.exceptions.HTTPError as error:
                # A name that does not resolve or a refused connection: named, and retried only briefly.
                failure, retryable = (
                    unreachable_error(
                        operation, error, self.configuration.host, self.source, api=KubeApiError.api_name, hidden=hidden
                    )
                    or TransportError(operation, None, None, _describe(error), api=KubeApiError.api_name),
                    True,
                )
            if not retryable:
                raise failure
            attempt += 1
            unreachable = isinstance(failure, UnreachableError)
            if attempt >= (self.retry.unreachable_attempts if unreachable else self.retry.attempts):
                raise failure
            delay = self.retry.backoff(attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.retry.max_retry_after))
            log.info("%s: attempt %d failed (%s); retrying in %.2fs", operation, attempt, failure.detail[:80], delay)
            self.sleep(delay)

    def _secrets(self) -> list[str]:
        """What must never show in a message: the bearer token (or basic credentials) in use."""
        values = [str(value) for value in self.configuration.api_key.values() if value]
        return [part for value in values for part in (value, value.split(" ", 1)[-1])]


def _api_failure(operation: str, error: ApiException, hidden: list[str]) -> tuple[ApiError, bool, float | None]:
    """The error to raise for an ApiException, whether to retry it, and the server's Retry-After."""
    status = int(error.status or 0)
    if status == 0:
        # The REST layer turns a TLS failure into status 0 (client/rest.py:381-383). A certificate that does not
        # verify will not verify on the next attempt; a handshake cut short may.
        reason = str(error.reason or "")
        verify = "CERTIFICATE_VERIFY_FAILED" in reason
        detail = (
            "TLS certificate verification failed (check the CA and the server name: certificate-authority, "
            "tls-server-name)"
            if verify
            else "TLS handshake failed"
        )
        return TransportError(operation, None, None, detail, api=KubeApiError.api_name), not verify, None
    try:
        body = json.loads(error.body) if error.body else None
    except ValueError:
        body = None
    code, message = KubeApiError.parse_body(body)
    if message is None:
        kind = (error.headers or {}).get("Content-Type", "no content type").split(";")[0]
        message = f"unexpected {kind} body" if error.body else "empty body"
    failure = KubeApiError(operation, status, code, redact(message, hidden))
    retryable = status == 429 or status >= 500
    return failure, retryable, _retry_after((error.headers or {}).get("Retry-After")) if retryable else None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _describe(error: urllib3.exceptions.HTTPError) -> str:
    """A short cause for a request that got no HTTP response (never the URL's credentials: there are none)."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and isinstance(error.reason, urllib3.exceptions.HTTPError):
        return _describe(error.reason)
    if isinstance(error, urllib3.exceptions.ProxyError):
        return "the proxy failed the connection (check proxy-url)"
    if isinstance(error, urllib3.exceptions.NameResolutionError):
        return "the server's host name does not resolve"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return "connection refused or unreachable"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "timed out connecting"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "timed out waiting for the response"
    if isinstance(error, urllib3.exceptions.SSLError):
        return "TLS handshake failed"
    return "connection dropped before a response"


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
