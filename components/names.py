"""Every name and label the program derives, in one place.

The ECK operator names its objects from the `Elasticsearch` resource name (`pkg/apis/elasticsearch/v1/name.go`,
suffix `es`); the ECE and Elasticsearch sides name what they own after the link. Callers never build these strings
themselves.
"""

from __future__ import annotations

import re

PACKAGE = "eceeck"
"""The package part of every component type token: `eceeck:index:<Name>`."""

MANAGED_BY = "ece-eck-remote"
"""Marker written into labels and metadata of everything the program owns."""

PROJECT = "ece-eck-remote"
"""This program's Pulumi project name (Pulumi.yaml), the namespace of its stack config keys."""

REMOTE_CLUSTER_PORT = 9443
TRANSPORT_PORT = 9300
HTTP_PORT = 9200


def type_token(name: str) -> str:
    return f"{PACKAGE}:index:{name}"


def es_remote_cluster_service(cluster: str) -> str:
    """The operator-managed Service in front of the remote cluster server (port 9443)."""
    return f"{cluster}-es-remote-cluster"


def es_remote_cluster_lb_service(cluster: str) -> str:
    """Our own LoadBalancer Service for ECK 3.0-3.2, which cannot customise the operator's Service."""
    return f"{cluster}-es-remote-cluster-lb"


def es_transport_service(cluster: str) -> str:
    return f"{cluster}-es-transport"


def es_transport_lb_service(cluster: str) -> str:
    """Our own LoadBalancer Service on 9300 for the TLS-certificate model."""
    return f"{cluster}-es-transport-lb"


def es_statefulset(cluster: str, node_set: str) -> str:
    """The operator's StatefulSet for one nodeSet (also the prefix of its Pods' names)."""
    return f"{cluster}-es-{node_set}"


def es_http_service(cluster: str) -> str:
    return f"{cluster}-es-http"


def es_transport_certs_public_secret(cluster: str) -> str:
    """Operator-created Secret whose `ca.crt` is the transport CA (also the remote cluster server's CA)."""
    return f"{cluster}-es-transport-certs-public"


def es_http_certs_public_secret(cluster: str) -> str:
    return f"{cluster}-es-http-certs-public"


def es_elastic_user_secret(cluster: str) -> str:
    """Operator-created Secret holding the `elastic` user's password under the key `elastic`."""
    return f"{cluster}-es-elastic-user"


def user_managed_transport_ca_secret(cluster: str) -> str:
    """Our Secret with `ca.crt`/`ca.key`, referenced by `spec.transport.tls.certificate.secretName`."""
    return f"{cluster}-es-transport-ca-user"


def default_server_name(cluster: str, namespace: str) -> str:
    """The TLS server name Elastic documents for clients outside Kubernetes."""
    return f"{es_remote_cluster_service(cluster)}.{namespace}.svc"


def default_transport_server_name(cluster: str, namespace: str) -> str:
    """In the TLS-certificate model: the transport Service's name, which ECK puts in every node certificate."""
    return f"{es_transport_service(cluster)}.{namespace}.svc"


def eck_node_subject_pattern(cluster: str, namespace: str) -> str:
    """ECK's transport certificates are issued to `<pod>.node.<es>.<ns>.es.local`."""
    return f"*.node.{cluster}.{namespace}.es.local"


def ece_ca_secret(cluster: str) -> str:
    """TLS-certificate model: the ECE deployments' CAs, mounted into every nodeSet."""
    return f"{cluster}-ece-ca"


def ece_trust_config_map(cluster: str) -> str:
    """TLS-certificate model: `trust.yml` (trust restrictions), mounted into every nodeSet."""
    return f"{cluster}-ece-trust"


def default_http_url(cluster: str, namespace: str) -> str:
    return f"https://{es_http_service(cluster)}.{namespace}.svc:{HTTP_PORT}"


def pod_selector(cluster: str) -> dict[str, str]:
    """The labels ECK puts on the cluster's Elasticsearch pods (and uses as its own Services' selector)."""
    return {
        "elasticsearch.k8s.elastic.co/cluster-name": cluster,
        "common.k8s.elastic.co/type": "elasticsearch",
    }


def managed_labels(cluster: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": cluster,
    }


def elastic_user_secret_labels(cluster: str, namespace: str) -> dict[str, str]:
    """Labels ECK itself puts on `<es>-es-elastic-user`, so a pre-created Secret looks like the operator's."""
    return {
        "eck.k8s.elastic.co/credentials": "true",
        "eck.k8s.elastic.co/owner-kind": "Elasticsearch",
        "eck.k8s.elastic.co/owner-name": cluster,
        "eck.k8s.elastic.co/owner-namespace": namespace,
        "elasticsearch.k8s.elastic.co/cluster-name": cluster,
        **managed_labels(cluster),
    }


_ALIAS = re.compile(r"^[a-z0-9_-]+$")


ALIAS_RULE = "a remote cluster alias must be lowercase letters, digits, '-' and '_'"


def valid_alias(alias: str) -> bool:
    """Elasticsearch allows `[-\\w]+`; the ECE UI and our config ask for lowercase, as documented."""
    return bool(_ALIAS.match(alias))


def keystore_credentials_key(alias: str) -> str:
    return f"cluster.remote.{alias}.credentials"


def trust_entry_name(alias: str) -> str:
    """Name of the one `settings.trust.direct[]` entry a link owns on an ECE deployment."""
    return f"{MANAGED_BY}-{alias}"


def api_key_name(stack: str, link: str) -> str:
    """Deterministic cross-cluster API key name per link (ES caps names at 256 characters)."""
    return f"{MANAGED_BY}-{stack}-{link}"[:256]


def eck_transport_node_name(cluster: str, namespace: str, node_set: str, ordinal: int = 0) -> str:
    """The name in an ECK transport certificate (its SAN otherName, which trust restrictions match): the pod name,
    then `node.<es>.<namespace>.es.local` (cloud-on-k8s pkg/controller/elasticsearch/certificates/transport/csr.go,
    buildCertificateCommonName); pods are `<es>-es-<nodeSet>-<ordinal>`."""
    return f"{cluster}-es-{node_set}-{ordinal}.node.{cluster}.{namespace}.es.local"


def certificate_model_scope(namespace: str) -> str:
    """The ECE trust entry's `scope_id` in the TLS-certificate model: the suffix of ECK's transport certificate names
    (`<pod>.node.<es>.<namespace>.es.local`; the ECE-to-ECK guide's `default.es.local` is its example's namespace)."""
    return f"{namespace}.es.local"
