"""Every settings key the parser accepts, level by level, in one place.

A level is written as its path with `[]` for a list item and `<name>` for a map keyed by a cluster name: `""` is the
top level (the project config keys), `eckClusters[].nodeSets[]` an item of a cluster's `nodeSets`. The parser checks
each object it reads against its level (`reading.known`); the docs test holds the README's configuration table and
`Pulumi.yaml` against the same sets. Free-form objects (`config`, `podTemplate`, `annotations`, `metadata`, `access`
and the role bodies, which Elasticsearch checks) are not levels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

ROLE_FIELDS: Mapping[str, str] = {
    "cluster": "cluster",
    "indices": "indices",
    "remoteIndices": "remote_indices",
    "remoteCluster": "remote_cluster",
    "description": "description",
    "metadata": "metadata",
}
"""A link's role keys in config (camelCase) and the role API fields they become."""

ACCEPTED: Mapping[str, frozenset[str]] = {
    "": frozenset({"scope", "remoteStack", "kubernetes", "eckClusters", "ece", "eceDeployments", "links", "secrets"}),
    "kubernetes": frozenset({"context", "renderYamlToDirectory"}),
    "eckClusters[]": frozenset(
        {
            "name",
            "namespace",
            "version",
            "operatorVersion",
            "securityModel",
            "nodeSets",
            "remoteClusterServer",
            "transportCa",
            "serverName",
            "http",
            "waitTimeoutSeconds",
            "managed",
            "protect",
            "retainOnDelete",
        }
    ),
    "eckClusters[].nodeSets[]": frozenset({"name", "count", "config", "podTemplate"}),
    "eckClusters[].remoteClusterServer": frozenset(
        {"exposure", "port", "annotations", "loadBalancerSourceRanges", "loadBalancerClass", "address"}
    ),
    "eckClusters[].transportCa": frozenset({"source", "certificate", "certificateFile"}),
    "eckClusters[].http": frozenset({"url", "caCertificate", "caCertificateFile", "insecureSkipVerify"}),
    "ece": frozenset(
        {"url", "region", "caCertificate", "caCertificateFile", "insecureSkipVerify", "planTimeoutSeconds"}
    ),
    "eceDeployments[]": frozenset({"name", "id", "refId"}),
    "links[]": frozenset(
        {
            "alias",
            "eckCluster",
            "eceDeployment",
            "access",
            "expiration",
            "certificateIdentity",
            "rotation",
            "metadata",
            "proxySocketConnections",
            "skipUnavailable",
            "roles",
            "connectionTimeoutSeconds",
            "trustRemoteCa",
        }
    ),
    "links[].roles[]": frozenset({"name", *ROLE_FIELDS}),
    "secrets": frozenset({"ece", "eckClusters"}),
    "secrets.ece": frozenset({"apiKey", "username", "password"}),
    "secrets.eckClusters.<name>": frozenset({"elasticPassword", "transportCaKey"}),
}
"""The keys each level accepts; anything else is refused with the list of these."""


def _join(level: str, key: str) -> str:
    return f"{level}.{key}" if level else key


def _child_level(level: str, key: str) -> str | None:
    for candidate in (_join(level, key), _join(level, key) + "[]", _join(level, key) + ".<name>"):
        if candidate in ACCEPTED:
            return candidate
    return None


def accepted_paths() -> Iterator[str]:
    """Every accepted key as a full path, leaves and the objects and lists that hold them (`eckClusters[]`)."""
    for level, keys in ACCEPTED.items():
        for key in sorted(keys):
            yield _child_level(level, key) or _join(level, key)


def leaf_paths() -> Iterator[str]:
    """The accepted keys that hold values rather than further levels."""
    for level, keys in ACCEPTED.items():
        for key in sorted(keys):
            if _child_level(level, key) is None:
                yield _join(level, key)
