"""One remote link, chained: the ECK side's CA and address flow into the ECE trust and the remote cluster settings,
the cross-cluster key's `encoded` flows into the ECE keystore, and the connection check runs last.

`EckLinkEnd` is the ECK half (the key, plus what the ECE half needs); `RemoteClusterLink` is the whole chain. When two
teams own the two halves, the ECK stack exports an `EckLinkEnd`'s values and the ECE stack rebuilds a `RemoteEnd`
from them through a StackReference.

Every value that another resource may produce is a `pulumi.Input` here (a plain value or an Output): the ECE
deployment id, the CA, the address, the server name, the key's access. What decides which resources exist (the alias,
the roles, whether a CA is to be trusted, the security model) is plain, because Pulumi must know it before any Output
resolves. This program's stack config is turned into these Args in `program.py`; a program of your own fills them
from its own resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from . import credentials, names
from .dynamic import credentials_input
from .ece.client import proxy_target
from .ece.connection_props import connection_props
from .ece.keystore import EceKeystoreCredentials
from .ece.local_side import EceLocalSide
from .ece.trust_group import DeploymentTrust, TrustEntry
from .elasticsearch.api_key import CrossClusterApiKey, CrossClusterApiKeyAccess
from .elasticsearch.connection_check import LinkConfirmation, RemoteConnectionCheck
from .elasticsearch.remote_settings import RemoteClusterSettings
from .elasticsearch.roles import RemoteRole
from .pem import fingerprint, split_certificates
from .settings.model import Adoption, Role

DEFAULT_REF_ID = "_main"
"""ECE's name for a deployment's main Elasticsearch resource, whatever its `ref_id`."""


@dataclass(frozen=True)
class EceApi:
    """The ECE API that holds the local deployment (the ECE side of a link)."""

    url: pulumi.Input[str]
    """Like `https://ece.example.com:12443`."""
    region: pulumi.Input[str | None] = None
    """The ECE region, when the API is reached through a region-scoped route."""
    ca_certificate: pulumi.Input[str | None] = None
    """PEM of the CA the ECE API's certificate chains to; None for the system's CAs."""
    insecure: bool = False
    """Skip TLS verification of the ECE API (tests only)."""
    plan_timeout_seconds: int = 900
    """How long a change that runs an ECE plan (trust, keystore) may take."""
    credentials: pulumi.Input[Mapping[str, Any]] = field(default_factory=credentials.ece_reference)
    """By default a reference resolved when a provider calls ECE: the stack config's `secrets.ece` (`apiKey`, or
    `username` and `password`) or `ECE_API_KEY` (or `ECE_USERNAME` and `ECE_PASSWORD`) in the environment, so no ECE
    credential is an input or in state. Credentials given here (`{"api_key": ...}`) are kept in state as secrets."""

    def props(self) -> pulumi.Output[dict[str, Any]]:
        """The connection as the dynamic resources take it (`ece` input)."""
        insecure = self.insecure
        return pulumi.Output.all(self.url, self.region, self.ca_certificate).apply(
            lambda values: connection_props(values[0], values[1], values[2], insecure)
        )


@dataclass(frozen=True)
class ElasticsearchApi:
    """The remote (ECK) cluster's Elasticsearch HTTP API, where the cross-cluster API key is made."""

    url: pulumi.Input[str]
    """Like `https://quickstart-es-http.elastic.svc:9200`."""
    credentials: pulumi.Input[Mapping[str, Any]]
    """`{"username": ..., "password": ...}` or `{"api_key": ...}` (kept in state as secrets), or a reference resolved
    when the key is made, such as `credentials.kubernetes_secret_reference(...)` for the operator's `elastic` user."""
    ca_certificate: pulumi.Input[str | None] = None
    """PEM of the CA of the HTTP certificate; None for the system's CAs."""
    insecure: bool = False

    def target(self) -> pulumi.Output[dict[str, Any]]:
        """The endpoint as the dynamic resources take it (`target` input)."""
        insecure = self.insecure
        return pulumi.Output.all(self.url, self.ca_certificate).apply(
            lambda values: {"kind": "direct", "url": values[0], "ca_certificate": values[1], "insecure": insecure}
        )


@dataclass(frozen=True)
class CertificateTrust:
    """The TLS-certificate model (deprecated in Elasticsearch 9.0): no key; the ECE deployment trusts the remote's
    node certificates, and the remote's nodes trust the ECE deployment's CA (see `EckRemoteClusterArgs.ece_trust`)."""

    scope_id: str
    """The trust entry's `scope_id`: `<namespace>.es.local` for ECK (`names.certificate_model_scope`)."""
    node_names: tuple[str, ...] = ()
    """Names of the remote's nodes that the trust restriction must let in; the connection check names them."""


