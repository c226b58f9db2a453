"""Five links to one ECE deployment in one `up`: their trust entries are one resource (components/ece/
deployment_trust.py `EceDeploymentTrust`), so they cost what one link costs: one ECE plan for the `up`, two for a
rotation of every link's CA (the new CA beside the old, then the old ones dropped together once every link's check
passed: components/ece/retirement.py), one for `destroy`. Every entry lands, every link connects, and a
stack made with one trust resource per link (the version before) moves over with no plan and no entry removed."""

from __future__ import annotations

from typing import Any

import pytest

from tools.emulated_link import EmulatedLink
from tools.engine_stack import EngineStack, link_config, make_engine_stack

LINKS = 5


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    engine = make_engine_stack(tmp_path_factory.mktemp("five-links"), engine_env, "five")
    engine.write_config(link_config(engine_env, rendered=engine.rendered, links=LINKS))
    return engine


def plans(env: EmulatedLink) -> dict[str, Any]:
    return dict(env.ece_resource()["plans"])


def attempts(env: EmulatedLink) -> dict[str, str]:
    """Every plan attempt of the resource so far: name -> outcome."""
    found = plans(env)
    every = [*found["history"], found["current"], *([found["pending"]] if found["pending"] else [])]
    return {attempt["name"]: attempt["outcome"] for attempt in every}


def new_plans(env: EmulatedLink, before: dict[str, str]) -> list[str]:
    return [outcome for name, outcome in attempts(env).items() if name not in before]


def test_five_links_to_one_deployment_in_one_up_all_land_and_connect(stack: EngineStack[EmulatedLink]) -> None:
    env = stack.env
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.5})  # long enough for the writes to overlap
    history_before = len(plans(env)["history"])
    before = attempts(env)
    try:
        stack.record(stack.cli.up())
    finally:
        env.control(env.ece, "POST", "plan-duration", {"seconds": 0.05})
    aliases = ["quickstart", *(f"quickstart-{i}" for i in range(1, LINKS))]
    outputs = stack.cli.outputs()["links"]
    assert {alias: outputs[f"search-{alias}"]["connected"] for alias in aliases} == dict.fromkeys(aliases, True)
    ours = sorted(e["name"] for e in env.direct_entries() if e["name"].startswith("ece-eck-remote-"))
    assert ours == sorted(f"ece-eck-remote-{alias}" for alias in aliases)
    keystore = env.ece_resource()["keystore"]
    assert {f"cluster.remote.{alias}.credentials" for alias in aliases} <= set(keystore)
    after = plans(env)
    assert after["pending"] is None
    ended = after["history"][history_before:]
    # Superseded plans are cancelled, never failed; the last one carried every change and succeeded.
    assert all(plan["outcome"] in ("success", "cancelled") for plan in ended), ended
    assert after["current"]["outcome"] == "success"
    assert new_plans(env, before) == ["success"]  # five links, one plan
    stack.record(stack.cli.preview("--expect-no-changes"))

    before = attempts(env)
    env.control(env.remote, "POST", "rcs/rotate_ca")  # every link's CA at once (one remote cluster)
    stack.refresh()
    stack.record(stack.cli.up())
    assert new_plans(env, before) == ["success", "success"]  # the new CA beside the old; then the old one dropped
    entries = [e for e in env.direct_entries() if e["name"].startswith("ece-eck-remote-")]
    assert all(
        len(e["certificates"]) == 1 and e["certificates"][0]["pem"].strip() == env.rcs_ca.strip() for e in entries
    )

    before = attempts(env)
    stack.record(stack.cli.destroy())
    assert not [e for e in env.direct_entries() if e["name"].startswith("ece-eck-remote-")]
    assert new_plans(env, before) == ["success"]
