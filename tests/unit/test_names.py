"""`components.names`: labels the program puts on what it owns, the labels ECK itself sets on the `elastic` user's
Secret, and API key names within Elasticsearch's limit."""

from __future__ import annotations

from components import names


def test_what_the_program_owns_carries_the_kubernetes_recommended_labels() -> None:
    # https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
    assert names.managed_labels("quickstart") == {
        "app.kubernetes.io/managed-by": "ece-eck-remote",
        "app.kubernetes.io/part-of": "quickstart",
    }


def test_a_pre_created_elastic_user_secret_carries_the_labels_eck_puts_on_its_own() -> None:
    """ECK builds `<es>-es-elastic-user` with `common.AddCredentialsLabel(label.NewLabels(es))` (credentials label,
    `elasticsearch.k8s.elastic.co/cluster-name`) and reconciles it with `reconciler.ReconcileSecretNoOwnerRef`, which
    adds the soft-owner labels: owner namespace, name, and kind = the owner's Kind, `Elasticsearch`
    (cloud-on-k8s pkg/controller/elasticsearch/user/predefined.go, pkg/controller/common/reconciler/secret.go;
    ../shared/reference/eck.md, "Secrets"). The operator garbage-collects soft-owned Secrets by exactly these three
    labels, so a wrong key or value leaves the Secret behind or ties it to another cluster."""
    assert names.elastic_user_secret_labels("quickstart", "elastic") == {
        "eck.k8s.elastic.co/credentials": "true",
        "eck.k8s.elastic.co/owner-kind": "Elasticsearch",
        "eck.k8s.elastic.co/owner-name": "quickstart",
        "eck.k8s.elastic.co/owner-namespace": "elastic",
        "elasticsearch.k8s.elastic.co/cluster-name": "quickstart",
        "app.kubernetes.io/managed-by": "ece-eck-remote",
        "app.kubernetes.io/part-of": "quickstart",
    }


def test_api_key_names_stop_at_elasticsearchs_limit_of_256_characters() -> None:
    # ../shared/reference/elasticsearch-api.md: a key's `name` is at most 256 characters
    long = names.api_key_name("production", "x" * 300)
    assert len(long) == 256
    assert long.startswith("ece-eck-remote-production-xxx")
    assert names.api_key_name("dev", "logs") == "ece-eck-remote-dev-logs"
