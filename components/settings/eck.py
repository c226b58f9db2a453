"""ECK clusters: names, versions, nodeSets, exposure of the remote cluster server, CA source, HTTP endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import names
from .. import validation as v
from ..pem import PemError, check_ca_bundle, check_key_matches
from ..validation import SettingsError, SettingsErrors, Version
from .model import (
    CaSource,
    EckCluster,
    Exposure,
    HttpEndpoint,
    KubernetesTarget,
    NodeSet,
    RemoteClusterServer,
    Secret,
    SecurityModel,
    TransportCa,
)
from .reading import PEM, Problems, Reader, known, secrets_for

DEFAULT_ECK_VERSION = "3.5.0"
DEFAULT_WAIT_TIMEOUT = 900


def _node_sets(p: Problems, key: str, raw: Any) -> tuple[NodeSet, ...] | None:
    """The nodeSets, or None when one of them is wrong (each problem recorded)."""
    mark = p.mark()
    items = p.value(v.sequence, key, raw)
    if items is None:
        return None
    if not items:
        p.add(SettingsError(key, raw, "needs at least one nodeSet"))
        return None
    result: list[NodeSet] = []
    for index, item in enumerate(items):
        item_key = f"{key}[{index}]"
        node = p.value(v.mapping, item_key, item)
        if node is None:
            continue
        p.value(known, item_key, node, "eckClusters[].nodeSets[]")
        name = p.value(v.nodeset_name, f"{item_key}.name", node.get("name"))
        count = p.value(_count, f"{item_key}.count", node.get("count", 1))
        config = p.value(v.mapping, f"{item_key}.config", node.get("config", {}))
        pod_template = p.value(v.mapping, f"{item_key}.podTemplate", node.get("podTemplate", {}))
        if name is not None and count is not None and config is not None and pod_template is not None:
            result.append(NodeSet(name, count, config, pod_template))
    seen: set[str] = set()
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name in seen:
            p.add(SettingsError(f"{key}[{index}].name", name, "nodeSet names must be unique"))
        seen.add(str(name))
    if p.since(mark):
        return None
    if not any(node_set.count > 0 and _master_eligible(node_set.config) for node_set in result):
        p.add(SettingsError(key, [n.name for n in result], "needs a master-eligible nodeSet with count > 0 (ECK rule)"))
        return None
    return tuple(result)


def _count(key: str, value: Any) -> int:
    count = v.require_type(key, value, int, "a whole number")
    if count < 0:
        raise SettingsError(key, count, "must be 0 or more")
    return int(count)


def _master_eligible(config: Mapping[str, Any]) -> bool:
    roles = config.get("node.roles")
    node = config.get("node")
    if roles is None and isinstance(node, Mapping):
        roles = node.get("roles")
    if roles is None:
        return True  # Elasticsearch's default: every role
    return isinstance(roles, list) and "master" in roles and "voting_only" not in roles


def _remote_cluster_server(
    p: Problems, key: str, raw: Any, operator: Version | None, model: SecurityModel | None
) -> RemoteClusterServer | None:
    """`remoteClusterServer`; the ECK version and the security model decide `auto` and the default port, and are not
    checked against when they are wrong themselves."""
    mark = p.mark()
    node = p.value(v.mapping, key, raw if raw is not None else {})
    if node is None:
        return None
    p.value(known, key, node, "eckClusters[].remoteClusterServer")
    choice = p.value(v.one_of, f"{key}.exposure", node.get("exposure", "auto"), ("auto", *(e.value for e in Exposure)))
    exposure: Exposure | None = None
    if choice is not None and choice != "auto":
        exposure = Exposure(choice)
    elif choice == "auto" and operator is not None and model is not None:
        # spec.transport.service (certificate model) exists in every supported ECK; remoteClusterServer.service from 3.3
        overridable = model is SecurityModel.CERTIFICATE or operator >= v.ECK_MIN_SERVICE_OVERRIDE
        exposure = Exposure.OPERATOR_SERVICE if overridable else Exposure.OWN_SERVICE
    if (
        exposure is Exposure.OPERATOR_SERVICE
        and model is SecurityModel.API_KEY
        and operator is not None
        and operator < v.ECK_MIN_SERVICE_OVERRIDE
    ):
        p.add(
            SettingsError(
                f"{key}.exposure",
                choice,
                f"spec.remoteClusterServer.service needs ECK >= {v.ECK_MIN_SERVICE_OVERRIDE} (configured: {operator})",
            )
        )
    default_port = names.TRANSPORT_PORT if model is SecurityModel.CERTIFICATE else names.REMOTE_CLUSTER_PORT
    port = p.value(v.port, f"{key}.port", node.get("port", default_port))
    annotations = p.value(v.string_map, f"{key}.annotations", node.get("annotations", {}))
    ranges: list[str] = []
    for i, item in enumerate(
        p.value(v.sequence, f"{key}.loadBalancerSourceRanges", node.get("loadBalancerSourceRanges", [])) or []
    ):
        cidr = p.value(v.cidr, f"{key}.loadBalancerSourceRanges[{i}]", item)
        if cidr is not None:
            ranges.append(cidr)
    lb_class = node.get("loadBalancerClass")
    if lb_class is not None:
        p.value(v.require_type, f"{key}.loadBalancerClass", lb_class, str, "a string")
    address = None
    if "address" in node:
        address = p.value(v.address, f"{key}.address", node["address"], default_port=port or default_port)
    elif exposure is Exposure.EXTERNAL:
        p.add(
            SettingsError(
                f"{key}.address", None, "exposure 'external' needs the address clients use, like 'lb.example.com:9443'"
            )
        )
    if exposure is Exposure.EXTERNAL and (node.get("annotations") or node.get("loadBalancerSourceRanges") or lb_class):
        p.add(
            SettingsError(
                f"{key}.exposure",
                choice,
                "annotations, loadBalancerSourceRanges and loadBalancerClass need a LoadBalancer exposure",
            )
        )
    if p.since(mark) or exposure is None or port is None or annotations is None:
        return None
    return RemoteClusterServer(exposure, port, annotations, tuple(ranges), lb_class, address)


def _transport_ca(
    p: Problems, key: str, raw: Any, *, reader: Reader, secret: Mapping[str, Any] | None, cluster: str | None
) -> TransportCa | None:
    """`transportCa`; the private key of a user-managed CA is read from the cluster's secrets, when its name is known."""
    mark = p.mark()
    node = p.value(v.mapping, key, raw if raw is not None else {})
    if node is None:
        return None
    p.value(known, key, node, "eckClusters[].transportCa")
    choice = p.value(
        v.one_of, f"{key}.source", node.get("source", CaSource.ECK_MANAGED.value), tuple(s.value for s in CaSource)
    )
    certificate = p.value(reader.text_or_file, node, key, "certificate", "certificateFile")
    if choice is None or p.since(mark):
        return None
    source = CaSource(choice)
    if source in (CaSource.ECK_MANAGED, CaSource.NONE):
        if certificate is not None:
            p.add(SettingsError(f"{key}.certificate", None, f"source '{source.value}' takes no certificate", shown=PEM))
            return None
        return TransportCa(source)
    if certificate is None:
        p.add(
            SettingsError(
                f"{key}.certificate",
                None,
                f"source '{source.value}' needs the CA certificate (PEM)",
                hint=v.set_command(f"{key}.certificateFile", value="<ca.pem>"),
            )
        )
        return None
    try:
        certificate = "".join(check_ca_bundle(certificate, require_ca=True))
    except PemError as error:
        p.add(SettingsError(f"{key}.certificate", None, f"is not a usable CA certificate: {error}", shown=PEM))
        return None
    if source is CaSource.SUPPLIED:
        return TransportCa(source, certificate)
    if secret is None or cluster is None:
        return None
    secret_key = f"secrets.eckClusters.{cluster}.transportCaKey"
    private_key = secret.get("transportCaKey")
    if private_key is None:
        p.add(
            SettingsError(
                secret_key,
                None,
                "source 'user-managed' needs the CA private key",
                secret=True,
                hint=v.set_command(secret_key, secret=True, value='-- "$(cat ca.key)"'),
            )
        )
        return None
    if p.value(v.require_type, secret_key, private_key, str, "a PEM private key", secret=True) is None:
        return None
    try:
        check_key_matches(certificate, private_key)
    except PemError as error:
        p.add(SettingsError(secret_key, private_key, str(error), secret=True))
        return None
    return TransportCa(source, certificate, Secret(private_key))


