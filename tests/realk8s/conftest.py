"""A real API server, controller manager and ECK operator (tools/local_cluster.py), with the ECE and Elasticsearch
emulators standing in for ECE and for the Elasticsearch processes that would run in ECK's pods."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.emulated_link import EmulatedLink, emulated_link
from tools.local_cluster import LocalCluster, local_cluster

NAMESPACE = "elastic"
CLUSTER = "quickstart"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("local-cluster")) as running:
        running.kubectl("create", "namespace", NAMESPACE)
        yield running


@pytest.fixture(scope="session")
def operator_env(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[EmulatedLink]:
    """The emulators, with the remote one kept in step with what the operator makes, as ECK's pods would be:
    its remote cluster server serves a certificate from the operator's transport CA, and its `elastic` user has
    the operator's password."""
    with emulated_link(tmp_path_factory.mktemp("operator-emulators")) as env:
        pushed: dict[str, str] = {}

        def follow_the_operator() -> None:
            ca = cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-transport-ca-internal")
            if ca and ca.get("tls.crt") and ca["tls.crt"] != pushed.get("ca"):
                env.control(env.remote, "PUT", "rcs/ca", {"certificate": ca["tls.crt"], "key": ca["tls.key"]})
                pushed["ca"] = ca["tls.crt"]
            user = cluster.secret_data(NAMESPACE, f"{CLUSTER}-es-elastic-user")
            if user and user.get("elastic") and user["elastic"] != pushed.get("password"):
                env.control(env.remote, "PUT", "elastic-password", {"password": user["elastic"]})
                pushed["password"] = user["elastic"]

        cluster.every(0.3, follow_the_operator)
        yield env
