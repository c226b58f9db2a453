"""A copy of this project driven by the real Pulumi CLI against the emulators, for the engine tests and the
benchmarks: the project copy, the stack config pointing at the emulators (render mode), and the stack handle."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from tools.emulated_link import ECE_API_KEY, REF_ID, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink
from tools.pulumi_cli import PulumiCli
from tools.toolchains import ROOT

PASSPHRASE = "engine-tests-passphrase"
Env = TypeVar("Env")
PROJECT = "ece-eck-remote"


def copy_project(target: Path) -> Path:
    """The program as a user has it: project file, entry point, components, an empty stacks folder."""
    target.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "components", target / "components", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "stacks").mkdir()
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def program_at(commit: str, target: Path) -> Path:
    """The program's files as they were at `commit`, as a user who installed that version has them (the git history
    is part of the repository's tests: a clone needs it)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "Pulumi.yaml", "__main__.py", "components"],
            capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as error:
        raise AssertionError(f"commit {commit} is needed (a clone with its history): {error.stderr.decode()}") from None
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    (target / "stacks").mkdir()
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def link_config(
    env: EmulatedLink,
    *,
    rendered: Path,
    access: dict[str, Any] | None = None,
    address: str | None = None,
    links: int = 1,
) -> dict[str, Any]:
    """One ECK cluster and one ECE deployment, with `links` aliases between them (`quickstart`, `quickstart-1`, ...)."""
    return {
        "kubernetes": {"renderYamlToDirectory": str(rendered)},
        "eckClusters": [
            {
                "name": "quickstart",
                "namespace": "elastic",
                "version": "9.3.2",
                "operatorVersion": "3.5.0",
                "nodeSets": [{"name": "default", "count": 1}],
                "remoteClusterServer": {"exposure": "external", "address": address or env.rcs_address},
                "transportCa": {"source": "supplied", "certificateFile": str(env.workdir / "remote-ca.pem")},
                "serverName": SERVER_NAME,
                "http": {"url": env.remote.url},
                "protect": False,  # these stacks end with `destroy` (the default, true, refuses it)
            }
        ],
        "ece": {"url": env.ece.url, "planTimeoutSeconds": 30},
        "eceDeployments": [{"name": "search", "id": env.deployment_id, "refId": REF_ID}],
        "links": [
            {
                "alias": alias,
                "eckCluster": "quickstart",
                "eceDeployment": "search",
                "access": access or {"search": [{"names": ["logs-*"]}]},
                "roles": [
                    {"name": f"{alias}-reader", "remoteIndices": [{"names": ["logs-*"], "privileges": ["read"]}]}
                ],
                "connectionTimeoutSeconds": 20,
            }
            for alias in ["quickstart", *(f"quickstart-{i}" for i in range(1, links))]
        ],
    }


@dataclass
class EngineStack(Generic[Env]):
    """A stack of the project copy, with what its config points at (`env`: the emulators, or real nodes)."""

    cli: PulumiCli
    env: Env
    project: Path
    rendered: Path
    transcripts: list[str] = field(default_factory=list)

    def write_config(self, config: dict[str, Any]) -> None:
        """Replace the stack's plain config; the secrets set with `config set --secret` are kept."""
        path = self.project / "stacks" / f"Pulumi.{self.cli.stack}.yaml"
        document = yaml.safe_load(path.read_text()) if path.exists() else {}
        document = document or {}
        values = document.setdefault("config", {})
        for key, value in config.items():
            values[f"{PROJECT}:{key}"] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def use_project(self, project: Path) -> None:
        """Run the stack from another copy of the program (another version), keeping its config, secrets and state."""
        config = f"Pulumi.{self.cli.stack}.yaml"
        shutil.copy(self.project / "stacks" / config, project / "stacks" / config)
        self.project = project
        self.cli.project_dir = project

    def record(self, completed: Any) -> Any:
        self.transcripts.append(completed.stdout + completed.stderr)
        return completed

    def urns(self, type_prefix: str) -> list[str]:
        resources = self.cli.export()["deployment"].get("resources") or []
        return [r["urn"] for r in resources if r["type"].startswith(type_prefix)]

    def refresh(self, *extra: str) -> Any:
        """Refresh everything but the rendered manifests: render mode of provider 4.25 cannot read them back."""
        excludes = [arg for urn in self.urns("kubernetes:") for arg in ("--exclude", urn)]
        return self.record(self.cli.refresh(*excludes, *extra))


def new_stack(tmp: Path, env: Env, stack: str) -> EngineStack[Env]:
    """An initialised, empty stack on a fresh copy of the project (state, home and manifests under `tmp`)."""
    project = copy_project(tmp / "project")
    cli = PulumiCli(project_dir=project, stack=stack, state_dir=tmp / "state", passphrase=PASSPHRASE, home=tmp / "home")
    cli.init()
    return EngineStack(cli, env, project, tmp / "rendered")


def make_engine_stack(tmp: Path, env: EmulatedLink, stack: str, *, render: bool = True) -> EngineStack[EmulatedLink]:
    """A stack on a copy of the project; `render=False` leaves out what only render mode takes (the password)."""
    engine = new_stack(tmp, env, stack)
    cli, rendered = engine.cli, engine.rendered
    engine.write_config(link_config(env, rendered=rendered))
    cli.set_config(f"{PROJECT}:secrets.ece.apiKey", ECE_API_KEY, secret=True, path=True)
    if render:
        cli.set_config(
            f"{PROJECT}:secrets.eckClusters.quickstart.elasticPassword", REMOTE_PASSWORD, secret=True, path=True
        )
    return engine
