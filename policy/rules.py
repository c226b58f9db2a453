"""The rules of the policy pack, as pure functions: one resource (its type, name, URN and inputs) and the rule's
policy config in, the messages a user sees out (none when the resource complies).

The inputs are the ones this program gives its resources: the dynamic resources `pulumi-python:dynamic/eceeck:<Name>`
(`components/`), the `Elasticsearch` custom resource and our own LoadBalancer `Service`. In a preview, an input that
is not known yet is `UNKNOWN`: a rule that needs it says nothing then, and the engine runs it again on the real value
when `pulumi up` reaches the resource (policies run on every step of an update too).

A stack is *production* when its name matches one of the patterns of the policy config `productionStacks` (shell
patterns, `fnmatch`; default: `prod`, `prod-*`, `production`, `production-*`). The stack name is read from the URN,
which every launch of a policy pack has (pulumi-policy does not always know the stack otherwise).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit


class _Unknown:
    """A value the engine does not know yet (a preview, before the resources it comes from exist)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

DYNAMIC = "pulumi-python:dynamic/eceeck:"
TRUSTED_CA = f"{DYNAMIC}EceTrustedCa"
"""One link's trust entry (stacks made before `EceDeploymentTrust`)."""
DEPLOYMENT_TRUST = f"{DYNAMIC}EceDeploymentTrust"
"""Every link's trust entry on one deployment (`entries`)."""
API_KEY = f"{DYNAMIC}CrossClusterApiKey"
REMOTE_SETTINGS = f"{DYNAMIC}RemoteClusterSettings"
REMOTE_ROLE = f"{DYNAMIC}RemoteRole"
CONNECTION_CHECK = f"{DYNAMIC}RemoteConnectionCheck"
ELASTICSEARCH = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
SERVICE = "kubernetes:core/v1:Service"
MANAGED_BY_LABEL = ("app.kubernetes.io/managed-by", "ece-eck-remote")
"""The label this program puts on everything it declares in Kubernetes (`components/names.py`)."""

DEFAULT_PRODUCTION_STACKS = ("prod", "prod-*", "production", "production-*")

INTERNAL_LOAD_BALANCER_ANNOTATIONS: Mapping[str, str] = {
    # The annotations Kubernetes documents for an internal load balancer ("Internal load balancer", Service docs),
    # plus the AWS Load Balancer Controller's scheme and OCI's network load balancer. "*": any non-empty value.
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": "private",
    "service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
    "service.beta.kubernetes.io/cce-load-balancer-internal-vpc": "true",
    "service.kubernetes.io/qcloud-loadbalancer-internal-subnetid": "*",
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
    "oci-network-load-balancer.oraclecloud.com/internal": "true",
}
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
"""Kubernetes' older way to give `loadBalancerSourceRanges` (comma-separated); honoured like the field."""
ANY_ADDRESS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Resource:
    """One resource as the engine shows it to a policy; `props` are its inputs, `UNKNOWN` where not known yet."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]

    @property
    def stack(self) -> str:
        """`urn:pulumi:<stack>::<project>::<type>::<name>`."""
        head = self.urn.split("::", 1)[0]
        return head.removeprefix("urn:pulumi:")


Check = Callable[[Resource, Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    """The first line of every message of the rule (pulumi-policy prints it above the finding)."""
    enforcement: Literal["mandatory", "advisory"]
    check: Check
    config_schema: Mapping[str, Mapping[str, Any]] | None = None
    """JSON schema of the rule's policy config properties (with their defaults)."""


# --- reading inputs -----------------------------------------------------------------------------------------------


def known(value: Any) -> bool:
    return value is not UNKNOWN


def get(node: Any, *path: str) -> Any:
    """The value at `path`: None when a part is missing or not a mapping, UNKNOWN when a part is not known yet."""
    for part in path:
        if node is UNKNOWN:
            return UNKNOWN
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def items(node: Any) -> list[Any]:
    """A list input as a list (an unknown or absent one as empty)."""
    return list(node) if isinstance(node, Sequence) and not isinstance(node, str) else []


def names_of(entry: Any) -> str:
    value = get(entry, "names")
    shown = items(value) if not isinstance(value, str) else [value]
    return ", ".join(str(name) for name in shown) or "?"


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every mapping in `node` (itself included), with the keys that lead to it."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for value in node:
            yield from walk(value, path)


def where(url: Any) -> str:
    """`scheme://host:port` of a URL, which is what identifies an API in a message."""
    if not isinstance(url, str):
        return "?"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


# --- production stacks --------------------------------------------------------------------------------------------


def production_patterns(config: Mapping[str, Any]) -> list[str]:
    value = config.get("productionStacks")
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(pattern) for pattern in value]
    return list(DEFAULT_PRODUCTION_STACKS)


def is_production(stack: str, config: Mapping[str, Any]) -> bool:
    return any(fnmatch.fnmatchcase(stack, pattern) for pattern in production_patterns(config))


# --- the rules ----------------------------------------------------------------------------------------------------

