"""The package as a library, with the real CLI: `examples/library-program`, a Pulumi program of its own, runs in an
environment where `ece-eck-remote` is installed from a wheel built from this repository (tools/library_env.py) and
builds a link from values that are Outputs of another resource (its `Inventory`). A preview on the empty stack (every
value unknown), an `up` that ends connected, a change of an Output's value going through in place, then `destroy`
leaves the emulators as found. The example also type-checks against the installed package.

The tests share one stack and run in file order."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator_checks import snapshot
from tools import library_env
from tools.emulated_link import ECE_API_KEY, REF_ID, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink
from tools.engine_stack import PASSPHRASE, EngineStack
from tools.pulumi_cli import PulumiCli
from tools.toolchains import ROOT

EXAMPLE = ROOT / "examples" / "library-program"
ALIAS = "logs"
DYNAMIC = "pulumi-python:dynamic/eceeck:"


def active_keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]]


def plain(value: Any) -> Any:
    """A value of an exported state, decrypted by `--show-secrets` (a secret is kept as its JSON text)."""
    return json.loads(value["plaintext"]) if isinstance(value, dict) and "plaintext" in value else value


def write_inventory(path: Path, env: EmulatedLink, patterns: list[str]) -> None:
    """The record the example reads: where the emulators are, as a platform team would publish it."""
    record = {
        "deploymentId": env.deployment_id,
        "refId": REF_ID,
        "remote": {
            "address": env.rcs_address,
            "serverName": SERVER_NAME,
            "caCertificate": env.rcs_ca,
            "url": env.remote.url,
        },
        "indexPatterns": patterns,
    }
    path.write_text(json.dumps(record))


@pytest.fixture(scope="module")
def library_python() -> Path:
    """The environment with the package installed from its wheel (built once per version of the package)."""
    return library_env.ensure()


@pytest.fixture(scope="module")
def example(
    tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink, library_python: Path
) -> EngineStack[EmulatedLink]:
    tmp = tmp_path_factory.mktemp("library")
    project = tmp / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".venv", "Pulumi.*.yaml"))
    (project / ".venv").symlink_to(library_python.parent.parent)
    cli = PulumiCli(
        project_dir=project,
        stack="example",
        state_dir=tmp / "state",
        passphrase=PASSPHRASE,
        home=tmp / "home",
        venv_python=library_python,
        extra_env={"ECE_API_KEY": ECE_API_KEY},
    )
    cli.init()
    write_inventory(tmp / "inventory.json", engine_env, ["logs-*"])
    cli.set_config("eceUrl", engine_env.ece.url)
    cli.set_config("inventory", str(tmp / "inventory.json"))
    cli.set_config("remotePassword", REMOTE_PASSWORD, secret=True)
    return EngineStack(cli, engine_env, project, tmp / "rendered")


@pytest.fixture(scope="module")
def before(example: EngineStack[EmulatedLink]) -> dict[str, Any]:
    return snapshot(example.env)


def test_the_example_type_checks_against_the_installed_package(library_python: Path, tmp_path: Path) -> None:
    """mypy (strict, this repository's settings) on the example, with the packages of the library's environment: the
    wheel carries its types (`py.typed`), and the example uses them as a user's program would."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            str(library_python),
            "--cache-dir",
            str(tmp_path / "mypy"),
            *(str(path) for path in sorted(EXAMPLE.glob("*.py"))),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_preview_on_the_empty_stack_succeeds_with_every_value_unknown(
    example: EngineStack[EmulatedLink], before: dict[str, Any]
) -> None:
    completed = example.record(example.cli.preview())
    for typ in (
        "eceeck:index:RemoteClusterLink",
        "eceeck:index:EckLinkEnd",
        "EceDeploymentTrust",
        "RemoteConnectionCheck",
    ):
        assert f"{typ}: (create)" in completed.stdout, completed.stdout
    assert snapshot(example.env) == before  # a preview changes nothing


def test_up_builds_the_link_from_outputs_and_ends_connected(
    example: EngineStack[EmulatedLink], before: dict[str, Any]
) -> None:
    env = example.env
    example.record(example.cli.up())
    outputs = example.cli.outputs()
    assert outputs["connected"] is True
    assert outputs["proxyAddress"] == env.rcs_address and outputs["serverName"] == SERVER_NAME
    after = snapshot(env)
    ours = [entry for entry in after["trust"]["direct"] if entry not in before["trust"]["direct"]]
    assert [entry["name"] for entry in ours] == [f"ece-eck-remote-{ALIAS}"]
    assert set(after["keystore"]) - set(before["keystore"]) == {f"cluster.remote.{ALIAS}.credentials"}
    assert after["settings"][f"cluster.remote.{ALIAS}.proxy_address"] == env.rcs_address
    assert after["settings"][f"cluster.remote.{ALIAS}.server_name"] == SERVER_NAME
    assert set(after["roles"]) == {f"{ALIAS}-reader"}
    keys = active_keys(env)
    assert len(keys) == 1 and keys[0]["name"] == f"ece-eck-remote-library-example-example-{ALIAS}"
    assert json.dumps(keys[0]["access"]).count("logs-*") == 1


def test_the_providers_are_recorded_under_the_installed_package(example: EngineStack[EmulatedLink]) -> None:
    """A dynamic provider is pickled by reference to its module: the library's state names `ece_eck_remote`, the
    package's own name, never this repository's folder name."""
    exported = json.loads(example.cli.run(["stack", "export", "--show-secrets"]).stdout)
    pickles = [
        base64.b64decode(plain(r["outputs"]["__provider"]))
        for r in exported["deployment"]["resources"]
        if r["type"].startswith(DYNAMIC)
    ]
    assert len(pickles) == 8  # key, key access, trust, its retirement, keystore, settings, role, check
    assert all(b"ece_eck_remote." in pickle and b"components." not in pickle for pickle in pickles)


def test_a_changed_output_value_goes_through_in_place(example: EngineStack[EmulatedLink]) -> None:
    """New index patterns in the record: the key's access is updated in place (same key, nothing replaced)."""
    env = example.env
    key_before = active_keys(env)
    write_inventory(Path(example.cli.run(["config", "get", "inventory"]).stdout.strip()), env, ["logs-*", "metrics-*"])
    completed = example.record(example.cli.up())
    assert "replaced" not in completed.stdout, completed.stdout
    keys = active_keys(env)
    assert [k["id"] for k in keys] == [k["id"] for k in key_before]
    assert "metrics-*" in json.dumps(keys[0]["access"])
    assert example.cli.outputs()["connected"] is True
    example.record(example.cli.preview("--expect-no-changes"))


RENAMED = """
class Platform(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("example:index:Platform", name)


platform = Platform("platform")
link = RemoteClusterLink(
    f"search-{alias}-renamed","""
MOVED = """    ),
    opts=pulumi.ResourceOptions(
        parent=platform, aliases=[pulumi.Alias(name=f"search-{alias}", parent=pulumi.ROOT_STACK_RESOURCE)]
    ),
)
"""


def test_a_renamed_and_moved_link_keeps_its_resources(example: EngineStack[EmulatedLink]) -> None:
    """The user's program renames the link and moves it under a component of its own, with an alias: the link's
    children follow it (their names derive from its name), nothing is created, replaced or deleted, nothing called."""
    env = example.env
    program = example.project / "__main__.py"
    text = program.read_text()
    assert text.count('\nlink = RemoteClusterLink(\n    f"search-{alias}",') == 1 and text.count("    ),\n)\n") == 1
    text = text.replace('\nlink = RemoteClusterLink(\n    f"search-{alias}",', RENAMED).replace("    ),\n)\n", MOVED)
    program.write_text(text)
    calls = [len(env.requests_to(running)) for running in (env.ece, env.local, env.remote)]
    preview = example.record(example.cli.run(["preview", "--json"]))
    steps = [(s["op"], s["urn"].split("::")[-2].split("$")[-1]) for s in json.loads(preview.stdout)["steps"]]
    assert {step for step in steps if step[0] != "same"} == {("create", "example:index:Platform")}, steps
    example.record(example.cli.up())
    assert [len(env.requests_to(running)) for running in (env.ece, env.local, env.remote)] == calls
    urns = [r["urn"] for r in example.cli.export()["deployment"]["resources"]]
    assert any(urn.endswith(f"RemoteClusterLink::search-{ALIAS}-renamed") for urn in urns)
    assert any(urn.endswith(f"EceDeploymentTrust::search-{ALIAS}-renamed-trust") for urn in urns)
    example.record(example.cli.preview("--expect-no-changes"))


def test_destroy_leaves_the_emulators_as_found(example: EngineStack[EmulatedLink], before: dict[str, Any]) -> None:
    example.record(example.cli.destroy())
    assert snapshot(example.env) == before
    for transcript in example.transcripts:
        assert ECE_API_KEY not in transcript and REMOTE_PASSWORD not in transcript
