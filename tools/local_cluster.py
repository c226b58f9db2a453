"""A real Kubernetes control plane and the real ECK operator on loopback, without Docker or a kubelet.

etcd, kube-apiserver (token auth, our own serving certificate) and kube-controller-manager (garbage collection,
namespaces) run as processes; the ECK CRDs (`../shared/specs/eck-all-crds-v3.5.0.yaml`) are installed; the operator
runs out of cluster (webhooks, leader election and telemetry off). No Pod ever runs: the operator still creates the
Services and the CA and user Secrets, which is what the program waits for. A load-balancer stand-in gives every
LoadBalancer Service an ingress address on loopback. Everything started is stopped on exit, also after a failure.

Binaries come from `tools/toolchain/build-kubernetes.sh` (or `$KUBERNETES_TOOLCHAIN_BIN`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.certs import key_pem, make_ca, make_server
from tools.toolchains import toolchain_bin

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(os.environ.get("ECE_ECK_SPECS") or ROOT.parent / "shared" / "specs")
OPERATOR_NAMESPACE = "elastic-system"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serving_certificate(directory: Path) -> tuple[Path, Path, bytes]:
    """A CA and the API server's certificate for 127.0.0.1 and localhost; returns (cert, key, CA PEM)."""
    ca = make_ca("local-cluster-ca", days=2)
    server = make_server(ca, "localhost", "127.0.0.1", days=2)
    (directory / "apiserver.crt").write_text(server.certificate_pem)
    (directory / "apiserver.key").write_text(server.key_pem)
    (directory / "apiserver.key").chmod(0o600)
    return directory / "apiserver.crt", directory / "apiserver.key", ca.certificate_pem.encode()


