"""The real Pulumi CLI previews a copy of the project (render mode, against the emulators) with the policy pack copied
beside it, as a user has it: `pulumi preview --policy-pack policy/analyzer`. Several stacks share the copy, its state
and its Pulumi home; a stack's name is what makes it production or not."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tools.emulated_link import ECE_API_KEY, REMOTE_PASSWORD, EmulatedLink, emulated_link
from tools.engine_stack import PASSPHRASE, PROJECT, EngineStack, copy_project
from tools.pulumi_cli import PulumiCli
from tools.toolchains import ROOT

PACK = "policy/analyzer"
HEADER = re.compile(r"^\s+- \[(?P<level>\w+)\]\s+(?P<policy>\S+)\s+\((?P<type>[^ ]+): (?P<name>[^)]+)\)$")


@dataclass(frozen=True)
class Violation:
    level: str
    policy: str
    resource: str
    """`<type>: <name>`, as the CLI prints it."""
    description: str
    message: str


@dataclass(frozen=True)
class PolicyPreview:
    completed: subprocess.CompletedProcess[str]
    violations: list[Violation]

    @property
    def output(self) -> str:
        return self.completed.stdout + self.completed.stderr

    def of(self, policy: str) -> list[Violation]:
        return sorted((v for v in self.violations if v.policy == policy), key=lambda v: (v.resource, v.message))


def violations(output: str) -> list[Violation]:
    """The violations of the `Policies:` section of a preview's output: a header line, the rule's description, then
    the message (one line: the CLI does not wrap it)."""
    lines = output.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = HEADER.match(line)
        if match:
            description, message = lines[index + 1].strip(), lines[index + 2].strip()
            resource = f"{match['type']}: {match['name']}"
            found.append(Violation(match["level"], match["policy"], resource, description, message))
    return found


@dataclass
class PolicyProject:
    """One copy of the project with `policy/` beside it, and its stacks."""

    env: EmulatedLink
    project: Path
    state: Path
    home: Path
    stacks: dict[str, EngineStack[EmulatedLink]] = field(default_factory=dict)

    def stack(self, name: str, *, clusters: tuple[str, ...] = ("quickstart",)) -> EngineStack[EmulatedLink]:
        """The stack `name`, made on first use with the secrets render mode needs for `clusters`."""
        if name not in self.stacks:
            cli = PulumiCli(
                project_dir=self.project, stack=name, state_dir=self.state, passphrase=PASSPHRASE, home=self.home
            )
            cli.init()
            cli.set_config(f"{PROJECT}:secrets.ece.apiKey", ECE_API_KEY, secret=True, path=True)
            for cluster in clusters:
                cli.set_config(
                    f"{PROJECT}:secrets.eckClusters.{cluster}.elasticPassword", REMOTE_PASSWORD, secret=True, path=True
                )
            self.stacks[name] = EngineStack(cli, self.env, self.project, self.project.parent / "rendered")
        return self.stacks[name]

    def preview(self, stack: str, config: dict[str, Any], *extra: str, **kwargs: Any) -> PolicyPreview:
        engine = self.stack(stack, **kwargs)
        engine.write_config(config)
        completed = engine.record(engine.cli.run(["preview", "--policy-pack", PACK, *extra], check=False))
        return PolicyPreview(completed, violations(completed.stdout))


@pytest.fixture(scope="module")
def policy_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedLink]:
    with emulated_link(tmp_path_factory.mktemp("policy-emulators")) as env:
        yield env


@pytest.fixture(scope="module")
def policy_project(tmp_path_factory: pytest.TempPathFactory, policy_env: EmulatedLink) -> PolicyProject:
    tmp = tmp_path_factory.mktemp("policy")
    project = copy_project(tmp / "project")
    shutil.copytree(ROOT / "policy", project / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    return PolicyProject(policy_env, project, tmp / "state", tmp / "home")