def _http(
    p: Problems, key: str, raw: Any, *, reader: Reader, cluster: str | None, namespace: str | None
) -> HttpEndpoint | None:
    """`http`; its default URL needs the cluster's name and namespace."""
    mark = p.mark()
    node = p.value(v.mapping, key, raw if raw is not None else {})
    if node is None:
        return None
    p.value(known, key, node, "eckClusters[].http")
    url = None
    if "url" in node:
        url = p.value(v.url, f"{key}.url", node["url"])
    elif cluster is not None and namespace is not None:
        url = names.default_http_url(cluster, namespace)
    ca = p.value(reader.text_or_file, node, key, "caCertificate", "caCertificateFile")
    if ca is not None:
        try:
            ca = "".join(check_ca_bundle(ca, require_ca=False))
        except PemError as error:
            p.add(
                SettingsError(f"{key}.caCertificate", None, f"is not a usable certificate bundle: {error}", shown=PEM)
            )
    insecure = p.value(
        v.require_type, f"{key}.insecureSkipVerify", node.get("insecureSkipVerify", False), bool, "true or false"
    )
    if p.since(mark) or url is None or insecure is None:
        return None
    return HttpEndpoint(url, ca, insecure)


ECE_SCOPE_ID_MAX = 32


def eck_cluster(
    p: Problems,
    key: str,
    raw: Any,
    *,
    reader: Reader,
    secrets: Mapping[str, Any] | None,
    target: KubernetesTarget | None,
) -> EckCluster | None:
    """One ECK cluster, or None when something in it is wrong (each problem recorded). `secrets` and `target` are
    None when they are wrong themselves: what depends on them is then not checked."""
    mark = p.mark()
    node = p.value(v.mapping, key, raw)
    if node is None:
        return None
    p.value(known, key, node, "eckClusters[]")
    name = p.value(v.cluster_name, f"{key}.name", node.get("name"))
    namespace = p.value(v.namespace, f"{key}.namespace", node.get("namespace", "default"))
    choice = p.value(
        v.one_of,
        f"{key}.securityModel",
        node.get("securityModel", SecurityModel.API_KEY.value),
        tuple(m.value for m in SecurityModel),
    )
    model = SecurityModel(choice) if choice is not None else None
    if model is SecurityModel.CERTIFICATE and namespace is not None:
        p.value(_check_scope_id, f"{key}.namespace", namespace)
    version = p.value(v.es_version, f"{key}.version", node.get("version"), api_key_model=model is SecurityModel.API_KEY)
    operator = p.value(v.eck_version, f"{key}.operatorVersion", node.get("operatorVersion", DEFAULT_ECK_VERSION))
    secret = p.value(secrets_for, secrets, name) if secrets is not None and name is not None else None
    ownership = p.value(_ownership, key, node, target)
    managed = ownership[0] if ownership is not None else node.get("managed", True) is not False
    node_sets: tuple[NodeSet, ...] | None = ()
    if managed:
        node_sets = _node_sets(p, f"{key}.nodeSets", node.get("nodeSets"))
    if name is not None:
        for index, node_set in enumerate(node_sets or ()):
            p.value(v.statefulset_name, f"{key}.nodeSets[{index}].name", name, node_set.name, node_set.count)
    server = _remote_cluster_server(p, f"{key}.remoteClusterServer", node.get("remoteClusterServer"), operator, model)
    transport_ca = _transport_ca(
        p, f"{key}.transportCa", node.get("transportCa"), reader=reader, secret=secret, cluster=name
    )
    if not managed and model is not None and server is not None and transport_ca is not None:
        p.value(_check_owned_elsewhere, key, node, model, server, transport_ca)
    server_name = None
    if "serverName" in node:
        server_name = p.value(v.server_name, f"{key}.serverName", node["serverName"])
    elif name is not None and namespace is not None and model is not None:
        server_name = (
            names.default_server_name(name, namespace)
            if model is SecurityModel.API_KEY
            else names.default_transport_server_name(name, namespace)
        )
    http = _http(p, f"{key}.http", node.get("http"), reader=reader, cluster=name, namespace=namespace)
    timeout = p.value(
        v.positive_int,
        f"{key}.waitTimeoutSeconds",
        node.get("waitTimeoutSeconds", DEFAULT_WAIT_TIMEOUT),
        maximum=86400,
    )
    password = p.value(_elastic_password, name, secret, target) if name is not None else None
    if (
        target is not None
        and target.render_only
        and managed
        and name is not None
        and server is not None
        and transport_ca is not None
    ):
        p.value(_check_renderable, key, name, server, transport_ca, secret)
    if p.since(mark):
        return None
    assert name is not None and namespace is not None and model is not None and version is not None
    assert operator is not None and ownership is not None and node_sets is not None and server is not None
    assert transport_ca is not None and server_name is not None and http is not None and timeout is not None
    return EckCluster(
        name=name,
        namespace=namespace,
        version=version,
        operator_version=operator,
        security_model=model,
        node_sets=node_sets,
        remote_cluster_server=server,
        transport_ca=transport_ca,
        server_name=server_name,
        http=http,
        elastic_password=Secret(password) if password is not None else None,
        wait_timeout_seconds=timeout,
        managed=ownership[0],
        protect=ownership[1],
        retain_on_delete=ownership[2],
    )


