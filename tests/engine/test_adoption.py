"""Taking over a link set up by hand (`links[].adopt`), with the real engine: the link is first made with the REST
calls of the seed document (a cross-cluster key on the remote, a trust entry and a keystore entry on ECE, the alias
on the local cluster), then adopted while the connection stays up the whole time, then changed, then destroyed.
Bad adoptions stop before any change, naming the config key.

The tests share one stack and run in file order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.emulator_checks import Probe, connected
from tests.support.killed_up import wait_until
from tools.emulated_link import ECE_API_KEY, REF_ID, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink
from tools.engine_stack import EngineStack, link_config, make_engine_stack
from tools.pulumi_cli import PulumiCommandError

ALIAS = "quickstart"
BY_HAND = "eck-by-hand"
ECE_AUTH = {"Authorization": f"ApiKey {ECE_API_KEY}"}


def ece_api(env: EmulatedLink, method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(
        method, f"{env.ece.url}/api/v1{path}", headers={**ECE_AUTH, **kwargs.pop("headers", {})}, timeout=10, **kwargs
    )
    assert response.status_code < 300, response.text
    return response


def set_up_by_hand(env: EmulatedLink) -> dict[str, str]:
    """The seed's manual flow, REST call by REST call."""
    remote = requests.post(
        f"{env.remote.url}/_security/cross_cluster/api_key",
        json={"name": "made-by-hand", "access": {"search": [{"names": ["logs-*"]}]}},
        auth=("elastic", REMOTE_PASSWORD),
        timeout=10,
    ).json()
    deployment = f"/deployments/{env.deployment_id}"
    current = ece_api(env, "GET", deployment, params={"show_settings": "true", "show_plans": "true"})
    version = current.headers["x-cloud-resource-version"]
    resource = current.json()["resources"]["elasticsearch"][0]
    trust = resource["info"]["settings"].get("trust") or {}
    direct = [
        *(trust.get("direct") or []),
        {"name": BY_HAND, "type": "proxy", "trust_all": False, "certificates": [{"pem": env.rcs_ca}]},
    ]
    body = {
        "prune_orphans": False,
        "resources": {
            "elasticsearch": [
                {
                    "ref_id": REF_ID,
                    "region": resource["region"],
                    "plan": resource["info"]["plan_info"]["current"]["plan"],
                    "settings": {"trust": {**trust, "direct": direct}},
                }
            ]
        },
    }
    ece_api(env, "PUT", deployment, params={"version": version}, json=body)
    wait_until(lambda: "pending" not in plan_info(env), 10)
    ece_api(
        env,
        "PATCH",
        f"{deployment}/elasticsearch/{REF_ID}/keystore",
        json={"secrets": {f"cluster.remote.{ALIAS}.credentials": {"value": remote["encoded"]}}},
    )
    ece_api(
        env,
        "PUT",
        f"{deployment}/elasticsearch/{REF_ID}/proxy/_cluster/settings",
        headers={"X-Management-Request": "true"},
        json={
            "persistent": {
                f"cluster.remote.{ALIAS}.mode": "proxy",
                f"cluster.remote.{ALIAS}.proxy_address": env.rcs_address,
                f"cluster.remote.{ALIAS}.server_name": SERVER_NAME,
            }
        },
    )
    wait_until(lambda: connected(env, ALIAS), 10)
    return {"id": remote["id"], "encoded": remote["encoded"]}


def plan_info(env: EmulatedLink) -> dict[str, Any]:
    found = ece_api(env, "GET", f"/deployments/{env.deployment_id}", params={"show_plans": "true"}).json()
    return dict(found["resources"]["elasticsearch"][0]["info"]["plan_info"])


def adopting(env: EmulatedLink, rendered: Any, key_id: str, **changes: Any) -> dict[str, Any]:
    config = link_config(env, rendered=rendered, **changes)
    config["links"][0]["adopt"] = {"trustEntry": BY_HAND, "apiKeyId": key_id, "alias": ALIAS}
    return config


def remote_keys(env: EmulatedLink) -> list[dict[str, Any]]:
    return list(env.control(env.remote, "GET", "state")["api_keys"])


def ece_side(env: EmulatedLink) -> dict[str, Any]:
    resource = env.ece_resource()
    return {
        "trust": resource["trust"],
        "keystore": resource["keystore"],
        "settings": env.control(env.local, "GET", "state")["settings"]["persistent"],
    }


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    return make_engine_stack(tmp_path_factory.mktemp("adoption"), engine_env, "adoption")


@pytest.fixture(scope="module")
def by_hand(engine: EngineStack[EmulatedLink]) -> dict[str, str]:
    return set_up_by_hand(engine.env)


