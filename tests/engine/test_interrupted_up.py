"""An `up` killed in the middle, then run again, converges: one active API key, one trust entry, connected; and
the killed `up` leaves no process behind, whatever its providers were waiting for."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.killed_up import cancel_killed_update, killed_up
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


def test_an_up_killed_while_ece_runs_its_plan_converges_on_the_next_up(stack: EngineStack[EmulatedLink]) -> None:
    env, cli = stack.env, stack.cli
    env.control(env.ece, "POST", "plan-duration", {"seconds": 4})
    with killed_up(cli, lambda: mid_update(env)):
        pass
    remote_keys = env.control(env.remote, "GET", "state")["api_keys"]
    assert len([k for k in remote_keys if not k["invalidated"]]) == 1
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.05})
    # the killed run left its lock and operations pending in the state: what an operator runs after a crash
    cancel_killed_update(cli)
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


def requested(env: EmulatedLink, running: Any, method: str, path_start: str, count: int) -> bool:
    return (
        sum(1 for r in env.requests_to(running) if r["method"] == method and r["path"].startswith(path_start)) >= count
    )


NOT_CONNECTED = {
    "error": {"type": "security_exception", "caused_by": {"type": "no_such_remote_cluster_exception"}},
    "status": 403,
}


@pytest.mark.parametrize("wait", ["remote not ready", "ece plan", "connection"])
def test_a_killed_up_leaves_no_provider_waiting(stack: EngineStack[EmulatedLink], wait: str) -> None:
    """Killed in each kind of wait, the dynamic provider ends by itself within seconds, without another call; then
    the documented recovery converges on exactly one valid key, in state, and a connected link."""
    env, cli = stack.env, stack.cli
    if wait == "remote not ready":
        env.fault(env.remote, route="GET /_license", kind="status", status=503, times=-1)
        condition = lambda: requested(env, env.remote, "GET", "/_license", 3)  # noqa: E731
    elif wait == "ece plan":
        env.control(env.ece, "POST", "plan-duration", {"seconds": 10})
        condition = lambda: mid_update(env)  # noqa: E731
    else:
        route = "GET /_resolve/cluster/.*"
        env.fault(env.local, route=route, kind="status", status=403, times=-1, body=NOT_CONNECTED)
        condition = lambda: requested(env, env.local, "GET", "/_resolve/cluster/", 3)  # noqa: E731
    with killed_up(cli, condition, timeout=120):
        pass
    seen = {running.url: len(env.requests_to(running)) for running in (env.ece, env.local, env.remote)}
    time.sleep(1.5)  # a provider left running would poll again within this
    assert {running.url: len(env.requests_to(running)) for running in (env.ece, env.local, env.remote)} == seen
    for running in (env.ece, env.local, env.remote):
        env.control(running, "DELETE", "faults")
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.05})
    cancel_killed_update(cli)
    stack.refresh("--clear-pending-creates")
    stack.record(cli.up())
    assert cli.outputs()["links"]["search-quickstart"]["connected"] is True
    [key] = [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]]
    in_state = [r for r in cli.export()["deployment"]["resources"] if r["type"].endswith("CrossClusterApiKey")]
    assert [r["id"] for r in in_state] == [key["id"]]
    cli.destroy()
    assert [k for k in env.control(env.remote, "GET", "state")["api_keys"] if not k["invalidated"]] == []
