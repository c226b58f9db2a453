"""The program's body: settings in, components out, stack outputs exported. `__main__.py` only calls `main`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from . import credentials, eck_spec, names, registration
from .adoption import check_every_adoption
from .ece.deployment_ca import EceDeploymentCa
from .ece.trust_group import DeploymentTrust
from .eck_ece_trust import EceTrustMaterial, ca_file_name
from .eck_remote_cluster import EckClusterProtection, EckClusterProtections, EckRemoteCluster, EckRemoteClusterArgs
from .link import (
    CertificateTrust,
    EceApi,
    EckLinkEnd,
    EckLinkEndArgs,
    ElasticsearchApi,
    RemoteClusterLink,
    RemoteClusterLinkArgs,
    RemoteEnd,
    deployment_trust,
)
from .settings import (
    CaSource,
    EceConnectionSettings,
    EceDeployment,
    EckCluster,
    Exposure,
    Link,
    Scope,
    SecurityModel,
    Settings,
    SettingsError,
    load_settings,
)

if TYPE_CHECKING:
    from .kube_api import KubeClient

PROJECT_DIR = Path(__file__).resolve().parent.parent

ERROR_SHOWN_EXIT_CODE = 32
"""The exit code by which a Python program tells Pulumi's language host that it has shown its error: the engine then
adds no "an unhandled error occurred: program exited with non-zero exit code" line (`pulumi-language-python-exec`,
PYTHON_PROCESS_EXITED_AFTER_SHOWING_USER_ACTIONABLE_MESSAGE_CODE)."""


def read_settings() -> Settings:
    """Parse the whole stack config once. Raw access avoids the SDK's warning for the (secret) `secrets` key; every
    project key the stack sets is checked, so a misspelt one is refused rather than ignored."""
    project = pulumi.get_project()
    prefix = f"{project}:"
    present = {
        key.removeprefix(prefix)
        for key in (*runtime_config.CONFIG.get(), *runtime_config.get_config_env())
        if key.startswith(prefix)
    }
    return load_settings(
        lambda key: runtime_config.get_config(prefix + key),
        project=project,
        stack=pulumi.get_stack(),
        project_dir=PROJECT_DIR,
        present=present,
        secret_keys={key for key in present if runtime_config.is_config_secret(prefix + key)},
    )


def main(log: Callable[[str], None] = pulumi.log.error) -> None:
    """The program. A config that breaks a rule stops it before anything is declared, with one error line per
    problem and no Python traceback."""
    try:
        run()
    except SettingsError as error:
        fail(error, log)


def fail(error: SettingsError, log: Callable[[str], None] = pulumi.log.error) -> NoReturn:
    """Show each problem as one error of the stack, then end the program (nothing more is declared)."""
    for problem in error.problems:
        log(str(problem))
    sys.exit(ERROR_SHOWN_EXIT_CODE)


def kubernetes_provider(settings: Settings) -> k8s.Provider:
    target = settings.kubernetes
    if target.render_only:
        assert target.render_yaml_to_directory is not None
        directory = str((PROJECT_DIR / target.render_yaml_to_directory).resolve())
        return k8s.Provider("kubernetes", render_yaml_to_directory=directory)
    return k8s.Provider("kubernetes", context=target.context)


def ece_trust_for(settings: Settings, cluster: EckCluster, cas: dict[str, EceDeploymentCa]) -> EceTrustMaterial | None:
    """TLS-certificate model: the CAs of the ECE deployments that link to `cluster`, read from ECE once each."""
    if cluster.security_model is not SecurityModel.CERTIFICATE or settings.ece is None:
        return None
    deployments = list(
        dict.fromkeys(link.ece_deployment for link in settings.links_to(cluster.name) if link.ece_deployment)
    )
    if not deployments:
        return None
    for deployment_name in deployments:
        if deployment_name not in cas:
            deployment = settings.ece_deployment(deployment_name)
            ece = ece_api(settings.ece)
            cas[deployment_name] = EceDeploymentCa(
                f"{deployment_name}-ca",
                ece=ece.props(),
                ece_credentials=ece.credentials,
                deployment_id=deployment.id,
            )
    file_names = tuple(ca_file_name(d) for d in deployments)
    return EceTrustMaterial(
        ca_files=pulumi.Output.all(*(cas[d].certificates for d in deployments)).apply(
            lambda bundles: {name: "".join(pems) for name, pems in zip(file_names, bundles, strict=True)}
        ),
        file_names=file_names,
        subject_names=pulumi.Output.all(*(cas[d].trust_restriction for d in deployments)).apply(list),
    )


def check_owned_elsewhere(settings: Settings) -> None:
    """`managed: false`: read each such cluster's live `Elasticsearch` resource (and, for the operator's Service as
    LoadBalancer, the installed CRD) before any resource is declared, so a cluster that cannot serve the link stops
    `preview` and `up` with the YAML its owner must add, and nothing is changed. `destroy` and `refresh` do not run
    the program, so they never depend on it."""
    client: KubeClient | None = None  # imported only for a cluster owned elsewhere (~0.25 s)
    for index, cluster in enumerate(settings.eck_clusters):
        if cluster.managed:
            continue
        from .kube_api import KubeClient  # noqa: PLC0415

        client = client or KubeClient.from_kubeconfig(settings.kubernetes.context)
        live = client.get("elasticsearches", cluster.namespace, cluster.name)
        operator_service = cluster.remote_cluster_server.exposure is Exposure.OPERATOR_SERVICE
        definition = client.get_definition(eck_spec.ELASTICSEARCH_CRD) if operator_service and live else None
        eck_spec.check_owner_manifest(f"eckClusters[{index}]", cluster, live, definition)


def declares_kubernetes_objects(cluster: EckCluster) -> bool:
    """The cluster's own objects, or our LoadBalancer Service in front of a cluster owned elsewhere."""
    return cluster.managed or cluster.remote_cluster_server.exposure is Exposure.OWN_SERVICE


