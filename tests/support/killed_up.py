"""`pulumi up` killed as a closed terminal or an OOM kill would kill it, and what the killed run leaves running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def project_processes(project_dir: Path) -> list[str]:
    """Processes (pid and command line) of this stack's project: the plugins and the program run in its folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")).resolve() != project_dir.resolve():
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile, or not ours to look at
        if state != "Z":
            found.append(f"{entry.name}: {command}")
    return found


@contextmanager
def killed_up(cli: Any, killed_when: Any, timeout: float = 60) -> Iterator[None]:
    """Run `pulumi up` in its own session and, once `killed_when()` holds, SIGKILL the CLI's process group, as a
    closed terminal or an OOM kill would (each plugin runs in its own process group, so it is not signalled)."""
    process = subprocess.Popen(
        [str(cli.bin / "pulumi"), "up", "--yes", "--skip-preview", "--non-interactive", "--stack", cli.stack],
        cwd=cli.project_dir,
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(killed_when, timeout=timeout)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    yield
    # no dynamic provider of that run may go on (and make more calls): each ends by itself within seconds
    deadline = time.monotonic() + 5
    while providers(cli.project_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    left_providers = providers(cli.project_dir)
    # The Go plugins (language host, Kubernetes provider) and the program may outlive their engine: they make no
    # call of ours, but are ended here so that they do not pile up test after test.
    for line in project_processes(cli.project_dir):
        with suppress(ProcessLookupError):
            os.kill(int(line.partition(":")[0]), signal.SIGKILL)
    assert left_providers == []


def providers(project_dir: Path) -> list[str]:
    return [line for line in project_processes(project_dir) if "pulumi.dynamic" in line or "pulumi-python" in line]


def cancel_killed_update(cli: Any) -> None:
    """`pulumi cancel`, as the README's recovery says. The file backend writes the state file in place, so a CLI killed
    during that write leaves it cut short ("failed to load checkpoint: EOF"); the recovery is then the backup the
    backend keeps beside it (`<stack>.json.bak`), which is what this restores before cancelling."""
    for state in cli.state_dir.glob(f".pulumi/stacks/*/{cli.stack}.json"):
        try:
            json.loads(state.read_text() or "!")
        except ValueError:
            backup = state.with_name(state.name + ".bak")
            state.write_text(backup.read_text())
    cli.run(["cancel", "--yes"])