API_KEY_MODEL = (
    "Set securityModel: api-key (the default) on its cluster in eckClusters[]; if the stack is not production, change "
    "productionStacks in the policy config"
)


def certificate_model(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    stack = resource.stack
    if not is_production(stack, config):
        return []
    props = resource.props
    why = f"Stack '{stack}' is production (it matches productionStacks: {', '.join(production_patterns(config))})"
    entries = [props] if resource.type == TRUSTED_CA else []
    if resource.type == DEPLOYMENT_TRUST and isinstance(props.get("entries"), list):
        entries = [
            {**entry, "entry_name": entry.get("name")} for entry in props["entries"] if isinstance(entry, Mapping)
        ]
    certificate_model = [entry for entry in entries if entry.get("model") == "certificate"]
    if certificate_model:
        return [
            f"{why}, and the ECE trust entry '{entry.get('entry_name')}' of deployment {props.get('deployment_id')} "
            f"is a TLS-certificate model entry (type generic, trust_all, scope {entry.get('scope_id')}). "
            f"{API_KEY_MODEL}."
            for entry in certificate_model
        ]
    if resource.type == CONNECTION_CHECK and props.get("requires_credentials") is False:
        return [
            f"{why}, and link '{props.get('alias')}' connects with the TLS-certificate model (no cross-cluster API "
            f"key). {API_KEY_MODEL}."
        ]
    if resource.type == ELASTICSEARCH:
        metadata = get(props, "metadata")
        label, value = MANAGED_BY_LABEL
        spec = get(props, "spec")
        enabled = get(spec, "remoteClusterServer", "enabled")
        if get(metadata, "labels", label) == value and known(spec) and known(enabled) and enabled is not True:
            return [
                f"{why}, and the Elasticsearch resource {get(metadata, 'namespace')}/{get(metadata, 'name')} runs no "
                "remote cluster server (spec.remoteClusterServer.enabled): remote clusters reach it with the "
                f"TLS-certificate model, on its transport port. {API_KEY_MODEL}."
            ]
    return []


def key_expiration(resource: Resource, _config: Mapping[str, Any]) -> list[str]:
    if resource.type != API_KEY:
        return []
    expiration = resource.props.get("expiration")
    if not known(expiration) or (isinstance(expiration, str) and expiration.strip()):
        return []
    return [
        f"The cross-cluster API key '{resource.props.get('name')}' never expires. Set expiration on its link in "
        "links[] (a duration like 90d), and rotate the key before it ends (links[].rotation)."
    ]


def insecure_tls(resource: Resource, _config: Mapping[str, Any]) -> list[str]:
    if not resource.type.startswith(DYNAMIC):
        return []
    messages: dict[tuple[str, str], str] = {}
    for path, node in walk(resource.props):
        if node.get("insecure") is not True:
            continue
        name = node.get("name")
        api = where(node.get("url"))
        if (path and path[-1] == "ece") or (isinstance(name, str) and name.startswith("ece:")):
            messages[("ece", api)] = (
                f"The ECE API at {api} is called without verifying its TLS certificate (ece.insecureSkipVerify: "
                "true). Give the API's CA instead (ece.caCertificate or ece.caCertificateFile)."
            )
        else:
            messages[("eck", api)] = (
                f"The Elasticsearch API of the ECK cluster at {api} is called without verifying its TLS certificate "
                "(eckClusters[].http.insecureSkipVerify: true). Leave it false: the operator's CA is used by default, "
                "or give http.caCertificate."
            )
    return list(messages.values())


def restricted_indices(resource: Resource, _config: Mapping[str, Any]) -> list[str]:
    props = resource.props
    found: list[str] = []
    if resource.type == API_KEY:
        for section in ("search", "replication"):
            for index, entry in enumerate(items(get(props, "access", section))):
                if get(entry, "allow_restricted_indices") is True:
                    found.append(
                        f"The cross-cluster API key '{props.get('name')}' grants access.{section}[{index}] "
                        f"(names: {names_of(entry)}) with allow_restricted_indices: true. Remove it from "
                        f"links[].access.{section}[{index}]."
                    )
    if resource.type == REMOTE_ROLE:
        for field, key in (("remote_indices", "remoteIndices"), ("indices", "indices")):
            for index, entry in enumerate(items(get(props, "role", field))):
                if get(entry, "allow_restricted_indices") is True:
                    found.append(
                        f"The role '{props.get('role_name')}' grants {field}[{index}] (names: {names_of(entry)}) with "
                        f"allow_restricted_indices: true. Remove it from links[].roles[].{key}[{index}]."
                    )
    return found


def internal_annotations(config: Mapping[str, Any]) -> Mapping[str, str]:
    value = config.get("internalLoadBalancerAnnotations")
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items()}
    return INTERNAL_LOAD_BALANCER_ANNOTATIONS


def is_internal(annotations: Any, config: Mapping[str, Any]) -> bool:
    if not isinstance(annotations, Mapping):
        return False
    for key, expected in internal_annotations(config).items():
        value = annotations.get(key)
        if isinstance(value, str) and value and (expected == "*" or value.lower() == expected.lower()):
            return True
    return False


