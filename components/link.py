"""One remote link, chained: the ECK side's CA and address flow into the ECE trust and the remote cluster settings,
the cross-cluster key's `encoded` flows into the ECE keystore, and the connection check runs last.

`EckLinkEnd` is the ECK half (the key, plus what the ECE half needs); `RemoteClusterLink` is the whole chain. When two
teams own the two halves, the ECK stack exports an `EckLinkEnd`'s values and the ECE stack rebuilds a `RemoteEnd`
from them through a StackReference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from . import credentials, names
from .ece.client import proxy_target
from .ece.keystore import EceKeystoreCredentials
from .ece.local_side import EceLocalSide
from .ece.trust import EceTrustedCa
from .eck_remote_cluster import EckRemoteCluster
from .elasticsearch.api_key import CrossClusterApiKey, CrossClusterApiKeyAccess
from .elasticsearch.connection_check import RemoteConnectionCheck
from .elasticsearch.remote_settings import RemoteClusterSettings
from .elasticsearch.roles import RemoteRole
from .pem import fingerprint, split_certificates
from .settings import CaSource, EceConnectionSettings, EceDeployment, EckCluster, Link, SecurityModel


@dataclass(frozen=True)
class RemoteEnd:
    """What the local side needs from the remote side of one link."""

    ca_certificate: pulumi.Output[str | None]
    address: pulumi.Output[str]
    server_name: pulumi.Output[str]
    encoded_key: pulumi.Output[str | None]
    """Secret; None in the TLS-certificate model."""
    key_id: pulumi.Output[str | None]
    remote_target: pulumi.Output[dict[str, Any]] | None = None
    """The remote's HTTP API and its credentials (secret), to diagnose a key problem; absent across stacks."""
    declares_ca: bool = True
    """Whether the local side must trust a private CA. Known from configuration, never from an Output's value."""

    @classmethod
    def from_stack(cls, reference: pulumi.StackReference, alias: str, *, declares_ca: bool) -> RemoteEnd:
        """The values an ECK stack exported for `alias` (see `EckLinkEnd.exports` and `secret_exports`)."""
        end = reference.require_output("linkEnds").apply(lambda ends: ends[alias])
        key = reference.require_output("linkKeys").apply(lambda keys: keys[alias])
        return cls(
            ca_certificate=end.apply(lambda e: e.get("caCertificate")),
            address=end.apply(lambda e: e["address"]),
            server_name=end.apply(lambda e: e.get("serverName") or ""),
            encoded_key=pulumi.Output.secret(key),
            key_id=end.apply(lambda e: e.get("keyId")),
            declares_ca=declares_ca,
        )


def ece_props(ece: EceConnectionSettings) -> dict[str, Any]:
    return {"url": ece.url, "region": ece.region, "ca_certificate": ece.ca_certificate, "insecure": ece.insecure}


def ece_credentials(_ece: EceConnectionSettings) -> dict[str, Any]:
    """Where the ECE credentials are found when an operation needs them (the stack config's `secrets.ece`, or the
    environment): a reference, so that no ECE credential is an input or in state, and rotating one changes nothing."""
    return credentials.ece_reference()


def ca_fingerprint(ca: pulumi.Output[str | None]) -> pulumi.Output[str | None]:
    return ca.apply(lambda pem: fingerprint(pem) if pem else None)


@dataclass(frozen=True)
class EckLinkEndArgs:
    link: Link
    cluster: EckCluster
    remote: EckRemoteCluster
    stack: str
    kubernetes_context: str | None = None
    """The kubeconfig context where the operator's `elastic` user Secret is read when the key is managed."""


def elastic_credentials(args: EckLinkEndArgs) -> dict[str, Any]:
    """Where the remote's `elastic` password is found when an operation needs it: the operator's Secret, or the stack
    config when the program renders manifests with a password of its own. A reference, so it is never in state."""
    cluster = args.cluster
    if cluster.elastic_password is not None:
        return credentials.stack_secret_reference("eckClusters", cluster.name, "elasticPassword", username="elastic")
    return credentials.kubernetes_secret_reference(
        context=args.kubernetes_context,
        namespace=cluster.namespace,
        name=names.es_elastic_user_secret(cluster.name),
        key="elastic",
        username="elastic",
    )


