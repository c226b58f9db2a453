"""Five links to one ECE deployment in one `up`: their trust writes and plans meet on one deployment, where a write
while a plan is pending supersedes that plan (the emulator's model, `emulators/ece/app.py` `update_deployment`), and
a stale `?version=` is refused. None may cancel or overwrite another: every entry lands, every wait ends with the
plan that carried its change, and every link connects."""

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


def test_five_links_to_one_deployment_in_one_up_all_land_and_connect(stack: EngineStack[EmulatedLink]) -> None:
    env = stack.env
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.5})  # long enough for the writes to overlap
    history_before = len(plans(env)["history"])
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
    stack.record(stack.cli.preview("--expect-no-changes"))
    stack.record(stack.cli.destroy())
    assert not [e for e in env.direct_entries() if e["name"].startswith("ece-eck-remote-")]
