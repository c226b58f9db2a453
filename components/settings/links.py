"""Links: the alias, the two ends, the cross-cluster key's access, and local roles."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from .. import validation as v
from ..es_rules import ROLE_NAME_RULE, access_problems, role_problems, valid_role_name
from ..validation import SettingsError, SettingsErrors
from .keys import ROLE_FIELDS
from .model import Adoption, EckCluster, Link, Role, Scope, SecurityModel
from .reading import Problems, known

_DURATION = re.compile(r"^\d+(d|h|m|s|ms)$")


def _roles(p: Problems, key: str, raw: Any, alias: str | None) -> tuple[Role, ...] | None:
    """The link's roles, or None when one is wrong (recorded). `clusters` default to the alias, when it parsed."""
    mark = p.mark()
    roles: list[Role] = []
    for index, item in enumerate(p.value(v.sequence, key, raw) or []):
        item_key = f"{key}[{index}]"
        node = p.value(v.mapping, item_key, item)
        if node is None:
            continue
        role_mark = p.mark()
        p.value(known, item_key, node, "links[].roles[]")
        name = node.get("name")
        if not valid_role_name(name):
            p.add(SettingsError(f"{item_key}.name", name, ROLE_NAME_RULE))
        body: dict[str, Any] = {target: node[source] for source, target in ROLE_FIELDS.items() if source in node}
        if "cluster" in node:
            p.value(v.sequence, f"{item_key}.cluster", node["cluster"])
        if "description" in node:
            p.value(v.require_type, f"{item_key}.description", node["description"], str, "a string")
        if "metadata" in node:
            p.value(v.mapping, f"{item_key}.metadata", node["metadata"])
        for source in ("indices", "remoteIndices", "remoteCluster"):
            if source in node:
                entries = p.value(v.sequence, f"{item_key}.{source}", node[source]) or []
                # copies: the `clusters` default must not leak into the raw config
                body[ROLE_FIELDS[source]] = [
                    entry
                    for i, raw_entry in enumerate(entries)
                    if (entry := p.value(v.mapping, f"{item_key}.{source}[{i}]", raw_entry)) is not None
                ]
        if p.since(role_mark) or alias is None:
            continue
        for field in ("remote_indices", "remote_cluster"):
            for entry in body.get(field, []):
                entry.setdefault("clusters", [alias])
        try:
            found = role_problems(body)
        except TypeError:  # Elasticsearch's rules assume lists of strings
            found = ["clusters, names and privileges must be lists of strings"]
        for problem in found:
            p.add(SettingsError(item_key, name, problem))
        if not p.since(role_mark):
            roles.append(Role(str(name), body))
    return None if p.since(mark) else tuple(roles)


def links(
    p: Problems,
    raw: Any,
    *,
    scope: Scope | None,
    clusters: tuple[EckCluster, ...],
    cluster_names: Collection[str],
    deployments: Collection[str],
) -> tuple[Link, ...]:
    """The links that parsed. `cluster_names` and `deployments` are every name declared, whether or not its cluster or
    deployment parsed; `clusters` the clusters that did. A wrong `scope` is None: what depends on it is not checked."""
    result: list[Link] = []
    for index, item in enumerate(p.value(v.sequence, "links", raw) or []):
        key = f"links[{index}]"
        link = _link(p, key, item, scope=scope, clusters=clusters, cluster_names=cluster_names, deployments=deployments)
        if link is None:
            continue
        if scope is Scope.ECK and any(other.alias == link.alias for other in result):
            # the key and the ECK side are made here for each (alias, cluster) once
            p.add(SettingsError(f"{key}.alias", link.alias, "in scope 'eck' each alias is declared once"))
        elif any(other.alias == link.alias and other.ece_deployment == link.ece_deployment for other in result):
            p.add(SettingsError(f"{key}.alias", link.alias, "an alias can be used once per ECE deployment"))
        result.append(link)
    return tuple(result)