@dataclass(frozen=True)
class RemoteEnd:
    """What the local (ECE) side needs from the remote side of one link. Each value may be an Output of another
    resource (an `EckLinkEnd`, a StackReference, resources of your own)."""

    address: pulumi.Input[str]
    """`host:port` of the remote cluster server as the local cluster reaches it (IPv6 bracketed)."""
    server_name: pulumi.Input[str]
    """The TLS server name the local cluster asks for and checks (`<name>-es-remote-cluster.<ns>.svc` for ECK)."""
    ca_certificate: pulumi.Input[str | None] = None
    """PEM of the CA the remote cluster server's certificate chains to; None when it is publicly trusted."""
    encoded_key: pulumi.Input[str | None] = None
    """The cross-cluster API key's `encoded` value (kept secret); None in the TLS-certificate model."""
    key_id: pulumi.Input[str | None] = None
    remote_target: pulumi.Input[dict[str, Any]] | None = None
    """The remote's HTTP API and its credentials (secret), to diagnose a key problem; absent across stacks."""
    declares_ca: bool | None = None
    """Whether the local side must trust a private CA. Known from configuration, never from an Output's value; None
    means: when `ca_certificate` is given."""
    certificate_trust: CertificateTrust | None = None
    """Set for the TLS-certificate model only (made by an `EckLinkEnd` of such a cluster)."""

    @property
    def trusts_ca(self) -> bool:
        return self.declares_ca if self.declares_ca is not None else self.ca_certificate is not None

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


def ca_fingerprint(ca: pulumi.Input[str | None]) -> pulumi.Output[str | None]:
    return pulumi.Output.from_input(ca).apply(lambda pem: fingerprint(pem) if pem else None)


@dataclass(frozen=True)
class EckLinkEndArgs:
    """The remote side of a link: where it is reached, and the cross-cluster API key to make on it."""

    address: pulumi.Input[str]
    server_name: pulumi.Input[str]
    ca_certificate: pulumi.Input[str | None] = None
    """See `RemoteEnd`."""
    api: ElasticsearchApi | None = None
    """The remote's HTTP API: required to make the key (API-key model)."""
    access: pulumi.Input[Mapping[str, Any]] | None = None
    """What the key grants, in Elasticsearch's form: `{"search": [{"names": ["logs-*"]}], "replication": [...]}`."""
    key_name: pulumi.Input[str] | None = None
    """Default: `ece-eck-remote-<stack>-<component name>`. A new name makes a new key (a replacement)."""
    expiration: pulumi.Input[str] | None = None
    """Like `90d`; none by default."""
    metadata: pulumi.Input[Mapping[str, Any]] | None = None
    certificate_identity: pulumi.Input[str] | None = None
    """Elasticsearch 9.3+: the certificate identity the key is bound to."""
    rotation: pulumi.Input[str] | None = None
    """Any new value makes a new key (rotation), the old one invalidated once the new one is in use."""
    ready_timeout_seconds: int = 600
    """How long making the key waits for the remote's API (a new cluster's pods starting)."""
    adopt_key_id: str | None = None
    """A key made by hand that the first `up` takes over instead of making one."""
    declares_ca: bool | None = None
    """See `RemoteEnd`."""
    certificate_trust: CertificateTrust | None = None
    """The TLS-certificate model: no key is made."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the key must wait for (the cluster it is made on)."""


