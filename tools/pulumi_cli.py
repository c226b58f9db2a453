"""Runs the real Pulumi CLI offline on a local file backend: the demo, the engine tests and the benchmarks use it.

Environment: `PULUMI_TOOLCHAIN_BIN` (from `tools/toolchain/build.sh`, which is run when it is not set), a file://
backend, a passphrase secrets provider, no update check, no plugin downloads, no kubeconfig, and this project's
virtualenv as the Python of the program and of the dynamic providers.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.toolchains import ROOT, toolchain_bin

K8S_PROVIDER_VERSION = "4.25.0"


class PulumiCommandError(RuntimeError):
    def __init__(self, args: list[str], completed: subprocess.CompletedProcess[str]) -> None:
        self.completed = completed
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-40:])
        super().__init__(f"pulumi {' '.join(args)} exited with {completed.returncode}:\n{tail}")


@dataclass
class PulumiCli:
    project_dir: Path
    stack: str
    state_dir: Path
    passphrase: str
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    venv_python: Path = ROOT / ".venv" / "bin" / "python"

    def __post_init__(self) -> None:
        self.bin = toolchain_bin("build.sh", "PULUMI_TOOLCHAIN_BIN")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self._install_kubernetes_plugin()

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("KUBECONFIG", "PULUMI_ACCESS_TOKEN")}
        env.update(
            {
                "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
                "PULUMI_HOME": str(self.home),
                "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
                "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_PYTHON_CMD": str(self.venv_python),
                "PULUMI_DIY_BACKEND_NO_CHECKPOINT_BACKUPS": "true",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                **self.extra_env,
            }
        )
        return env

    def _install_kubernetes_plugin(self) -> None:
        installed = self.home / "plugins" / f"resource-kubernetes-v{K8S_PROVIDER_VERSION}"
        binary = self.bin.parent / "plugins" / "pulumi-resource-kubernetes"
        if installed.exists() or not binary.exists():
            return
        self.run(
            ["plugin", "install", "resource", "kubernetes", K8S_PROVIDER_VERSION, "--file", str(binary)], stack=False
        )

    def stream(self, args: list[str]) -> None:
        """Run a command with its output going straight to the terminal (the demo)."""
        command = [str(self.bin / "pulumi"), *args, "--stack", self.stack, "--non-interactive"]
        if subprocess.run(command, cwd=self.project_dir, env=self.env, check=False).returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed (see above)")

    def run(
        self, args: list[str], *, stack: bool = True, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        flags = [*(["--stack", self.stack] if stack else []), "--non-interactive"]
        split = args.index("--") if "--" in args else len(args)
        full = [*args[:split], *flags, *args[split:]]
        completed = subprocess.run(
            [str(self.bin / "pulumi"), *full],
            cwd=self.project_dir,
            env=self.env,
            capture_output=True,
            text=True,
            input=stdin,
            check=False,
        )
        if check and completed.returncode != 0:
            raise PulumiCommandError(full, completed)
        return completed

    # --- the commands the demo, the tests and the benchmarks use --------------------------------------------------
    def init(self) -> None:
        self.run(["stack", "init", self.stack, "--secrets-provider", "passphrase"], stack=False)

    def select_or_init(self) -> None:
        if self.run(["stack", "select", self.stack], stack=False, check=False).returncode != 0:
            self.init()

    def set_config(self, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        self.run(
            [
                "config",
                "set",
                key,
                *(["--secret"] if secret else ["--plaintext"]),
                *(["--path"] if path else []),
                "--",
                value,
            ]
        )

    def preview(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(["preview", "--diff", *extra])

    def up(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(["up", "--yes", "--skip-preview", *extra], check=check)

    def refresh(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(["refresh", "--yes", "--skip-preview", *extra])

    def destroy(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(["destroy", "--yes", "--skip-preview", *extra])

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", *(["--show-secrets"] if show_secrets else [])]
        result: dict[str, Any] = json.loads(self.run(args).stdout or "{}")
        return result

    def export(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run(["stack", "export"]).stdout)
        return result