@dataclass
class LocalCluster:
    bin: Path
    workdir: Path
    load_balancer_ip: str = "127.0.0.1"
    token: str = field(default_factory=lambda: base64.urlsafe_b64encode(os.urandom(24)).decode())
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    server: str = ""
    ca_pem: bytes = b""
    _stop: threading.Event = field(default_factory=threading.Event)
    load_balancer_paused: threading.Event = field(default_factory=threading.Event)
    """Set, the load-balancer stand-in gives no address: a cloud whose load balancer is slow to come."""
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    # --- processes -------------------------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [str(self.bin / args[0]), *args[1:]],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def _wait(self, name: str, ready: Any, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(requests.RequestException):
                if ready():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} was not ready within {timeout:g}s (see {self.workdir / (name + '.log')})")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        etcd_port, peer_port, api_port, kcm_port = free_port(), free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self._spawn(
            "etcd",
            [
                "etcd",
                "--data-dir",
                str(self.workdir / "etcd"),
                "--listen-client-urls",
                etcd_url,
                "--advertise-client-urls",
                etcd_url,
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        self._wait("etcd", lambda: requests.get(f"{etcd_url}/health", timeout=2).json().get("health") == "true")

        certificate, key, self.ca_pem = _serving_certificate(self.workdir)
        account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.workdir / "sa.key").write_text(key_pem(account_key))
        (self.workdir / "sa.pub").write_bytes(
            account_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        (self.workdir / "tokens.csv").write_text(f'{self.token},admin,admin-uid,"system:masters"\n')
        self.server = f"https://127.0.0.1:{api_port}"
        self._spawn(
            "kube-apiserver",
            [
                "kube-apiserver",
                "--etcd-servers",
                etcd_url,
                "--bind-address",
                "127.0.0.1",
                # Loopback cannot be advertised; nothing dials this documentation address (no endpoint reconciling).
                "--advertise-address",
                "192.0.2.10",
                "--endpoint-reconciler-type",
                "none",
                "--secure-port",
                str(api_port),
                "--tls-cert-file",
                str(certificate),
                "--tls-private-key-file",
                str(key),
                "--token-auth-file",
                str(self.workdir / "tokens.csv"),
                "--authorization-mode",
                "RBAC",
                "--service-cluster-ip-range",
                "10.0.0.0/24",
                "--disable-admission-plugins",
                "ServiceAccount",
                "--allow-privileged=true",
                "--service-account-issuer",
                self.server,
                "--service-account-key-file",
                str(self.workdir / "sa.pub"),
                "--service-account-signing-key-file",
                str(self.workdir / "sa.key"),
                "--cert-dir",
                str(self.workdir / "apiserver-certs"),
            ],
        )
        (self.workdir / "ca.crt").write_bytes(self.ca_pem)
        self._wait("kube-apiserver", lambda: self.api("GET", "/readyz").status_code == 200)
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "local",
                    "clusters": [
                        {
                            "name": "local",
                            "cluster": {
                                "server": self.server,
                                "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                            },
                        }
                    ],
                    "users": [{"name": "admin", "user": {"token": self.token}}],
                    "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
                }
            )
        )
        self.kubeconfig.chmod(0o600)
        self._spawn(
            "kube-controller-manager",
            [
                "kube-controller-manager",
                "--kubeconfig",
                str(self.kubeconfig),
                "--authentication-kubeconfig",
                str(self.kubeconfig),
                "--authorization-kubeconfig",
                str(self.kubeconfig),
                "--controllers",
                "garbagecollector,namespace",
                "--leader-elect=false",
                "--bind-address",
                "127.0.0.1",
                "--secure-port",
                str(kcm_port),
                "--use-service-account-credentials=false",
            ],
        )
        self.kubectl("create", "namespace", OPERATOR_NAMESPACE)
        self.kubectl("apply", "--server-side", "-f", str(SPECS / "eck-all-crds-v3.5.0.yaml"))
        self.kubectl("wait", "--for=condition=established", "--timeout=120s", "crd", "--all")
        self._spawn(
            "elastic-operator",
            [
                "elastic-operator",
                "manager",
                f"--operator-namespace={OPERATOR_NAMESPACE}",
                "--enable-leader-election=false",
                "--disable-telemetry",
                "--enable-webhook=false",
                "--ip-family=IPv4",
                "--set-default-security-context=false",
                "--validate-storage-class=false",
                "--log-verbosity=0",
            ],
            {"KUBECONFIG": str(self.kubeconfig)},
        )
        self._wait(
            "elastic-operator",
            lambda: self.get(f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/configmaps/elastic-operator-uuid") is not None,
        )
        self._background(self._load_balancer_loop)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for name in ("elastic-operator", "kube-controller-manager", "kube-apiserver", "etcd"):
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

    # --- API access --------------------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, self.server + path, headers=headers, verify=str(self.workdir / "ca.crt"), timeout=10, **kwargs
        )

    def get(self, path: str) -> dict[str, Any] | None:
        response = self.api("GET", path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def kubectl(self, *args: str) -> str:
        completed = subprocess.run(
            [str(self.bin / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {completed.stderr.strip()}")
        return completed.stdout

    def secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        secret = self.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if secret is None:
            return None
        return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}

    def objects(self, namespace: str) -> dict[str, list[str]]:
        """Names of what a namespace holds, by kind (for before/after comparisons)."""
        kinds = {
            "services": f"/api/v1/namespaces/{namespace}/services",
            "secrets": f"/api/v1/namespaces/{namespace}/secrets",
            "configmaps": f"/api/v1/namespaces/{namespace}/configmaps",
            "elasticsearches": f"/apis/elasticsearch.k8s.elastic.co/v1/namespaces/{namespace}/elasticsearches",
            "statefulsets": f"/apis/apps/v1/namespaces/{namespace}/statefulsets",
        }
        return {
            kind: sorted(item["metadata"]["name"] for item in (self.get(path) or {}).get("items", []))
            for kind, path in kinds.items()
        }

    # --- background loops --------------------------------------------------------------------------------------
    def _background(self, loop: Any) -> None:
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append(thread)

    def every(self, seconds: float, action: Any) -> None:
        """Run `action` every `seconds` until the cluster stops (errors are retried on the next tick)."""

        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    action()
                except Exception as error:
                    with (self.workdir / "background.log").open("a") as log:
                        log.write(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}\n")

        self._background(loop)

    def _load_balancer_loop(self) -> None:
        """The load-balancer stand-in: an ingress address for every LoadBalancer Service that has none."""
        while not self._stop.wait(0.2):
            if self.load_balancer_paused.is_set():
                continue
            with contextlib.suppress(Exception):
                for service in (self.get("/api/v1/services") or {}).get("items", []):
                    if service["spec"].get("type") != "LoadBalancer" or (service.get("status") or {}).get(
                        "loadBalancer", {}
                    ).get("ingress"):
                        continue
                    meta = service["metadata"]
                    self.api(
                        "PATCH",
                        f"/api/v1/namespaces/{meta['namespace']}/services/{meta['name']}/status",
                        data=json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": self.load_balancer_ip}]}}}),
                        headers={"Content-Type": "application/merge-patch+json"},
                    )


@contextlib.contextmanager
def local_cluster(workdir: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(toolchain_bin("build-kubernetes.sh", "KUBERNETES_TOOLCHAIN_BIN"), workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def main() -> None:
    """`python -m tools.local_cluster`: run the control plane and the operator until interrupted."""
    workdir = Path(tempfile.mkdtemp(prefix="local-cluster-"))
    with local_cluster(workdir) as cluster:
        print(
            f"API server {cluster.server}; KUBECONFIG={cluster.kubeconfig}; logs in {workdir}. Ctrl-C stops it.",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