def _check_scope_id(key: str, namespace: str) -> None:
    scope = names.certificate_model_scope(namespace)
    if len(scope) > ECE_SCOPE_ID_MAX:
        # ECE's DirectTrustRelationship.scope_id: "a lowercase alphanumerical string of max 32 characters" (swagger)
        raise SettingsError(
            key,
            namespace,
            f"the certificate model trusts '<namespace>.es.local' as ECE's scope_id, at most {ECE_SCOPE_ID_MAX} "
            f"characters: the namespace may have at most {ECE_SCOPE_ID_MAX - len(scope) + len(namespace)}",
        )


def _elastic_password(name: str, secret: Mapping[str, Any] | None, target: KubernetesTarget | None) -> str | None:
    """`secrets.eckClusters.<name>.elasticPassword`: render mode only (render mode without it: `_check_renderable`)."""
    password = (secret or {}).get("elasticPassword")
    if password is None:
        return None
    key = f"secrets.eckClusters.{name}.elasticPassword"
    v.require_type(key, password, str, "a string", secret=True)
    if len(password) < 6:
        raise SettingsError(key, password, "must be at least 6 characters", secret=True)
    if target is not None and not target.render_only:
        # ECK reuses a password it finds in `<name>-es-elastic-user`, but a Secret created just before the
        # Elasticsearch resource can lose the race against the operator's cache and be overwritten (seen with ECK
        # 3.5): with a cluster, the program always reads the password the operator settled on.
        raise SettingsError(
            key,
            password,
            "is only for render mode: with a cluster the program reads the elastic password from ECK's Secret",
            secret=True,
        )
    return str(password)


