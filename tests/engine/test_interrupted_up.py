"""An `up` killed in the middle, then run again, converges: one active API key, one trust entry, connected."""

from __future__ import annotations

import signal
import subprocess
import time
from typing import Any

import pytest

from tools.emulated_link import EmulatedLink
from tools.engine_stack import EngineStack, make_engine_stack


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    return make_engine_stack(tmp_path_factory.mktemp("interrupted"), engine_env, "interrupted")


def mid_update(env: EmulatedLink) -> bool:
    """The key exists (its id not yet in Pulumi's state for sure) and ECE is applying the trust change."""
    keys = env.control(env.remote, "GET", "state")["api_keys"]
    return bool(keys) and env.ece_resource()["plans"]["pending"] is not None


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def test_an_up_killed_while_ece_runs_its_plan_converges_on_the_next_up(stack: EngineStack[EmulatedLink]) -> None:
    env, cli = stack.env, stack.cli
    env.control(env.ece, "POST", "plan-duration", {"seconds": 4})
    process = subprocess.Popen(
        [str(cli.bin / "pulumi"), "up", "--yes", "--skip-preview", "--non-interactive", "--stack", cli.stack],
        cwd=cli.project_dir,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: mid_update(env), timeout=60)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    remote_keys = env.control(env.remote, "GET", "state")["api_keys"]
    assert len([k for k in remote_keys if not k["invalidated"]]) == 1
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.05})
    # the killed run left its lock and operations pending in the state: what an operator runs after a crash
    cli.run(["cancel", "--yes"])
    stack.refresh("--clear-pending-creates")
    stack.record(cli.up())
    assert cli.outputs()["links"]["search-quickstart"]["connected"] is True
    keys = env.control(env.remote, "GET", "state")["api_keys"]
    assert len([k for k in keys if not k["invalidated"]]) == 1
    names = [e["name"] for e in env.direct_entries()]
    assert names.count("ece-eck-remote-quickstart") == 1
    assert list(env.ece_resource()["keystore"]).count("cluster.remote.quickstart.credentials") == 1
    stack.record(cli.preview("--expect-no-changes"))
    cli.destroy()
