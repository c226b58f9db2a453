"""`examples/github-actions/check_reachability.py`, the workflow's first step before any Pulumi command: it finds the
endpoints the stack's program calls from the runner and fails in seconds, naming each one it cannot reach and what to
change. Every connection here goes to loopback."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "github-actions" / "check_reachability.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_reachability", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


script = load_script()


def pulumi_config_json(**values: Any) -> dict[str, Any]:
    """What `pulumi config --json` prints (3.260): objects carry `objectValue`, secrets no value."""
    printed: dict[str, Any] = {}
    for key, value in values.items():
        entry: dict[str, Any] = {"value": value if isinstance(value, str) else json.dumps(value), "secret": False}
        if not isinstance(value, str):
            entry["objectValue"] = value
        printed[f"ece-eck-remote:{key}"] = entry
    printed["ece-eck-remote:secrets"] = {"secret": True}
    printed["kubernetes:context"] = {"value": "not ours", "secret": False}
    return printed


@contextmanager
def listening() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kubeconfig(path: Path, server: str, context: str = "main") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": context,
                "contexts": [{"name": context, "context": {"cluster": f"{context}-cluster", "user": "u"}}],
                "clusters": [{"name": f"{context}-cluster", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return path


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--timeout", "2"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GITHUB_ACTIONS": "", **(env or {})},
        timeout=60,
    )


def test_every_endpoint_reachable_passes(tmp_path: Path) -> None:
    with listening() as kube, listening() as es, listening() as ece:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                pulumi_config_json(
                    eckClusters=[{"name": "logs", "http": {"url": f"https://127.0.0.1:{es}"}}],
                    ece={"url": f"https://127.0.0.1:{ece}"},
                )
            )
        )
        done = run(
            ["--config-json", str(config)],
            {"KUBECONFIG": str(kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{kube}"))},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("reachable: ") == 3 and "is reachable from this runner (3)" in done.stdout


def test_an_unreachable_endpoint_fails_with_what_the_runner_needs(tmp_path: Path) -> None:
    port = closed_port()
    with listening() as kube:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(pulumi_config_json(eckClusters=[{"name": "logs", "http": {"url": f"https://127.0.0.1:{port}"}}]))
        )
        done = run(
            ["--config-json", str(config)],
            {
                "KUBECONFIG": str(kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{kube}")),
                "GITHUB_ACTIONS": "true",
            },
        )
    assert done.returncode == 1
    assert (
        f"the Elasticsearch HTTP API of ECK cluster 'logs' (eckClusters[0].http.url) at https://127.0.0.1:{port}"
        in done.stderr
    )
    assert f"127.0.0.1:{port} refused the connection" in done.stderr
    assert "self-hosted runner" in done.stderr and "set eckClusters[].http.url" in done.stderr
    annotation = next(line for line in done.stdout.splitlines() if line.startswith("::error "))
    assert "::error title=Runner cannot reach the stack's endpoints::" in annotation and "%0A" in annotation


def test_the_default_http_address_is_the_in_cluster_service() -> None:
    found = script.endpoints(
        {"kubernetes": {"renderYamlToDirectory": "out"}, "eckClusters": [{"name": "logs", "namespace": "elastic"}]},
        {},
    )
    assert [endpoint.url for endpoint in found] == ["https://logs-es-http.elastic.svc:9200"]
    assert found[0].in_cluster and found[0].host_port == ("logs-es-http.elastic.svc", 9200)
    assert "eckClusters[0].http.url unset: the default" in found[0].what


def test_the_scope_decides_which_endpoints_are_called(tmp_path: Path) -> None:
    config = {
        "eckClusters": [{"name": "logs", "http": {"url": "https://es.example:443"}}],
        "ece": {"url": "https://ece.example:12443"},
    }
    environ = {"KUBECONFIG": str(kubeconfig(tmp_path / "kubeconfig", "https://k8s.example:6443"))}
    urls = {
        scope: [e.url for e in script.endpoints({**config, "scope": scope}, environ)]
        for scope in ("both", "eck", "ece")
    }
    assert urls["both"] == ["https://k8s.example:6443", "https://es.example:443", "https://ece.example:12443"]
    assert urls["eck"] == ["https://k8s.example:6443", "https://es.example:443"]
    assert urls["ece"] == ["https://ece.example:12443"]


def test_the_kubeconfig_is_read_as_kubectl_does(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "first", "https://first.example:6443", context="dev")
    second = kubeconfig(tmp_path / "second", "https://second.example:6443", context="prod")
    environ = {"KUBECONFIG": f"{first}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{second}"}
    assert script.kubernetes_server(None, environ).url == "https://first.example:6443"
    assert script.kubernetes_server("prod", environ).url == "https://second.example:6443"
    with pytest.raises(script.ReachabilityError, match="no context named 'qa'"):
        script.kubernetes_server("qa", environ)
    in_cluster = {"KUBECONFIG": str(tmp_path / "missing"), "KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    assert script.kubernetes_server(None, in_cluster).url == "https://10.96.0.1:443"
    with pytest.raises(script.ReachabilityError, match="no kubeconfig"):
        script.kubernetes_server(None, {"KUBECONFIG": str(tmp_path / "missing")})


def fake_pulumi(folder: Path, printed: dict[str, Any] | None, exit_code: int = 0) -> dict[str, str]:
    """A `pulumi` first on PATH that records its arguments and prints `printed` as `pulumi config --json` would."""
    folder.mkdir()
    (folder / "printed.json").write_text(json.dumps(printed or {}))
    (folder / "pulumi").write_text(
        f"#!{sys.executable}\nimport sys, pathlib\nhere = pathlib.Path({str(folder)!r})\n"
        "(here / 'argv').write_text(' '.join(sys.argv[1:]))\n"
        "print((here / 'printed.json').read_text())\n"
        f"print('error: no stack named dev found', file=sys.stderr)\nsys.exit({exit_code})\n"
    )
    (folder / "pulumi").chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_the_stack_config_comes_from_pulumi_config_json(tmp_path: Path) -> None:
    with listening() as ece:
        env = fake_pulumi(tmp_path / "bin", pulumi_config_json(scope="ece", ece={"url": f"https://127.0.0.1:{ece}"}))
        done = run(["--stack", "dev"], env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bin" / "argv").read_text() == "config --json --stack dev"
    assert "reachable: the ECE API (ece.url)" in done.stdout and "stack 'dev'" in done.stdout


def test_a_stack_that_cannot_be_read_is_reported_as_such(tmp_path: Path) -> None:
    done = run(["--stack", "dev"], fake_pulumi(tmp_path / "bin", None, exit_code=255))
    assert done.returncode == 2
    assert "cannot check what stack 'dev' needs: `pulumi config --json --stack dev` failed" in done.stderr
    assert "no stack named dev found" in done.stderr
