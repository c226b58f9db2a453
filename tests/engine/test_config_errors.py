"""Config errors with the real Pulumi CLI: what Pulumi itself checks from `Pulumi.yaml`'s schema, and what the program
reports: every problem at once, one `error:` line each, no Python traceback, nothing created. No emulator is needed:
nothing gets past the settings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_config_docs import configuration_section
from tools.engine_stack import PROJECT, EngineStack, new_stack


def good_config(tmp: Path) -> dict[str, Any]:
    """A render-mode config that previews (nothing is waited for: fixed address, no CA)."""
    return {
        "kubernetes": {"renderYamlToDirectory": str(tmp / "rendered")},
        "eckClusters": [
            {
                "name": "quickstart",
                "namespace": "elastic",
                "version": "9.3.2",
                "nodeSets": [{"name": "default", "count": 1}],
                "remoteClusterServer": {"exposure": "external", "address": "127.0.0.1:19443"},
                "transportCa": {"source": "none"},
                "protect": False,
            }
        ],
        "ece": {"url": "http://127.0.0.1:9", "planTimeoutSeconds": 60},
        "eceDeployments": [{"name": "search", "id": "9d3f6c1a8e2b4f70a5c7e1d2b3f4a6c8"}],
        "links": [
            {
                "alias": "quickstart",
                "eckCluster": "quickstart",
                "eceDeployment": "search",
                "access": {"search": [{"names": ["logs-*"]}]},
            }
        ],
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> EngineStack[None]:
    tmp = tmp_path_factory.mktemp("config-errors")
    engine = new_stack(tmp, None, "config")
    engine.write_config(good_config(tmp))
    engine.cli.set_config(f"{PROJECT}:secrets.ece.apiKey", "ece-key", secret=True, path=True)
    engine.cli.set_config(
        f"{PROJECT}:secrets.eckClusters.quickstart.elasticPassword", "password1", secret=True, path=True
    )
    return engine


def output(completed: subprocess.CompletedProcess[str]) -> str:
    return completed.stdout + completed.stderr


def diagnostics(text: str) -> list[str]:
    """The `error:` lines of Pulumi's Diagnostics section (the progress lines above repeat them)."""
    section = text.split("\nDiagnostics:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip().removeprefix("error: ") for line in section.splitlines() if line.strip().startswith("error:")]


def set_path(stack: EngineStack[None], key: str, value: str) -> None:
    stack.cli.run(["config", "set", f"{PROJECT}:{key}", "--path", "--", value])


def test_the_good_config_previews(stack: EngineStack[None]) -> None:
    completed = stack.record(stack.cli.preview())
    assert "+ pulumi-python:dynamic/eceeck:RemoteConnectionCheck" in completed.stdout


def test_three_mistakes_are_three_lines_with_no_traceback_and_nothing_is_created(stack: EngineStack[None]) -> None:
    set_path(stack, "eckClusters[0].nodeSets[0].name", "Hot")
    set_path(stack, "links[0].alias", "Logs")
    set_path(stack, "ece.planTimeoutSeconds", "0")
    preview = stack.record(stack.cli.run(["preview"], check=False))
    up = stack.record(stack.cli.up(check=False))
    for completed in (preview, up):
        text = output(completed)
        assert completed.returncode != 0
        assert "Traceback" not in text and "unhandled" not in text and "exit code" not in text, text
        lines = diagnostics(text)
        assert lines == [
            "config 'eckClusters[0].nodeSets[0].name': value \"Hot\" is invalid: must be 1 to 23 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit (ECK names the StatefulSet "
            "'<cluster>-es-<nodeSet>', a DNS-1123 label)",
            "config 'ece.planTimeoutSeconds': value 0 is invalid: must be from 1 to 86400",
            "config 'links[0].alias': value \"Logs\" is invalid: a remote cluster alias must be lowercase letters, "
            "digits, '-' and '_'",
        ]
    resources = stack.cli.export()["deployment"].get("resources") or []
    assert [r["type"] for r in resources] in ([], ["pulumi:pulumi:Stack"])  # `up` records the stack itself, only
    readme = configuration_section().split("```text\n", 1)[1].split("```", 1)[0]
    assert diagnostics(output(preview)) == diagnostics("\n" + readme), "the README shows what the CLI prints"


def test_unknown_keys_and_missing_values_are_named_with_the_fix(stack: EngineStack[None]) -> None:
    stack.write_config(good_config(stack.project.parent))
    set_path(stack, "eckCluster[0].name", "typo")
    set_path(stack, "eckClusters[0].remoteClusterServr.port", "9443")
    stack.cli.run(["config", "rm", f"{PROJECT}:eckClusters[0].version", "--path"])
    lines = diagnostics(output(stack.record(stack.cli.run(["preview"], check=False))))
    assert lines[0].startswith("config 'eckCluster' is not a known setting; did you mean 'eckClusters'?")
    assert lines[1].startswith(
        "config 'eckClusters[0].remoteClusterServr' is not a known setting; did you mean 'remoteClusterServer'?"
    )
    assert lines[2] == (
        "config 'eckClusters[0].version' is not set: it is required (a version string like '9.3.2'); set it with: "
        "pulumi config set --path 'eckClusters[0].version' <value>"
    )
    assert len(lines) == 3
    stack.cli.run(["config", "rm", f"{PROJECT}:eckCluster"])


@pytest.mark.parametrize(
    ("key", "value", "pulumi_type"),
    [("kubernetes", "text", "object"), ("eckClusters", "{}", "array<object>"), ("links", '["a"]', "array<object>")],
)
def test_pulumi_refuses_a_top_level_value_of_the_wrong_type_before_the_program(
    stack: EngineStack[None], key: str, value: str, pulumi_type: str
) -> None:
    stack.write_config(good_config(stack.project.parent))
    document = yaml.safe_load((stack.project / "stacks" / "Pulumi.config.yaml").read_text())
    document["config"][f"{PROJECT}:{key}"] = yaml.safe_load(value)
    (stack.project / "stacks" / "Pulumi.config.yaml").write_text(yaml.safe_dump(document))
    completed = stack.record(stack.cli.run(["preview"], check=False))
    assert completed.returncode != 0
    assert (
        f"error: validating stack config: Stack 'config' with configuration key '{key}' must be of type "
        f"'{pulumi_type}'" in output(completed)
    )
    assert "Diagnostics" not in output(completed)  # the program did not run


def test_pulumi_does_not_check_inside_an_object_or_a_string_key(stack: EngineStack[None]) -> None:
    """A wrong nested value, or a number for a `string` key, passes Pulumi; the program refuses them."""
    stack.write_config({**good_config(stack.project.parent), "scope": 5})
    set_path(stack, "eckClusters[0].remoteClusterServer.port", "not-a-port")
    lines = diagnostics(output(stack.record(stack.cli.run(["preview"], check=False))))
    assert lines == [
        "config 'scope': value 5 is invalid: must be one of both, eck, ece",
        "config 'eckClusters[0].remoteClusterServer.port': value \"not-a-port\" is invalid: must be an integer port",
    ]


def test_a_stack_without_secrets_runs(tmp_path: Path) -> None:
    """With `secrets` declared `secret: true` and a default, Pulumi refused every stack with no encrypted value."""
    engine = new_stack(tmp_path, None, "plain")
    completed = engine.cli.run(["preview"], check=False)
    assert completed.returncode == 0, output(completed)
    engine.cli.run(["config", "set", f"{PROJECT}:secrets.ece.apiKey", "--path", "--plaintext", "--", "ece-key"])
    lines = diagnostics(output(engine.cli.run(["preview"], check=False)))
    assert lines == [
        "config 'secrets': value (secret) is invalid: it is stored in plain text: set each value with "
        "`pulumi config set --secret --path 'secrets.<key>' <value>`"
    ]


def test_pulumi_refuses_properties_in_the_project_config_schema(tmp_path: Path) -> None:
    """Why nested keys are described rather than declared in `Pulumi.yaml` (Pulumi 3.260)."""
    engine = new_stack(tmp_path, None, "schema")
    project = yaml.safe_load((engine.project / "Pulumi.yaml").read_text())
    project["config"]["kubernetes"]["properties"] = {"context": {"type": "string"}}
    (engine.project / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    text = output(engine.cli.run(["preview"], check=False))
    assert re.search(r"#/config/kubernetes: additionalProperties 'properties' not allowed", text), text