def _link(
    p: Problems,
    key: str,
    item: Any,
    *,
    scope: Scope | None,
    clusters: tuple[EckCluster, ...],
    cluster_names: Collection[str],
    deployments: Collection[str],
) -> Link | None:
    mark = p.mark()
    node = p.value(v.mapping, key, item)
    if node is None:
        return None
    p.value(known, key, node, "links[]")
    alias = p.value(v.alias, f"{key}.alias", node.get("alias"))
    cluster_name = node.get("eckCluster")
    cluster = next((c for c in clusters if c.name == cluster_name), None)
    if scope is Scope.ECE or scope is None:
        if not isinstance(cluster_name, str):
            p.add(SettingsError(f"{key}.eckCluster", cluster_name, "must name the ECK cluster of the remote stack"))
    elif not _is_declared(cluster_name, cluster_names):
        p.add(SettingsError(f"{key}.eckCluster", cluster_name, "must name one of eckClusters[].name"))
    deployment_name = node.get("eceDeployment")
    if scope is not Scope.ECK and scope is not None and not _is_declared(deployment_name, deployments):
        p.add(SettingsError(f"{key}.eceDeployment", deployment_name, "must name one of eceDeployments[].name"))
    if cluster is not None:
        model: SecurityModel | None = cluster.security_model
    elif scope is Scope.ECE or (scope is not None and not _is_declared(cluster_name, cluster_names)):
        model = SecurityModel.API_KEY  # the remote stack's cluster, or none (reported above): the default model
    else:
        model = None  # a cluster that is wrong itself, or a wrong scope: not checked against
    if model is SecurityModel.CERTIFICATE and scope is not Scope.BOTH and scope is not None:
        p.add(
            SettingsError(
                f"{key}.eckCluster",
                cluster_name,
                "the TLS-certificate model needs scope 'both': the ECK nodes must trust the ECE deployment's CA, read "
                "from ECE",
            )
        )
    access = node.get("access")
    shape = _access_shape(f"{key}.access", access)
    for error in shape:
        p.add(error)
    if not shape and (model is SecurityModel.API_KEY or access is not None):
        for problem in access_problems(access):
            p.add(SettingsError(f"{key}.access", access, problem))
    expiration = node.get("expiration")
    if expiration is not None and not (isinstance(expiration, str) and _DURATION.match(expiration)):
        p.add(SettingsError(f"{key}.expiration", expiration, "a duration like '90d', '12h' or '30m'"))
    identity = node.get("certificateIdentity")
    if identity is not None:
        p.value(_certificate_identity, f"{key}.certificateIdentity", identity, cluster)
    rotation = node.get("rotation")
    if rotation is not None:
        p.value(v.require_type, f"{key}.rotation", rotation, str, "a string token (change it to rotate the key)")
    metadata = p.value(v.mapping, f"{key}.metadata", node.get("metadata", {}))
    for meta_key, meta_value in (metadata or {}).items():
        if str(meta_key).startswith("_"):
            p.add(
                SettingsError(f"{key}.metadata.{meta_key}", meta_value, "API key metadata keys may not start with '_'")
            )
    sockets = node.get("proxySocketConnections")
    if sockets is not None:
        p.value(v.positive_int, f"{key}.proxySocketConnections", sockets, maximum=1024)
    skip = node.get("skipUnavailable")
    if skip is not None:
        p.value(v.require_type, f"{key}.skipUnavailable", skip, bool, "true or false")
    timeout = p.value(
        v.positive_int, f"{key}.connectionTimeoutSeconds", node.get("connectionTimeoutSeconds", 300), maximum=3600
    )
    trust_ca = p.value(v.require_type, f"{key}.trustRemoteCa", node.get("trustRemoteCa", True), bool, "true or false")
    if scope is not Scope.ECE and scope is not None and "trustRemoteCa" in node:
        p.add(
            SettingsError(
                f"{key}.trustRemoteCa",
                node["trustRemoteCa"],
                "only scope 'ece' sets it (false when the ECK stack's transportCa.source is 'none'); "
                "here the ECK cluster's transportCa.source decides",
            )
        )
    roles = _roles(p, f"{key}.roles", node.get("roles", []), alias)
    adopt = p.value(_adoption, f"{key}.adopt", node.get("adopt"), alias)
    if p.since(mark):
        return None
    assert alias is not None and metadata is not None and timeout is not None and trust_ca is not None
    assert roles is not None
    return Link(
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
        roles=roles,
        connection_timeout_seconds=timeout,
        trust_remote_ca=trust_ca,
        adopt=adopt,
    )


