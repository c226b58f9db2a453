"""The example GitHub Actions workflow (`examples/github-actions/promote.yml`) lints clean with actionlint and keeps the
promises its header and the README make: a preview per stack in that stack's environment with a comment on the pull
request, `up` on merge dev → staging → prod, a nightly drift check per stack, concurrency per stack, a reachability
check before any Pulumi command, actions pinned by version, and secrets only in jobs that run in an environment.

actionlint comes from `tools/toolchain/build-actionlint.sh` (built from its Go module on first use, cached by version).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "github-actions"
WORKFLOW = EXAMPLES / "promote.yml"
PROMOTION = ["dev", "staging", "prod"]
PULUMI_ACTION = "pulumi/actions"
# The inputs of pulumi/actions v7.0.0 (its action.yml). actionlint knows them only up to v6, so they are checked here.
PULUMI_ACTION_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
    "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
    "message", "config-map", "expect-no-changes", "diff", "replace", "exclude", "exclude-dependents", "target",
    "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color",
    "exclude-protected", "plan", "suppress-outputs", "suppress-progress", "always-include-summary",
    "continue-on-error", "log-verbosity", "log-flow", "debug",
}  # fmt: skip
VERSION_TAG = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@v\d+\.\d+\.\d+$")


@cache
def actionlint() -> str:
    built = subprocess.run(
        [str(ROOT / "tools" / "toolchain" / "build-actionlint.sh")], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return built.stdout.strip()


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    # Without shellcheck and pyflakes, whether or not the machine has them: the same verdict everywhere.
    return subprocess.run(
        [actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=path.parent,
    )


@cache
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def triggers() -> dict[str, Any]:
    loaded: dict[Any, Any] = workflow()
    found = loaded.get("on", loaded.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(found, dict)
    return found


def jobs() -> dict[str, dict[str, Any]]:
    return workflow()["jobs"]


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def pulumi_steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The steps that run a Pulumi command through pulumi/actions (not the CLI install)."""
    return (step for step in job["steps"] if uses(step, PULUMI_ACTION) and step.get("with", {}).get("command"))


def stacks_of(job: dict[str, Any]) -> list[str]:
    """The stacks a job runs on: its matrix, or the one its STACK names."""
    matrix = job.get("strategy", {}).get("matrix", {})
    return list(matrix["stack"]) if "stack" in matrix else [job["env"]["STACK"]]


def stack_expression(job: dict[str, Any], stack: str) -> str:
    return "${{ matrix.stack }}" if "stack" in job.get("strategy", {}).get("matrix", {}) else stack


def jobs_running(command: str, **inputs: Any) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in jobs().items()
        if any(
            step["with"]["command"] == command and all(step["with"].get(k) == v for k, v in inputs.items())
            for step in pulumi_steps(job)
        )
    }


def test_actionlint_passes_on_the_example() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize(
    ("original", "planted", "rule"),
    [
        ("needs: up-dev", "needs: up-development", "job-needs"),
        ("stack-name: ${{ matrix.stack }}", "stack-name: ${{ matrix.stak }}", "expression"),
        ("if: github.event_name == 'push'", "if: github.event_name == 'push' &&", "expression"),
        ("- *reachability\n      - *up", "- *reachabilty\n      - *up", "syntax-check"),
    ],
    ids=["unknown-job", "unknown-matrix-key", "broken-expression", "undefined-anchor"],
)
def test_actionlint_catches_an_error_planted_in_a_copy(tmp_path: Path, original: str, planted: str, rule: str) -> None:
    text = WORKFLOW.read_text()
    assert original in text, f"the example no longer has {original!r}: choose another place to plant the error"
    copy = tmp_path / WORKFLOW.name
    copy.write_text(text.replace(original, planted, 1))
    result = lint(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[{rule}]" in result.stdout, result.stdout


def test_the_workflow_covers_every_shared_stack_in_promotion_order() -> None:
    shared = {path.name.split(".")[1] for path in (ROOT / "stacks").glob("Pulumi.*.yaml")} - {"local"}
    assert sorted(shared) == sorted(PROMOTION)


def test_pull_requests_preview_every_stack_in_its_environment_with_a_comment() -> None:
    assert "pull_request" in triggers()
    previews = {name: job for name, job in jobs_running("preview").items() if "pull_request" in job.get("if", "")}
    assert list(previews) == ["preview"]
    job = previews["preview"]
    assert stacks_of(job) == PROMOTION
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["permissions"]["pull-requests"] == "write"
    (step,) = pulumi_steps(job)
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] is True and step["with"]["diff"] is True
    assert step["with"].get("refresh") is not True  # a PR's preview changes nothing, not even a connection