def eck_side(settings: Settings, declared: list[pulumi.Resource]) -> dict[str, EckRemoteCluster]:
    if not settings.eck_clusters:
        return {}
    needs_provider = any(declares_kubernetes_objects(cluster) for cluster in settings.eck_clusters)
    options = (
        pulumi.ResourceOptions(providers={"kubernetes": kubernetes_provider(settings)}) if needs_provider else None
    )
    remotes = {}
    cas: dict[str, EceDeploymentCa] = {}
    for cluster in settings.eck_clusters:
        remotes[cluster.name] = EckRemoteCluster(
            cluster.name,
            EckRemoteClusterArgs(
                cluster=cluster,
                kubernetes=settings.kubernetes,
                ece_trust=ece_trust_for(settings, cluster, cas),
            ),
            opts=options,
        )
        pulumi.export(
            f"eck-{cluster.name}",
            {
                "address": remotes[cluster.name].address,
                "serverName": remotes[cluster.name].server_name,
                "caCertificate": remotes[cluster.name].ca_certificate,
            },
        )
    declared += [*remotes.values(), *cas.values()]
    return remotes


def ece_api(ece: EceConnectionSettings) -> EceApi:
    """The ECE API from the stack config; its credentials are a reference to `secrets.ece` or the environment, so no
    ECE credential is an input or in state, and rotating one changes nothing."""
    return EceApi(
        url=ece.url,
        region=ece.region,
        ca_certificate=ece.ca_certificate,
        insecure=ece.insecure,
        plan_timeout_seconds=ece.plan_timeout_seconds,
        credentials=credentials.ece_reference(),
    )


def trust_of(ece: EceConnectionSettings, deployment: EceDeployment) -> DeploymentTrust:
    """The trust entries of every link to `deployment`, written as one resource: one ECE plan for all of them."""
    return deployment_trust(f"{deployment.name}-trust", ece_api(ece), deployment.id, deployment.ref_id)


def elastic_credentials(cluster: EckCluster, kubernetes_context: str | None) -> dict[str, Any]:
    """Where the remote's `elastic` password is found when an operation needs it: the operator's Secret, or the stack
    config when the program renders manifests with a password of its own. A reference, so it is never in state."""
    if cluster.elastic_password is not None:
        return credentials.stack_secret_reference("eckClusters", cluster.name, "elasticPassword", username="elastic")
    return credentials.kubernetes_secret_reference(
        context=kubernetes_context,
        namespace=cluster.namespace,
        name=names.es_elastic_user_secret(cluster.name),
        key="elastic",
        username="elastic",
    )


def certificate_trust(cluster: EckCluster) -> CertificateTrust | None:
    """The TLS-certificate model: the ECE trust entry's scope and the node names its restriction must let in."""
    if cluster.security_model is not SecurityModel.CERTIFICATE:
        return None
    return CertificateTrust(
        scope_id=names.certificate_model_scope(cluster.namespace),
        node_names=tuple(
            names.eck_transport_node_name(cluster.name, cluster.namespace, node_set.name)
            for node_set in cluster.node_sets[:1]
        ),
    )


