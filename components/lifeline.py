"""Stop a dynamic provider process as soon as the Pulumi engine that started it is gone.

Pulumi starts each plugin in its own process group, and the dynamic provider runs as
`pulumi-resource-pulumi-python` (a shell script that does not `exec`) -> `python -u -m pulumi.dynamic <engine>`.
So when the CLI is killed (SIGKILL, OOM, a closed terminal with the group gone), nothing signals the provider: it
would go on with whatever wait it was in, and then make the calls that follow (an API key nobody holds, a key of a
newer `up` cleaned up as a leftover). A watchdog thread records the CLI (the nearest ancestor process named
`pulumi`, with its start time, so a reused pid is not mistaken for it) and checks it every half second; when that
process is gone, or is a zombie, the provider process ends at once with `os._exit`, from whatever it was doing, so
no further API call is made. Without /proc, or without a `pulumi` ancestor, the engine's gRPC address (the
plugin's argument) is checked instead: it stops accepting connections when the engine is gone.

Started once per process, only in the dynamic provider process (`python -m pulumi.dynamic`), when the first provider
call loads the components (see `components.dynamic`); never in the program, the tests or the tools.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

POLL_SECONDS = 0.5
EXIT_CODE = 70  # EX_SOFTWARE: killed ourselves because the engine is gone
ENGINE_NAMES = ("pulumi",)

_lock = threading.Lock()
_started: list[threading.Thread] = []
_stopping = threading.Event()


def _stat(pid: int, proc: Path) -> tuple[str, str, int, str] | None:
    """(comm, state, ppid, starttime) of a process from /proc/<pid>/stat; None when it does not exist."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # comm is in parentheses and may contain spaces or parentheses: split at the last ')'.
    head, _, rest = text.rpartition(")")
    comm = head.partition("(")[2]
    fields = rest.split()
    # rest starts at field 3 (state); ppid is field 4, starttime field 22
    return comm, fields[0], int(fields[1]), fields[19]


def find_engine(pid: int | None = None, proc: Path = Path("/proc")) -> tuple[int, str] | None:
    """The nearest ancestor of `pid` (default: this process) named `pulumi`, as (pid, starttime); None if none."""
    own = os.getpid() if pid is None else pid
    found = _stat(own, proc)
    current = found[2] if found else 0
    seen = {own}
    while current > 1 and current not in seen:
        seen.add(current)
        found = _stat(current, proc)
        if found is None:
            return None
        comm, _state, ppid, starttime = found
        if comm in ENGINE_NAMES:
            return current, starttime
        current = ppid
    return None


def process_alive(pid: int, starttime: str, proc: Path = Path("/proc")) -> bool:
    """The process that had this start time still runs (not gone, not a zombie, its pid not reused)."""
    found = _stat(pid, proc)
    return found is not None and found[3] == starttime and found[1] not in ("Z", "X", "x")


def address_alive(address: str, timeout: float = 1.0) -> bool:
    """The engine's gRPC address (host:port) still accepts connections."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except ValueError:
        return True  # not an address we understand: no opinion
    except OSError as error:
        return isinstance(error, TimeoutError)  # a slow engine is not a gone one


def engine_check(argv: list[str] | None = None, proc: Path = Path("/proc")) -> Callable[[], bool] | None:
    """How to tell that the engine still runs; None when there is no way (then there is no watchdog)."""
    engine = find_engine(proc=proc) if proc.is_dir() else None
    if engine is not None:
        pid, starttime = engine
        return lambda: process_alive(pid, starttime, proc)
    args = sys.argv[1:] if argv is None else argv
    address = next((arg for arg in args if ":" in arg and not arg.startswith("-")), None)
    if address is not None:
        return lambda: address_alive(address)
    return None


def in_provider_process() -> bool:
    """This process is a dynamic provider plugin (`python -m pulumi.dynamic`)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) in ("pulumi.dynamic.__main__", "pulumi.dynamic")


def stopping() -> bool:
    """The engine is gone and this process is ending: make no further call."""
    return _stopping.is_set()


def watch(
    alive: Callable[[], bool], *, interval: float = POLL_SECONDS, exit_: Callable[[int], None] = os._exit
) -> None:
    """Check `alive` every `interval` s; when it is False, end the process at once."""
    while alive():
        _stopping.wait(interval)
    _stopping.set()
    exit_(EXIT_CODE)


def start(alive: Callable[[], bool] | None = None) -> bool:
    """Start the watchdog once per process; True if one runs."""
    with _lock:
        if _started:
            return True
        check = alive or engine_check()
        if check is None:
            return False
        thread = threading.Thread(target=watch, args=(check,), name="engine-lifeline", daemon=True)
        thread.start()
        _started.append(thread)
        return True


def start_in_provider_process() -> None:
    if in_provider_process():
        start()
