"""ECK clusters: names, versions, nodeSets, exposure of the remote cluster server, CA source, HTTP endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import names
from .. import validation as v
from ..pem import PemError, check_ca_bundle, check_key_matches
from ..validation import SettingsError, Version
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
from .reading import Reader, known, secrets_for

DEFAULT_ECK_VERSION = "3.5.0"
DEFAULT_WAIT_TIMEOUT = 900


def _node_sets(key: str, raw: Any) -> tuple[NodeSet, ...]:
    items = v.sequence(key, raw)
    if not items:
        raise SettingsError(key, raw, "needs at least one nodeSet")
    result: list[NodeSet] = []
    for index, item in enumerate(items):
        item_key = f"{key}[{index}]"
        node = v.mapping(item_key, item)
        known(item_key, node, "eckClusters[].nodeSets[]")
        name = v.nodeset_name(f"{item_key}.name", node.get("name"))
        count = v.require_type(f"{item_key}.count", node.get("count", 1), int, "a whole number")
        if count < 0:
            raise SettingsError(f"{item_key}.count", count, "must be 0 or more")
        config = v.mapping(f"{item_key}.config", node.get("config", {}))
        pod_template = v.mapping(f"{item_key}.podTemplate", node.get("podTemplate", {}))
        result.append(NodeSet(name, count, config, pod_template))
    seen: set[str] = set()
    for index, node_set in enumerate(result):
        if node_set.name in seen:
            raise SettingsError(f"{key}[{index}].name", node_set.name, "nodeSet names must be unique")
        seen.add(node_set.name)
    if not any(node_set.count > 0 and _master_eligible(node_set.config) for node_set in result):
        raise SettingsError(key, [n.name for n in result], "needs a master-eligible nodeSet with count > 0 (ECK rule)")
    return tuple(result)


def _master_eligible(config: Mapping[str, Any]) -> bool:
    roles = config.get("node.roles")
    node = config.get("node")
    if roles is None and isinstance(node, Mapping):
        roles = node.get("roles")
    if roles is None:
        return True  # Elasticsearch's default: every role
    return isinstance(roles, list) and "master" in roles and "voting_only" not in roles


def _remote_cluster_server(key: str, raw: Any, operator: Version, model: SecurityModel) -> RemoteClusterServer:
    node = v.mapping(key, raw if raw is not None else {})
    known(key, node, "eckClusters[].remoteClusterServer")
    choice = v.one_of(f"{key}.exposure", node.get("exposure", "auto"), ("auto", *(e.value for e in Exposure)))
    if choice == "auto":
        # spec.transport.service (certificate model) exists in every supported ECK; remoteClusterServer.service from 3.3
        overridable = model is SecurityModel.CERTIFICATE or operator >= v.ECK_MIN_SERVICE_OVERRIDE
        exposure = Exposure.OPERATOR_SERVICE if overridable else Exposure.OWN_SERVICE
    else:
        exposure = Exposure(choice)
    if (
        exposure is Exposure.OPERATOR_SERVICE
        and model is SecurityModel.API_KEY
        and operator < v.ECK_MIN_SERVICE_OVERRIDE
    ):
        raise SettingsError(
            f"{key}.exposure",
            choice,
            f"spec.remoteClusterServer.service needs ECK >= {v.ECK_MIN_SERVICE_OVERRIDE} (configured: {operator})",
        )
    default_port = names.REMOTE_CLUSTER_PORT if model is SecurityModel.API_KEY else names.TRANSPORT_PORT
    port = v.port(f"{key}.port", node.get("port", default_port))
    annotations = v.string_map(f"{key}.annotations", node.get("annotations", {}))
    ranges = tuple(
        v.cidr(f"{key}.loadBalancerSourceRanges[{i}]", item)
        for i, item in enumerate(
            v.sequence(f"{key}.loadBalancerSourceRanges", node.get("loadBalancerSourceRanges", []))
        )
    )
    lb_class = node.get("loadBalancerClass")
    if lb_class is not None:
        v.require_type(f"{key}.loadBalancerClass", lb_class, str, "a string")
    address = None
    if "address" in node:
        address = v.address(f"{key}.address", node["address"], default_port=port)
    if exposure is Exposure.EXTERNAL and address is None:
        raise SettingsError(
            f"{key}.address", None, "exposure 'external' needs the address clients use, like 'lb.example.com:9443'"
        )
    if exposure is Exposure.EXTERNAL and (annotations or ranges or lb_class):
        raise SettingsError(
            f"{key}.exposure",
            choice,
            "annotations, loadBalancerSourceRanges and loadBalancerClass need a LoadBalancer exposure",
        )
    return RemoteClusterServer(exposure, port, annotations, ranges, lb_class, address)


def _transport_ca(key: str, raw: Any, reader: Reader, secret: Mapping[str, Any], cluster: str) -> TransportCa:
    node = v.mapping(key, raw if raw is not None else {})
    known(key, node, "eckClusters[].transportCa")
    source = CaSource(
        v.one_of(f"{key}.source", node.get("source", CaSource.ECK_MANAGED.value), tuple(s.value for s in CaSource))
    )
    certificate = reader.text_or_file(node, key, "certificate", "certificateFile")
    if source in (CaSource.ECK_MANAGED, CaSource.NONE):
        if certificate is not None:
            raise SettingsError(f"{key}.certificate", "(PEM)", f"source '{source.value}' takes no certificate")
        return TransportCa(source)
    if certificate is None:
        raise SettingsError(f"{key}.certificate", None, f"source '{source.value}' needs the CA certificate (PEM)")
    try:
        certificate = "".join(check_ca_bundle(certificate, require_ca=True))
    except PemError as error:
        raise SettingsError(f"{key}.certificate", "(PEM)", f"is not a usable CA certificate: {error}") from None
    if source is CaSource.SUPPLIED:
        return TransportCa(source, certificate)
    secret_key = f"secrets.eckClusters.{cluster}.transportCaKey"
    private_key = secret.get("transportCaKey")
    if private_key is None:
        raise SettingsError(secret_key, None, "source 'user-managed' needs the CA private key as a secret", secret=True)
    v.require_type(secret_key, private_key, str, "a PEM private key", secret=True)
    try:
        check_key_matches(certificate, private_key)
    except PemError as error:
        raise SettingsError(secret_key, private_key, str(error), secret=True) from None
    return TransportCa(source, certificate, Secret(private_key))


def _http(key: str, raw: Any, reader: Reader, cluster: str, namespace: str) -> HttpEndpoint:
    node = v.mapping(key, raw if raw is not None else {})
    known(key, node, "eckClusters[].http")
    url = v.url(f"{key}.url", node.get("url", names.default_http_url(cluster, namespace)))
    ca = reader.text_or_file(node, key, "caCertificate", "caCertificateFile")
    if ca is not None:
        try:
            ca = "".join(check_ca_bundle(ca, require_ca=False))
        except PemError as error:
            raise SettingsError(
                f"{key}.caCertificate", "(PEM)", f"is not a usable certificate bundle: {error}"
            ) from None
    insecure = v.require_type(f"{key}.insecureSkipVerify", node.get("insecureSkipVerify", False), bool, "true or false")
    return HttpEndpoint(url, ca, insecure)


ECE_SCOPE_ID_MAX = 32


def eck_cluster(key: str, raw: Any, reader: Reader, secrets: Mapping[str, Any], target: KubernetesTarget) -> EckCluster:
    node = v.mapping(key, raw)
    known(key, node, "eckClusters[]")
    name = v.cluster_name(f"{key}.name", node.get("name"))
    namespace = v.namespace(f"{key}.namespace", node.get("namespace", "default"))
    model = SecurityModel(
        v.one_of(
            f"{key}.securityModel",
            node.get("securityModel", SecurityModel.API_KEY.value),
            tuple(m.value for m in SecurityModel),
        )
    )
    scope = names.certificate_model_scope(namespace)
    if model is SecurityModel.CERTIFICATE and len(scope) > ECE_SCOPE_ID_MAX:
        # ECE's DirectTrustRelationship.scope_id: "a lowercase alphanumerical string of max 32 characters" (swagger)
        raise SettingsError(
            f"{key}.namespace",
            namespace,
            f"the certificate model trusts '<namespace>.es.local' as ECE's scope_id, at most {ECE_SCOPE_ID_MAX} "
            f"characters: the namespace may have at most {ECE_SCOPE_ID_MAX - len(scope) + len(namespace)}",
        )
    version = v.es_version(f"{key}.version", node.get("version"), api_key_model=model is SecurityModel.API_KEY)
    operator = v.eck_version(f"{key}.operatorVersion", node.get("operatorVersion", DEFAULT_ECK_VERSION))
    secret = secrets_for(secrets, name)
    managed, protect, retain = _ownership(key, node, target)
    node_sets: tuple[NodeSet, ...] = ()
    if managed:
        node_sets = _node_sets(f"{key}.nodeSets", node.get("nodeSets"))
    for index, node_set in enumerate(node_sets):
        v.statefulset_name(f"{key}.nodeSets[{index}].name", name, node_set.name, node_set.count)
    server = _remote_cluster_server(f"{key}.remoteClusterServer", node.get("remoteClusterServer"), operator, model)
    transport_ca = _transport_ca(f"{key}.transportCa", node.get("transportCa"), reader, secret, name)
    if not managed:
        _check_owned_elsewhere(key, node, model, server, transport_ca)
    default_name = (
        names.default_server_name(name, namespace)
        if model is SecurityModel.API_KEY
        else names.default_transport_server_name(name, namespace)
    )
    server_name = v.server_name(f"{key}.serverName", node.get("serverName", default_name))
    http = _http(f"{key}.http", node.get("http"), reader, name, namespace)
    timeout = v.positive_int(
        f"{key}.waitTimeoutSeconds", node.get("waitTimeoutSeconds", DEFAULT_WAIT_TIMEOUT), maximum=86400
    )
    password = secret.get("elasticPassword")
    if password is not None:
        v.require_type(f"secrets.eckClusters.{name}.elasticPassword", password, str, "a string", secret=True)
        if len(password) < 6:
            raise SettingsError(
                f"secrets.eckClusters.{name}.elasticPassword", password, "must be at least 6 characters", secret=True
            )
    if target.render_only:
        _check_renderable(key, name, server, transport_ca, password)
    elif password is not None:
        # ECK reuses a password it finds in `<name>-es-elastic-user`, but a Secret created just before the
        # Elasticsearch resource can lose the race against the operator's cache and be overwritten (seen with ECK
        # 3.5): with a cluster, the program always reads the password the operator settled on.
        raise SettingsError(
            f"secrets.eckClusters.{name}.elasticPassword",
            password,
            "is only for render mode: with a cluster the program reads the elastic password from ECK's Secret",
            secret=True,
        )
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
        managed=managed,
        protect=protect,
        retain_on_delete=retain,
    )


def _ownership(key: str, node: Mapping[str, Any], target: KubernetesTarget) -> tuple[bool, bool, bool]:
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
    if target.render_only:
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
    if "nodeSets" in node:
        raise SettingsError(f"{key}.nodeSets", node["nodeSets"], OWNER_DECIDES)
    if model is SecurityModel.CERTIFICATE:
        raise SettingsError(
            f"{key}.securityModel",
            model.value,
            "the certificate model mounts the ECE CA into every nodeSet, which only the resource's owner can do; "
            "use the api-key model with managed: false",
        )
    if ca.source is CaSource.USER_MANAGED:
        raise SettingsError(
            f"{key}.transportCa.source",
            ca.source.value,
            f"{OWNER_DECIDES} (spec.transport.tls.certificate); 'eck-managed' reads the CA the operator publishes",
        )
    if server.exposure is Exposure.OPERATOR_SERVICE:
        for option, value in (
            ("annotations", server.annotations),
            ("loadBalancerSourceRanges", server.load_balancer_source_ranges),
            ("loadBalancerClass", server.load_balancer_class),
        ):
            if value:
                raise SettingsError(
                    f"{key}.remoteClusterServer.{option}",
                    value,
                    f"{OWNER_DECIDES} (spec.remoteClusterServer.service), or use exposure 'own-service'",
                )


def _check_renderable(key: str, name: str, server: RemoteClusterServer, ca: TransportCa, password: str | None) -> None:
    """Render mode writes manifests without a cluster: nothing the operator publishes can be waited for."""
    rule = "kubernetes.renderYamlToDirectory is set (no cluster to wait for), so "
    if ca.source is CaSource.ECK_MANAGED:
        raise SettingsError(
            f"{key}.transportCa.source", ca.source.value, rule + "the CA must be 'user-managed', 'supplied' or 'none'"
        )
    if server.address is None:
        raise SettingsError(f"{key}.remoteClusterServer.address", None, rule + "a fixed address is needed")
    if password is None:
        raise SettingsError(
            f"secrets.eckClusters.{name}.elasticPassword", None, rule + "the elastic password must be set", secret=True
        )


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
