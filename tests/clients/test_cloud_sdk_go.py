"""Elastic's official Go SDK (github.com/elastic/cloud-sdk-go, what terraform-provider-ec and ecctl are built on)
drives the ECE emulator: tests/clients/cloudsdkgo gets the deployment with settings, plans and plan logs, adds a
`proxy` direct trust entry with a version-checked PUT, follows the plan with the SDK's tracker, sets and removes
keystore entries, and sends a stale `?version=`. Every answer is decoded and validated with the SDK's models, and
compared with the wire for fields the models do not know. The program prints one JSON line per step.

The binary is built by tools/toolchain/build-cloud-sdk-client.sh into the versioned cache (cold: about half a minute
on 2 cores with the module downloads; warm: a stamp check). `CLOUD_SDK_GO_CHECK=/path/to/binary` skips the build."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulators.common import Running, running
from emulators.ece import EceEmulator
from emulators.ece.fixtures import DEPLOYMENT_ID, FOREIGN_KEYSTORE_KEY, FOREIGN_KEYSTORE_VALUE
from emulators.ece.plans import PlanFailure

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "toolchain" / "build-cloud-sdk-client.sh"
API_KEY = "cloud-sdk-go-test-key"
REF_ID = "main-elasticsearch"
TRUST_NAME = "cloud-sdk-go-proxy"
PREFIX = "cloudsdkgo.test"
PLAN_SECONDS = 1.0  # long enough for the tracker (100 ms polls) to see the plan pending
STEPS = ("config", "get", "update", "track", "stale_version", "keystore")


@pytest.fixture(scope="module")
def binary() -> Path:
    configured = os.environ.get("CLOUD_SDK_GO_CHECK")
    if configured:
        return Path(configured)
    completed = subprocess.run([str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1200, check=False)
    if completed.returncode != 0:
        pytest.fail(f"{BUILD_SCRIPT.name} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    path = Path(completed.stdout.strip().splitlines()[-1])
    assert path.is_file() and os.access(path, os.X_OK), f"the build script printed {path}, which is no executable"
    return path


@pytest.fixture
def ece() -> Iterator[Running]:
    emulator = EceEmulator(api_key=API_KEY, username=None, password=None, plan_seconds=PLAN_SECONDS)
    with running(emulator) as handle:
        yield handle


@dataclass
class Outcome:
    returncode: int
    steps: dict[str, dict[str, Any]]
    stderr: str

    def step(self, name: str) -> dict[str, Any]:
        assert name in self.steps, f"no {name!r} line; got {sorted(self.steps)}; stderr:\n{self.stderr}"
        return self.steps[name]


def run_check(binary: Path, url: str, api_key: str = API_KEY) -> Outcome:
    # The URL and the API key go in the environment, never on the command line (the key is a secret).
    env = {key: value for key, value in os.environ.items() if not key.startswith("ECE_")}
    env.update(
        ECE_URL=url,
        ECE_API_KEY=api_key,
        ECE_DEPLOYMENT_ID=DEPLOYMENT_ID,
        ECE_TRUST_NAME=TRUST_NAME,
        ECE_KEYSTORE_PREFIX=PREFIX,
    )
    completed = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=180, check=False)
    steps: dict[str, dict[str, Any]] = {}
    for line in completed.stdout.splitlines():
        entry = json.loads(line)
        steps[entry["step"]] = entry
    return Outcome(completed.returncode, steps, completed.stderr)


def test_the_go_sdk_gets_updates_tracks_and_manages_the_keystore(binary: Path, ece: Running) -> None:
    outcome = run_check(binary, ece.url)
    failed = {name: step for name, step in outcome.steps.items() if not step["ok"]}
    assert not failed, json.dumps(failed, indent=2)
    assert outcome.returncode == 0, outcome.stderr
    for name in STEPS:
        assert outcome.step(name)["ok"] is True

    get = outcome.step("get")
    assert (get["id"], get["ref_id"], get["resource_version"], get["direct_trust"]) == (DEPLOYMENT_ID, REF_ID, "1", 1)

    update = outcome.step("update")
    assert (update["version_before"], update["version_after"]) == ("1", "2")
    assert update["resources"] == [f"elasticsearch/{REF_ID}"]

    track = outcome.step("track")
    assert track["last_step"] == "plan-completed"
    seen = [entry["step"] for entry in track["updates"]]
    assert "rolling-update-instances" in seen, "the tracker never saw the plan pending"
    assert seen[-1] == "plan-completed" and track["updates"][-1]["finished"] is True

    stale = outcome.step("stale_version")
    assert stale["status"] == 409 and stale["codes"] == ["deployments.version_conflict"]
    assert "deployments.version_conflict" in stale["error"]
    assert (stale["stale_version"], stale["current_version"]) == ("1", "2")

    keystore = outcome.step("keystore")
    assert keystore["before"] == [FOREIGN_KEYSTORE_KEY]
    assert keystore["final"] == sorted([FOREIGN_KEYSTORE_KEY, f"{PREFIX}.file"])

    # What the emulator holds afterwards.
    state = ece.emulator.state()["deployments"][DEPLOYMENT_ID]
    assert state["version"] == 2  # the stale PUT changed nothing; keystore PATCHes do not bump it
    resource = state["resources"][REF_ID]
    added = [entry for entry in resource["trust"]["direct"] if entry["name"] == TRUST_NAME]
    assert len(added) == 1, resource["trust"]["direct"]
    entry = added[0]
    assert (entry["type"], entry["trust_all"], entry["uid"]) == ("proxy", False, track["trust_uid"])
    assert [certificate["pem"].strip() for certificate in entry["certificates"]] == [update["pem"].strip()]
    assert [e["name"] for e in resource["trust"]["direct"]] == ["partner-datacenter", TRUST_NAME]
    assert not any(e["name"] == f"{TRUST_NAME}-stale" for e in resource["trust"]["direct"])
    assert resource["plans"]["current"]["outcome"] == "success" and resource["plans"]["pending"] is None

    keystore_state = resource["keystore"]
    assert sorted(keystore_state) == sorted([FOREIGN_KEYSTORE_KEY, f"{PREFIX}.file"])
    assert keystore_state[FOREIGN_KEYSTORE_KEY] == {"value": FOREIGN_KEYSTORE_VALUE, "as_file": False}
    assert keystore_state[f"{PREFIX}.file"]["as_file"] is True  # an object value, stored as its JSON string
    assert json.loads(keystore_state[f"{PREFIX}.file"]["value"]) == {
        "type": "service_account",
        "project_id": "cloudsdkgo",
    }

    statuses = [(entry.method, entry.status) for entry in ece.emulator.log]
    assert [status for _method, status in statuses if status >= 400] == [409], statuses


def test_the_go_sdk_reports_a_failed_plan(binary: Path, ece: Running) -> None:
    emulator = ece.emulator
    assert isinstance(emulator, EceEmulator)
    emulator.plan_failures.append(PlanFailure("Plan change failed: disk full on allocator 192.168.44.10"))
    outcome = run_check(binary, ece.url)
    assert outcome.returncode == 1
    track = outcome.step("track")
    assert track["ok"] is False
    assert "disk full on allocator" in track["error"]
    assert track["updates"][-1]["step"] == "plan-completed"
    # Everything else still works.
    assert all(outcome.step(name)["ok"] for name in ("get", "update", "stale_version", "keystore"))


def test_the_go_sdk_sees_a_wrong_api_key_refused(binary: Path, ece: Running) -> None:
    outcome = run_check(binary, ece.url, api_key="not-the-key")
    assert outcome.returncode == 1
    get = outcome.step("get")
    assert get["ok"] is False and get["status"] == 401 and "root.unauthenticated" in get["error"]
    assert "not-the-key" not in json.dumps(outcome.steps)


def test_a_field_the_sdk_models_do_not_know_fails_the_step(binary: Path, ece: Running) -> None:
    """The wire comparison has teeth: an answer with an invented field fails its step."""
    ece.emulator.faults_from(
        [
            {
                "route": "GET /api/v1/deployments/.*/keystore",
                "kind": "status",
                "status": 200,
                "body": {"secrets": {}, "invented_by_the_emulator": True},
                "times": -1,
            }
        ]
    )
    outcome = run_check(binary, ece.url)
    assert outcome.returncode == 1
    keystore = outcome.step("keystore")
    assert keystore["ok"] is False
    assert "does not know: [.invented_by_the_emulator]" in keystore["error"], keystore["error"]
    assert all(outcome.step(name)["ok"] for name in ("get", "update", "track", "stale_version"))