def _ownership(key: str, node: Mapping[str, Any], target: KubernetesTarget | None) -> tuple[bool, bool, bool]:
    """`managed`, `protect` and `retainOnDelete`. A cluster owned elsewhere has no resource of ours to keep."""
    managed = v.require_type(f"{key}.managed", node.get("managed", True), bool, "true or false")
    if managed:
        protect = v.require_type(f"{key}.protect", node.get("protect", True), bool, "true or false")
        retain = v.require_type(f"{key}.retainOnDelete", node.get("retainOnDelete", False), bool, "true or false")
        return True, protect, retain
    for option in ("protect", "retainOnDelete"):
        if option in node:
            raise SettingsError(
                f"{key}.{option}",
                node[option],
                "a cluster with managed: false has no Elasticsearch resource in this stack: its owner protects it",
            )
    if target is not None and target.render_only:
        raise SettingsError(
            f"{key}.managed",
            False,
            "kubernetes.renderYamlToDirectory is set (no cluster), but a cluster owned elsewhere is read live",
        )
    return False, False, False


OWNER_DECIDES = "with managed: false the owner's manifest decides this"


def _check_owned_elsewhere(
    key: str, node: Mapping[str, Any], model: SecurityModel, server: RemoteClusterServer, ca: TransportCa
) -> None:
    """What only the `Elasticsearch` resource can carry is refused for a cluster someone else owns."""
    problems: list[SettingsError] = []
    if "nodeSets" in node:
        problems.append(SettingsError(f"{key}.nodeSets", node["nodeSets"], OWNER_DECIDES))
    if model is SecurityModel.CERTIFICATE:
        problems.append(
            SettingsError(
                f"{key}.securityModel",
                model.value,
                "the certificate model mounts the ECE CA into every nodeSet, which only the resource's owner can do; "
                "use the api-key model with managed: false",
            )
        )
    if ca.source is CaSource.USER_MANAGED:
        problems.append(
            SettingsError(
                f"{key}.transportCa.source",
                ca.source.value,
                f"{OWNER_DECIDES} (spec.transport.tls.certificate); 'eck-managed' reads the CA the operator publishes",
            )
        )
    if server.exposure is Exposure.OPERATOR_SERVICE:
        for option, value in (
            ("annotations", server.annotations),
            ("loadBalancerSourceRanges", list(server.load_balancer_source_ranges)),
            ("loadBalancerClass", server.load_balancer_class),
        ):
            if value:
                problems.append(
                    SettingsError(
                        f"{key}.remoteClusterServer.{option}",
                        value,
                        f"{OWNER_DECIDES} (spec.remoteClusterServer.service), or use exposure 'own-service'",
                    )
                )
    if problems:
        raise SettingsErrors(problems)


