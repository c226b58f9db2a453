"""The real-node harness itself: nodes up with security and a trial licence, the remote cluster server presenting
the right certificate, a cross-cluster link made by hand end to end, and no JVM outliving its Python process."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509

from tests.real_nodes import REMOTE_SERVER_NAME, RealNodes
from tools.real_elasticsearch import REPOSITORY, RealNode

ALIAS = "harness_remote"


def test_both_nodes_are_up_with_security_and_a_trial_licence(real_nodes: RealNodes):
    for node in real_nodes:
        assert node.request("GET", "/_cluster/health").json()["status"] in {"green", "yellow"}
        assert node.request("GET", "/_license").json()["license"]["type"] == "trial"
        assert node.request("GET", "/_security/_authenticate", auth=("elastic", "wrong")).status_code == 401
        anonymous = requests.get(f"{node.http_url}/_cluster/health", verify=str(node.ca_file), timeout=10)
        assert anonymous.status_code == 401
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{node.http_port}/", timeout=10)


def _peer_certificate(node: RealNode, ca_pem: str) -> x509.Certificate:
    context = ssl.create_default_context(cadata=ca_pem)
    host, port = node.remote_cluster_address.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=node.server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_remote_cluster_server_presents_its_server_name_signed_by_its_ca(real_nodes: RealNodes):
    remote = real_nodes.remote
    assert remote.server_name == REMOTE_SERVER_NAME
    certificate = _peer_certificate(remote, remote.ca_pem)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert REMOTE_SERVER_NAME in names.get_values_for_type(x509.DNSName)
    with pytest.raises(ssl.SSLCertVerificationError):
        _peer_certificate(remote, real_nodes.local.ca_pem)  # another CA does not vouch for it


def _wait_connected(local: RealNode, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = local.request("GET", f"/_resolve/cluster/{ALIAS}:*").json()
        if body.get(ALIAS, {}).get("connected") or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_a_cross_cluster_link_made_by_hand_searches_only_what_the_key_grants(nodes_left_as_found: RealNodes):
    local, remote = nodes_left_as_found
    key = remote.request(
        "POST",
        "/_security/cross_cluster/api_key",
        json={"name": "harness-link", "access": {"search": [{"names": ["logs-*"]}]}},
    )
    assert key.status_code == 200, key.text
    try:
        for index in ("logs-1", "secret-1"):
            written = remote.request("PUT", f"/{index}/_doc/1", json={"message": index}, params={"refresh": "true"})
            assert written.status_code == 201, written.text
        local.keystore_set(f"cluster.remote.{ALIAS}.credentials", key.json()["encoded"])
        local.reload_secure_settings()
        local.set_remote_cluster_client_cas([remote.ca_pem])
        settings = {
            f"cluster.remote.{ALIAS}.mode": "proxy",
            f"cluster.remote.{ALIAS}.proxy_address": remote.remote_cluster_address,
            f"cluster.remote.{ALIAS}.server_name": remote.server_name,
            # 8.15+ defaults to true, which turns a refusal into a skipped cluster in a 200 answer.
            f"cluster.remote.{ALIAS}.skip_unavailable": False,
        }
        put = local.request("PUT", "/_cluster/settings", json={"persistent": settings})
        assert put.status_code == 200, put.text

        resolved = _wait_connected(local)
        assert resolved[ALIAS]["connected"] is True, resolved

        found = local.request("GET", f"/{ALIAS}:logs-1/_search")
        assert found.status_code == 200, found.text
        assert [hit["_source"] for hit in found.json()["hits"]["hits"]] == [{"message": "logs-1"}]
        refused = local.request("GET", f"/{ALIAS}:secret-1/_search")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["type"] == "security_exception"
    finally:
        local.request("PUT", "/_cluster/settings", json={"persistent": {f"cluster.remote.{ALIAS}.*": None}})
        local.keystore_remove(f"cluster.remote.{ALIAS}.credentials")  # nothing to do when absent
        local.reload_secure_settings()
        local.set_remote_cluster_client_cas([], wait=False)
        remote.request("DELETE", "/_security/api_key", json={"ids": [key.json()["id"]]})
        remote.request("DELETE", "/logs-1,secret-1", params={"ignore_unavailable": "true"})


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tools.real_elasticsearch import NodeCertificates, prepare_node
    node = prepare_node("orphan", NodeCertificates.make("orphan"), "orphan-password", "256m", Path(sys.argv[1]))
    node.start()
    print(node.pid, flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}  # a zombie nobody reaped yet is dead all the same


def test_no_jvm_outlives_the_python_process_that_started_it(tmp_path: Path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPOSITORY, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        pid = int(child.stdout.readline())
        time.sleep(1)  # well into the JVM's start
        assert _alive(pid)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), f"JVM {pid} outlived its Python process"
