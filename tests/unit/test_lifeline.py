"""The watchdog that ends a dynamic provider process once the engine that started it is gone."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from components import lifeline


def fake_proc(tmp_path: Path, processes: dict[int, tuple[str, str, int, str]]) -> Path:
    """A /proc with `pid: (comm, state, ppid, starttime)`."""
    for pid, (comm, state, ppid, start) in processes.items():
        (tmp_path / str(pid)).mkdir()
        between = " ".join(["0"] * 17)  # fields 5 to 21, between ppid and starttime
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({comm}) {state} {ppid} {between} {start} 0 0\n")
    return tmp_path


def test_the_engine_is_the_nearest_pulumi_ancestor_past_the_shell_wrapper(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            40: ("python", "S", 30, "900"),
            30: ("sh", "S", 20, "800"),
            20: ("pulumi", "S", 10, "700"),
            10: ("bash (login)", "S", 1, "100"),
        },
    )
    assert lifeline.find_engine(40, proc) == (20, "700")
    assert lifeline.find_engine(30, proc) == (20, "700")
    assert lifeline.find_engine(10, proc) is None


def test_gone_a_zombie_or_a_reused_pid_is_not_the_engine(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {20: ("pulumi", "S", 1, "700"), 21: ("pulumi", "Z", 1, "700")})
    assert lifeline.process_alive(20, "700", proc)
    assert not lifeline.process_alive(20, "701", proc)  # the pid now belongs to another process
    assert not lifeline.process_alive(21, "700", proc)  # killed, not reaped yet
    assert not lifeline.process_alive(22, "700", proc)


def test_the_real_stat_of_this_process_is_read() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        found = lifeline._stat(child.pid, Path("/proc"))
        assert found is not None and found[2] == __import__("os").getpid()
        assert lifeline.process_alive(child.pid, found[3])
    finally:
        child.kill()
        child.wait()
    assert not lifeline.process_alive(child.pid, found[3])


def test_the_engine_address_is_the_fallback() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert lifeline.address_alive(f"127.0.0.1:{port}")
    server.close()
    assert not lifeline.address_alive(f"127.0.0.1:{port}")


def test_without_proc_the_argument_address_is_watched(tmp_path: Path) -> None:
    check = lifeline.engine_check(["127.0.0.1:1"], proc=tmp_path / "absent")
    assert check is not None and check() is False
    assert lifeline.engine_check([], proc=tmp_path / "absent") is None


def test_the_watchdog_exits_at_once_when_the_engine_is_gone() -> None:
    alive = threading.Event()
    alive.set()
    exits: list[int] = []
    thread = threading.Thread(
        target=lifeline.watch, args=(alive.is_set,), kwargs={"interval": 0.01, "exit_": exits.append}
    )
    thread.start()
    alive.clear()
    thread.join(timeout=5)
    assert exits == [lifeline.EXIT_CODE]
    assert lifeline.stopping()
    lifeline._stopping.clear()


def test_it_starts_only_in_a_dynamic_provider_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not lifeline.in_provider_process()  # pytest: importing the providers starts nothing
    assert not any(t.name == "engine-lifeline" for t in threading.enumerate())


def test_a_provider_process_ends_when_its_engine_is_killed(tmp_path: Path) -> None:
    """A fake engine named `pulumi` (a copy of sh) starts `sh -c python -m pulumi.dynamic`, as the plugin script
    does; the provider loads the components (as on its first call); SIGKILL to the engine ends the provider."""
    engine = tmp_path / "pulumi"
    engine.write_bytes(Path("/bin/sh").read_bytes())
    engine.chmod(0o755)
    marker = tmp_path / "loaded"
    code = (
        "import runpy, sys; sys.argv = ['x', '127.0.0.1:1'];"
        "import builtins;"
        # stand in for pulumi.dynamic's main: load the components as the first call does, then wait
        f"sys.modules['__main__'].__spec__ = type('S', (), {{'name': 'pulumi.dynamic.__main__'}})();"
        f"import components.dynamic; open({str(marker)!r}, 'w').close();"
        "import time; time.sleep(60)"
    )
    root = Path(__file__).resolve().parents[2]
    fake = subprocess.Popen(
        [str(engine), "-c", f'sh -c "{sys.executable} -c \\"{code}\\"" ; sleep 60'], cwd=root, start_new_session=True
    )
    try:
        import time

        deadline = time.monotonic() + 20
        while not marker.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        providers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(marker).encode() in _cmdline(p)]
        assert providers
        fake.kill()
        fake.wait()
        deadline = time.monotonic() + 5
        while any(_running(p) for p in providers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_running(p) for p in providers)
    finally:
        fake.kill()
        fake.wait()


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def _running(entry: Path) -> bool:
    try:
        return (entry / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
