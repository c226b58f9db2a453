"""Typed settings: what the rest of the program gets from the stack config, already checked."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ..validation import Address, Version


class Secret:
    """A secret setting. Its value is only reachable through `reveal()`; repr and str hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret([secret])"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Exposure(enum.Enum):
    OPERATOR_SERVICE = "operator-service"
    OWN_SERVICE = "own-service"
    EXTERNAL = "external"


class CaSource(enum.Enum):
    ECK_MANAGED = "eck-managed"
    USER_MANAGED = "user-managed"
    SUPPLIED = "supplied"
    NONE = "none"


class SecurityModel(enum.Enum):
    API_KEY = "api-key"
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class NodeSet:
    name: str
    count: int
    config: dict[str, Any] = field(default_factory=dict)
    pod_template: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteClusterServer:
    """How the remote cluster server (9443, or 9300 in the certificate model) is reached from outside."""

    exposure: Exposure
    port: int
    annotations: dict[str, str] = field(default_factory=dict)
    load_balancer_source_ranges: tuple[str, ...] = ()
    load_balancer_class: str | None = None
    address: Address | None = None
    """Fixed external address: required for `external`; for a LoadBalancer it overrides the status ingress."""


@dataclass(frozen=True)
class TransportCa:
    source: CaSource
    certificate: str | None = None
    """PEM bundle: the user-managed CA certificate, or the CA supplied for a TLS-terminating front."""
    private_key: Secret | None = None


@dataclass(frozen=True)
class HttpEndpoint:
    """Where the program reaches the ECK cluster's Elasticsearch HTTP API (to create the cross-cluster key)."""

    url: str
    ca_certificate: str | None = None
    """PEM bundle; None means the operator's `<name>-es-http-certs-public` CA (or public CAs if not waited for)."""
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class EckCluster:
    name: str
    namespace: str
    version: Version
    operator_version: Version
    security_model: SecurityModel
    node_sets: tuple[NodeSet, ...]
    remote_cluster_server: RemoteClusterServer
    transport_ca: TransportCa
    server_name: str
    http: HttpEndpoint
    elastic_password: Secret | None
    """Render mode only: the password the rendered `<name>-es-elastic-user` Secret carries (no operator to ask)."""
    wait_timeout_seconds: int
    managed: bool = True
    """False: someone else owns the `Elasticsearch` resource; the program reads it and declares none of its own."""
    protect: bool = True
    """Pulumi's `protect` on the `Elasticsearch` resource and the objects it mounts: destroy and replace are refused."""
    retain_on_delete: bool = False
    """Pulumi's `retainOnDelete` on the same objects: a delete drops them from the state and leaves them running."""

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class KubernetesTarget:
    render_yaml_to_directory: str | None = None
    context: str | None = None

    @property
    def render_only(self) -> bool:
        return self.render_yaml_to_directory is not None


class Scope(enum.Enum):
    """Which sides this stack owns: both, or one of them when two teams split the link (StackReference)."""

    BOTH = "both"
    ECK = "eck"
    ECE = "ece"


@dataclass(frozen=True)
class EceConnectionSettings:
    url: str
    region: str | None
    ca_certificate: str | None
    insecure: bool
    plan_timeout_seconds: int
    api_key: Secret | None = None
    username: str | None = None
    password: Secret | None = None


@dataclass(frozen=True)
class EceDeployment:
    name: str
    """How links refer to it in this stack."""
    id: str
    ref_id: str


@dataclass(frozen=True)
class Role:
    """A role on the local cluster, made with a link: its name and its body in Elasticsearch's form (`remote_indices`
    with `clusters: [<alias>]`, `remote_cluster`)."""

    name: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Adoption:
    """What a link takes over from a setup made by hand (`links[].adopt`) on its first `up`."""

    trust_entry: str | None = None
    """The name of the deployment's direct trust entry holding the remote's CA."""
    api_key_id: str | None = None
    """The id of the cross-cluster API key on the remote (its encoded value must be in the keystore already)."""
    alias: bool = False
    """Take over the alias's remote cluster settings (it must be the link's alias)."""


@dataclass(frozen=True)
class Link:
    """One remote connection: an alias on an ECE deployment pointing at an ECK cluster."""

    alias: str
    eck_cluster: str
    ece_deployment: str | None
    access: dict[str, Any]
    expiration: str | None = None
    certificate_identity: str | None = None
    rotation: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    proxy_socket_connections: int | None = None
    skip_unavailable: bool | None = None
    roles: tuple[Role, ...] = ()
    connection_timeout_seconds: int = 300
    trust_remote_ca: bool = True
    """Scope 'ece' only: whether the remote's CA is private and must be trusted (the ECK stack knows its source)."""
    adopt: Adoption | None = None

    @property
    def key(self) -> str:
        """Unique per stack: the alias, qualified by the deployment when several deployments use it."""
        return f"{self.ece_deployment}-{self.alias}" if self.ece_deployment else self.alias


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    scope: Scope
    kubernetes: KubernetesTarget
    eck_clusters: tuple[EckCluster, ...]
    ece: EceConnectionSettings | None
    ece_deployments: tuple[EceDeployment, ...]
    links: tuple[Link, ...]
    remote_stack: str | None = None
    """For scope 'ece': the stack (org/project/stack) whose outputs carry the ECK side of each link."""

    def eck_cluster(self, name: str) -> EckCluster:
        return next(cluster for cluster in self.eck_clusters if cluster.name == name)

    def ece_deployment(self, name: str) -> EceDeployment:
        return next(deployment for deployment in self.ece_deployments if deployment.name == name)

    def links_to(self, cluster: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.eck_cluster == cluster)