_ACCESS_FIELD_RULES = {
    "names": "must be an index pattern or a list of them",
    "allow_restricted_indices": "must be true or false",
    "field_security": "must be an object with grant and except lists",
    "query": "must be a query, as a JSON string or an object",
}


def _access_field_fits(field: str, value: Any) -> bool:
    if field == "names":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))
    if field == "allow_restricted_indices":
        return isinstance(value, bool)
    if field == "field_security":
        return isinstance(value, dict)
    return isinstance(value, (str, dict))


def _access_shape(key: str, access: Any) -> list[SettingsError]:
    """The types of `access` that Elasticsearch takes (its rules, `access_problems`, assume them)."""
    if not isinstance(access, dict):
        return []  # access_problems says what access is
    problems: list[SettingsError] = []
    for kind in ("search", "replication"):
        entries = access.get(kind)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(SettingsError(f"{key}.{kind}", entries, "must be a list of objects"))
            continue
        for index, entry in enumerate(entries):
            where = f"{key}.{kind}[{index}]"
            if not isinstance(entry, dict):
                problems.append(SettingsError(where, entry, "must be an object with names"))
                continue
            for field, rule in _ACCESS_FIELD_RULES.items():
                if entry.get(field) is not None and not _access_field_fits(field, entry[field]):
                    problems.append(SettingsError(f"{where}.{field}", entry[field], rule))
    return problems


def _certificate_identity(key: str, identity: Any, cluster: EckCluster | None) -> None:
    v.require_type(key, identity, str, "a regular expression")
    try:
        re.compile(identity)
    except re.error as error:
        raise SettingsError(key, identity, f"is not a valid regular expression ({error})") from None
    if cluster and cluster.version < v.ES_MIN_CERTIFICATE_IDENTITY:
        raise SettingsError(
            key,
            identity,
            f"needs Elasticsearch >= {v.ES_MIN_CERTIFICATE_IDENTITY} on the remote (it runs {cluster.version})",
        )


def _adoption(key: str, raw: Any, alias: str | None) -> Adoption | None:
    """`links[].adopt`: what the link takes over on its first `up` (the resources check it is there)."""
    if raw is None:
        return None
    node = v.mapping(key, raw)
    known(key, node, "links[].adopt")
    problems: list[SettingsError] = []
    names_: dict[str, str | None] = {}
    for field_name in ("trustEntry", "apiKeyId"):
        value = node.get(field_name)
        if value is not None and not (isinstance(value, str) and value.strip() == value and value):
            problems.append(SettingsError(f"{key}.{field_name}", value, "a non-empty name without surrounding spaces"))
            value = None
        names_[field_name] = value
    taken = node.get("alias")
    if taken is not None and alias is not None and taken != alias:
        problems.append(
            SettingsError(
                f"{key}.alias",
                taken,
                f"must be the link's alias '{alias}': a remote cluster cannot be renamed while it stays connected "
                "(to move to another alias, make a new link)",
            )
        )
    if problems:
        raise SettingsErrors(problems)
    if not (names_["trustEntry"] or names_["apiKeyId"] or taken):
        raise SettingsError(key, raw, "names at least one of trustEntry, apiKeyId, alias")
    return Adoption(trust_entry=names_["trustEntry"], api_key_id=names_["apiKeyId"], alias=taken is not None)


def _is_declared(value: Any, declared: Collection[str]) -> bool:
    """Whether `value` is one of the `declared` names (a list or an object never is)."""
    return isinstance(value, str) and value in declared