def test_an_entry_that_is_not_there_stops_the_preview_naming_the_key(
    engine: EngineStack[EmulatedLink], by_hand: dict[str, str]
) -> None:
    env = engine.env
    before = ece_side(env)
    config = adopting(env, engine.rendered, by_hand["id"])
    config["links"][0]["adopt"]["trustEntry"] = "no-such-entry"
    engine.write_config(config)
    with pytest.raises(PulumiCommandError) as raised:
        engine.cli.preview()
    output = raised.value.completed.stdout + raised.value.completed.stderr
    assert "links[0].adopt.trustEntry" in output and "no-such-entry" in output, output
    assert BY_HAND in output  # the entries it has, to pick from
    assert ece_side(env) == before
    assert engine.urns("pulumi-python:dynamic") == []


def test_a_key_that_is_not_there_stops_the_up_before_anything_changes(
    engine: EngineStack[EmulatedLink], by_hand: dict[str, str]
) -> None:
    env = engine.env
    before, keys_before = ece_side(env), remote_keys(env)
    engine.write_config(adopting(env, engine.rendered, "NoSuchKeyId0000"))
    with pytest.raises(PulumiCommandError) as raised:
        engine.cli.up()
    output = raised.value.completed.stdout + raised.value.completed.stderr
    assert "adopt.apiKeyId 'NoSuchKeyId0000'" in output, output
    assert ece_side(env) == before and remote_keys(env) == keys_before
    assert by_hand["encoded"] not in output


def test_preview_says_what_it_takes_over(engine: EngineStack[EmulatedLink], by_hand: dict[str, str]) -> None:
    env = engine.env
    engine.write_config(adopting(env, engine.rendered, by_hand["id"]))
    completed = engine.record(engine.cli.preview())
    output = completed.stdout + completed.stderr  # the program's info lines go to the CLI's stderr
    assert f"takes over trust entry '{BY_HAND}'" in output
    assert f"takes over cross-cluster API key {by_hand['id']}" in output
    assert f"takes over remote cluster '{ALIAS}'" in output


def test_up_takes_the_link_over_while_it_stays_connected(
    engine: EngineStack[EmulatedLink], by_hand: dict[str, str]
) -> None:
    env = engine.env
    uid = next(e["uid"] for e in env.direct_entries() if e["name"] == BY_HAND)
    with Probe(env, ALIAS) as probe:
        engine.record(engine.cli.up())
    assert probe.answers and all(probe.answers), probe.answers
    assert probe.ended_after == probe.ended_before  # the connection made by hand was never closed
    keys = [k for k in remote_keys(env) if not k["invalidated"]]
    assert [k["id"] for k in keys] == [by_hand["id"]]  # the same key: none made, none invalidated
    assert keys[0]["metadata"]["managed_by"] == "ece-eck-remote"
    entries = {e["name"]: e for e in env.direct_entries()}
    assert BY_HAND not in entries and entries[f"ece-eck-remote-{ALIAS}"]["uid"] == uid  # renamed, same uid
    keystore = env.ece_resource()["keystore"]
    assert keystore[f"cluster.remote.{ALIAS}.credentials"]["value"] == by_hand["encoded"]  # kept as it was
    engine.record(engine.cli.preview("--expect-no-changes"))
    engine.refresh("--expect-no-changes")


def test_the_adopted_link_changes_in_place(engine: EngineStack[EmulatedLink], by_hand: dict[str, str]) -> None:
    env = engine.env
    access = {"search": [{"names": ["logs-*", "metrics-*"]}]}
    engine.write_config(adopting(env, engine.rendered, by_hand["id"], access=access))
    engine.record(engine.cli.up())
    [key] = [k for k in remote_keys(env) if not k["invalidated"]]
    assert key["id"] == by_hand["id"] and "metrics-*" in str(key["access"])


def test_destroy_removes_what_was_taken_over(engine: EngineStack[EmulatedLink], by_hand: dict[str, str]) -> None:
    env = engine.env
    engine.record(engine.cli.destroy())
    assert all(k["invalidated"] for k in remote_keys(env) if k["id"] == by_hand["id"])
    assert not any(e["name"] in (BY_HAND, f"ece-eck-remote-{ALIAS}") for e in env.direct_entries())
    assert f"cluster.remote.{ALIAS}.credentials" not in env.ece_resource()["keystore"]
    assert not connected(env, ALIAS)


@pytest.fixture(autouse=True, scope="module")
def _reset_after(engine_env: EmulatedLink) -> Iterator[None]:
    yield
    engine_env.reset()
