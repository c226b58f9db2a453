"""The Kubernetes client against a real kube-apiserver, as a runner would reach it: through a kubeconfig whose user is
an exec credential plugin (with its `env`, its command and the CA both relative to the kubeconfig's folder), and from
inside a pod, with the service account's token (issued by the API server's TokenRequest API) and CA."""

from __future__ import annotations

import base64
import json
import stat
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from components import kube_api
from components.kube_api import KubeApiError, KubeClient, secret_value
from tests.realk8s.conftest import NAMESPACE
from tools.local_cluster import LocalCluster

READER = "kube-access-reader"


def make_secret(cluster: LocalCluster, namespace: str, value: str) -> str:
    name = f"kube-access-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "secret", "generic", name, "-n", namespace, f"--from-literal=value={value}")
    return name


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No kubeconfig or pod of the caller leaks in; the working directory is elsewhere than the kubeconfig."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_TOKEN", tmp_path / "no-pod" / "token")
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_CA", tmp_path / "no-pod" / "ca.crt")
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def exec_kubeconfig(cluster: LocalCluster, folder: Path, token: str) -> Path:
    """A kubeconfig in `folder` whose only credential is `./credential-plugin` (printing the token it is given
    through the exec `env`), with the API server's CA as the relative path `certs/ca.crt`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "certs").mkdir(exist_ok=True)
    (folder / "certs" / "ca.crt").write_bytes(cluster.ca_pem)
    plugin = folder / "credential-plugin"
    plugin.write_text(
        "#!/bin/sh\n"
        'test -n "$KUBERNETES_EXEC_INFO" || exit 9\n'
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        '"status":{"token":"%s"}}\' "$PLUGIN_TOKEN"\n'
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "exec",
        "clusters": [{"name": "local", "cluster": {"server": cluster.server, "certificate-authority": "certs/ca.crt"}}],
        "users": [
            {
                "name": "plugin",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "./credential-plugin",
                        "env": [{"name": "PLUGIN_TOKEN", "value": token}],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "exec", "context": {"cluster": "local", "user": "plugin"}}],
    }
    (folder / "config").write_text(json.dumps(config))
    return folder / "config"


def test_a_secret_is_read_with_an_exec_credential_plugin_and_a_relative_ca(
    cluster: LocalCluster, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_secret(cluster, NAMESPACE, "from-exec")
    monkeypatch.setenv("KUBECONFIG", str(exec_kubeconfig(cluster, isolated / "kube", cluster.token)))
    client = KubeClient.from_kubeconfig()
    assert client.configuration.ssl_ca_cert == str(isolated / "kube" / "certs" / "ca.crt")
    secret = client.get("secrets", NAMESPACE, name)
    assert secret is not None and secret_value(secret, "value") == "from-exec"
    assert client.get("secrets", NAMESPACE, "kube-access-absent") is None

    # The plugin's token is what authenticates: a token the API server does not know is refused (401, not retried).
    monkeypatch.setenv("KUBECONFIG", str(exec_kubeconfig(cluster, isolated / "wrong", "not-a-known-token")))
    with pytest.raises(KubeApiError) as raised:
        KubeClient.from_kubeconfig().get("secrets", NAMESPACE, name)
    assert raised.value.status == 401 and "not-a-known-token" not in str(raised.value)


@pytest.fixture
def service_account(cluster: LocalCluster) -> str:
    """A ServiceAccount that may read Secrets in NAMESPACE only, and a token for it from the TokenRequest API."""
    if READER not in cluster.kubectl("get", "serviceaccounts", "-n", NAMESPACE, "-o", "name"):
        cluster.kubectl("create", "serviceaccount", READER, "-n", NAMESPACE)
        cluster.kubectl("create", "role", READER, "-n", NAMESPACE, "--verb=get", "--resource=secrets")
        cluster.kubectl(
            "create",
            "rolebinding",
            READER,
            "-n",
            NAMESPACE,
            f"--role={READER}",
            f"--serviceaccount={NAMESPACE}:{READER}",
        )
    return cluster.kubectl("create", "token", READER, "-n", NAMESPACE, "--duration=10m").strip()


def test_in_a_pod_the_service_account_reads_what_its_role_allows(
    cluster: LocalCluster, isolated: Path, service_account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = json.loads(base64.urlsafe_b64decode(service_account.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{NAMESPACE}:{READER}"
    mount = isolated / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text(service_account)
    (mount / "ca.crt").write_bytes(cluster.ca_pem)
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_TOKEN", mount / "token")
    monkeypatch.setattr(kube_api, "SERVICE_ACCOUNT_CA", mount / "ca.crt")
    address = urlsplit(cluster.server)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", str(address.hostname))
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(address.port))

    name = make_secret(cluster, NAMESPACE, "from-the-pod")
    client = KubeClient.from_kubeconfig()
    assert client.configuration.host == cluster.server
    secret = client.get("secrets", NAMESPACE, name)
    assert secret is not None and secret_value(secret, "value") == "from-the-pod"

    # It is the service account, not an administrator: outside its Role the API server says no.
    other = make_secret(cluster, "default", "not-for-the-pod")
    with pytest.raises(KubeApiError) as raised:
        client.get("secrets", "default", other)
    assert raised.value.status == 403 and raised.value.code == "Forbidden"
    assert client.get_definition("elasticsearches.elasticsearch.k8s.elastic.co") is None  # cluster scope: not readable
