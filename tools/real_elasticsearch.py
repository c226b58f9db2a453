"""Real Elasticsearch 8.19.21 nodes on loopback, for tests and for humans: assembled from Maven Central jars by
`tools/elasticsearch/build.sh` (see /work/shared/reference/real-elasticsearch.md), started with our launcher, HTTPS
and security on, a trial licence, and a remote cluster server on its own port.

    with running_nodes(2, names=["local", "remote"]) as (local, remote):
        local.request("GET", "/_cluster/health").json()

Every JVM dies with the Python process that started it, even on SIGKILL (PR_SET_PDEATHSIG, and the launcher also
exits when its stdin closes). Node logs go to `<node dir>/node.log`, never to the caller's output.

Keystore edits go through `RealNode.keystore_set/remove/list` (values travel on stdin, never in argv). Underneath,
the command is (with the node's config folder, e.g. `RealNode.config_dir`):

    java --module-path <home>/lib --add-modules org.elasticsearch.server -cp <home>/launcher \\
        eceeck.es.KeystoreTool <config dir> (create | set KEY | remove KEY | list)     # values on stdin

`python -m tools.real_elasticsearch --nodes 2` starts nodes, prints their addresses and password, and waits for
Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from emulators.certs import Issued, make_ca, make_server

REPOSITORY = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPOSITORY / "tools" / "elasticsearch" / "build.sh"
ES_VERSION = "8.19.21"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
# Resource watcher interval set in every node's config: how soon a rewritten certificate file is picked up.
RELOAD_INTERVAL_SECONDS = 1

_PR_SET_PDEATHSIG = 1
_home: Path | None = None
_home_lock = threading.Lock()
_live: set[RealNode] = set()


class RealElasticsearchError(RuntimeError):
    """A node that could not be built, started, stopped or edited; the message carries its last log lines."""


def home() -> Path:
    """The Elasticsearch home, built (or only checked, under a second) once per process by build.sh."""
    global _home  # noqa: PLW0603 - one build per process
    with _home_lock:
        if _home is None:
            done = subprocess.run([str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RealElasticsearchError(f"{BUILD_SCRIPT} failed ({done.returncode}):\n{done.stderr[-4000:]}")
            _home = Path(done.stdout.strip().splitlines()[-1])
        return _home


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise RealElasticsearchError("java is not on PATH (tools/elasticsearch/build.sh installs a JDK 17)")
    return found


def keystore_command(config_dir: Path, *args: str) -> list[str]:
    """The command line of the keystore tool (values go on its stdin); prefer RealNode.keystore_*."""
    es = home()
    return [
        java(),
        "-Xms32m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "--module-path",
        str(es / "lib"),
        "--add-modules",
        "org.elasticsearch.server",
        "-cp",
        str(es / "launcher"),
        "eceeck.es.KeystoreTool",
        str(config_dir),
        *args,
    ]


def _run_keystore(config_dir: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        keystore_command(config_dir, *args), input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise RealElasticsearchError(f"keystore {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL when the parent goes, even if it is SIGKILLed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent already died between fork and prctl
        os._exit(1)


@dataclass(frozen=True)
class NodeCertificates:
    """What a node presents: `ca` signs its HTTP, transport and remote cluster server certificates, and
    `server_name` is the only SAN of the remote cluster server certificate."""

    ca: Issued
    server_name: str

    @classmethod
    def make(cls, name: str, server_name: str | None = None) -> NodeCertificates:
        return cls(make_ca(f"{name}-ca"), server_name or f"{name}-es-remote-cluster.default.svc")


@dataclass(eq=False)
class RealNode:
    """One single-node cluster on 127.0.0.1; `directory` holds config/, data/, logs/, tmp/ and node.log."""

    name: str
    directory: Path
    certificates: NodeCertificates
    password: str
    heap: str
    http_port: int
    transport_port: int
    remote_cluster_port: int
    process: subprocess.Popen[bytes] | None = None
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    # -- addresses and files
    @property
    def http_url(self) -> str:
        return f"https://127.0.0.1:{self.http_port}"

    @property
    def remote_cluster_address(self) -> str:
        return f"127.0.0.1:{self.remote_cluster_port}"

    @property
    def ca_pem(self) -> str:
        """The CA of the node's HTTP, transport and remote cluster server certificates."""
        return self.certificates.ca.certificate_pem

    @property
    def server_name(self) -> str:
        return self.certificates.server_name

    @property
    def config_dir(self) -> Path:
        return self.directory / "config"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "node.log"

    @property
    def ca_file(self) -> Path:
        return self.config_dir / "certs" / "ca.crt"

    @property
    def remote_cluster_client_ca_file(self) -> Path:
        """The file `xpack.security.remote_cluster_client.ssl.certificate_authorities` names."""
        return self.config_dir / "certs" / "remote-cluster-client-cas.crt"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- HTTP
    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        *,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> requests.Response:
        """As `elastic` (or `auth`), TLS verified against the node's CA."""
        return self._session.request(
            method,
            f"{self.http_url}/{path.lstrip('/')}",
            json=json,
            params=params,
            auth=auth or ("elastic", self.password),
            headers=headers,
            verify=str(self.ca_file),
            timeout=timeout,
        )

    def reload_secure_settings(self) -> dict[str, Any]:
        response = self.request("POST", "/_nodes/reload_secure_settings", json={})
        body: dict[str, Any] = response.json()
        failures = {
            node_id: node["reload_exception"]
            for node_id, node in body.get("nodes", {}).items()
            if isinstance(node, dict) and "reload_exception" in node
        }
        if response.status_code != 200 or failures:
            raise RealElasticsearchError(f"{self.name}: reload_secure_settings: {response.status_code} {body}")
        return body

    # -- keystore (on disk; the node reads it at start and on reload_secure_settings)
    def keystore_set(self, key: str, value: str) -> None:
        _run_keystore(self.config_dir, "set", key, stdin=value)

    def keystore_remove(self, key: str) -> None:
        _run_keystore(self.config_dir, "remove", key)

    def keystore_list(self) -> list[str]:
        return _run_keystore(self.config_dir, "list").split()

    # -- remote cluster client trust
    def set_remote_cluster_client_cas(self, pems: Sequence[str], *, wait: bool = True) -> None:
        """Rewrites the remote cluster client's CA file; the node reloads it within RELOAD_INTERVAL_SECONDS
        (waited for when `wait`: until the node logs that it reloaded the file). An empty list writes the placeholder CA made at setup, whose key nobody uses:
        Elasticsearch refuses an empty certificate_authorities file, and trusting it admits no server."""
        content = "".join(pem if pem.endswith("\n") else pem + "\n" for pem in pems)
        if not content:
            content = (self.config_dir / "certs" / "placeholder-ca.crt").read_text()
        target = self.remote_cluster_client_ca_file
        reloads_before = self._ssl_reloads_of(target.name)
        staged = target.with_suffix(".tmp")
        staged.write_text(content)
        staged.replace(target)
        if not wait or self.process is None:
            return
        self._wait_reloaded(target.name, reloads_before)

    def serve_remote_cluster_from(self, ca: Issued) -> None:
        """Present a remote cluster server certificate issued by `ca` from now on, as ECK's nodes do after its
        transport CA rotated; waits until the node has reloaded it. Open connections keep their session."""
        issued = make_server(ca, self.server_name, ip=None)
        certs = self.config_dir / "certs"
        reloads_before = self._ssl_reloads_of("remote-cluster-server.crt")
        for name, text in (
            ("remote-cluster-server.key", issued.key_pem),
            ("remote-cluster-server.crt", issued.certificate_pem),
        ):
            staged = certs / f"{name}.tmp"
            _write(staged, text, 0o600)
            staged.replace(certs / name)
        self._wait_reloaded("remote-cluster-server.crt", reloads_before)

    def _wait_reloaded(self, file_name: str, reloads_before: int) -> None:
        """Until the node has logged one more reload of `file_name` than `reloads_before`."""
        deadline = time.monotonic() + 10 * RELOAD_INTERVAL_SECONDS
        while self._ssl_reloads_of(file_name) <= reloads_before:
            if time.monotonic() > deadline:
                raise RealElasticsearchError(
                    f"{self.name}: {file_name} was not reloaded within {10 * RELOAD_INTERVAL_SECONDS}s; "
                    f"last log lines:\n{self.last_log_lines()}"
                )
            time.sleep(0.1)

    def _ssl_reloads_of(self, file_name: str) -> int:
        """How often the node logged reloading SSL contexts from `file_name` (SSLConfigurationReloader)."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return sum(1 for line in text.splitlines() if "ssl contexts" in line and file_name in line)

    # -- lifecycle
    def start(self) -> None:
        """Starts the JVM without waiting; `wait_ready` waits."""
        if self.process is not None and self.process.poll() is None:
            return
        es = home()
        tmp = self.directory / "tmp"
        tmp.mkdir(exist_ok=True)
        command = [
            java(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-Xss1m",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UnlockDiagnosticVMOptions",
            "-XX:-BytecodeVerificationRemote",
            f"-Djava.io.tmpdir={tmp}",
            f"-Des.path.home={es}",
            f"-Des.path.conf={self.config_dir}",
            "-Dfile.encoding=UTF-8",
            "-Djava.awt.headless=true",
            "-Dio.netty.noUnsafe=true",
            "-Dio.netty.noKeySetOptimization=true",
            "-Dio.netty.recycler.maxCapacityPerThread=0",
            "-Dlog4j.shutdownHookEnabled=false",
            "-Dlog4j2.disable.jmx=true",
            "-Dlog4j2.formatMsgNoLookups=true",
            "-Djava.locale.providers=CLDR",
            "-Des.networkaddress.cache.ttl=60",
            "--module-path",
            str(es / "lib"),
            "--add-modules=jdk.net",
            "--add-modules=ALL-MODULE-PATH",
            "-cp",
            str(es / "launcher"),
            "eceeck.es.Launcher",
        ]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,  # the launcher exits when this closes (a second guard beside PDEATHSIG)
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl and getppid run there
                start_new_session=True,  # Ctrl-C in a terminal goes to Python, which stops the node
            )
        _live.add(self)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until `_cluster/health` answers yellow or green as elastic; else stops the node and raises with its log."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                self.stop()
                raise RealElasticsearchError(
                    f"{self.name}: the JVM exited ({code}) before the node was ready; last log lines:\n"
                    + self.last_log_lines()
                )
            try:
                response = self.request(
                    "GET", "/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"}, timeout=5
                )
                if response.status_code == 200:
                    # The trial licence is generated just after the cluster forms; callers expect it.
                    response = self.request("GET", "/_license", timeout=5)
                    if response.status_code == 200:
                        return
                last = f"{response.status_code} {response.text[:300]}"
            except requests.RequestException as error:
                last = str(error)
            time.sleep(0.25)
        self.stop()
        raise RealElasticsearchError(
            f"{self.name}: not ready within {timeout:.0f}s (last answer: {last}); last log lines:\n"
            + self.last_log_lines()
        )

    def wait_green(self, timeout: float = 30.0) -> None:
        response = self.request(
            "GET", "/_cluster/health", params={"wait_for_status": "green", "timeout": f"{int(timeout)}s"}
        )
        if response.status_code != 200 or response.json().get("status") != "green":
            raise RealElasticsearchError(f"{self.name}: not green: {response.status_code} {response.text[:500]}")

    def stop(self) -> None:
        """SIGTERM (the node closes cleanly), SIGKILL after STOP_TIMEOUT. Idempotent; keeps the directory."""
        process, self.process = self.process, None
        _live.discard(self)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stops and starts again with the same ports, data, config and keystore."""
        self.stop()
        self.start()
        self.wait_ready(timeout)

    def close(self) -> None:
        """Stops the node and deletes its directory."""
        self.stop()
        self._session.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def inventory(self) -> dict[str, Any]:
        """What the node holds that a test could leave behind: indices (not dot-prefixed), active API keys, cluster
        settings (persistent and transient), roles other than reserved ones, keystore entries. Compare before
        and after a test to assert it left the node as found."""
        keystore = subprocess.Popen(  # runs (about a second: the keystore's KDF) while the HTTP calls go
            keystore_command(self.config_dir, "list"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            indices = self.request(
                "GET", "/_cat/indices", params={"format": "json", "h": "index", "expand_wildcards": "all"}
            )
            keys = self.request("GET", "/_security/api_key", params={"active_only": "true"})
            settings = self.request("GET", "/_cluster/settings", params={"flat_settings": "true"})
            roles = self.request("GET", "/_security/role")
            for response in (indices, keys, settings, roles):
                if response.status_code != 200:
                    raise RealElasticsearchError(
                        f"{self.name}: inventory: {response.status_code} {response.text[:300]}"
                    )
            listed, errors = keystore.communicate(timeout=60)
        finally:
            if keystore.poll() is None:
                keystore.kill()
                keystore.wait()
        if keystore.returncode != 0:
            raise RealElasticsearchError(f"{self.name}: keystore list failed: {errors.strip()}")
        return {
            "indices": sorted(row["index"] for row in indices.json() if not row["index"].startswith(".")),
            "api_keys": sorted(f"{key['id']} {key.get('name')}" for key in keys.json().get("api_keys", [])),
            "persistent": settings.json()["persistent"],
            "transient": settings.json()["transient"],
            "roles": sorted(
                name for name, role in roles.json().items() if not role.get("metadata", {}).get("_reserved")
            ),
            "keystore": listed.split(),
        }

    def last_log_lines(self, n: int = 60) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(lines[-n:])

    def resident_memory_mb(self) -> float | None:
        """The JVM's resident set size (VmRSS), for measurements."""
        if self.pid is None:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except FileNotFoundError:
            return None
        return None

    def __repr__(self) -> str:
        return f"RealNode({self.name!r}, {self.http_url}, remote cluster {self.remote_cluster_address}, pid {self.pid})"


LOG4J2_PROPERTIES = """\
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
# "updated N ssl contexts ... using file [...]": how set_remote_cluster_client_cas knows the reload happened
logger.sslreload.name = org.elasticsearch.xpack.core.ssl.SSLConfigurationReloader
logger.sslreload.level = debug
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def prepare_node(
    name: str, certificates: NodeCertificates, password: str, heap: str, parent: Path | None = None
) -> RealNode:
    """Writes a node's directory (config, certificates, keystore with the bootstrap password); does not start it."""
    directory = Path(tempfile.mkdtemp(prefix=f"real-es-{name}-", dir=parent))
    node = RealNode(name, directory, certificates, password, heap, free_port(), free_port(), free_port())
    ca = certificates.ca
    http = make_server(ca, f"{name}.es.test")
    transport = make_server(ca, f"{name}.transport.es.test")
    # Like ECK's, the remote cluster server certificate names the Service, not the address clients dial (no IP SAN),
    # so a client must send the right TLS server name.
    remote_cluster = make_server(ca, certificates.server_name, ip=None)
    certs = node.config_dir / "certs"
    _write(certs / "ca.crt", ca.certificate_pem)
    _write(certs / "placeholder-ca.crt", make_ca(f"{name}-placeholder-ca-nobody-uses").certificate_pem)
    for stem, issued in (("http", http), ("transport", transport), ("remote-cluster-server", remote_cluster)):
        _write(certs / f"{stem}.crt", issued.certificate_pem)
        _write(certs / f"{stem}.key", issued.key_pem, 0o600)
    node.set_remote_cluster_client_cas([], wait=False)
    settings = {
        "cluster.name": name,
        "node.name": name,
        "path.data": str(node.data_dir),
        "path.logs": str(directory / "logs"),
        "network.host": "127.0.0.1",
        "http.port": node.http_port,
        "transport.port": node.transport_port,
        "discovery.type": "single-node",
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "resource.reload.interval.high": f"{RELOAD_INTERVAL_SECONDS}s",
        "xpack.license.self_generated.type": "trial",
        "xpack.security.enabled": True,
        "xpack.security.http.ssl.enabled": True,
        "xpack.security.http.ssl.certificate": "certs/http.crt",
        "xpack.security.http.ssl.key": "certs/http.key",
        "xpack.security.transport.ssl.enabled": True,
        "xpack.security.transport.ssl.certificate": "certs/transport.crt",
        "xpack.security.transport.ssl.key": "certs/transport.key",
        "xpack.security.transport.ssl.certificate_authorities": "certs/ca.crt",
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "remote_cluster_server.enabled": True,
        "remote_cluster.host": "127.0.0.1",
        "remote_cluster.port": node.remote_cluster_port,
        "xpack.security.remote_cluster_server.ssl.certificate": "certs/remote-cluster-server.crt",
        "xpack.security.remote_cluster_server.ssl.key": "certs/remote-cluster-server.key",
        "xpack.security.remote_cluster_client.ssl.enabled": True,
        "xpack.security.remote_cluster_client.ssl.certificate_authorities": "certs/remote-cluster-client-cas.crt",
    }
    yaml = "".join(
        f"{key}: {str(value).lower() if isinstance(value, bool) else value}\n" for key, value in settings.items()
    )
    _write(node.config_dir / "elasticsearch.yml", yaml)
    _write(node.config_dir / "log4j2.properties", LOG4J2_PROPERTIES)
    _run_keystore(node.config_dir, "create", stdin=password)
    return node


def start_nodes(
    count: int,
    *,
    names: Sequence[str] | None = None,
    certificates: Sequence[NodeCertificates] | None = None,
    password: str | None = None,
    heap: str = "512m",
    timeout: float = START_TIMEOUT,
) -> list[RealNode]:
    """Starts `count` nodes (all JVMs launched at once, then waited for) and returns them ready. Each has its own
    CA unless `certificates` are given; all share `password` for `elastic` (random when None). On failure every
    node started here is stopped and the error carries the failing node's last log lines."""
    names = list(names) if names is not None else [f"es{index}" for index in range(count)]
    if len(names) != count:
        raise ValueError(f"{count} nodes but {len(names)} names")
    if certificates is not None and len(certificates) != count:
        raise ValueError(f"{count} nodes but {len(certificates)} certificates")
    password = password or secrets.token_urlsafe(12)
    nodes: list[RealNode] = []
    try:
        for index, name in enumerate(names):
            chosen = certificates[index] if certificates is not None else NodeCertificates.make(name)
            nodes.append(prepare_node(name, chosen, password, heap))
        # Popen here, in the caller's thread: PR_SET_PDEATHSIG fires when the forking *thread* ends.
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready(timeout)
    except BaseException:
        for node in nodes:
            node.close()
        raise
    return nodes


@contextlib.contextmanager
def running_nodes(count: int, **options: Any) -> Iterator[list[RealNode]]:
    """`start_nodes(count, **options)`, always stopped (and their directories deleted) on the way out."""
    nodes = start_nodes(count, **options)
    try:
        yield nodes
    finally:
        for node in nodes:
            node.close()


@atexit.register
def _stop_all() -> None:
    for node in list(_live):
        node.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.real_elasticsearch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--names", nargs="*", help="node names (default es0, es1, ...)")
    parser.add_argument("--heap", default="512m")
    parser.add_argument("--password", help="the elastic user's password (random by default)")
    options = parser.parse_args(argv)
    started = time.monotonic()
    print(f"building/checking Elasticsearch {ES_VERSION} ...", file=sys.stderr)
    print(f"home: {home()}", file=sys.stderr)
    with running_nodes(options.nodes, names=options.names, heap=options.heap, password=options.password) as nodes:
        print(
            f"{len(nodes)} node(s) ready in {time.monotonic() - started:.1f}s; user elastic, password {nodes[0].password}"
        )
        for node in nodes:
            print(
                f"  {node.name}: {node.http_url}  remote cluster server {node.remote_cluster_address} "
                f"(server name {node.server_name})  pid {node.pid}\n"
                f"    CA {node.ca_file}  log {node.log_file}  config {node.config_dir}"
            )
        print("Ctrl-C stops them.")
        with contextlib.suppress(KeyboardInterrupt):
            while all(node.process is not None and node.process.poll() is None for node in nodes):
                time.sleep(1)
            print("a node exited; stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
