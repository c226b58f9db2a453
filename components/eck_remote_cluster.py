"""`EckRemoteCluster`: the ECK `Elasticsearch` resource serving as a remote cluster, its exposure, and what the
local (ECE) side needs from it: CA, address, TLS server name, HTTP endpoint and `elastic` password.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from . import eck_ece_trust, eck_spec, kube_objects, names
from .eck_ece_trust import EceTrustMaterial
from .eck_operator_outputs import EckOperatorOutputs
from .settings import CaSource, EckCluster, Exposure, KubernetesTarget
from .validation import Address


@dataclass(frozen=True)
class EckRemoteClusterArgs:
    """The ECK cluster to declare (or, `managed: false`, to read), as the program's settings describe it."""

    cluster: EckCluster
    kubernetes: KubernetesTarget = field(default_factory=KubernetesTarget)
    """The cluster (context) to wait on, or render mode, where nothing the operator publishes is awaited."""
    ece_trust: EceTrustMaterial | None = None
    """TLS-certificate model: the ECE deployments' CAs and trust restrictions, mounted into every nodeSet."""


class EckElasticsearch(pulumi.ComponentResource):
    """The cluster itself: the `Elasticsearch` resource and what it references or mounts (the user-managed CA, the
    ECE trust material, the render-mode `elastic` Secret). They share `eckClusters[].protect` (Pulumi refuses to
    delete or replace them) and `retainOnDelete` (a delete leaves them running), so a protected or retained cluster
    never loses an object its pods need. Absent for a cluster owned elsewhere (`managed: false`)."""

    resource: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: EckRemoteClusterArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(names.type_token("EckElasticsearch"), name, None, opts)
        cluster = args.cluster
        # These were children of `EckRemoteCluster` before this component: the alias keeps them (no replacement).
        child = pulumi.ResourceOptions(
            parent=self,
            protect=cluster.protect,
            retain_on_delete=cluster.retain_on_delete,
            aliases=[pulumi.Alias(parent=opts.parent)],
        )
        prerequisites: list[pulumi.Resource] = []
        if cluster.elastic_password is not None:
            # Render mode only: the manifest carries the password of the cluster it will be applied to.
            prerequisites.append(
                kube_objects.Secret(
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
                kube_objects.Secret(
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
        ece_ca_files = None
        if args.ece_trust is not None:
            prerequisites += self._ece_trust(name, cluster, args.ece_trust, child)
            ece_ca_files = args.ece_trust.file_names
        self.resource = k8s.apiextensions.CustomResource(
            f"{name}-elasticsearch",
            api_version=eck_spec.ELASTICSEARCH_API_VERSION,
            kind="Elasticsearch",
            metadata=eck_spec.elasticsearch_metadata(cluster),
            spec=eck_spec.elasticsearch_spec(cluster, ece_ca_files),
            opts=child.merge(pulumi.ResourceOptions(depends_on=prerequisites)),
        )
        self.register_outputs({})

    @staticmethod
    def _ece_trust(
        name: str, cluster: EckCluster, material: EceTrustMaterial, child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        labels = names.managed_labels(cluster.name)
        secret = kube_objects.Secret(
            f"{name}-ece-ca",
            metadata={"name": names.ece_ca_secret(cluster.name), "namespace": cluster.namespace, "labels": labels},
            type="Opaque",
            string_data=material.ca_files,
            opts=child,
        )
        config_map = kube_objects.ConfigMap(
            f"{name}-ece-trust",
            metadata={
                "name": names.ece_trust_config_map(cluster.name),
                "namespace": cluster.namespace,
                "labels": labels,
            },
            data={
                "trust.yml": material.subject_names.apply(
                    lambda subjects: eck_ece_trust.trust_yml(cluster.name, cluster.namespace, subjects)
                )
            },
            opts=child,
        )
        return [secret, config_map]


class EckRemoteCluster(pulumi.ComponentResource):
    """An Elasticsearch cluster on Kubernetes under ECK serving as a remote cluster: its `Elasticsearch` resource
    (unless owned elsewhere), the exposure of its remote cluster server, and what the local side needs from it, waited
    for where the operator publishes it (CA, load-balancer address), as Outputs for an `EckLinkEndArgs`."""

    cluster_objects: EckElasticsearch | None
    """The cluster's own objects; None for a cluster owned elsewhere (`managed: false`), which is only read."""
    elasticsearch: k8s.apiextensions.CustomResource | None
    service: kube_objects.Service | None
    operator_outputs: EckOperatorOutputs | None

    ca_certificate: pulumi.Output[str | None]
    """PEM of the CA the local cluster must trust; None when the endpoint is publicly trusted."""
    address: pulumi.Output[str]
    """`host:port` of the remote cluster server as seen from outside Kubernetes (IPv6 bracketed)."""
    server_name: pulumi.Output[str]
    http_url: pulumi.Output[str]
    http_ca_certificate: pulumi.Output[str | None]

    def __init__(self, name: str, args: EckRemoteClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.type_token("EckRemoteCluster"), name, None, opts)
        cluster = args.cluster
        self.cluster_objects, self.elasticsearch = None, None
        if cluster.managed:
            self.cluster_objects = EckElasticsearch(
                name, args, pulumi.ResourceOptions(parent=self, protect=cluster.protect)
            )
            self.elasticsearch = self.cluster_objects.resource
        cluster_resource = [self.elasticsearch] if self.elasticsearch is not None else []

        self.service = None
        if cluster.remote_cluster_server.exposure is Exposure.OWN_SERVICE:
            metadata, service_spec = eck_spec.own_load_balancer_service(cluster)
            # Our wait below reads the LoadBalancer address; the provider's own await would also wait for ready
            # pods behind the Service, which a first `up` on a new cluster does not need.
            metadata["annotations"] = {**metadata.get("annotations", {}), "pulumi.com/skipAwait": "true"}
            # After the cluster's own objects: a refused replacement of those (protected) comes first.
            self.service = kube_objects.Service(
                f"{name}-remote-cluster-lb",
                metadata=metadata,
                spec=service_spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=cluster_resource),
            )

        self.operator_outputs = None
        awaited = self._awaited_objects(cluster)
        if not args.kubernetes.render_only and any(awaited.values()):
            self.operator_outputs = EckOperatorOutputs(
                f"{name}-operator-outputs",
                namespace=cluster.namespace,
                context=args.kubernetes.context,
                timeout_seconds=cluster.wait_timeout_seconds,
                **awaited,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[*cluster_resource, *([self.service] if self.service else [])]
                ),
            )

        self.ca_certificate = self._ca_certificate(cluster)
        self.address = self._address(cluster)
        self.server_name = pulumi.Output.from_input(cluster.server_name)
        self.http_url = pulumi.Output.from_input(cluster.http.url)
        self.http_ca_certificate = self._http_ca(cluster)
        # No `elastic` password here: whoever needs it reads the Secret when it calls (link.elastic_credentials).
        self.register_outputs(
            {
                "caCertificate": self.ca_certificate,
                "address": self.address,
                "serverName": self.server_name,
                "httpUrl": self.http_url,
                "httpCaCertificate": self.http_ca_certificate,
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
            return self.operator_outputs.ca_certificate.apply(lambda pem: pem or None)
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
            return self.operator_outputs.http_ca_certificate.apply(lambda pem: pem or None)
        return pulumi.Output.from_input(None)


class EckClusterProtections(pulumi.ComponentResource):
    """The anchor of the stack's `EckClusterProtection` guards, one per stack: it owns nothing and depends on every
    other resource of the stack, and every guard is its child. Pulumi deletes a parent's children before the parent,
    and the anchor before everything it depends on, so on `destroy` the guards are the first deletes of all and a
    protected guard's refusal stops the run before anything else is changed (the anchor waits for its children).
    Unprotected itself: whether a delete is refused is each guard's `protect`.

    One anchor rather than guards that each depend on everything: those were O(clusters x resources) dependencies,
    and the SDK's cost per dependency grows with the dependencies a resource already has. The guards cannot depend on
    one another instead: depending on a local component adds its children, not the component itself."""

    def __init__(
        self, name: str, everything: list[pulumi.Resource], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            names.type_token("EckClusterProtections"),
            name,
            None,
            pulumi.ResourceOptions(protect=False, depends_on=everything).merge(opts),
        )
        self.register_outputs({})


class EckClusterProtection(pulumi.ComponentResource):
    """First in line when a protected cluster would be deleted. Pulumi refuses a protected resource only when its turn
    comes, and a delete runs in reverse dependency order: on `destroy --skip-preview` (Pulumi 3.260, observed) the
    link and every other resource go before the `Elasticsearch` resource is refused. This component owns nothing and
    is a child of the stack's `EckClusterProtections` anchor, which depends on every other resource of the stack, so
    it is among the first deletes of all; it carries the cluster's `protect`, and Pulumi's refusal here stops the run
    before anything else is changed. It is declared for every cluster the stack owns, protected or not, so that
    `protect: false` then `destroy` works. Guards were top-level resources before the anchor: the alias to the root
    stack keeps them (no replacement)."""

    def __init__(self, cluster: EckCluster, anchor: EckClusterProtections) -> None:
        super().__init__(
            names.type_token("EckClusterProtection"),
            cluster.name,
            None,
            pulumi.ResourceOptions(
                parent=anchor, protect=cluster.protect, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]
            ),
        )
        self.register_outputs({})
