"""A slow ECE plan shows its progress on the resource that waits for it, in the real `pulumi up`'s output.

The dynamic provider sends each line to the engine as an ephemeral message of the resource being created
(`components.engine_log`): the display prints it on that resource's row (the `--non-interactive` output prints a row
each time it changes) and leaves it out of the Diagnostics at the end. The ECE emulator is told to take
`PLAN_SECONDS` per plan, longer than the first report (`FIRST_REPORT_SECONDS`) and well inside the stack's
`planTimeoutSeconds` (30 s in `tools.engine_stack.link_config`)."""

from __future__ import annotations

import re

import pytest

from components.progress import FIRST_REPORT_SECONDS
from tools.emulated_link import EmulatedLink
from tools.engine_stack import make_engine_stack

PLAN_SECONDS = 8.0
PLAN_TIMEOUT = 30
ROW = re.compile(
    r"eceeck:(?P<type>EceDeploymentTrust|EceKeystoreCredentials)\s+(?P<name>\S+)\s+creating \(\d+s\)\s+"
    r"waiting for the ECE plan on deployment (?P<deployment>\S+) \((?P<ref>[^)]+)\) to finish: "
    r"(?P<elapsed>\d+)s of (?P<limit>\d+)s(?: \((?P<detail>[^)]*)\))?"
)


def test_a_slow_ece_plan_says_what_it_waits_for_elapsed_and_limit_on_its_resource(
    tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink
) -> None:
    engine_env.reset()
    stack = make_engine_stack(tmp_path_factory.mktemp("progress"), engine_env, "progress")
    engine_env.control(engine_env.ece, "POST", "plan-duration", {"seconds": PLAN_SECONDS})
    try:
        up = stack.record(stack.cli.up())
    finally:
        engine_env.control(engine_env.ece, "POST", "plan-duration", {"seconds": 0.05})
    output = up.stdout
    rows = [match.groupdict() for match in ROW.finditer(output)]
    assert rows, output
    trust = [row for row in rows if row["type"] == "EceDeploymentTrust"]
    assert trust, output
    for row in trust:
        assert row["name"] == "search-trust"
        assert row["deployment"] == engine_env.deployment_id
        assert int(row["limit"]) == PLAN_TIMEOUT
        assert FIRST_REPORT_SECONDS <= int(row["elapsed"]) < PLAN_TIMEOUT
        assert row["detail"] and row["detail"].startswith("plan pending")
    # The row that says the resource was created says the wait ended, not that it still goes on.
    created = re.search(r"eceeck:EceDeploymentTrust\s+search-trust\s+created \(\d+s\)\s+(.*)", output)
    assert created is not None, output
    assert re.match(r"waited \d+s for the ECE plan on deployment", created.group(1)), created.group(0)
    # Status lines, not diagnostics: nothing of them in the summary at the end.
    diagnostics = output.split("Diagnostics:", 1)[1] if "Diagnostics:" in output else ""
    assert "waiting for the ECE plan" not in diagnostics
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    stack.record(stack.cli.destroy())
