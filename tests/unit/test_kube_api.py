"""Kubeconfig handling of the client the wait uses: contexts, merged files, and each kind of credential."""

from __future__ import annotations

import base64
import json
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.http import Auth, Tls
from components.kube_api import KubeClient, KubeconfigError, KubeTarget, load_balancer_host, load_target, secret_value
from tests.support.certs import make_ca


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


def test_token_basic_and_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("file-token\n")
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
    assert load_target().auth.header == "Bearer inline-token"
    assert load_target("basic").auth.header == "Basic " + base64.b64encode(b"u:p").decode()
    assert load_target("file").auth.header == "Bearer file-token"
    assert load_target().server == "https://k8s.example:6443"


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
    target = load_target()
    assert target.tls.ca_pem == ca.certificate_pem
    assert target.tls.client_cert_pem == client.certificate_pem and target.tls.client_key_pem == client.key_pem
    assert target.auth.header is None


def test_the_first_file_of_kubeconfig_that_names_something_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, [{"name": "main", "user": {"token": "first"}}])
    write(
        second,
        [{"name": "main", "user": {"token": "second"}}, {"name": "extra", "user": {"token": "extra"}}],
        current="extra",
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    assert load_target().auth.header == "Bearer first"
    assert load_target("extra").auth.header == "Bearer extra"


def test_exec_credential_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = tmp_path / "plugin.sh"
    plugin.write_text('#!/bin/sh\necho \'{"kind":"ExecCredential","status":{"token":"\'"$EXTRA"\'"}}\'\n')
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    config = tmp_path / "config"
    write(
        config,
        [
            {
                "name": "main",
                "user": {"exec": {"command": str(plugin), "env": [{"name": "EXTRA", "value": "exec-token"}]}},
            }
        ],
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert load_target().auth.header == "Bearer exec-token"


def test_clear_errors_for_a_missing_kubeconfig_or_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing"))
    with pytest.raises(KubeconfigError, match="no kubeconfig found"):
        load_target()
    config = tmp_path / "config"
    write(config, [{"name": "main", "user": {"token": "t"}}])
    monkeypatch.setenv("KUBECONFIG", str(config))
    with pytest.raises(KubeconfigError, match="no context named 'prod'"):
        load_target("prod")


def test_helpers_read_secrets_and_load_balancer_status() -> None:
    assert secret_value({"data": {"ca.crt": base64.b64encode(b"PEM").decode()}}, "ca.crt") == "PEM"
    assert secret_value({"data": {}}, "ca.crt") is None
    assert (
        load_balancer_host({"status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}})
        == "lb.example.com"
    )
    assert load_balancer_host({"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}}) == "203.0.113.9"
    assert load_balancer_host({"status": {"loadBalancer": {}}}) is None


def test_the_elasticsearch_resource_and_its_crd_are_read_from_their_api_groups() -> None:
    """Paths as the API server serves them; a CRD this user may not read (403) or that is absent reads as None."""
    answers = {
        "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/elastic/elasticsearches/quickstart": (200, {"spec": {}}),
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/elasticsearches.elasticsearch.k8s.elastic.co": (
            403,
            {"kind": "Status", "reason": "Forbidden", "message": "cluster scope"},
        ),
    }
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return

        def do_GET(self) -> None:
            seen.append(self.path)
            status, body = answers.get(self.path, (404, {"kind": "Status", "reason": "NotFound"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = KubeClient(KubeTarget(f"http://127.0.0.1:{server.server_address[1]}", Tls(), Auth.none()))
        assert client.get("elasticsearches", "elastic", "quickstart") == {"spec": {}}
        assert client.get("elasticsearches", "elastic", "other") is None
        assert client.get_definition("elasticsearches.elasticsearch.k8s.elastic.co") is None
        assert client.get_definition("kibanas.kibana.k8s.elastic.co") is None
    finally:
        server.shutdown()
    assert seen[1] == "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/elastic/elasticsearches/other"
    assert seen[3] == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kibanas.kibana.k8s.elastic.co"
