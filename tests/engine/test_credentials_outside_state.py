"""No credential in state: a stack made by the previous version of the program (credentials as resource inputs) moves
to this one without replacing anything and without touching ECE or Elasticsearch; then the ECE API key is rotated
(no change previewed) and the old one revoked, and refresh, up and destroy work with the new one.

The tests share one stack and run in file order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.emulator_checks import emulator_state
from tools.emulated_link import ECE_API_KEY, REMOTE_PASSWORD, EmulatedLink
from tools.engine_stack import PROJECT, EngineStack, copy_project, link_config, make_engine_stack, program_at

PREVIOUS_VERSION = "e849a5bd5a6a3aa17a08947ad9137aa743841c9e"
"""The last commit whose resources took the credentials themselves as inputs."""
NEW_ECE_API_KEY = "ece-rotated-api-key-9876543210"
DYNAMIC = "pulumi-python:dynamic/eceeck:"


def state_with_secrets(engine: EngineStack[EmulatedLink]) -> str:
    return engine.cli.run(["stack", "export", "--show-secrets"]).stdout


def steps(engine: EngineStack[EmulatedLink]) -> list[dict[str, Any]]:
    completed = engine.record(engine.cli.run(["preview", "--json"]))
    return [step for step in json.loads(completed.stdout).get("steps") or [] if step["op"] != "same"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    tmp = tmp_path_factory.mktemp("credentials")
    stack = make_engine_stack(tmp, engine_env, "credentials")
    stack.use_project(program_at(PREVIOUS_VERSION, tmp / "previous"))
    config = link_config(engine_env, rendered=stack.rendered)
    for cluster in config["eckClusters"]:
        del cluster["protect"]  # a key the previous version did not know (it protected nothing)
    stack.write_config(config)
    return stack


@pytest.fixture(scope="module")
def empty(engine_env: EmulatedLink) -> dict[str, Any]:
    local = engine_env.control(engine_env.local, "GET", "state")
    return {"settings": local["settings"]["persistent"], "trust": engine_env.ece_resource()["trust"]}


def test_the_previous_version_kept_credentials_in_state(engine: EngineStack[EmulatedLink], empty: Any) -> None:
    engine.record(engine.cli.up())
    state = state_with_secrets(engine)
    assert ECE_API_KEY in state and REMOTE_PASSWORD in state  # what this version must move out


def test_this_version_takes_over_without_replacing_or_calling_anything(engine: EngineStack[EmulatedLink]) -> None:
    before = emulator_state(engine.env)
    engine.use_project(copy_project(engine.project.parent / "current"))
    engine.write_config(link_config(engine.env, rendered=engine.rendered))
    planned = [(step["op"], step["urn"].split("::")[-2].split("$")[-1]) for step in steps(engine)]
    assert planned, "moving credentials out of state is a change the preview must show"
    # The trust moves to one resource per deployment (it takes the entry as it is, and the old one hands it over:
    # test_upgrade_to_library.py); every other dynamic resource is updated in place; nothing replaced or deleted.
    moved = {
        ("create", f"{DYNAMIC}EceDeploymentTrust"),
        ("create", f"{DYNAMIC}EceTrustRetirement"),
        ("delete", f"{DYNAMIC}EceTrustedCa"),
    }
    assert moved <= set(planned), planned
    assert {op for op, kind in set(planned) - moved if kind.startswith(DYNAMIC)} == {"update"}, planned
    assert {op for op, kind in planned if not kind.startswith(DYNAMIC)} <= {"create"}, planned
    assert all(kind.startswith(("eceeck:index:", DYNAMIC)) for _op, kind in planned), planned
    engine.record(engine.cli.up())
    assert emulator_state(engine.env) == before  # no ECE plan, no write anywhere
    engine.record(engine.cli.preview("--expect-no-changes"))


def holders(state: str, secret: str) -> set[tuple[str, str, str]]:
    """(resource type, inputs|outputs, property) of every place `secret` is found in an exported state."""
    found: set[tuple[str, str, str]] = set()
    for resource in json.loads(state)["deployment"].get("resources") or []:
        for part in ("inputs", "outputs"):
            for key, value in (resource.get(part) or {}).items():
                if secret in json.dumps(value):
                    found.add((resource["type"], part, key))
    return found


def test_no_resource_holds_a_credential(engine: EngineStack[EmulatedLink]) -> None:
    """Pulumi itself (pulumi/pulumi#17229, pinned engine 3.260) hands dynamic providers the whole stack config and
    records it, encrypted, as the inputs of the default `pulumi-python` provider: credentials kept in the stack
    config are there and nowhere else. Credentials from the environment are nowhere (next tests)."""
    state = state_with_secrets(engine)
    engine_record = {("pulumi:providers:pulumi-python", part, f"{PROJECT}:secrets") for part in ("inputs", "outputs")}
    assert holders(state, ECE_API_KEY) == engine_record
    assert holders(state, REMOTE_PASSWORD) == engine_record
    encoded = [k["encoded"] for k in engine.env.control(engine.env.remote, "GET", "state")["api_keys"]]
    assert any(value in state for value in encoded)  # the keystore needs it: the one secret state keeps


def test_rotating_the_ece_api_key_previews_no_change(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    env.control(env.ece, "POST", "api-keys", {"api_keys": [ECE_API_KEY, NEW_ECE_API_KEY]})
    engine.cli.set_config(f"{PROJECT}:secrets.ece.apiKey", NEW_ECE_API_KEY, secret=True, path=True)
    engine.record(engine.cli.preview("--expect-no-changes"))
    assert steps(engine) == []


def test_with_the_old_key_revoked_refresh_up_and_destroy_work(
    engine: EngineStack[EmulatedLink], empty: dict[str, Any]
) -> None:
    """As for any Pulumi provider, `refresh` and `destroy` run without the program, with the provider configuration
    recorded by the last `up`: one `up` (it changes nothing) records the new key before the old one is revoked."""
    env = engine.env
    before = emulator_state(env)
    engine.record(engine.cli.up("--expect-no-changes"))
    assert emulator_state(env) == before
    env.control(env.ece, "POST", "api-keys", {"api_keys": [NEW_ECE_API_KEY]})  # the old key is revoked
    engine.refresh("--expect-no-changes")
    access = {"search": [{"names": ["logs-*", "metrics-*"]}]}
    engine.write_config(link_config(env, rendered=engine.rendered, access=access))
    engine.record(engine.cli.up())
    keys = [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]]
    assert "metrics-*" in json.dumps([k["access"] for k in keys])  # the change went through with the new key
    engine.record(engine.cli.destroy())
    local = env.control(env.local, "GET", "state")
    assert {"settings": local["settings"]["persistent"], "trust": env.ece_resource()["trust"]} == empty
    for transcript in engine.transcripts:
        assert NEW_ECE_API_KEY not in transcript and ECE_API_KEY not in transcript


def test_ece_credentials_from_the_environment_are_nowhere_in_state(
    tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink, empty: dict[str, Any]
) -> None:
    """No `secrets.ece` in the stack config: the program and the providers take ECE_API_KEY from the environment of
    `pulumi`, read at each call, so a new key in the environment is used at once, by `refresh` and `destroy` too."""
    env = engine_env
    stack = make_engine_stack(tmp_path_factory.mktemp("environment"), env, "environment")
    stack.cli.run(["config", "rm", "--path", f"{PROJECT}:secrets.ece"])
    env.control(env.ece, "POST", "api-keys", {"api_keys": [NEW_ECE_API_KEY]})
    stack.cli.extra_env["ECE_API_KEY"] = NEW_ECE_API_KEY
    stack.record(stack.cli.up())
    state = state_with_secrets(stack)
    assert holders(state, NEW_ECE_API_KEY) == set()
    rotated = "ece-third-api-key-5555555555"
    env.control(env.ece, "POST", "api-keys", {"api_keys": [rotated]})  # revoked at once, no `up` in between
    stack.cli.extra_env["ECE_API_KEY"] = rotated
    stack.refresh("--expect-no-changes")
    assert rotated not in state_with_secrets(stack)
    stack.record(stack.cli.destroy())
    local = env.control(env.local, "GET", "state")
    assert {"settings": local["settings"]["persistent"], "trust": env.ece_resource()["trust"]} == empty