def _check_renderable(
    key: str, name: str, server: RemoteClusterServer, ca: TransportCa, secret: Mapping[str, Any] | None
) -> None:
    """Render mode writes manifests without a cluster: nothing the operator publishes can be waited for."""
    rule = "kubernetes.renderYamlToDirectory is set (no cluster to wait for), so "
    problems: list[SettingsError] = []
    if ca.source is CaSource.ECK_MANAGED:
        problems.append(
            SettingsError(
                f"{key}.transportCa.source",
                ca.source.value,
                rule + "the CA must be 'user-managed', 'supplied' or 'none'",
            )
        )
    if server.address is None:
        problems.append(SettingsError(f"{key}.remoteClusterServer.address", None, rule + "a fixed address is needed"))
    if secret is not None and secret.get("elasticPassword") is None:
        problems.append(
            SettingsError(
                f"secrets.eckClusters.{name}.elasticPassword",
                None,
                rule + "the elastic password must be set",
                secret=True,
            )
        )
    if problems:
        raise SettingsErrors(problems)


def kubernetes_target(raw: Any) -> KubernetesTarget:
    node = v.mapping("kubernetes", raw if raw is not None else {})
    known("kubernetes", node, "kubernetes")
    directory = node.get("renderYamlToDirectory")
    context = node.get("context")
    if directory is not None:
        v.require_type("kubernetes.renderYamlToDirectory", directory, str, "a directory path")
        if context is not None:
            raise SettingsError("kubernetes.context", context, "render mode writes files and takes no cluster context")
    if context is not None:
        v.require_type("kubernetes.context", context, str, "a kubeconfig context name")
    return KubernetesTarget(directory, context)