class EckLinkEnd(pulumi.ComponentResource):
    """The ECK half of a link: the cross-cluster API key on the remote cluster, and what the ECE half needs."""

    api_key: CrossClusterApiKey | None
    api_key_access: CrossClusterApiKeyAccess | None
    end: RemoteEnd

    def __init__(self, name: str, args: EckLinkEndArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.type_token("EckLinkEnd"), name, None, opts)
        remote_target: pulumi.Output[dict[str, Any]] | None = None
        remote_credentials: pulumi.Input[Mapping[str, Any]] | None = None
        if args.api is not None:
            remote_target, remote_credentials = args.api.target(), args.api.credentials
        self.api_key = None
        self.api_key_access = None
        encoded: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        key_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.certificate_trust is None:
            if remote_target is None or remote_credentials is None or args.access is None:
                raise ValueError(f"{name}: making the cross-cluster API key needs the remote's `api` and `access`")
            self.api_key = CrossClusterApiKey(
                f"{name}-api-key",
                target=remote_target,
                credentials=remote_credentials,
                key_name=args.key_name if args.key_name is not None else names.api_key_name(pulumi.get_stack(), name),
                access=args.access,
                expiration=args.expiration,
                metadata=args.metadata,
                certificate_identity=args.certificate_identity,
                rotation=args.rotation,
                ready_timeout_seconds=args.ready_timeout_seconds,
                adopt_key_id=args.adopt_key_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
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
                access=args.access,
                expiration=args.expiration,
                metadata=args.metadata,
                certificate_identity=args.certificate_identity,
                rotation=args.rotation,
                opts=pulumi.ResourceOptions(parent=self),
            )
            encoded = self.api_key.encoded
            key_id = self.api_key.key_id
        self.end = RemoteEnd(
            ca_certificate=args.ca_certificate,
            address=args.address,
            server_name=args.server_name,
            encoded_key=encoded,
            key_id=key_id,
            remote_target=None
            if remote_target is None
            else pulumi.Output.secret(
                pulumi.Output.all(remote_target, remote_credentials).apply(
                    lambda values: {"target": values[0], "credentials": values[1]}
                )
            ),
            declares_ca=args.declares_ca,
            certificate_trust=args.certificate_trust,
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
    """One remote cluster alias on an ECE deployment, pointing at a remote cluster."""

    alias: str
    """The remote cluster alias: lowercase letters, digits, `-` and `_`."""
    ece: EceApi
    deployment_id: pulumi.Input[str]
    """The ECE deployment (the local cluster)."""
    ref_id: pulumi.Input[str] = DEFAULT_REF_ID
    """Its Elasticsearch resource (`main-elasticsearch` on most deployments; `_main` finds the main one)."""
    eck: EckLinkEndArgs | None = None
    """The remote half to make here (the key on the remote cluster)..."""
    end: RemoteEnd | None = None
    """...or the remote half made elsewhere (an ECK stack's exports, values of your own)."""
    proxy_socket_connections: pulumi.Input[int] | None = None
    skip_unavailable: pulumi.Input[bool] | None = None
    roles: Sequence[Role] = ()
    """Local roles, in Elasticsearch's form (`remote_indices` with `clusters: [alias]`), made after the settings."""
    connection_timeout_seconds: int = 300
    """How long the connection check waits for `connected: true`."""
    adopt: Adoption | None = None
    """What the first `up` takes over from a setup made by hand."""
    trust: DeploymentTrust | None = None
    """The deployment's trust, shared by every link to the deployment so that their entries cost one ECE plan
    (`DeploymentTrust`; call its `declare()` once every link is declared). None: the link makes one of its own."""


def deployment_trust(
    name: str,
    ece: EceApi,
    deployment_id: pulumi.Input[str],
    ref_id: pulumi.Input[str] = DEFAULT_REF_ID,
    opts: pulumi.ResourceOptions | None = None,
) -> DeploymentTrust:
    """The trust of one ECE deployment, to share between its links (`RemoteClusterLinkArgs.trust`) so that their
    entries cost one ECE plan; call its `declare()` once every link to the deployment is declared."""
    return DeploymentTrust(
        name,
        ece=ece.props(),
        ece_credentials=ece.credentials,
        deployment_id=deployment_id,
        ref_id=ref_id,
        plan_timeout_seconds=ece.plan_timeout_seconds,
        opts=opts,
    )


def _plainly_differ(one: pulumi.Input[str], other: pulumi.Input[str]) -> bool:
    """Both plain strings, and not the same (an Output cannot be compared while the program declares)."""
    return isinstance(one, str) and isinstance(other, str) and one != other


class RemoteClusterLink(pulumi.ComponentResource):
    """One link: the ECK half (made here as a child, or given), then trust, keystore, settings, roles, and the
    connection check; done means connected."""

    remote_half: EckLinkEnd | None

    trust: DeploymentTrust | None
    """The deployment's trust this link's entry is written with (shared with the other links to the deployment when
    given in the args), or None when the link trusts no private CA."""
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
        if not names.valid_alias(args.alias):
            raise ValueError(f"'{args.alias}': {names.ALIAS_RULE}")
        self.remote_half = None
        if args.eck is not None:
            self.remote_half = EckLinkEnd(f"{name}-eck", args.eck, opts=pulumi.ResourceOptions(parent=self))
        end = self.remote_half.end if self.remote_half is not None else args.end
        assert end is not None
        alias, ece, adopt = args.alias, args.ece, args.adopt
        # Across stacks only the API-key model is possible (the certificate model needs the ECE CA on the ECK side).
        certificate_model = end.certificate_trust
        ece_connection, ece_access = ece.props(), ece.credentials
        # How the Elasticsearch side reaches the local cluster: ECE's proxy, with the ECE credentials.
        local_target = pulumi.Output.all(ece_connection, args.deployment_id, args.ref_id).apply(
            lambda values: proxy_target(values[0], values[1], values[2])
        )
        before_settings: list[pulumi.Input[pulumi.Resource]] = []
        # An adopted key is checked (read only) before anything on the ECE side is taken over.
        first: list[pulumi.Resource] = (
            [self.remote_half.api_key]
            if adopt and adopt.api_key_id and self.remote_half is not None and self.remote_half.api_key is not None
            else []
        )
        ca = pulumi.Output.from_input(end.ca_certificate)

        self.trust = None
        trust_details: pulumi.Output[dict[str, Any]] | None = None
        own_trust = False
        if end.trusts_ca:
            entry_name = names.trust_entry_name(alias)
            self.trust = args.trust
            if self.trust is None:
                own_trust = True
                self.trust = deployment_trust(
                    f"{name}-trust", ece, args.deployment_id, args.ref_id, pulumi.ResourceOptions(parent=self)
                )
            elif _plainly_differ(self.trust.deployment_id, args.deployment_id):
                raise ValueError(
                    f"link '{alias}': its trust '{self.trust.name}' is deployment {self.trust.deployment_id}'s, "
                    f"not {args.deployment_id}'s"
                )
            trust_resource = self.trust.add(
                TrustEntry(
                    name=entry_name,
                    certificates=ca.apply(lambda pem: split_certificates(pem) if pem else []),
                    model="api-key" if certificate_model is None else "certificate",
                    scope_id=None if certificate_model is None else certificate_model.scope_id,
                    adopt_entry=adopt.trust_entry if adopt else None,
                ),
                depends_on=first,
            )
            before_settings.append(trust_resource)
            plan_timeout = ece.plan_timeout_seconds
            trust_details = pulumi.Output.all(ece_connection, ece_access, args.deployment_id, args.ref_id).apply(
                lambda values: {
                    "ece": values[0],
                    "ece_credentials": values[1],
                    "deployment_id": values[2],
                    "ref_id": values[3],
                    "entry_name": entry_name,
                    "plan_timeout_seconds": plan_timeout,
                }
            )

        self.keystore = None
        if certificate_model is None:
            self.keystore = EceKeystoreCredentials(
                f"{name}-keystore",
                ece=ece_connection,
                ece_credentials=ece_access,
                deployment_id=args.deployment_id,
                ref_id=args.ref_id,
                alias=alias,
                value=pulumi.Output.from_input(end.encoded_key).apply(lambda key: key or ""),
                plan_timeout_seconds=ece.plan_timeout_seconds,
                adopt=bool(adopt and adopt.api_key_id),
                opts=pulumi.ResourceOptions(parent=self, depends_on=first),
            )
            before_settings.append(self.keystore)

        self.settings = RemoteClusterSettings(
            f"{name}-settings",
            target=local_target,
            credentials=ece_access,
            alias=alias,
            proxy_address=end.address,
            server_name=end.server_name,
            proxy_socket_connections=args.proxy_socket_connections,
            skip_unavailable=args.skip_unavailable,
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
            for role in args.roles
        ]
        fingerprints = ca.apply(lambda pem: [fingerprint(block) for block in split_certificates(pem or "")])
        # The certificate model's trust restriction must let the remote's nodes in: the check names them on failure.
        node_names = list(certificate_model.node_names) if certificate_model is not None else []
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
            alias=alias,
            expected=expected,
            timeout_seconds=args.connection_timeout_seconds,
            requires_credentials=certificate_model is None,
            remote=remote_details,
            trust=trust_details,
            local_side=EceLocalSide() if trust_details is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.settings, *before_settings]),
        )

        if self.trust is not None:
            # The end of a CA rotation: after this check, the deployment's trust drops the old CA, and asks the
            # Elasticsearch side to confirm the link with the new one alone.
            self.trust.confirmed_by(
                names.trust_entry_name(alias),
                self.check,
                {
                    "target": local_target,
                    "credentials": credentials_input(ece_access),
                    "alias": alias,
                    "expected": expected,
                    "requires_credentials": certificate_model is None,
                    "timeout_seconds": args.connection_timeout_seconds,
                },
                LinkConfirmation(),
            )
            if own_trust:
                self.trust.declare()
        self.alias = pulumi.Output.from_input(alias)
        self.proxy_address = self.settings.proxy_address
        self.server_name = pulumi.Output.from_input(end.server_name)
        self.ca_fingerprint = ca_fingerprint(ca)
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
