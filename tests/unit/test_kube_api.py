"""How the Kubernetes client is configured (the official `kubernetes` loaders, client-go's rules) and how it reads:
contexts and merged files, each kind of credential, paths relative to the kubeconfig, exec plugins with their `env`,
tls-server-name and proxy-url (against a TLS stand-in behind a CONNECT proxy), in-cluster config, retries and errors.
The real API server tier (tests/realk8s/test_kube_access.py) reads real Secrets with an exec plugin and in-cluster."""

from __future__ import annotations

import base64
import json
import select
import socket
import socketserver
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import Configuration

from components import kube_api
from components.http import RetryPolicy, TransportError
from components.kube_api import (
    KubeApiError,
    KubeClient,
    KubeconfigError,
    load_balancer_host,
    load_configuration,
    secret_value,
)
from emulators.certs import server_context
from tests.support.certs import make_ca, make_server


def write(path: Path, users: list[dict], current: str = "main", clusters: list[dict] | None = None) -> None:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": clusters or [{"name": "c", "cluster": {"server": "https://k8s.example:6443"}}],
                "users": users,
                "contexts": [{"name": u["name"], "context": {"cluster": "c", "user": u["name"]}} for u in users],
            }
        )
    )


def authorization(configuration: Configuration) -> str | None:
    """The Authorization header the client would send (the refresh hook runs, as before every request)."""
    setting = configuration.auth_settings().get("BearerToken")
    return setting["value"] if setting else None


@pytest.fixture(autouse=True)
def no_pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run outside any pod and without the caller's kubeconfig or proxies."""
    for name in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_TOKEN", tmp_path / "no-pod" / "token")
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_CA", tmp_path / "no-pod" / "ca.crt")


# --- kubeconfig ------------------------------------------------------------------------------------------------------


