"""Nothing answering is reported within seconds, naming the config key and the host; what can still come is waited on.

A host name that does not resolve (`nothing.invalid`: RFC 6761 names never resolve) or a refused connection (a closed
loopback port) on `ece.url`, the Kubernetes API or `eckClusters[].http.url` ends the wait it happens in long before
the wait's limit. A refused connection while the remote's API is awaited is what a starting cluster answers (its
Service has no ready pod yet), so that wait goes on until the cluster answers. No bound here is a performance target:
each is half the configured wait, which the old behaviour (waiting for the limit) could not meet.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from components.ece.client import EceClient, EceConnection
from components.eck_operator_outputs import EckOperatorOutputsProvider
from components.elasticsearch.api_key import CrossClusterApiKeyProvider
from components.elasticsearch.client import ElasticsearchApiError, caller, target_source
from components.http import Auth, HttpClient, RetryableError, TransportError, UnreachableError, in_cluster_hint
from emulators.common import running, start
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.support.fake_kube import write_kubeconfig
from tests.support.keys import key_props

PASSWORD = "remote-elastic-Pw-1"
CREDENTIALS = {"username": "elastic", "password": PASSWORD}
UNRESOLVABLE = "nothing.invalid"
IN_CLUSTER = "quickstart-es-http.elastic.svc"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: the kernel refuses connections to it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def in_cluster_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver of a runner outside the cluster: `*.svc` names do not exist (EAI_NONAME), as on any CI runner;
    everything else resolves as usual. Injected so that the test does not depend on this machine's DNS."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".svc"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def timed(call: Any) -> tuple[BaseException, float]:
    """The error `call` raises (an API error: each names its operation) and how long it took to come."""
    started = time.monotonic()
    with pytest.raises((TransportError, ElasticsearchApiError)) as raised:
        call()
    return raised.value, time.monotonic() - started


def key_create(url: str, ready_timeout: int) -> Any:
    props = key_props(
        target={"kind": "direct", "url": url, "request_timeout_seconds": 5.0},
        credentials=CREDENTIALS,
        ready_timeout_seconds=ready_timeout,
    )
    return lambda: CrossClusterApiKeyProvider().create(props)


# --- eckClusters[].http.url: the remote's API, awaited before a key is made -------------------------------------------


def test_an_unresolvable_remote_url_ends_the_readiness_wait_at_once_naming_key_and_host() -> None:
    error, elapsed = timed(key_create(f"https://{UNRESOLVABLE}:9200", ready_timeout=120))
    assert isinstance(error, UnreachableError) and error.unresolved
    assert elapsed < 60, f"waited {elapsed:.1f}s of the configured 120s"
    message = str(error)
    assert f"the host name '{UNRESOLVABLE}' does not resolve" in message
    assert f"https://{UNRESOLVABLE}:9200 is eckClusters[].http.url" in message
    assert PASSWORD not in message


def test_the_default_in_cluster_address_says_what_the_runner_needs(in_cluster_dns: None) -> None:
    error, elapsed = timed(key_create(f"https://{IN_CLUSTER}:9200", ready_timeout=120))
    assert isinstance(error, UnreachableError)
    assert elapsed < 60, f"waited {elapsed:.1f}s of the configured 120s"
    message = str(error)
    assert f"the host name '{IN_CLUSTER}' does not resolve" in message
    assert "the default of eckClusters[].http.url for cluster 'quickstart' (namespace 'elastic')" in message
    assert "the runner must reach the Kubernetes API and the ECK cluster's HTTP endpoint" in message
    assert "self-hosted runner in the cluster's network" in message
    assert "eckClusters[].http.url to an address through an ingress" in message


def test_a_refused_remote_is_waited_on_as_a_starting_cluster_until_it_answers(closed_port: int) -> None:
    """Kubernetes refuses connections to a Service with no ready pod: the cluster is starting, so the wait goes on,
    and ends as soon as the API answers on that address."""
    emulator = ElasticsearchEmulator(Config(version="8.19.21", elastic_password=PASSWORD))
    started: list[Any] = []

    def start_later() -> None:
        time.sleep(2.5)
        started.append(start(emulator, port=closed_port))

    thread = threading.Thread(target=start_later)
    thread.start()
    try:
        result = key_create(f"http://127.0.0.1:{closed_port}", ready_timeout=60)()
    finally:
        thread.join()
        for handle in started:
            handle.stop()
        emulator.close()
    assert result.outs["key_id"]
    assert result.outs["encoded"]


def test_a_refused_remote_that_never_comes_names_key_and_host_when_the_wait_ends(closed_port: int) -> None:
    error, _elapsed = timed(key_create(f"http://127.0.0.1:{closed_port}", ready_timeout=2))
    assert isinstance(error, ElasticsearchApiError)
    message = str(error)
    assert f"connection refused by 127.0.0.1:{closed_port}" in message
    assert f"http://127.0.0.1:{closed_port} is eckClusters[].http.url" in message


def test_calls_other_than_the_readiness_wait_fail_fast_on_a_refused_remote(closed_port: int) -> None:
    es = caller({"kind": "direct", "url": f"http://127.0.0.1:{closed_port}"}, CREDENTIALS)
    error, elapsed = timed(lambda: es.request("get API key k", "GET", "_security/api_key", params={"id": "k"}))
    assert isinstance(error, UnreachableError) and error.reason == "refused"
    assert elapsed < 10  # three attempts, about a second of backoff; the ordinary budget is six
    assert f"connection refused by 127.0.0.1:{closed_port}" in str(error)


# --- ece.url --------------------------------------------------------------------------------------------------------


def ece(url: str) -> EceClient:
    return EceClient(EceConnection(url, request_timeout_seconds=5.0), Auth.api_key("ece-api-key-secret"))


@pytest.mark.parametrize("where", ["unresolvable", "closed port"])
def test_an_unreachable_ece_ends_the_plan_wait_at_once_naming_ece_url(where: str, closed_port: int) -> None:
    url = f"https://{UNRESOLVABLE}:12443" if where == "unresolvable" else f"https://127.0.0.1:{closed_port}"
    error, elapsed = timed(lambda: ece(url).wait_for_plan("d1", "main-elasticsearch", 20))
    assert isinstance(error, UnreachableError)
    assert elapsed < 10, f"waited {elapsed:.1f}s of the configured 20s"
    message = str(error)
    assert message.startswith("ECE API get deployment d1 failed: no response: ")
    assert f"{url} is ece.url" in message
    expected = (
        f"'{UNRESOLVABLE}' does not resolve" if where == "unresolvable" else f"refused by 127.0.0.1:{closed_port}"
    )
    assert expected in message
    assert "ece-api-key-secret" not in message


def test_the_ece_proxy_target_is_named_as_ece_url() -> None:
    assert target_source({"kind": "direct", "url": "https://ece:12443/api/v1/x/proxy", "name": "ece:d1/main"}) == (
        "ece.url"
    )
    assert target_source({"kind": "direct", "url": "https://es.example.com"}) == "eckClusters[].http.url"
    assert target_source({"kind": "direct", "url": "https://x", "source": "eckClusters[3].http.url"}) == (
        "eckClusters[3].http.url"
    )


# --- the Kubernetes API ---------------------------------------------------------------------------------------------


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


OPERATOR_PROPS = {
    "namespace": "elastic",
    "context": "test",
    "ca_secret": "quickstart-es-transport-certs-public",
    "http_ca_secret": None,
    "password_secret": "quickstart-es-elastic-user",
    "service": "quickstart-es-remote-cluster",
    "timeout_seconds": 120,
}


@pytest.mark.parametrize("where", ["unresolvable", "closed port"])
def test_an_unreachable_kubernetes_api_ends_the_operator_wait_at_once(
    where: str, closed_port: int, kubeconfig: Path
) -> None:
    host, port = (UNRESOLVABLE, 6443) if where == "unresolvable" else ("127.0.0.1", closed_port)
    write_kubeconfig(kubeconfig, f"https://{host}:{port}", token="kube-token-secret")
    error, elapsed = timed(lambda: EckOperatorOutputsProvider().create(dict(OPERATOR_PROPS)))
    assert isinstance(error, UnreachableError)
    assert elapsed < 60, f"waited {elapsed:.1f}s of the configured 120s"
    message = str(error)
    assert message.startswith("Kubernetes API get secret elastic/quickstart-es-transport-certs-public failed")
    assert f"https://{host}:{port} is the Kubernetes API server of the kubeconfig" in message
    assert "kubernetes.context" in message
    expected = f"'{host}' does not resolve" if where == "unresolvable" else f"refused by {host}:{port}"
    assert expected in message
    assert "kube-token-secret" not in message


# --- the HTTP layer -------------------------------------------------------------------------------------------------


def test_an_unreachable_post_is_retried_safely_and_never_reads_as_possibly_applied(closed_port: int) -> None:
    """A refused or unresolved request never reached a server: not a `RetryableError` (which would make a caller
    look for what it may have created)."""
    client = HttpClient(f"http://127.0.0.1:{closed_port}", ElasticsearchApiError, source="somewhere.url")
    with pytest.raises(TransportError) as raised:
        client.request("create thing", "POST", "things", json={})
    assert isinstance(raised.value, UnreachableError) and not isinstance(raised.value, RetryableError)


def test_a_dropped_connection_is_not_taken_for_an_unreachable_address() -> None:
    """Something listens there and hung up: not `UnreachableError` (that may be a server restarting)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def hang_up() -> None:
            for _ in range(6):
                connection, _address = server.accept()
                connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        client = HttpClient(f"http://127.0.0.1:{port}", ElasticsearchApiError, sleep=lambda _s: None)
        with pytest.raises(TransportError) as raised:
            client.request("get thing", "GET", "thing")
    assert not isinstance(raised.value, UnreachableError)
    assert "connection dropped" in str(raised.value)


def test_the_in_cluster_hint_is_only_for_service_names() -> None:
    assert in_cluster_hint("quickstart-es-http.elastic.svc")
    assert in_cluster_hint("quickstart-es-http.elastic.svc.cluster.local")
    assert in_cluster_hint("es.example.com") is None
    assert in_cluster_hint("127.0.0.1") is None


def test_a_running_server_is_not_affected() -> None:
    emulator = ElasticsearchEmulator(Config(version="8.19.21", elastic_password=PASSWORD))
    try:
        with running(emulator) as server:
            es = caller({"kind": "direct", "url": server.url}, CREDENTIALS)
            assert es.request("read the licence", "GET", "_license").status_code == 200
    finally:
        emulator.close()