def source_ranges(metadata: Any, spec: Any) -> Any:
    """The Service's source ranges (the field, else the older annotation); UNKNOWN when not known yet."""
    ranges = get(spec, "loadBalancerSourceRanges")
    if not known(ranges):
        return UNKNOWN
    if ranges:
        return [str(item) for item in items(ranges)]
    annotation = get(metadata, "annotations", SOURCE_RANGES_ANNOTATION)
    if not known(annotation):
        return UNKNOWN
    return [part.strip() for part in annotation.split(",") if part.strip()] if isinstance(annotation, str) else []


LOAD_BALANCER_REMEDY = (
    "Set eckClusters[].remoteClusterServer.loadBalancerSourceRanges to the ranges of the ECE proxies, or make the load "
    "balancer internal with your cloud's annotation in eckClusters[].remoteClusterServer.annotations (e.g. "
    "service.beta.kubernetes.io/aws-load-balancer-scheme: internal)."
)


def load_balancer_source_ranges(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    props = resource.props
    metadata = get(props, "metadata")
    object_name = f"{get(metadata, 'namespace') or 'default'}/{get(metadata, 'name')}"
    services: list[tuple[str, Any, Any]] = []
    if resource.type == SERVICE:
        services.append((f"The LoadBalancer Service {object_name}", metadata, get(props, "spec")))
    elif resource.type == ELASTICSEARCH:
        for part in ("remoteClusterServer", "transport", "http"):
            service = get(props, "spec", part, "service")
            if isinstance(service, Mapping):
                services.append(
                    (
                        f"The LoadBalancer of the Elasticsearch resource {object_name} (spec.{part}.service)",
                        get(service, "metadata"),
                        get(service, "spec"),
                    )
                )
    found = []
    for what, service_metadata, spec in services:
        service_type = get(spec, "type")
        annotations = get(service_metadata, "annotations")
        if service_type != "LoadBalancer" or not known(annotations) or is_internal(annotations, config):
            continue
        ranges = source_ranges(service_metadata, spec)
        if not known(ranges):
            continue
        if not ranges:
            found.append(f"{what} is not internal and accepts connections from any address. {LOAD_BALANCER_REMEDY}")
        elif any(item in ANY_ADDRESS for item in ranges):
            found.append(
                f"{what} is not internal and its loadBalancerSourceRanges ({', '.join(ranges)}) let in any address. "
                f"{LOAD_BALANCER_REMEDY}"
            )
    return found


def skip_unavailable_false(resource: Resource, _config: Mapping[str, Any]) -> list[str]:
    if resource.type != REMOTE_SETTINGS or resource.props.get("skip_unavailable") is not False:
        return []
    alias = resource.props.get("alias")
    return [
        f"cluster.remote.{alias}.skip_unavailable is false (links[].skipUnavailable): every search that includes "
        f"'{alias}:' fails while the ECK cluster is unreachable. Leave it unset or true (Elasticsearch's default since "
        "8.15) unless such searches must fail."
    ]


PRODUCTION_CONFIG: Mapping[str, Mapping[str, Any]] = {
    "productionStacks": {
        "type": "array",
        "items": {"type": "string"},
        "default": list(DEFAULT_PRODUCTION_STACKS),
        "description": "Stack names (shell patterns) that are production",
    }
}
LOAD_BALANCER_CONFIG: Mapping[str, Mapping[str, Any]] = {
    "internalLoadBalancerAnnotations": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": dict(INTERNAL_LOAD_BALANCER_ANNOTATIONS),
        "description": "Annotation -> value ('*': any) that make a load balancer internal; replaces the default list",
    }
}

RULES = (
    Rule(
        "no-certificate-model-in-production",
        "The TLS-certificate security model (deprecated since Elasticsearch 9.0) is not allowed in production stacks.",
        "mandatory",
        certificate_model,
        PRODUCTION_CONFIG,
    ),
    Rule(
        "cross-cluster-key-expiration",
        "Cross-cluster API keys must expire.",
        "mandatory",
        key_expiration,
    ),
    Rule(
        "no-insecure-skip-verify",
        "TLS certificates must be verified (insecureSkipVerify is not allowed).",
        "mandatory",
        insecure_tls,
    ),
    Rule(
        "no-restricted-indices",
        "Access to restricted indices (allow_restricted_indices: true) is not allowed.",
        "mandatory",
        restricted_indices,
    ),
    Rule(
        "load-balancer-source-ranges",
        "A load balancer that is not internal must restrict its clients (loadBalancerSourceRanges).",
        "mandatory",
        load_balancer_source_ranges,
        LOAD_BALANCER_CONFIG,
    ),
    Rule(
        "skip-unavailable-false",
        "skip_unavailable: false makes cross-cluster searches fail while the remote is unreachable.",
        "advisory",
        skip_unavailable_false,
    ),
)
