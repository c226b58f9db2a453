"""A stack made by the previous commit's program, the one whose components took the program's settings, upgrades to the
library's Args (Inputs) with no change at all: the preview shows every resource `same`, `up` calls neither ECE nor
Elasticsearch, the state is what it was, and the providers that state recorded (pickled by reference to
`components.*`) still serve a refresh, an in-place update and the destroy.

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


def test_this_version_takes_the_stack_over_with_no_change_at_all(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    before, calls, recorded = emulator_state(env), request_counts(env), state(engine)
    engine.use_project(copy_project(engine.project.parent / "current"))
    engine.write_config(link_config(env, rendered=engine.rendered))
    preview = engine.record(engine.cli.run(["preview", "--json"]))
    steps = json.loads(preview.stdout).get("steps") or []
    assert steps and {step["op"] for step in steps} == {"same"}, [(s["op"], s["urn"]) for s in steps]
    engine.record(engine.cli.up("--expect-no-changes"))
    assert request_counts(env) == calls  # neither the preview nor the up called ECE or Elasticsearch
    assert emulator_state(env) == before
    now = state(engine)
    assert now.keys() == recorded.keys()  # the same resources (URNs: names, types, parents)
    for urn, old in recorded.items():
        new = now[urn]
        assert (new["type"], new["parent"], new["outputs"], new["dependencies"]) == (
            old["type"],
            old["parent"],
            old["outputs"],
            old["dependencies"],
        ), urn
        # every recorded input as it was (inputs a newer version adds are recorded too, on a `same` step: no call)
        assert {key: new["inputs"][key] for key in old["inputs"]} == old["inputs"], urn


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