class EckLinkEnd(pulumi.ComponentResource):
    """The ECK half of a link: the cross-cluster API key on the remote cluster, and what the ECE half needs."""

    api_key: CrossClusterApiKey | None
    api_key_access: CrossClusterApiKeyAccess | None
    end: RemoteEnd

    def __init__(self, name: str, args: EckLinkEndArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.type_token("EckLinkEnd"), name, None, opts)
        remote, link = args.remote, args.link
        remote_target = pulumi.Output.all(remote.http_url, remote.http_ca_certificate).apply(
            lambda values: {
                "kind": "direct",
                "url": values[0],
                "ca_certificate": values[1],
                "insecure": args.cluster.http.insecure_skip_verify,
            }
        )
        remote_credentials = elastic_credentials(args)
        self.api_key = None
        self.api_key_access = None
        encoded: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        key_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.cluster.security_model is SecurityModel.API_KEY:
            self.api_key = CrossClusterApiKey(
                f"{name}-api-key",
                target=remote_target,
                credentials=remote_credentials,
                key_name=names.api_key_name(args.stack, link.key),
                access=link.access,
                expiration=link.expiration,
                metadata=link.metadata or None,
                certificate_identity=link.certificate_identity,
                rotation=link.rotation,
                ready_timeout_seconds=args.cluster.wait_timeout_seconds,
                adopt_key_id=link.adopt.api_key_id if link.adopt else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[remote]),
            )
            self.api_key_access = CrossClusterApiKeyAccess(
                f"{name}-api-key-access",
                target=remote_target,
                credentials=remote_credentials,
                # The key's resource id is its id, and stays known in a preview of an update (its outputs do not):
                # only a new key (a replacement) replaces what depends on it.
                key_id=self.api_key.id,
                key_grants_hash=self.api_key.grants_hash,
                key_expires_at=self.api_key.expires_at,
                access=link.access,
                expiration=link.expiration,
                metadata=link.metadata or None,
                certificate_identity=link.certificate_identity,
                rotation=link.rotation,
                opts=pulumi.ResourceOptions(parent=self),
            )
            encoded = self.api_key.encoded
            key_id = self.api_key.key_id
        self.end = RemoteEnd(
            ca_certificate=remote.ca_certificate,
            address=remote.address,
            server_name=remote.server_name,
            encoded_key=encoded,
            key_id=key_id,
            remote_target=pulumi.Output.secret(
                pulumi.Output.all(remote_target, remote_credentials).apply(
                    lambda values: {"target": values[0], "credentials": values[1]}
                )
            ),
            declares_ca=args.cluster.transport_ca.source is not CaSource.NONE,
        )
        self.register_outputs(
            {"address": self.end.address, "serverName": self.end.server_name, "keyId": key_id, "encodedKey": encoded}
        )

    def exports(self) -> pulumi.Output[dict[str, Any]]:
        """What an ECK-only stack exports in clear for this link (the key is in `secret_exports`)."""
        return pulumi.Output.all(
            self.end.ca_certificate, self.end.address, self.end.server_name, self.end.key_id
        ).apply(lambda v: {"caCertificate": v[0], "address": v[1], "serverName": v[2], "keyId": v[3]})

    def secret_exports(self) -> pulumi.Output[str | None]:
        return pulumi.Output.secret(self.end.encoded_key)


@dataclass(frozen=True)
class RemoteClusterLinkArgs:
    link: Link
    ece: EceConnectionSettings
    deployment: EceDeployment
    eck: EckLinkEndArgs | None = None
    """The ECK half to make here (one stack owns both sides)..."""
    end: RemoteEnd | None = None
    """...or the ECK half made elsewhere (read through a StackReference)."""


