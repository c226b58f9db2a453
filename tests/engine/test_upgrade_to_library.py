"""A stack made by the program of a commit before the components took Inputs, with one `EceTrustedCa` per link,
upgrades to the library's Args and to one `EceDeploymentTrust` per deployment with nothing else changed: the preview
shows every resource `same` but the trust's move (the deployment's trust created, the link's deleted), `up` writes
nothing to ECE (the new resource finds the entry as it is; the old one hands it over instead of removing it: no plan,
same uid) and calls no Elasticsearch, the state is what it was, and the providers that state recorded (pickled by
reference to `components.*`) still serve a refresh, an in-place update and the destroy.

The tests share one stack and run in file order."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.emulator_checks import emulator_state
from tools.emulated_link import EmulatedLink
from tools.engine_stack import EngineStack, copy_project, link_config, make_engine_stack, program_at

PREVIOUS_VERSION = "873015e00177d386b2efa0998fb6418b0084e14b"
"""The last commit before the components took Inputs (`RemoteClusterLinkArgs(link=, ece=, deployment=, ...)`)."""
DYNAMIC = "pulumi-python:dynamic/eceeck:"


def plain(value: Any) -> Any:
    """A value of an exported state, decrypted by `--show-secrets` (a secret is kept as its JSON text)."""
    return json.loads(value["plaintext"]) if isinstance(value, dict) and "plaintext" in value else value


def request_counts(env: EmulatedLink) -> list[int]:
    return [len(env.requests_to(running)) for running in (env.ece, env.local, env.remote)]


def state(engine: EngineStack[EmulatedLink]) -> dict[str, dict[str, Any]]:
    """Every resource's type, parent, inputs, outputs and dependencies by URN, secrets in clear (their ciphertext
    changes with each write of the state, their values must not)."""
    exported = json.loads(engine.cli.run(["stack", "export", "--show-secrets"]).stdout)
    return {
        r["urn"]: {
            "type": r["type"],
            "parent": r.get("parent"),
            "inputs": r.get("inputs") or {},
            "outputs": r.get("outputs") or {},
            "dependencies": sorted(r.get("dependencies") or []),
        }
        for r in exported["deployment"]["resources"]
    }


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    tmp = tmp_path_factory.mktemp("upgrade-library")
    stack = make_engine_stack(tmp, engine_env, "upgrade")
    stack.use_project(program_at(PREVIOUS_VERSION, tmp / "previous"))
    return stack


@pytest.fixture(scope="module")
def empty(engine_env: EmulatedLink) -> dict[str, Any]:
    return emulator_state(engine_env)


def test_the_previous_version_makes_the_link(engine: EngineStack[EmulatedLink], empty: dict[str, Any]) -> None:
    engine.record(engine.cli.up())
    assert engine.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    pickles = [
        base64.b64decode(plain(r["outputs"]["__provider"]))
        for r in state(engine).values()
        if r["type"].startswith(DYNAMIC)
    ]
    assert len(pickles) == 7 and all(b"components." in pickle for pickle in pickles)  # by reference to the module


OLD_TRUST = f"{DYNAMIC}EceTrustedCa"
NEW_TRUST = f"{DYNAMIC}EceDeploymentTrust"
RETIREMENT = f"{DYNAMIC}EceTrustRetirement"
ANCHOR = "eceeck:index:EckClusterProtections"
GUARD = "eceeck:index:EckClusterProtection"


def test_this_version_takes_the_stack_over_moving_only_the_trust(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    before, calls, recorded = emulator_state(env), request_counts(env), state(engine)
    engine.use_project(copy_project(engine.project.parent / "current"))
    engine.write_config(link_config(env, rendered=engine.rendered))
    preview = engine.record(engine.cli.run(["preview", "--json"]))
    steps = json.loads(preview.stdout).get("steps") or []
    moved = {(step["op"], step["urn"].split("::")[-2].split("$")[-1]) for step in steps if step["op"] != "same"}
    # and the end of CA rotations moves from each link's check to one resource per deployment (nothing retiring: it
    # calls nothing)
    # and the clusters' guards move under one anchor (by an alias: the same guard, a new URN)
    assert moved == {("create", NEW_TRUST), ("create", RETIREMENT), ("delete", OLD_TRUST), ("create", ANCHOR)}, moved
    engine.record(engine.cli.up())
    ece = env.requests_to(env.ece)[calls[0] :]
    assert [(r["method"], r["path"]) for r in ece if r["method"] != "GET"] == []  # no write, so no plan
    assert request_counts(env)[1:] == calls[1:]  # no Elasticsearch call
    assert emulator_state(env) == before  # the entry as it was, its uid too
    engine.record(engine.cli.preview("--expect-no-changes"))
    now = state(engine)
    old_trust = next(urn for urn, r in recorded.items() if r["type"] == OLD_TRUST)
    new_trust = next(urn for urn, r in now.items() if r["type"] == NEW_TRUST)
    retirement = next(urn for urn, r in now.items() if r["type"] == RETIREMENT)
    anchor = next(urn for urn, r in now.items() if r["type"] == ANCHOR)
    old_guard = next(urn for urn, r in recorded.items() if r["type"] == GUARD)
    new_guard = next(urn for urn, r in now.items() if r["type"] == GUARD)
    assert now.keys() - recorded.keys() == {new_trust, retirement, anchor, new_guard}
    assert recorded.keys() - now.keys() == {old_trust, old_guard}
    assert now[new_guard]["parent"] == anchor and now[new_guard]["outputs"] == recorded[old_guard]["outputs"]
    for urn, old in recorded.items():
        if urn in (old_trust, old_guard):
            continue
        new = now[urn]
        # what depended on the link's trust depends on the deployment's; the clusters' guard on its retirement too
        dependencies = sorted(
            {new_trust if dependency == old_trust else dependency for dependency in old["dependencies"]}
        )
        assert (new["type"], new["parent"], new["outputs"]) == (old["type"], old["parent"], old["outputs"]), urn
        assert sorted(set(new["dependencies"]) - {retirement}) == dependencies, urn
        # every recorded input as it was (inputs a newer version adds are recorded too, on a `same` step: no call),
        # but the check's `trust.retiring_certificates`, which it no longer takes (and its diff ignores)
        inputs = {key: new["inputs"][key] for key in old["inputs"]}
        if old["type"] == f"{DYNAMIC}RemoteConnectionCheck":
            trust = dict(plain(old["inputs"]["trust"]))
            assert trust.pop("retiring_certificates") == []
            old["inputs"]["trust"], inputs["trust"] = trust, plain(inputs["trust"])
        assert inputs == old["inputs"], urn
    entry = now[new_trust]["outputs"]["entries_state"]["ece-eck-remote-quickstart"]
    assert entry["uid"] == recorded[old_trust]["outputs"]["uid"]


def test_the_recorded_providers_serve_refresh_an_update_and_destroy(
    engine: EngineStack[EmulatedLink], empty: dict[str, Any]
) -> None:
    env = engine.env
    engine.refresh("--expect-no-changes")
    access = {"search": [{"names": ["logs-*", "metrics-*"]}]}
    engine.write_config(link_config(env, rendered=engine.rendered, access=access))
    completed = engine.record(engine.cli.up())
    assert "replaced" not in completed.stdout, completed.stdout
    keys = [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]]
    assert len(keys) == 1 and "metrics-*" in json.dumps(keys[0]["access"])
    engine.record(engine.cli.destroy())
    after = emulator_state(env)
    assert {key: after[key] for key in ("trust", "keystore", "settings", "roles")} == {
        key: empty[key] for key in ("trust", "keystore", "settings", "roles")
    }
    assert all(invalidated for _id, invalidated in after["keys"])
