"""The local default's stand-ins, as standalone servers on fixed loopback ports (those in stacks/Pulumi.local.yaml).

ECE API                       http://127.0.0.1:12443   (python -m emulators.ece)
the deployment's Elasticsearch http://127.0.0.1:19201   (behind ECE's proxy)
the ECK cluster's Elasticsearch http://127.0.0.1:19200, remote cluster server 127.0.0.1:19443 (TLS), CA in
                              .local/remote-ca.pem
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT_ID = "9d3f6c1a8e2b4f70a5c7e1d2b3f4a6c8"
ECE_API_KEY = "local-demo-ece-api-key"
REMOTE_PASSWORD = "local-demo-remote-elastic"
LOCAL_PASSWORD = "local-demo-local-elastic"
SERVER_NAME = "quickstart-es-remote-cluster.elastic.svc"


@dataclass(frozen=True)
class Ports:
    ece: int = 12443
    local: int = 19201
    remote: int = 19200
    rcs: int = 19443


def _start(args: list[str], name: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "ready on" not in line:
        process.kill()
        error = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"the {name} emulator did not start: {line.strip()} {error.strip()[-500:]}")
    return process


@contextlib.contextmanager
def local_emulators(workdir: Path, ports: Ports = Ports(), *, plan_seconds: float = 0.5) -> Iterator[Ports]:
    """Start the three emulators, linked as in production; stop them on exit, also after an error."""
    workdir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[str]] = []
    try:
        processes.append(
            _start(
                [
                    "emulators.elasticsearch",
                    "--port",
                    str(ports.remote),
                    "--cluster-name",
                    "quickstart",
                    "--elastic-password",
                    REMOTE_PASSWORD,
                    "--rcs-port",
                    str(ports.rcs),
                    "--rcs-server-name",
                    SERVER_NAME,
                    "--rcs-ca-out",
                    str(workdir / "remote-ca.pem"),
                ],
                "remote Elasticsearch",
            )
        )
        processes.append(
            _start(
                [
                    "emulators.elasticsearch",
                    "--port",
                    str(ports.local),
                    "--cluster-name",
                    "ece-search",
                    "--elastic-password",
                    LOCAL_PASSWORD,
                ],
                "local Elasticsearch",
            )
        )
        processes.append(
            _start(
                [
                    "emulators.ece",
                    "--port",
                    str(ports.ece),
                    "--api-key",
                    ECE_API_KEY,
                    "--plan-seconds",
                    str(plan_seconds),
                    "--deployment-es",
                    f"{DEPLOYMENT_ID}=http://127.0.0.1:{ports.local}",
                    "--deployment-es-password",
                    f"{DEPLOYMENT_ID}={LOCAL_PASSWORD}",
                ],
                "ECE",
            )
        )
        yield ports
    finally:
        for process in reversed(processes):
            process.terminate()
        deadline = time.monotonic() + 10
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                process.kill()
