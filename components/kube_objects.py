"""The core/v1 Kubernetes objects this program declares (Secret, ConfigMap, Service), registered exactly as the
`pulumi_kubernetes.core.v1` classes of the pinned SDK register them: same type token, same inputs, same options.

Why not those classes: importing any of them imports all of `pulumi_kubernetes.core.v1` (every core object and its
input types, about 0.15 s of CPU), on every `preview` and `up`, for three kinds. The Kubernetes provider plugin
(the real one) does the work either way: it only sees the registration, which is the same. Each class below mirrors
`_internal_init` of its counterpart in pulumi_kubernetes 4.25.0 (core/v1/Secret.py, ConfigMap.py, Service.py);
tests/unit/test_kube_objects.py compares the registrations of both, so an SDK upgrade that changes one shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities


def _options(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """The SDK's defaults (its plugin version and download URL) under the caller's options, as its classes merge them."""
    return pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)


class Secret(pulumi.CustomResource):
    """`kubernetes:core/v1:Secret`. As in the SDK, `data` and `stringData` are secret inputs and secret outputs."""

    def __init__(
        self,
        resource_name: str,
        *,
        metadata: pulumi.Input[Mapping[str, Any]],
        string_data: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        type: str = "Opaque",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata,
            "stringData": pulumi.Output.secret(string_data),
            "type": type,
        }
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
        super().__init__(
            "kubernetes:core/v1:Secret",
            resource_name,
            props,
            pulumi.ResourceOptions.merge(_options(opts), secret_outputs),
        )


class ConfigMap(pulumi.CustomResource):
    """`kubernetes:core/v1:ConfigMap`."""

    def __init__(
        self,
        resource_name: str,
        *,
        metadata: pulumi.Input[Mapping[str, Any]],
        data: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
        super().__init__("kubernetes:core/v1:ConfigMap", resource_name, props, _options(opts))


class Service(pulumi.CustomResource):
    """`kubernetes:core/v1:Service`."""

    def __init__(
        self,
        resource_name: str,
        *,
        metadata: pulumi.Input[Mapping[str, Any]],
        spec: pulumi.Input[Mapping[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}
        super().__init__("kubernetes:core/v1:Service", resource_name, props, _options(opts))
