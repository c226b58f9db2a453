"""A dynamic resource that waits for what the ECK operator publishes after the `Elasticsearch` resource exists.

The operator creates the transport CA Secret, the `elastic` user Secret and the remote cluster Service shortly after
it sees the custom resource, and a cloud controller fills in the LoadBalancer address later still. None of that
exists when Pulumi creates the custom resource, so this resource polls the Kubernetes API (bounded) until each
awaited object is there, and outputs its values. `pulumi refresh` re-reads them, which is how an operator-made
CA rotation reaches the ECE trust on the next `up`. It owns nothing, so delete does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .dynamic import ConfiguredProvider, changed_keys, is_unknown, require
from .polling import WaitTimeoutError, wait_for

if TYPE_CHECKING:
    from . import kube_api

INPUTS = ("namespace", "context", "ca_secret", "http_ca_secret", "password_secret", "service", "timeout_seconds")
OUTPUTS = ("ca_certificate", "http_ca_certificate", "elastic_password", "ingress_host")
REFRESH_WAIT_SECONDS = 30.0


def _snapshot(client: kube_api.KubeClient, props: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What is published now, and a description of each awaited object that is still missing."""
    from . import kube_api  # noqa: PLC0415  # the Kubernetes client (~0.25 s) only when this waits

    namespace = props["namespace"]
    # "" rather than None for what is not awaited: a null output reads as unknown in a later preview.
    values: dict[str, Any] = {key: "" for key in OUTPUTS}
    missing: list[str] = []
    for output, secret_name, key in (
        ("ca_certificate", props.get("ca_secret"), "ca.crt"),
        ("http_ca_certificate", props.get("http_ca_secret"), "ca.crt"),
        ("elastic_password", props.get("password_secret"), "elastic"),
    ):
        if not secret_name:
            continue
        secret = client.get("secrets", namespace, secret_name)
        value = kube_api.secret_value(secret, key) if secret else None
        if value:
            # The password is only awaited: it is read from the Secret whenever an operation needs it
            # (credentials.py), so that it never lives in state.
            values[output] = "" if output == "elastic_password" else value
        else:
            missing.append(
                f"Secret {namespace}/{secret_name} (key '{key}')" if secret else f"Secret {namespace}/{secret_name}"
            )
    if props.get("service"):
        service = client.get("services", namespace, props["service"])
        host = kube_api.load_balancer_host(service) if service else None
        if host:
            values["ingress_host"] = host
        elif service:
            missing.append(
                f"a LoadBalancer address in status.loadBalancer.ingress of Service {namespace}/{props['service']}"
            )
        else:
            missing.append(f"Service {namespace}/{props['service']}")
    return values, missing


def _wait(props: dict[str, Any], timeout: float) -> dict[str, Any]:
    from . import kube_api  # noqa: PLC0415

    client = kube_api.KubeClient.from_kubeconfig(props.get("context"))
    last_missing: list[str] = []

    def probe() -> dict[str, Any] | None:
        nonlocal last_missing
        values, last_missing = _snapshot(client, props)
        return None if last_missing else values

    try:
        return wait_for(
            probe,
            timeout=timeout,
            describe=lambda: "still missing: " + "; ".join(last_missing),
            what=f"the ECK operator's objects in namespace '{props['namespace']}'",
        )
    except WaitTimeoutError as error:
        raise WaitTimeoutError(
            f"the ECK operator's objects did not appear ({error}). Check that the operator runs, watches namespace "
            f"'{props['namespace']}', and accepted the Elasticsearch resource (kubectl describe elasticsearch); a "
            "LoadBalancer address needs a load-balancer controller."
        ) from None


class EckOperatorOutputsProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = require(news, ("namespace", "timeout_seconds"))
        timeout = news.get("timeout_seconds")
        if not is_unknown(timeout) and not (isinstance(timeout, int | float) and timeout > 0):
            failures.append(CheckFailure("timeout_seconds", "must be a positive number of seconds"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUTS)
        # State written by an earlier version holds the password: an update (reads only) takes it out.
        return DiffResult(
            changes=bool(changes) or bool(olds.get("elastic_password")), replaces=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        values = _wait(props, float(props["timeout_seconds"]))
        return CreateResult(f"{props['namespace']}/eck-operator-outputs", {**props, **values})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **_wait(news, float(news["timeout_seconds"]))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = {key: props.get(key) for key in INPUTS}
        values = _wait(inputs, min(REFRESH_WAIT_SECONDS, float(inputs.get("timeout_seconds") or REFRESH_WAIT_SECONDS)))
        return ReadResult(id_, {**inputs, **values}, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class EckOperatorOutputs(Resource, module="eceeck", name="EckOperatorOutputs"):
    """Waits (bounded) for the ECK operator's CA Secret, `elastic` user Secret and LoadBalancer address."""

    ca_certificate: pulumi.Output[str]
    http_ca_certificate: pulumi.Output[str]
    elastic_password: pulumi.Output[str]
    ingress_host: pulumi.Output[str]
    """Each is "" when it was not awaited."""

    def __init__(
        self,
        name: str,
        *,
        namespace: pulumi.Input[str],
        timeout_seconds: int,
        context: str | None = None,
        ca_secret: str | None = None,
        http_ca_secret: str | None = None,
        password_secret: str | None = None,
        service: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "namespace": namespace,
            "context": context,
            "ca_secret": ca_secret,
            "http_ca_secret": http_ca_secret,
            "password_secret": password_secret,
            "service": service,
            "timeout_seconds": timeout_seconds,
            **{key: None for key in OUTPUTS},
        }
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["elastic_password"])
        super().__init__(EckOperatorOutputsProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret_outputs))
