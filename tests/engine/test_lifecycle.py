"""The life of one environment with the real engine: preview, up, no-change preview and refresh, single-input
changes, drift repaired, destroy back to the emulators' starting state, and no secret in clear anywhere.

The tests share one stack and run in file order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.ece.client import proxy_target
from components.elasticsearch.client import caller
from tests.support.emulator_checks import snapshot
from tools.emulated_link import ECE_API_KEY, REMOTE_PASSWORD, EmulatedLink
from tools.engine_stack import EngineStack, link_config

KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"
KEY_ACCESS = "pulumi-python:dynamic/eceeck:CrossClusterApiKeyAccess"
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
RETIREMENT = "pulumi-python:dynamic/eceeck:EceTrustRetirement"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"
SETTINGS = "pulumi-python:dynamic/eceeck:RemoteClusterSettings"
ROLE = "pulumi-python:dynamic/eceeck:RemoteRole"
CHECK = "pulumi-python:dynamic/eceeck:RemoteConnectionCheck"
ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
K8S_SECRET = "kubernetes:core/v1:Secret"
EVERY_TYPE = {KEY, KEY_ACCESS, TRUST, RETIREMENT, KEYSTORE, SETTINGS, ROLE, CHECK, ES, K8S_SECRET}


def changed_steps(engine: EngineStack[EmulatedLink]) -> set[tuple[str, str]]:
    """(operation, resource type) of every step a `preview --json` would take besides 'same'."""
    completed = engine.record(engine.cli.run(["preview", "--json"]))
    steps = json.loads(completed.stdout).get("steps") or []
    return {(step["op"], step["urn"].split("::")[-2].split("$")[-1]) for step in steps if step["op"] != "same"}


@pytest.fixture(scope="module")
def before(engine: EngineStack[EmulatedLink]) -> dict[str, Any]:
    return snapshot(engine.env)


def test_preview_on_an_empty_stack_lists_every_resource(
    engine: EngineStack[EmulatedLink], before: dict[str, Any]
) -> None:
    completed = engine.record(engine.cli.preview())
    for typ in EVERY_TYPE:
        assert f"+ {typ}: (create)" in completed.stdout, typ
    assert "encodedKey   : [unknown]" in completed.stdout
    assert "connected    : [unknown]" in completed.stdout
    assert snapshot(engine.env) == before  # a preview changes nothing


def test_up_creates_everything_and_ends_connected(engine: EngineStack[EmulatedLink], before: dict[str, Any]) -> None:
    engine.record(engine.cli.up())
    engine.transcripts.append(json.dumps(engine.cli.export()))  # the state, with every resource in it
    link = engine.cli.outputs()["links"]["search-quickstart"]
    assert link["connected"] is True
    assert link["alias"] == "quickstart" and link["proxyAddress"] == engine.env.rcs_address
    assert link["encodedKey"] == "[secret]"
    after = snapshot(engine.env)
    ours = [e["name"] for e in after["trust"]["direct"] if e not in before["trust"]["direct"]]
    assert ours == ["ece-eck-remote-quickstart"]
    assert [e for e in after["trust"]["direct"] if e["name"] != "ece-eck-remote-quickstart"] == before["trust"][
        "direct"
    ]
    assert (
        after["trust"]["accounts"] == before["trust"]["accounts"]
        and after["trust"]["external"] == before["trust"]["external"]
    )
    assert set(after["keystore"]) - set(before["keystore"]) == {"cluster.remote.quickstart.credentials"}
    assert {k for k in after["settings"] if k not in before["settings"]} == {
        "cluster.remote.quickstart.mode",
        "cluster.remote.quickstart.proxy_address",
        "cluster.remote.quickstart.server_name",
    }
    assert set(after["roles"]) == {"quickstart-reader"}
    assert len(after["keys"]) == 1
    assert (engine.rendered / "1-manifest").is_dir()


def test_a_second_preview_shows_no_changes_and_refresh_finds_no_drift(engine: EngineStack[EmulatedLink]) -> None:
    engine.record(engine.cli.preview("--expect-no-changes"))
    assert changed_steps(engine) == set()
    engine.refresh("--expect-no-changes")
    assert changed_steps(engine) == set()


def test_a_state_with_the_older_ece_proxy_target_upgrades_with_no_change(engine: EngineStack[EmulatedLink]) -> None:
    """State written when the Elasticsearch side built the ECE proxy URL itself held `{"kind": "ece-proxy", ...}`
    targets. Put back into the state, they show no change (no replacement of the settings or roles), refresh reads
    through them, and the later tests change, refresh and destroy from that state."""
    env = engine.env
    state = engine.cli.export()
    rewritten = 0
    for resource in state["deployment"]["resources"]:
        if resource["type"] not in (SETTINGS, ROLE, CHECK):
            continue
        for part in ("inputs", "outputs"):
            target = resource[part]["target"]
            deployment_id, ref_id = target["name"][len("ece:") :].split("/")
            ece = {"url": env.ece.url, "insecure": False}  # the engine keeps no null in a map
            built = proxy_target(ece, deployment_id, ref_id)
            assert target == {key: value for key, value in built.items() if value is not None}  # built by the link
            resource[part]["target"] = {
                "kind": "ece-proxy",
                "ece": ece,
                "deployment_id": deployment_id,
                "ref_id": ref_id,
            }
            rewritten += 1
    assert rewritten >= 6  # settings, a role and the check, inputs and outputs
    path = engine.project / "old-state.json"
    path.write_text(json.dumps(state))
    engine.cli.run(["stack", "import", "--file", str(path)])
    engine.record(engine.cli.preview("--expect-no-changes"))
    assert changed_steps(engine) == set()
    engine.refresh("--expect-no-changes")
    assert changed_steps(engine) == set()
    kinds = {
        r["inputs"]["target"]["kind"] for r in engine.cli.export()["deployment"]["resources"] if r["type"] == SETTINGS
    }
    assert kinds == {"ece-proxy"}  # no change was written: the older form is what later tests start from


def test_changing_the_key_access_updates_only_the_key(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    engine.write_config(
        link_config(env, rendered=engine.rendered, access={"search": [{"names": ["logs-*", "metrics-*"]}]})
    )
    assert changed_steps(engine) == {("update", KEY_ACCESS)}
    key_before = snapshot(env)["keys"]
    engine.record(engine.cli.up())
    remote = env.control(env.remote, "GET", "state")["api_keys"]
    [key] = [k for k in remote if not k["invalidated"]]
    assert [key["id"]] == key_before  # updated in place
    assert key["access"]["search"][0]["names"] == ["logs-*", "metrics-*"]
    assert engine.cli.outputs()["links"]["search-quickstart"]["connected"] is True


def test_changing_the_address_updates_the_settings_and_the_check(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    address = f"localhost:{env.rcs['port']}"
    engine.write_config(
        link_config(
            env, rendered=engine.rendered, access={"search": [{"names": ["logs-*", "metrics-*"]}]}, address=address
        )
    )
    assert changed_steps(engine) == {("update", SETTINGS), ("update", CHECK)}
    engine.record(engine.cli.up())
    settings = env.control(env.local, "GET", "state")["settings"]["persistent"]
    assert settings["cluster.remote.quickstart.proxy_address"] == address
    assert engine.cli.outputs()["links"]["search-quickstart"]["connected"] is True


def test_changing_the_ca_updates_the_trust_and_the_check_and_retires_the_old_ca(
    engine: EngineStack[EmulatedLink],
) -> None:
    env = engine.env
    old_ca = env.rcs_ca
    env.control(env.remote, "POST", "rcs/rotate_ca")  # the remote now serves a certificate from a new CA
    assert changed_steps(engine) == {("update", TRUST), ("update", CHECK), ("update", RETIREMENT)}
    engine.record(engine.cli.up())
    entry = next(e for e in snapshot(env)["trust"]["direct"] if e["name"] == "ece-eck-remote-quickstart")
    pems = [c["pem"].strip() for c in entry["certificates"]]
    assert pems == [env.rcs_ca.strip()] and old_ca.strip() not in pems
    assert engine.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    engine.record(engine.cli.preview("--expect-no-changes"))


def test_a_change_behind_our_back_is_found_by_refresh_and_repaired_by_up(engine: EngineStack[EmulatedLink]) -> None:
    env = engine.env
    es = caller(env.local_target(), env.ece_credentials())
    es.request(
        "by hand",
        "PUT",
        "_cluster/settings",
        json={"persistent": {"cluster.remote.quickstart.server_name": "typo.elastic.svc"}},
    )
    assert changed_steps(engine) == set()  # without a refresh the engine cannot know
    engine.refresh()
    [recorded] = [r for r in engine.cli.export()["deployment"]["resources"] if r["type"] == SETTINGS]
    assert recorded["outputs"]["server_name"] == "typo.elastic.svc"  # the drift is in the state now
    assert changed_steps(engine) == {("update", SETTINGS), ("update", CHECK)}
    engine.record(engine.cli.up())
    settings = env.control(env.local, "GET", "state")["settings"]["persistent"]
    assert settings["cluster.remote.quickstart.server_name"] == "quickstart-es-remote-cluster.elastic.svc"
    assert engine.cli.outputs()["links"]["search-quickstart"]["connected"] is True


def test_destroy_leaves_the_emulators_as_they_were(engine: EngineStack[EmulatedLink], before: dict[str, Any]) -> None:
    engine.record(engine.cli.destroy())
    after = snapshot(engine.env)
    assert after == before
    assert not list((engine.rendered / "1-manifest").glob("*.yaml"))


def test_no_secret_in_state_or_in_anything_the_cli_printed(engine: EngineStack[EmulatedLink]) -> None:
    encoded = [k["encoded"] for k in engine.env.control(engine.env.remote, "GET", "state")["api_keys"]]
    assert encoded
    assert any('"resources"' in transcript and KEY in transcript for transcript in engine.transcripts)
    for secret in (ECE_API_KEY, REMOTE_PASSWORD, *encoded):
        for transcript in engine.transcripts:
            assert secret not in transcript
