"""`EckRemoteCluster`: the ECK `Elasticsearch` resource serving as a remote cluster, its exposure, and what the
local (ECE) side needs from it: CA, address, TLS server name, HTTP endpoint and `elastic` password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import eck_spec, names
from .eck_operator_outputs import EckOperatorOutputs
from .settings import CaSource, EckCluster, Exposure
from .validation import Address


@dataclass(frozen=True)
class EckRemoteClusterArgs:
    cluster: EckCluster
    render_only: bool = False
    """True when the Kubernetes provider only renders manifests: nothing the operator publishes is awaited."""
    kube_context: str | None = None
    extra_node_set_config: dict[str, Any] | None = None
    """Merged into every nodeSet's config (the certificate model adds its trust settings here)."""
    extra_pod_template: dict[str, Any] | None = None


class EckRemoteCluster(pulumi.ComponentResource):
    elasticsearch: k8s.apiextensions.CustomResource
    service: k8s.core.v1.Service | None
    operator_outputs: EckOperatorOutputs | None

    ca_certificate: pulumi.Output[str | None]
    """PEM of the CA the local cluster must trust; None when the endpoint is publicly trusted."""
    address: pulumi.Output[str]
    """`host:port` of the remote cluster server as seen from outside Kubernetes (IPv6 bracketed)."""
    server_name: pulumi.Output[str]
    http_url: pulumi.Output[str]
    http_ca_certificate: pulumi.Output[str | None]
    elastic_password: pulumi.Output[str]
    """Secret."""

    def __init__(self, name: str, args: EckRemoteClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.type_token("EckRemoteCluster"), name, None, opts)
        cluster = args.cluster
        child = pulumi.ResourceOptions(parent=self)
        prerequisites: list[pulumi.Resource] = []

        if cluster.elastic_password is not None:
            # ECK reuses the password it finds in an existing `<name>-es-elastic-user` Secret.
            prerequisites.append(
                k8s.core.v1.Secret(
                    f"{name}-elastic-user",
                    metadata={
                        "name": names.es_elastic_user_secret(cluster.name),
                        "namespace": cluster.namespace,
                        "labels": names.elastic_user_secret_labels(cluster.name, cluster.namespace),
                    },
                    type="Opaque",
                    string_data={"elastic": pulumi.Output.secret(cluster.elastic_password.reveal())},
                    opts=child,
                )
            )
        if cluster.transport_ca.source is CaSource.USER_MANAGED:
            assert cluster.transport_ca.certificate is not None and cluster.transport_ca.private_key is not None
            prerequisites.append(
                k8s.core.v1.Secret(
                    f"{name}-transport-ca",
                    metadata={
                        "name": names.user_managed_transport_ca_secret(cluster.name),
                        "namespace": cluster.namespace,
                        "labels": names.managed_labels(cluster.name),
                    },
                    type="Opaque",
                    string_data={
                        "ca.crt": cluster.transport_ca.certificate,
                        "ca.key": pulumi.Output.secret(cluster.transport_ca.private_key.reveal()),
                    },
                    opts=child,
                )
            )

        spec = eck_spec.elasticsearch_spec(cluster, args.extra_node_set_config)
        if args.extra_pod_template:
            for node_set in spec["nodeSets"]:
                node_set["podTemplate"] = _merge(node_set.get("podTemplate", {}), args.extra_pod_template)
        self.elasticsearch = k8s.apiextensions.CustomResource(
            f"{name}-elasticsearch",
            api_version=eck_spec.ELASTICSEARCH_API_VERSION,
            kind="Elasticsearch",
            metadata=eck_spec.elasticsearch_metadata(cluster),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=prerequisites),
        )

        self.service = None
        if cluster.remote_cluster_server.exposure is Exposure.OWN_SERVICE:
            metadata, service_spec = eck_spec.own_load_balancer_service(cluster)
            # Our wait below reads the LoadBalancer address; the provider's own await would also wait for ready
            # pods behind the Service, which a first `up` on a new cluster does not need.
            metadata["annotations"] = {**metadata.get("annotations", {}), "pulumi.com/skipAwait": "true"}
            self.service = k8s.core.v1.Service(
                f"{name}-remote-cluster-lb", metadata=metadata, spec=service_spec, opts=child
            )

        self.operator_outputs = None
        awaited = self._awaited_objects(cluster)
        if not args.render_only and any(awaited.values()):
            self.operator_outputs = EckOperatorOutputs(
                f"{name}-operator-outputs",
                namespace=cluster.namespace,
                context=args.kube_context,
                timeout_seconds=cluster.wait_timeout_seconds,
                **awaited,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.elasticsearch, *([self.service] if self.service else [])]
                ),
            )

        self.ca_certificate = self._ca_certificate(cluster)
        self.address = self._address(cluster)
        self.server_name = pulumi.Output.from_input(cluster.server_name)
        self.http_url = pulumi.Output.from_input(cluster.http.url)
        self.http_ca_certificate = self._http_ca(cluster)
        self.elastic_password = self._password(cluster)
        self.register_outputs(
            {
                "caCertificate": self.ca_certificate,
                "address": self.address,
                "serverName": self.server_name,
                "httpUrl": self.http_url,
                "httpCaCertificate": self.http_ca_certificate,
                "elasticPassword": self.elastic_password,
            }
        )

    @staticmethod
    def _awaited_objects(cluster: EckCluster) -> dict[str, str | None]:
        in_cluster_http = cluster.http.url == names.default_http_url(cluster.name, cluster.namespace)
        return {
            "ca_secret": names.es_transport_certs_public_secret(cluster.name)
            if cluster.transport_ca.source is CaSource.ECK_MANAGED
            else None,
            "http_ca_secret": names.es_http_certs_public_secret(cluster.name)
            if cluster.http.ca_certificate is None and in_cluster_http and not cluster.http.insecure_skip_verify
            else None,
            "password_secret": names.es_elastic_user_secret(cluster.name) if cluster.elastic_password is None else None,
            "service": eck_spec.exposed_service_name(cluster),
        }

    def _ca_certificate(self, cluster: EckCluster) -> pulumi.Output[str | None]:
        source = cluster.transport_ca.source
        if source is CaSource.ECK_MANAGED:
            assert self.operator_outputs is not None
            return self.operator_outputs.ca_certificate
        if source is CaSource.NONE:
            return pulumi.Output.from_input(None)
        return pulumi.Output.from_input(cluster.transport_ca.certificate)

    def _address(self, cluster: EckCluster) -> pulumi.Output[str]:
        server = cluster.remote_cluster_server
        if server.address is not None:
            return pulumi.Output.from_input(str(server.address))
        assert self.operator_outputs is not None
        return self.operator_outputs.ingress_host.apply(lambda host: str(Address(host or "", server.port)))

    def _http_ca(self, cluster: EckCluster) -> pulumi.Output[str | None]:
        if cluster.http.ca_certificate is not None:
            return pulumi.Output.from_input(cluster.http.ca_certificate)
        if self.operator_outputs is not None:
            return self.operator_outputs.http_ca_certificate
        return pulumi.Output.from_input(None)

    def _password(self, cluster: EckCluster) -> pulumi.Output[str]:
        if cluster.elastic_password is not None:
            return pulumi.Output.secret(cluster.elastic_password.reveal())
        assert self.operator_outputs is not None
        return pulumi.Output.secret(self.operator_outputs.elastic_password.apply(lambda p: p or ""))


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into `base`; lists of named items (containers, volumes) merge by `name`."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            result[key] = _merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged: dict[Any, Any] = {item.get("name"): item for item in current if isinstance(item, dict)}
            for item in value:
                name = item.get("name") if isinstance(item, dict) else None
                if name in merged and isinstance(item, dict):
                    merged[name] = _merge(merged[name], item)
                else:
                    merged[name if name is not None else id(item)] = item
            result[key] = list(merged.values())
        else:
            result[key] = value
    return result