class RemoteClusterLink(pulumi.ComponentResource):
    """One link: the ECK half (made here as a child, or given), then trust, keystore, settings, roles, and the
    connection check; done means connected."""

    remote_half: EckLinkEnd | None

    trust: EceTrustedCa | None
    keystore: EceKeystoreCredentials | None
    settings: RemoteClusterSettings
    roles: list[RemoteRole]
    check: RemoteConnectionCheck

    alias: pulumi.Output[str]
    proxy_address: pulumi.Output[str]
    server_name: pulumi.Output[str]
    ca_fingerprint: pulumi.Output[str | None]
    connected: pulumi.Output[bool]
    encoded_key: pulumi.Output[str | None]

    def __init__(self, name: str, args: RemoteClusterLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.type_token("RemoteClusterLink"), name, None, opts)
        if (args.eck is None) == (args.end is None):
            raise ValueError("a RemoteClusterLink takes either the ECK half to make (eck) or one made elsewhere (end)")
        self.remote_half = None
        if args.eck is not None:
            self.remote_half = EckLinkEnd(f"{name}-eck", args.eck, opts=pulumi.ResourceOptions(parent=self))
        end = self.remote_half.end if self.remote_half is not None else args.end
        assert end is not None
        link, ece, deployment = args.link, args.ece, args.deployment
        # Across stacks only the API-key model is possible (the certificate model needs the ECE CA on the ECK side).
        model = args.eck.cluster.security_model if args.eck is not None else SecurityModel.API_KEY
        ece_connection, ece_access = ece_props(ece), ece_credentials(ece)
        # How the Elasticsearch side reaches the local cluster: ECE's proxy, with the ECE credentials.
        local_target = proxy_target(ece_connection, deployment.id, deployment.ref_id)
        before_settings: list[pulumi.Resource] = []
        adopt = link.adopt
        # An adopted key is checked (read only) before anything on the ECE side is taken over.
        first: list[pulumi.Resource] = (
            [self.remote_half.api_key]
            if adopt and adopt.api_key_id and self.remote_half is not None and self.remote_half.api_key is not None
            else []
        )

        self.trust = None
        trust_details: pulumi.Output[dict[str, Any]] | None = None
        certificates = end.ca_certificate.apply(lambda pem: split_certificates(pem) if pem else [])
        if end.declares_ca:
            self.trust = EceTrustedCa(
                f"{name}-trusted-ca",
                ece=ece_connection,
                ece_credentials=ece_access,
                deployment_id=deployment.id,
                ref_id=deployment.ref_id,
                entry_name=names.trust_entry_name(link.alias),
                certificates=certificates,
                model="api-key" if model is SecurityModel.API_KEY else "certificate",
                scope_id=None
                if model is SecurityModel.API_KEY or args.eck is None
                else names.certificate_model_scope(args.eck.cluster.namespace),
                plan_timeout_seconds=ece.plan_timeout_seconds,
                adopt_entry=adopt.trust_entry if adopt else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=first),
            )
            before_settings.append(self.trust)
            trust_details = pulumi.Output.all(ece_access, self.trust.retiring_certificates).apply(
                lambda values: {
                    "ece": ece_connection,
                    "ece_credentials": values[0],
                    "deployment_id": deployment.id,
                    "ref_id": deployment.ref_id,
                    "entry_name": names.trust_entry_name(link.alias),
                    "retiring_certificates": values[1] or [],
                    "plan_timeout_seconds": ece.plan_timeout_seconds,
                }
            )

        self.keystore = None
        if model is SecurityModel.API_KEY:
            self.keystore = EceKeystoreCredentials(
                f"{name}-keystore",
                ece=ece_connection,
                ece_credentials=ece_access,
                deployment_id=deployment.id,
                ref_id=deployment.ref_id,
                alias=link.alias,
                value=end.encoded_key.apply(lambda key: key or ""),
                plan_timeout_seconds=ece.plan_timeout_seconds,
                adopt=bool(adopt and adopt.api_key_id),
                opts=pulumi.ResourceOptions(parent=self, depends_on=first),
            )
            before_settings.append(self.keystore)

        self.settings = RemoteClusterSettings(
            f"{name}-settings",
            target=local_target,
            credentials=ece_access,
            alias=link.alias,
            proxy_address=end.address,
            server_name=end.server_name,
            proxy_socket_connections=link.proxy_socket_connections,
            skip_unavailable=link.skip_unavailable,
            adopt_alias=bool(adopt and adopt.alias),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*first, *before_settings]),
        )
        self.roles = [
            RemoteRole(
                f"{name}-role-{role.name}",
                target=local_target,
                credentials=ece_access,
                role_name=role.name,
                role=role.body,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.settings]),
            )
            for role in link.roles
        ]
        fingerprints = end.ca_certificate.apply(
            lambda pem: [fingerprint(block) for block in split_certificates(pem or "")]
        )
        # The certificate model's trust restriction must let the remote's nodes in: the check names them on failure.
        node_names = (
            [
                names.eck_transport_node_name(args.eck.cluster.name, args.eck.cluster.namespace, node_set.name)
                for node_set in args.eck.cluster.node_sets[:1]
            ]
            if args.eck is not None and model is SecurityModel.CERTIFICATE
            else []
        )
        expected = pulumi.Output.all(end.address, end.server_name, fingerprints).apply(
            lambda values: {
                "proxy_address": values[0],
                "server_name": values[1],
                "ca_fingerprints": values[2],
                **({"node_names": node_names} if node_names else {}),
            }
        )
        remote_details = None
        if end.remote_target is not None:
            remote_details = pulumi.Output.all(end.remote_target, end.key_id).apply(
                lambda values: {**values[0], "key_id": values[1]}
            )
        self.check = RemoteConnectionCheck(
            f"{name}-connection",
            target=local_target,
            credentials=ece_access,
            alias=link.alias,
            expected=expected,
            timeout_seconds=link.connection_timeout_seconds,
            requires_credentials=model is SecurityModel.API_KEY,
            remote=remote_details,
            trust=trust_details,
            local_side=EceLocalSide() if trust_details is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.settings, *before_settings]),
        )

        self.alias = pulumi.Output.from_input(link.alias)
        self.proxy_address = self.settings.proxy_address
        self.server_name = end.server_name
        self.ca_fingerprint = ca_fingerprint(end.ca_certificate)
        self.connected = self.check.connected
        self.encoded_key = pulumi.Output.secret(end.encoded_key)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of one link; the encoded key only as a secret."""
        return {
            "alias": self.alias,
            "proxyAddress": self.proxy_address,
            "serverName": self.server_name,
            "caFingerprint": self.ca_fingerprint,
            "connected": self.connected,
            "encodedKey": self.encoded_key,
        }