def test_a_merge_runs_up_on_dev_then_staging_then_prod_each_in_its_environment() -> None:
    assert triggers()["push"]["branches"] == ["main"]
    ups = jobs_running("up")
    order: list[str] = []
    for name, job in ups.items():
        (stack,) = stacks_of(job)
        assert job["environment"] == stack, name
        if order:
            assert job["needs"] == f"up-{order[-1]}", f"{name} must wait for the stack before it"
        else:
            assert job["if"] == "github.event_name == 'push'", name
        (step,) = pulumi_steps(job)
        assert step["with"]["stack-name"] in (stack, "${{ env.STACK }}") and step["with"]["refresh"] is True
        order.append(stack)
    assert order == PROMOTION


def test_a_scheduled_drift_check_previews_every_stack_with_refresh_expecting_no_changes() -> None:
    assert triggers()["schedule"][0]["cron"]
    drift = jobs_running("preview", refresh=True, **{"expect-no-changes": True})
    assert list(drift) == ["drift"]
    job = drift["drift"]
    assert "schedule" in job["if"] and "pull_request" not in job["if"]
    assert stacks_of(job) == PROMOTION and job["environment"] == "${{ matrix.stack }}"


def test_every_job_that_runs_pulumi_has_an_environment_and_a_concurrency_group_per_stack() -> None:
    for name, job in jobs().items():
        if not any(pulumi_steps(job)):
            continue
        for stack in stacks_of(job):
            expression = stack_expression(job, stack)
            assert job["environment"] == expression, name
            assert expression in job["concurrency"]["group"], name
        cancels = job["concurrency"]["cancel-in-progress"]
        commands = {step["with"]["command"] for step in pulumi_steps(job)}
        assert cancels is False or commands == {"preview"}, f"{name}: an update must never be cancelled half-way"


def test_every_pulumi_command_comes_after_the_setup_and_the_reachability_check() -> None:
    script = "examples/github-actions/check_reachability.py"
    assert (ROOT / script).is_file()
    for name, job in jobs().items():
        steps = job["steps"]
        first_command = next(i for i, step in enumerate(steps) if step in list(pulumi_steps(job)))
        before = steps[:first_command]
        assert any(uses(step, "actions/checkout") for step in before), name
        assert any(uses(step, "actions/setup-python") for step in before), name
        assert any("pip install" in step.get("run", "") and ".venv" in step.get("run", "") for step in before), name
        install = [step for step in before if uses(step, PULUMI_ACTION)]
        assert install and "command" not in install[0]["with"] and install[0]["with"]["pulumi-version"], name
        assert any("pulumi login" in step.get("run", "") for step in before), name
        assert script in before[-1].get("run", "") and '--stack "$STACK"' in before[-1]["run"], name


def test_the_pulumi_version_is_the_one_the_repository_pins() -> None:
    pinned = re.search(r"^PULUMI_VERSION=(\S+)$", (ROOT / "tools" / "toolchain" / "build.sh").read_text(), re.M)
    assert pinned and workflow()["env"]["PULUMI_VERSION"] == pinned[1]
    for job in jobs().values():
        for step in job["steps"]:
            if uses(step, PULUMI_ACTION):
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"
                assert set(step["with"]) <= PULUMI_ACTION_INPUTS, set(step["with"]) - PULUMI_ACTION_INPUTS


def test_actions_are_pinned_by_version_tag_and_none_is_local() -> None:
    for name, job in jobs().items():
        for step in job["steps"]:
            if "uses" in step:
                assert VERSION_TAG.match(step["uses"]), f"{name}: {step['uses']} is not pinned to vX.Y.Z"


def secret_references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from secret_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from secret_references(value)
    elif isinstance(node, str):
        yield from re.findall(r"\$\{\{[^}]*\bsecrets\b[^}]*\}\}", node)


def test_secrets_are_used_only_in_jobs_with_an_environment_and_never_in_a_script() -> None:
    assert not list(secret_references(workflow().get("env", {}))), "workflow-level env reaches every job"
    used = False
    for name, job in jobs().items():
        found = list(secret_references(job))
        used = used or bool(found)
        assert not found or job.get("environment"), f"{name} uses {found} without an environment"
        for step in job["steps"]:
            assert not list(secret_references(step.get("run", ""))), f"{name}: a secret expanded into a script"
    assert used


def test_the_ece_credentials_come_from_the_environment_not_the_stack_config() -> None:
    for name, job in jobs().items():
        for step in pulumi_steps(job):
            assert step["env"]["ECE_API_KEY"] == "${{ secrets.ECE_API_KEY }}", name
    assert "config set" not in WORKFLOW.read_text(), "no secret is written into the stack config in CI"
