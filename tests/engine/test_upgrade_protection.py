"""A stack made by the program before `EckElasticsearch` existed (its `Elasticsearch` resource and the objects it
mounts were children of `EckRemoteCluster`, and nothing was protected) upgrades with the real CLI: the aliases map each
object to its new parent with no replacement, the default `protect: true` is taken on, and the next `destroy` is
refused with Pulumi's own message before any manifest is removed. A stack made when the guard was a top-level resource
upgrades too: the guard moves under the `EckClusterProtections` anchor by its alias, with no replacement, and still
refuses `destroy` first. Render mode: no cluster is needed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.certs import make_ca
from tools.engine_stack import PASSPHRASE, PROJECT, program_at
from tools.pulumi_cli import PulumiCli
from tools.toolchains import ROOT

BEFORE_ALIASES = "e849a5bd5a6a3aa17a08947ad9137aa743841c9e"
"""A commit from before `EckElasticsearch`: its `EckRemoteCluster` declared the `Elasticsearch` resource itself."""
TOP_LEVEL_GUARDS = "9d8e8be658729f0815e8a62cd49510b93fde27d4"
"""The last commit whose `EckClusterProtection` guards were top-level resources, each depending on everything."""
GUARD = "eceeck:index:EckClusterProtection"
ANCHOR = "eceeck:index:EckClusterProtections"
ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
SECRET = "kubernetes:core/v1:Secret"
CA = make_ca("user-managed-transport-ca")


def use_current_program(project: Path) -> None:
    shutil.rmtree(project / "components")
    shutil.copytree(ROOT / "components", project / "components", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)


def cluster_config(rendered: Path, **extra: Any) -> dict[str, Any]:
    """One ECK cluster and no link: the `Elasticsearch` resource, the user-managed CA Secret and the rendered
    `elastic` Secret, the three objects that moved under `EckElasticsearch`."""
    cluster = {
        "name": "quickstart",
        "namespace": "elastic",
        "version": "9.3.2",
        "nodeSets": [{"name": "default", "count": 1}],
        "remoteClusterServer": {"exposure": "external", "address": "rcs.example.com:9443"},
        "transportCa": {"source": "user-managed", "certificate": CA.certificate_pem},
        **extra,
    }
    return {"kubernetes": {"renderYamlToDirectory": str(rendered)}, "eckClusters": [cluster]}


def write_config(cli: PulumiCli, config: dict[str, Any]) -> None:
    path = cli.project_dir / "stacks" / f"Pulumi.{cli.stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    document.setdefault("config", {}).update({f"{PROJECT}:{key}": value for key, value in config.items()})
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def resources(cli: PulumiCli) -> dict[str, dict[str, Any]]:
    """The state's resources by URN, secrets in clear (their ciphertext changes whenever the state is written)."""
    exported = json.loads(cli.run(["stack", "export", "--show-secrets"]).stdout)
    return {r["urn"]: r for r in exported["deployment"].get("resources") or []}


def manifests(rendered: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(rendered.rglob("*.yaml"))}


def guard_urn(stack: str) -> str:
    """The guard of the `quickstart` cluster, a child of the stack's `EckClusterProtections` anchor."""
    return f"urn:pulumi:{stack}::{PROJECT}::{ANCHOR}${GUARD}::quickstart"


def stack_at(commit: str, tmp: Path, stack: str) -> PulumiCli:
    """A stack made by the program as it was at `commit`: one cluster, protected (the default where it exists)."""
    project = program_at(commit, tmp / "project")
    cli = PulumiCli(project_dir=project, stack=stack, state_dir=tmp / "state", passphrase=PASSPHRASE, home=tmp / "h")
    cli.init()
    write_config(cli, cluster_config(tmp / "rendered"))
    for key, value in (("elasticPassword", "render-only-password"), ("transportCaKey", CA.key_pem)):
        cli.set_config(f"{PROJECT}:secrets.eckClusters.quickstart.{key}", value, secret=True, path=True)
    cli.up()
    return cli


def assert_destroy_refused_by_the_guard(cli: PulumiCli, rendered: Path) -> None:
    before, files = resources(cli), manifests(rendered)
    refused = cli.run(["destroy", "--yes", "--skip-preview"], check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    guard = guard_urn(cli.stack)
    assert f'resource "{guard}" cannot be deleted because it is protected' in " ".join(output.split()), output
    assert re.search(r"\d+ deleted", output) is None  # the summary counts no delete
    assert manifests(rendered) == files
    assert resources(cli) == before


@pytest.fixture(scope="module")
def old_stack(tmp_path_factory: pytest.TempPathFactory) -> PulumiCli:
    return stack_at(BEFORE_ALIASES, tmp_path_factory.mktemp("upgrade"), "upgrade")


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory) -> PulumiCli:
    return stack_at(TOP_LEVEL_GUARDS, tmp_path_factory.mktemp("guarded"), "guarded")


