"""Links: the alias, the two ends, the cross-cluster key's access, and local roles."""

from __future__ import annotations

import re
from typing import Any

from .. import validation as v
from ..es_rules import access_problems, role_problems
from ..validation import SettingsError
from .keys import ROLE_FIELDS
from .model import EceDeployment, EckCluster, Link, Role, Scope, SecurityModel
from .reading import known

_DURATION = re.compile(r"^\d+(d|h|m|s|ms)$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,507}$")


def _roles(key: str, raw: Any, alias: str) -> tuple[Role, ...]:
    roles: list[Role] = []
    for index, item in enumerate(v.sequence(key, raw)):
        item_key = f"{key}[{index}]"
        node = v.mapping(item_key, item)
        known(item_key, node, "links[].roles[]")
        name = node.get("name")
        if not (isinstance(name, str) and _ROLE_NAME.match(name)):
            raise SettingsError(f"{item_key}.name", name, "a role name is 1 to 507 letters, digits and _ . @ -")
        body: dict[str, Any] = {target: node[source] for source, target in ROLE_FIELDS.items() if source in node}
        if "cluster" in node:
            v.sequence(f"{item_key}.cluster", node["cluster"])
        if "description" in node:
            v.require_type(f"{item_key}.description", node["description"], str, "a string")
        if "metadata" in node:
            v.mapping(f"{item_key}.metadata", node["metadata"])
        for source in ("indices", "remoteIndices", "remoteCluster"):
            if source in node:
                entries = v.sequence(f"{item_key}.{source}", node[source])
                # copies: the `clusters` default must not leak into the raw config
                body[ROLE_FIELDS[source]] = [
                    v.mapping(f"{item_key}.{source}[{i}]", entry) for i, entry in enumerate(entries)
                ]
        for field in ("remote_indices", "remote_cluster"):
            for entry in body.get(field, []):
                entry.setdefault("clusters", [alias])
        problems = role_problems(body)
        if problems:
            raise SettingsError(item_key, name, problems[0])
        roles.append(Role(name, body))
    return tuple(roles)


def links(
    raw: Any, scope: Scope, clusters: tuple[EckCluster, ...], deployments: tuple[EceDeployment, ...]
) -> tuple[Link, ...]:
    result: list[Link] = []
    for index, item in enumerate(v.sequence("links", raw)):
        key = f"links[{index}]"
        node = v.mapping(key, item)
        known(key, node, "links[]")
        alias = v.alias(f"{key}.alias", node.get("alias"))
        cluster_name = node.get("eckCluster")
        cluster = next((c for c in clusters if c.name == cluster_name), None)
        if scope is not Scope.ECE and cluster is None:
            raise SettingsError(f"{key}.eckCluster", cluster_name, "must name one of eckClusters[].name")
        if scope is Scope.ECE and not isinstance(cluster_name, str):
            raise SettingsError(f"{key}.eckCluster", cluster_name, "must name the ECK cluster of the remote stack")
        deployment_name = node.get("eceDeployment")
        if scope is not Scope.ECK and not any(d.name == deployment_name for d in deployments):
            raise SettingsError(f"{key}.eceDeployment", deployment_name, "must name one of eceDeployments[].name")
        model = cluster.security_model if cluster else SecurityModel.API_KEY
        if model is SecurityModel.CERTIFICATE and scope is not Scope.BOTH:
            raise SettingsError(
                f"{key}.eckCluster",
                cluster_name,
                "the TLS-certificate model needs scope 'both': the ECK nodes must trust the ECE deployment's CA, read from ECE",
            )
        access = node.get("access")
        if model is SecurityModel.API_KEY or access is not None:
            problems = access_problems(access)
            if problems:
                raise SettingsError(f"{key}.access", access, problems[0])
        expiration = node.get("expiration")
        if expiration is not None and not (isinstance(expiration, str) and _DURATION.match(expiration)):
            raise SettingsError(f"{key}.expiration", expiration, "a duration like '90d', '12h' or '30m'")
        identity = node.get("certificateIdentity")
        if identity is not None:
            v.require_type(f"{key}.certificateIdentity", identity, str, "a regular expression")
            try:
                re.compile(identity)
            except re.error as error:
                raise SettingsError(
                    f"{key}.certificateIdentity", identity, f"is not a valid regular expression ({error})"
                ) from None
            if cluster and cluster.version < v.ES_MIN_CERTIFICATE_IDENTITY:
                raise SettingsError(
                    f"{key}.certificateIdentity",
                    identity,
                    f"needs Elasticsearch >= {v.ES_MIN_CERTIFICATE_IDENTITY} on the remote (it runs {cluster.version})",
                )
        rotation = node.get("rotation")
        if rotation is not None:
            v.require_type(f"{key}.rotation", rotation, str, "a string token (change it to rotate the key)")
        metadata = v.mapping(f"{key}.metadata", node.get("metadata", {}))
        for meta_key in metadata:
            if str(meta_key).startswith("_"):
                raise SettingsError(
                    f"{key}.metadata.{meta_key}", metadata[meta_key], "API key metadata keys may not start with '_'"
                )
        sockets = node.get("proxySocketConnections")
        if sockets is not None:
            v.positive_int(f"{key}.proxySocketConnections", sockets, maximum=1024)
        skip = node.get("skipUnavailable")
        if skip is not None:
            v.require_type(f"{key}.skipUnavailable", skip, bool, "true or false")
        timeout = v.positive_int(
            f"{key}.connectionTimeoutSeconds", node.get("connectionTimeoutSeconds", 300), maximum=3600
        )
        trust_ca = v.require_type(f"{key}.trustRemoteCa", node.get("trustRemoteCa", True), bool, "true or false")
        if scope is not Scope.ECE and "trustRemoteCa" in node:
            raise SettingsError(
                f"{key}.trustRemoteCa",
                trust_ca,
                "only scope 'ece' sets it (false when the ECK stack's transportCa.source is 'none'); "
                "here the ECK cluster's transportCa.source decides",
            )
        link = Link(
            alias=alias,
            eck_cluster=str(cluster_name),
            ece_deployment=str(deployment_name) if deployment_name is not None else None,
            access=dict(access or {}),
            expiration=expiration,
            certificate_identity=identity,
            rotation=rotation,
            metadata=metadata,
            proxy_socket_connections=sockets,
            skip_unavailable=skip,
            roles=_roles(f"{key}.roles", node.get("roles", []), alias),
            connection_timeout_seconds=timeout,
            trust_remote_ca=trust_ca,
        )
        clash = next(
            (other for other in result if other.alias == alias and other.ece_deployment == link.ece_deployment), None
        )
        if clash is not None:
            raise SettingsError(f"{key}.alias", alias, "an alias can be used once per ECE deployment")
        result.append(link)
    return tuple(result)


def check_scope_pairs(scope: Scope, links_: tuple[Link, ...]) -> None:
    """In scope 'eck' the key and the ECK side are made here for each (alias, cluster) once."""
    if scope is Scope.ECK:
        seen: set[str] = set()
        for index, link in enumerate(links_):
            if link.alias in seen:
                raise SettingsError(f"links[{index}].alias", link.alias, "in scope 'eck' each alias is declared once")
            seen.add(link.alias)
