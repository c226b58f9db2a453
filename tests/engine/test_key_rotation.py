"""A cross-cluster key rotation with the real engine, on a link whose alias has every kind of character the alias rule
allows (`logs-eu_1`) and whose load balancer's port is not the remote cluster server's.

The rotation (a new `links[].rotation` token) must never drop the link: the new key is created, put in the keystore,
and only then is the old one invalidated (Pulumi's create-before-delete replacement, with the keystore depending on
the key). `_resolve/cluster` is probed on the local cluster every 50 ms during the `up`, and the emulators' request
logs, with their times, show the order. It ends with one valid key: the one in state and in the keystore.

The tests share one stack and run in file order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.emulator_checks import Probe
from tools.emulated_link import ECE_API_KEY, REMOTE_PASSWORD, EmulatedLink
from tools.engine_stack import EngineStack, link_config, make_engine_stack

ALIAS = "logs-eu_1"
LINK = f"search-{ALIAS}"
LB_PORT = 30443  # not 9443: a Service forwarding to its own port instead of the remote cluster server's shows
KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
KEYSTORE_KEY = f"cluster.remote.{ALIAS}.credentials"


def config(env: EmulatedLink, rendered: Path, rotation: str | None = None) -> dict[str, Any]:
    """The engine tests' link, with the alias `logs-eu_1` (its role's `clusters` left to default to the alias), and
    our own LoadBalancer Service (ECK 3.2) on port 30443; the address is given, as no load balancer runs here."""
    values = link_config(env, rendered=rendered)
    [cluster], [link] = values["eckClusters"], values["links"]
    cluster["operatorVersion"] = "3.2.0"
    cluster["remoteClusterServer"] = {"exposure": "own-service", "port": LB_PORT, "address": env.rcs_address}
    link["alias"] = ALIAS
    link["roles"] = [{"name": f"{ALIAS}-reader", "remoteIndices": [{"names": ["logs-*"], "privileges": ["read"]}]}]
    if rotation is not None:
        link["rotation"] = rotation
    return values


def active_keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]]


def keystore(env: EmulatedLink) -> dict[str, Any]:
    return dict(env.ece_resource()["keystore"])


def key_in_state(engine: EngineStack[EmulatedLink]) -> str:
    [key] = [r for r in engine.cli.export()["deployment"]["resources"] if r["type"] == KEY]
    return str(key["id"])


def rendered_service(engine: EngineStack[EmulatedLink], name: str) -> dict[str, Any]:
    for path in sorted(engine.rendered.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "Service" and document["metadata"]["name"] == name:
                return dict(document)
    raise AssertionError(f"no Service {name} in {engine.rendered}")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    stack = make_engine_stack(tmp_path_factory.mktemp("rotation"), engine_env, "rotation")
    stack.write_config(config(engine_env, stack.rendered))
    return stack


@pytest.fixture(scope="module")
def before(engine: EngineStack[EmulatedLink]) -> dict[str, Any]:
    env = engine.env
    return {
        "trust": env.ece_resource()["trust"],
        "keystore": keystore(env),
        "settings": env.control(env.local, "GET", "state")["settings"]["persistent"],
        "roles": env.control(env.local, "GET", "state")["roles"],
    }


def test_up_names_everything_after_the_alias(engine: EngineStack[EmulatedLink], before: dict[str, Any]) -> None:
    env = engine.env
    engine.record(engine.cli.up())
    assert engine.cli.outputs()["links"][LINK]["connected"] is True
    [key] = active_keys(env)
    assert set(keystore(env)) - set(before["keystore"]) == {KEYSTORE_KEY}
    assert (
        env.control(env.ece, "GET", f"keystore/{env.deployment_id}")["secrets"][KEYSTORE_KEY]["value"] == key["encoded"]
    )
    settings = env.control(env.local, "GET", "state")["settings"]["persistent"]
    assert {k for k in settings if k not in before["settings"]} == {
        f"cluster.remote.{ALIAS}.mode",
        f"cluster.remote.{ALIAS}.proxy_address",
        f"cluster.remote.{ALIAS}.server_name",
    }
    role = env.control(env.local, "GET", "state")["roles"][f"{ALIAS}-reader"]
    assert role["remote_indices"][0]["clusters"] == [ALIAS]  # the default: the link's alias
    entries = [e["name"] for e in env.direct_entries() if e not in before["trust"]["direct"]]
    assert entries == [f"ece-eck-remote-{ALIAS}"]
    probes = {(r["method"], r["path"], r["status"]) for r in env.requests_to(env.local)}
    assert ("GET", f"/_resolve/cluster/{ALIAS}:*", 200) in probes  # the connection check's probe
    service = rendered_service(engine, "quickstart-es-remote-cluster-lb")
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(LB_PORT, 9443)]
    engine.record(engine.cli.preview("--expect-no-changes"))


def test_a_key_rotation_never_drops_the_link_and_ends_with_one_valid_key(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    [old] = active_keys(env)
    engine.write_config(config(env, engine.rendered, rotation="2026-12"))
    for running in (env.ece, env.local, env.remote):
        env.control(running, "DELETE", "requests")
    with Probe(env, ALIAS) as probe:
        engine.record(engine.cli.up())
    [new] = active_keys(env)
    assert new["id"] != old["id"] and key_in_state(engine) == new["id"]
    assert (
        env.control(env.ece, "GET", f"keystore/{env.deployment_id}")["secrets"][KEYSTORE_KEY]["value"] == new["encoded"]
    )
    # the order, from the emulators' logs: the new key made, then put in the keystore, then the old one invalidated
    created = [
        r
        for r in env.requests_to(env.remote)
        if (r["method"], r["path"]) == ("POST", "/_security/cross_cluster/api_key")
    ]
    invalidated = [
        r for r in env.requests_to(env.remote) if (r["method"], r["path"]) == ("DELETE", "/_security/api_key")
    ]
    stored = [r for r in env.requests_to(env.ece) if r["method"] == "PATCH" and r["path"].endswith("/keystore")]
    assert [r["status"] for r in created] == [200] and [r["status"] for r in stored] == [200], (created, stored)
    assert [r["status"] for r in invalidated] == [200], invalidated
    assert created[0]["answered"] < stored[0]["at"]
    assert stored[0]["answered"] < invalidated[0]["at"], "the old key was invalidated before the new one was stored"
    assert len(probe.answers) > 20 and all(probe.answers), probe.answers  # connected at every probe
    engine.record(engine.cli.preview("--expect-no-changes"))


def test_destroy_leaves_the_emulators_as_they_were(engine: EngineStack[EmulatedLink], before: dict[str, Any]) -> None:
    env = engine.env
    engine.record(engine.cli.destroy())
    assert active_keys(env) == []
    assert keystore(env) == before["keystore"]
    assert env.control(env.local, "GET", "state")["settings"]["persistent"] == before["settings"]
    assert env.control(env.local, "GET", "state")["roles"] == before["roles"]
    assert env.ece_resource()["trust"] == before["trust"]


def test_no_secret_in_anything_the_cli_printed(engine: EngineStack[EmulatedLink]) -> None:
    encoded = [k["encoded"] for k in engine.env.control(engine.env.remote, "GET", "state")["api_keys"]]
    assert len(encoded) == 2
    engine.transcripts.append(json.dumps(engine.cli.export()))
    for secret in (ECE_API_KEY, REMOTE_PASSWORD, *encoded):
        for transcript in engine.transcripts:
            assert secret not in transcript


@pytest.fixture(autouse=True, scope="module")
def _reset_after(engine_env: EmulatedLink) -> Iterator[None]:
    yield
    engine_env.reset()