def eck_half(settings: Settings, link: Link, remotes: dict[str, EckRemoteCluster]) -> EckLinkEndArgs:
    """The ECK half of a link: the cluster's outputs, and the key the link's settings describe."""
    cluster = settings.eck_cluster(link.eck_cluster)
    remote = remotes[cluster.name]
    return EckLinkEndArgs(
        address=remote.address,
        server_name=remote.server_name,
        ca_certificate=remote.ca_certificate,
        declares_ca=cluster.transport_ca.source is not CaSource.NONE,
        api=ElasticsearchApi(
            url=remote.http_url,
            ca_certificate=remote.http_ca_certificate,
            insecure=cluster.http.insecure_skip_verify,
            credentials=elastic_credentials(cluster, settings.kubernetes.context),
        ),
        key_name=names.api_key_name(settings.stack, link.key),
        access=link.access,
        expiration=link.expiration,
        metadata=link.metadata or None,
        certificate_identity=link.certificate_identity,
        rotation=link.rotation,
        ready_timeout_seconds=cluster.wait_timeout_seconds,
        adopt_key_id=link.adopt.api_key_id if link.adopt else None,
        certificate_trust=certificate_trust(cluster),
        depends_on=(remote,),
    )


def protect_clusters(settings: Settings, declared: list[pulumi.Resource]) -> None:
    """Declared last, when the stack owns a cluster: one `EckClusterProtections` anchor depending on everything else,
    and one `EckClusterProtection` per cluster the stack owns as its child, so that every guard is the first delete."""
    owned = [cluster for cluster in settings.eck_clusters if cluster.managed]
    if not owned:
        return
    anchor = EckClusterProtections("clusters", list(declared))
    for cluster in owned:
        EckClusterProtection(cluster, anchor)


def check_adoptions(settings: Settings) -> None:
    """`links[].adopt`: what a link takes over must be there and be its own, before anything is declared."""
    if settings.scope is Scope.ECK or settings.ece is None:
        return
    adopting = [
        (f"links[{index}]", link, settings.ece_deployment(link.ece_deployment))
        for index, link in enumerate(settings.links)
        if link.adopt is not None and link.ece_deployment is not None
    ]
    if adopting:
        check_every_adoption(adopting, settings.ece, pulumi.log.info)


def run() -> None:
    settings = read_settings()
    check_owned_elsewhere(settings)
    check_adoptions(settings)
    with registration.declaring():
        declare(settings)


def declare(settings: Settings) -> None:
    """Every resource of the stack, and its outputs."""
    declared: list[pulumi.Resource] = []
    remotes = eck_side(settings, declared)
    reference = pulumi.StackReference(settings.remote_stack) if settings.remote_stack else None
    link_outputs: dict[str, Any] = {}
    link_ends: dict[str, Any] = {}
    link_keys: dict[str, Any] = {}
    trusts: dict[str, DeploymentTrust] = {}
    for link in settings.links:
        if settings.scope is Scope.ECK:
            half = EckLinkEnd(f"{link.key}-eck", eck_half(settings, link, remotes))
            declared.append(half)
            link_ends[link.alias] = half.exports()
            link_keys[link.alias] = half.secret_exports()
            continue
        assert settings.ece is not None and link.ece_deployment is not None
        eck, end = None, None
        if settings.scope is Scope.ECE:
            assert reference is not None
            end = RemoteEnd.from_stack(reference, link.alias, declares_ca=link.trust_remote_ca)
        else:
            eck = eck_half(settings, link, remotes)
        deployment = settings.ece_deployment(link.ece_deployment)
        if deployment.name not in trusts:
            trusts[deployment.name] = trust_of(settings.ece, deployment)
        local = RemoteClusterLink(
            link.key,
            RemoteClusterLinkArgs(
                alias=link.alias,
                ece=ece_api(settings.ece),
                deployment_id=deployment.id,
                ref_id=deployment.ref_id,
                eck=eck,
                end=end,
                proxy_socket_connections=link.proxy_socket_connections,
                skip_unavailable=link.skip_unavailable,
                roles=link.roles,
                connection_timeout_seconds=link.connection_timeout_seconds,
                adopt=link.adopt,
                trust=trusts[deployment.name],
            ),
        )
        declared.append(local)
        link_outputs[link.key] = local.outputs()
    for trust in trusts.values():
        if trust.entries:
            declared.append(trust.declare())
            declared.extend([trust.retirement] if trust.retirement is not None else [])
    protect_clusters(settings, declared)
    if link_ends:
        pulumi.export("linkEnds", link_ends)
        pulumi.export("linkKeys", pulumi.Output.secret(link_keys))
    if link_outputs:
        pulumi.export("links", link_outputs)