def test_the_old_stack_upgrades_without_replacing_anything_and_is_protected_from_then_on(old_stack: PulumiCli) -> None:
    cli, rendered = old_stack, old_stack.project_dir.parent / "rendered"
    old = resources(cli)
    old_objects = {r["type"] + "::" + r["urn"].rsplit("::", 1)[1]: r for r in old.values() if r["type"] in (ES, SECRET)}
    assert len(old_objects) == 3 and not any(r.get("protect") for r in old.values())
    assert all(r["parent"].endswith("eceeck:index:EckRemoteCluster::quickstart") for r in old_objects.values())
    files = manifests(rendered)
    assert len(files) == 3

    use_current_program(cli.project_dir)
    steps = json.loads(cli.run(["preview", "--json"]).stdout)["steps"]
    changed = {(s["op"], s["urn"].split("::")[-2].split("$")[-1]) for s in steps if s["op"] != "same"}
    assert changed == {
        ("create", "eceeck:index:EckElasticsearch"),
        ("create", ANCHOR),
        ("create", GUARD),
    }
    cli.up()

    new = resources(cli)
    moved = {r["type"] + "::" + r["urn"].rsplit("::", 1)[1]: r for r in new.values() if r["type"] in (ES, SECRET)}
    assert moved.keys() == old_objects.keys()
    for name, resource in moved.items():
        assert "$eceeck:index:EckElasticsearch$" in resource["urn"], name
        assert resource["id"] == old_objects[name]["id"] and resource["outputs"] == old_objects[name]["outputs"]
        assert resource["protect"] is True
    assert manifests(rendered) == files
    cli.run(["preview", "--expect-no-changes"])


def test_destroy_is_then_refused_with_pulumis_message_before_any_manifest_is_removed(old_stack: PulumiCli) -> None:
    assert_destroy_refused_by_the_guard(old_stack, old_stack.project_dir.parent / "rendered")


def test_a_top_level_guard_moves_under_the_anchor_with_no_replacement(guarded_stack: PulumiCli) -> None:
    cli, rendered = guarded_stack, guarded_stack.project_dir.parent / "rendered"
    old = resources(cli)
    top_level = f"urn:pulumi:guarded::{PROJECT}::{GUARD}::quickstart"
    assert (
        old[top_level]["protect"] is True
        and old[top_level]["parent"] == f"urn:pulumi:guarded::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-guarded"
    )
    assert not any(r["type"] == ANCHOR for r in old.values())
    files = manifests(rendered)

    use_current_program(cli.project_dir)
    steps = json.loads(cli.run(["preview", "--json"]).stdout)["steps"]
    changed = {(s["op"], s["urn"].split("::")[-2].split("$")[-1]) for s in steps if s["op"] != "same"}
    assert changed == {("create", ANCHOR)}  # the guard: no create, delete or replace
    cli.up()

    new = resources(cli)
    guard, anchor = new[guard_urn("guarded")], new[f"urn:pulumi:guarded::{PROJECT}::{ANCHOR}::clusters"]
    assert top_level not in new
    assert guard["parent"] == anchor["urn"] and guard["protect"] is True and guard.get("dependencies", []) == []
    assert not anchor.get("protect") and set(anchor["dependencies"]) >= {
        urn for urn, r in old.items() if r.get("custom") and not r["type"].startswith("pulumi:providers:")
    }
    # everything else keeps its URN, id and outputs
    kept = {urn: (r.get("id"), r.get("outputs")) for urn, r in old.items() if urn != top_level}
    assert {urn: (new[urn].get("id"), new[urn].get("outputs")) for urn in kept} == kept
    assert new.keys() == kept.keys() | {guard["urn"], anchor["urn"]}
    assert manifests(rendered) == files
    cli.run(["preview", "--expect-no-changes"])

    # the guard under the anchor is still the first delete: refused before anything else goes
    assert_destroy_refused_by_the_guard(cli, rendered)


def test_unprotected_the_anchor_and_its_guard_let_destroy_remove_everything(guarded_stack: PulumiCli) -> None:
    cli, rendered = guarded_stack, guarded_stack.project_dir.parent / "rendered"
    write_config(cli, {"eckClusters": [{**cluster_config(rendered)["eckClusters"][0], "protect": False}]})
    cli.up()
    assert resources(cli)[guard_urn("guarded")].get("protect") is not True
    cli.destroy()
    assert resources(cli) == {} and manifests(rendered) == {}
