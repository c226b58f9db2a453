"""The three emulators a link talks to, wired as in production, on loopback: an ECE API whose deployment's
Elasticsearch is a local Elasticsearch emulator, and a remote (ECK-side) Elasticsearch emulator serving a remote
cluster server over TLS. Also the provider inputs that point at them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from components.ece.client import proxy_target
from emulators.common import Running, start
from emulators.ece.app import EceEmulator
from emulators.ece.fixtures import DEPLOYMENT_ID
from emulators.elasticsearch.app import Config, ElasticsearchEmulator

ECE_API_KEY = "ece-test-api-key-0123456789"
LOCAL_PASSWORD = "local-elastic-password-42"
REMOTE_PASSWORD = "remote-elastic-password-42"
SERVER_NAME = "quickstart-es-remote-cluster.elastic.svc"
REF_ID = "main-elasticsearch"


@dataclass
class EmulatedLink:
    ece: Running
    local: Running
    remote: Running
    workdir: Path
    deployment_id: str = DEPLOYMENT_ID

    # --- provider inputs ----------------------------------------------------------------------------------------
    def ece_props(self, *, timeout: float = 5.0) -> dict[str, Any]:
        return {
            "url": self.ece.url,
            "region": None,
            "ca_certificate": None,
            "insecure": False,
            "request_timeout_seconds": timeout,
        }

    @staticmethod
    def ece_credentials() -> dict[str, Any]:
        return {"api_key": ECE_API_KEY}

    def local_target(self) -> dict[str, Any]:
        return proxy_target(self.ece_props(), self.deployment_id, REF_ID)

    def remote_target(self) -> dict[str, Any]:
        return {
            "kind": "direct",
            "url": self.remote.url,
            "ca_certificate": None,
            "insecure": False,
            "request_timeout_seconds": 5.0,
        }

    @staticmethod
    def remote_credentials() -> dict[str, Any]:
        return {"username": "elastic", "password": REMOTE_PASSWORD}

    @property
    def rcs(self) -> dict[str, Any]:
        return dict(self.control(self.remote, "GET", "rcs"))

    @property
    def rcs_address(self) -> str:
        return f"127.0.0.1:{self.rcs['port']}"

    @property
    def rcs_ca(self) -> str:
        return str(self.rcs["ca_pem"])

    # --- inspection and control ---------------------------------------------------------------------------------
    @staticmethod
    def control(running: Running, method: str, what: str, body: Any = None) -> Any:
        response = requests.request(method, f"{running.url}/_emulator/{what}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def ece_resource(self) -> dict[str, Any]:
        state = self.control(self.ece, "GET", "state")
        return dict(state["deployments"][self.deployment_id]["resources"][REF_ID])

    def direct_entries(self) -> list[dict[str, Any]]:
        return list(self.ece_resource()["trust"].get("direct") or [])

    def requests_to(self, running: Running) -> list[dict[str, Any]]:
        return list(self.control(running, "GET", "requests"))

    def fault(self, running: Running, **spec: Any) -> None:
        self.control(running, "POST", "faults", spec)

    def reset(self) -> None:
        for running in (self.ece, self.local, self.remote):
            self.control(running, "POST", "reset")
            self.control(running, "DELETE", "requests")
        self.control(
            self.ece,
            "POST",
            "elasticsearch-link",
            {"deployment_id": self.deployment_id, "url": self.local.url, "password": LOCAL_PASSWORD},
        )
        self.control(self.ece, "POST", "plan-duration", {"seconds": 0.05})


@contextlib.contextmanager
def emulated_link(workdir: Path) -> Iterator[EmulatedLink]:
    ece_emulator = EceEmulator(api_key=ECE_API_KEY, plan_seconds=0.05)
    local_emulator = ElasticsearchEmulator(Config(cluster_name="ece-local", elastic_password=LOCAL_PASSWORD))
    remote_emulator = ElasticsearchEmulator(
        Config(
            cluster_name="quickstart",
            elastic_password=REMOTE_PASSWORD,
            rcs_port=0,
            rcs_server_name=SERVER_NAME,
            rcs_ca_out=str(workdir / "remote-ca.pem"),
        )
    )
    handles = [start(ece_emulator), start(local_emulator), start(remote_emulator)]
    link = EmulatedLink(handles[0], handles[1], handles[2], workdir=workdir)
    try:
        link.reset()
        yield link
    finally:
        for handle in handles:
            handle.stop()
        if remote_emulator.rcs is not None:
            with contextlib.suppress(Exception):
                remote_emulator.rcs.close()