def test_token_basic_and_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("file-token\n")  # written with echo: the newline is not part of the token
    config = tmp_path / "config"
    write(
        config,
        [
            {"name": "main", "user": {"token": "inline-token"}},
            {"name": "basic", "user": {"username": "u", "password": "p"}},
            {"name": "file", "user": {"tokenFile": str(tmp_path / "token")}},
        ],
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert authorization(load_configuration()) == "Bearer inline-token"
    assert authorization(load_configuration("basic")) == "Basic " + base64.b64encode(b"u:p").decode()
    assert authorization(load_configuration("file")) == "Bearer file-token"
    assert load_configuration().host == "https://k8s.example:6443"


def test_the_default_kubeconfig_is_the_one_in_home(tmp_path: Path) -> None:
    (tmp_path / "home" / ".kube").mkdir(parents=True)
    write(tmp_path / "home" / ".kube" / "config", [{"name": "main", "user": {"token": "home-token"}}])
    assert authorization(load_configuration()) == "Bearer home-token"


def test_cluster_ca_and_client_certificate_from_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca, client = make_ca("cluster-ca"), make_ca("client")
    config = tmp_path / "config"
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    write(
        config,
        [
            {
                "name": "main",
                "user": {
                    "client-certificate-data": b64(client.certificate_pem),
                    "client-key-data": b64(client.key_pem),
                },
            }
        ],
        clusters=[
            {
                "name": "c",
                "cluster": {
                    "server": "https://k8s.example:6443",
                    "certificate-authority-data": b64(ca.certificate_pem),
                },
            }
        ],
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    configuration = load_configuration()
    assert Path(configuration.ssl_ca_cert).read_text() == ca.certificate_pem
    assert Path(configuration.cert_file).read_text() == client.certificate_pem
    assert Path(configuration.key_file).read_text() == client.key_pem
    assert authorization(configuration) is None


def test_paths_relative_to_the_kubeconfig_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """certificate-authority, client certificate and key, tokenFile: relative to the file that names them, not to
    the working directory (kubectl's rule)."""
    folder = tmp_path / "kube"
    folder.mkdir()
    ca, client = make_ca("cluster-ca"), make_ca("client")
    (folder / "ca.crt").write_text(ca.certificate_pem)
    (folder / "client.crt").write_text(client.certificate_pem)
    (folder / "client.key").write_text(client.key_pem)
    (folder / "token").write_text("relative-token")
    write(
        folder / "config",
        [
            {"name": "main", "user": {"client-certificate": "client.crt", "client-key": "./client.key"}},
            {"name": "file", "user": {"tokenFile": "token"}},
        ],
        clusters=[{"name": "c", "cluster": {"server": "https://k8s.example:6443", "certificate-authority": "ca.crt"}}],
    )
    monkeypatch.setenv("KUBECONFIG", str(folder / "config"))
    monkeypatch.chdir(tmp_path)
    configuration = load_configuration()
    assert configuration.ssl_ca_cert == str(folder / "ca.crt")
    assert (configuration.cert_file, configuration.key_file) == (str(folder / "client.crt"), str(folder / "client.key"))
    assert authorization(load_configuration("file")) == "Bearer relative-token"


def test_the_first_file_of_kubeconfig_that_names_something_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubectl's merge: the first file to set current-context, or to define a user, wins (the Python client's
    merger lets the last current-context win; ours must pick what kubectl and the Kubernetes provider pick)."""
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, [{"name": "main", "user": {"token": "first"}}])
    write(
        second,
        [{"name": "main", "user": {"token": "second"}}, {"name": "extra", "user": {"token": "extra"}}],
        current="extra",
    )
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{tmp_path / 'empty'}:{first}:{second}")
    assert authorization(load_configuration()) == "Bearer first"
    assert authorization(load_configuration("extra")) == "Bearer extra"
    # A first file without current-context leaves the choice to the next one.
    write(first, [{"name": "main", "user": {"token": "first"}}], current="")
    assert authorization(load_configuration()) == "Bearer extra"


def plugin(folder: Path, body: str) -> Path:
    script = folder / "plugin.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def exec_user(command: str, env: list[dict] | None = None) -> dict:
    spec: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": command,
        "interactiveMode": "Never",
    }
    if env:
        spec["env"] = env
    return {"name": "main", "user": {"exec": spec}}


def test_exec_credential_plugins_with_their_env_and_a_relative_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "kube"
    folder.mkdir()
    plugin(
        folder,
        'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"\'"$EXTRA"\'"}}\'\n',
    )
    write(folder / "config", [exec_user("./plugin.sh", [{"name": "EXTRA", "value": "exec-token"}])])
    monkeypatch.setenv("KUBECONFIG", str(folder / "config"))
    monkeypatch.chdir(tmp_path)  # ./plugin.sh is found next to the kubeconfig, not in the working directory
    assert authorization(load_configuration()) == "Bearer exec-token"


def test_a_failing_exec_plugin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = plugin(tmp_path, "echo 'token expired: log in again' >&2\nexit 3\n")
    write(tmp_path / "config", [exec_user(str(script))])
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    with pytest.raises(
        KubeconfigError, match=r"exec credential plugin failed: exec: process returned 3\. token expired"
    ):
        load_configuration()


def test_clear_errors_for_a_missing_kubeconfig_or_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing"))
    with pytest.raises(KubeconfigError, match="no kubeconfig found"):
        load_configuration()
    config = tmp_path / "config"
    write(config, [{"name": "main", "user": {"token": "t"}}])
    monkeypatch.setenv("KUBECONFIG", str(config))
    with pytest.raises(KubeconfigError, match="no context named 'prod'"):
        load_configuration("prod")
    write(config, [{"name": "main", "user": {"token": "t"}}], current="")
    with pytest.raises(KubeconfigError, match="no current-context"):
        load_configuration()


def test_tls_server_name_and_proxy_url_reach_the_client_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clusters = [
        {
            "name": "c",
            "cluster": {
                "server": "https://10.0.0.1:6443",
                "tls-server-name": "kubernetes.default.svc",
                "proxy-url": "socks5://127.0.0.1:1080",
            },
        }
    ]
    write(tmp_path / "config", [{"name": "main", "user": {"token": "t"}}], clusters=clusters)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
    configuration = load_configuration()
    assert configuration.tls_server_name == "kubernetes.default.svc"
    assert configuration.proxy == "socks5://127.0.0.1:1080"
    assert not configuration.no_proxy  # a cluster's proxy-url takes every request, as with kubectl


# --- in-cluster ------------------------------------------------------------------------------------------------------


@pytest.fixture
def pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pod's service account: host and port in the environment, token and CA mounted."""
    mount = tmp_path / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text("pod-token")
    (mount / "ca.crt").write_text(make_ca("cluster-ca").certificate_pem)
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_TOKEN", mount / "token")
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_CA", mount / "ca.crt")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return mount


def test_in_a_pod_without_kubeconfig_the_service_account_is_used(pod: Path) -> None:
    configuration = load_configuration()
    assert configuration.host == "https://10.0.0.1:443"
    assert configuration.ssl_ca_cert == str(pod / "ca.crt")
    assert authorization(configuration) == "bearer pod-token"
    (pod / "token").write_text("rotated-token")  # bound tokens rotate: re-read (within a minute)
    assert authorization(configuration) == "bearer pod-token"


def test_a_kubeconfig_wins_over_the_pod_and_a_context_needs_one(
    pod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KubeconfigError, match=r"kubernetes\.context is 'prod' but there is no kubeconfig"):
        load_configuration("prod")
    write(tmp_path / "config", [{"name": "main", "user": {"token": "kubeconfig-token"}}])
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    assert authorization(load_configuration()) == "Bearer kubeconfig-token"


def test_an_incomplete_pod_environment_is_not_in_cluster(pod: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT")
    with pytest.raises(KubeconfigError, match="no kubeconfig found"):
        load_configuration()
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    (pod / "ca.crt").unlink()
    with pytest.raises(KubeconfigError, match="certification file does not exist"):
        load_configuration()


def test_in_a_pod_an_api_server_that_does_not_answer_names_the_pod_environment(
    pod: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
    client = KubeClient.from_kubeconfig()
    client.sleep = lambda _seconds: None
    with pytest.raises(TransportError, match=r"connection refused.*KUBERNETES_SERVICE_HOST"):
        client.get("secrets", "elastic", "x")


# --- requests --------------------------------------------------------------------------------------------------------


class Api:
    """A loopback stand-in of the API server: scripted answers per path, every request recorded."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, Any, dict[str, str]]]] = {}
        self.seen: list[tuple[str, str | None]] = []
        self.delay_first: float = 0.0

    def answer(self, path: str, *responses: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> None:
        self.answers[path] = [(r[0], r[1], r[2] if len(r) > 2 else {}) for r in responses]  # type: ignore[misc]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                api.seen.append((self.path, self.headers.get("Authorization")))
                if api.delay_first:
                    delay, api.delay_first = api.delay_first, 0.0
                    threading.Event().wait(delay)
                queue = api.answers.get(self.path)
                status, body, headers = (
                    (queue.pop(0) if len(queue) > 1 else queue[0])
                    if queue
                    else (404, {"kind": "Status", "reason": "NotFound", "message": "not found"}, {})
                )
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@contextmanager
def serve(api: Api, tls: Any = None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    if tls is not None:
        server.socket = server_context(tls).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_retry_after=2)


def client(url: str, token: str | None = None, sleeps: list[float] | None = None) -> KubeClient:
    configuration = Configuration(host=url)
    if token:
        configuration.api_key["BearerToken"] = f"Bearer {token}"
    return KubeClient(configuration, retry=FAST, sleep=(sleeps.append if sleeps is not None else lambda _s: None))


SECRET_PATH = "/api/v1/namespaces/elastic/secrets/quickstart-es-elastic-user"
SECRET = {"kind": "Secret", "data": {"elastic": base64.b64encode(b"pw").decode()}}


def test_the_elasticsearch_resource_and_its_crd_are_read_from_their_api_groups() -> None:
    """Paths as the API server serves them; a CRD this user may not read (403) or that is absent reads as None."""
    api = Api()
    api.answer(
        "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/elastic/elasticsearches/quickstart", (200, {"spec": {}})
    )
    api.answer(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/elasticsearches.elasticsearch.k8s.elastic.co",
        (403, {"kind": "Status", "reason": "Forbidden", "message": "cluster scope"}),
    )
    api.answer(
        "/api/v1/namespaces/elastic/services/rcs",
        (200, {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}}),
    )
    api.answer("/api/v1/namespaces/elastic/configmaps/cm", (200, {"data": {"a": "b"}}))
    with serve(api) as url:
        kube = client(url, token="t0ken-value")
        assert kube.get("elasticsearches", "elastic", "quickstart") == {"spec": {}}
        assert kube.get("elasticsearches", "elastic", "other") is None
        assert kube.get_definition("elasticsearches.elasticsearch.k8s.elastic.co") is None
        assert kube.get_definition("kibanas.kibana.k8s.elastic.co") is None
        assert load_balancer_host(kube.get("services", "elastic", "rcs")) == "192.0.2.1"  # keys as served: camelCase
        assert kube.get("configmaps", "elastic", "cm") == {"data": {"a": "b"}}
        assert kube.get("endpoints", "elastic", "rcs") is None
    paths = [path for path, _auth in api.seen]
    assert paths[1] == "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/elastic/elasticsearches/other"
    assert paths[3] == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kibanas.kibana.k8s.elastic.co"
    assert paths[6] == "/api/v1/namespaces/elastic/endpoints/rcs"
    assert {auth for _path, auth in api.seen} == {"Bearer t0ken-value"}


def test_server_errors_and_429_are_retried_honouring_retry_after() -> None:
    api = Api()
    api.answer(
        SECRET_PATH,
        (503, {"kind": "Status", "reason": "ServiceUnavailable", "message": "etcd"}),
        (429, {"kind": "Status", "reason": "TooManyRequests", "message": "slow down"}, {"Retry-After": "1"}),
        (200, SECRET),
    )
    sleeps: list[float] = []
    with serve(api) as url:
        assert (
            secret_value(client(url, sleeps=sleeps).get("secrets", "elastic", "quickstart-es-elastic-user"), "elastic")
            == "pw"
        )
    assert len(api.seen) == 3 and len(sleeps) == 2 and sleeps[1] >= 1


def test_server_errors_give_up_after_the_policy_with_the_apis_reason() -> None:
    api = Api()
    api.answer(SECRET_PATH, (500, {"kind": "Status", "reason": "InternalError", "message": "boom"}))
    with serve(api) as url, pytest.raises(KubeApiError) as raised:
        client(url).get("secrets", "elastic", "quickstart-es-elastic-user")
    assert len(api.seen) == FAST.attempts
    assert raised.value.status == 500 and raised.value.code == "InternalError"
    assert (
        str(raised.value)
        == "Kubernetes API get secret elastic/quickstart-es-elastic-user failed: HTTP 500 [InternalError]: boom"
    )


def test_other_client_errors_are_not_retried_and_hide_the_token() -> None:
    api = Api()
    api.answer(SECRET_PATH, (401, {"kind": "Status", "reason": "Unauthorized", "message": "token t0ken-value expired"}))
    with serve(api) as url, pytest.raises(KubeApiError) as raised:
        client(url, token="t0ken-value").get("secrets", "elastic", "quickstart-es-elastic-user")
    assert len(api.seen) == 1 and raised.value.status == 401
    assert "t0ken-value" not in str(raised.value) and "[redacted]" in str(raised.value)


def test_a_read_timeout_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_api, "TIMEOUT", (1.0, 0.3))
    api = Api()
    api.answer(SECRET_PATH, (200, SECRET))
    api.delay_first = 1.0
    sleeps: list[float] = []
    with serve(api) as url:
        assert client(url, sleeps=sleeps).get("secrets", "elastic", "quickstart-es-elastic-user") == SECRET
    assert len(sleeps) == 1


def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match="connection refused"):
        client(f"http://127.0.0.1:{port}").get("secrets", "elastic", "x")


# --- tls-server-name and proxy-url, end to end -----------------------------------------------------------------------


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on loopback that records the targets it was asked for."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.targets: list[str] = []
        proxy = self

        class Tunnel(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target, _version = head.split(b"\r\n", 1)[0].decode().split(" ")
                proxy.targets.append(f"{method} {target}")
                host, port = target.rsplit(":", 1)
                with socket.create_connection((host, int(port)), timeout=5) as upstream:
                    self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    sockets = [self.request, upstream]
                    while True:
                        ready, _, _ = select.select(sockets, [], [], 5)
                        if not ready:
                            return
                        for source in ready:
                            data = source.recv(65536)
                            if not data:
                                return
                            (upstream if source is self.request else self.request).sendall(data)

        super().__init__(("127.0.0.1", 0), Tunnel)


@contextmanager
def connect_proxy() -> Iterator[tuple[ConnectProxy, str]]:
    proxy = ConnectProxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield proxy, f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_secret_is_read_through_proxy_url_from_a_server_known_by_its_tls_server_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API server's certificate names only `kube.internal` (no IP): the connection to 127.0.0.1 verifies because
    the kubeconfig's tls-server-name says which name to expect, and it goes through the kubeconfig's proxy-url
    even though NO_PROXY covers the address. Without tls-server-name the certificate does not verify, and that is
    not retried."""
    ca = make_ca("api-ca")
    api = Api()
    api.answer(SECRET_PATH, (200, SECRET))
    (tmp_path / "ca.crt").write_text(ca.certificate_pem)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with serve(api, tls=make_server(ca, "kube.internal", ip=None)) as url, connect_proxy() as (proxy, proxy_url):
        cluster = {
            "server": url,
            "certificate-authority": "ca.crt",
            "tls-server-name": "kube.internal",
            "proxy-url": proxy_url,
        }
        write(
            tmp_path / "config",
            [{"name": "main", "user": {"token": "tls-token"}}],
            clusters=[{"name": "c", "cluster": cluster}],
        )
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
        kube = KubeClient.from_kubeconfig()
        assert secret_value(kube.get("secrets", "elastic", "quickstart-es-elastic-user"), "elastic") == "pw"
        assert proxy.targets == [f"CONNECT {url.removeprefix('https://')}"]
        assert api.seen == [(SECRET_PATH, "Bearer tls-token")]

        del cluster["tls-server-name"]
        write(
            tmp_path / "config",
            [{"name": "main", "user": {"token": "tls-token"}}],
            clusters=[{"name": "c", "cluster": cluster}],
        )
        sleeps: list[float] = []
        unverified = KubeClient(load_configuration(), retry=FAST, sleep=sleeps.append)
        with pytest.raises(TransportError, match="TLS certificate verification failed"):
            unverified.get("secrets", "elastic", "quickstart-es-elastic-user")
        assert sleeps == [] and len(proxy.targets) == 2
