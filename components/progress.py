"""Progress of the long waits, said on the resource that waits, in `pulumi up`'s output.

Every wait (the ECK operator's objects, an ECE plan, the connection check, a remote API becoming ready, an HTTP call
being retried) runs inside a `Waiting`. Once it has lasted `FIRST_REPORT_SECONDS`, it says what it waits for, the time
elapsed and the limit; then again at most every `REPORT_EVERY_SECONDS`. A wait inside a wait (an HTTP retry inside a
poll, a plan inside a connection check) shares the outer one's pace, so one operation says at most one line per
`REPORT_EVERY_SECONDS`, always about the innermost wait that is making it wait. A wait that said something says when
it is over (the engine shows a resource's last line next to it, which would otherwise read as still waiting).

This module knows no Pulumi: where the lines go is injected (`set_sink`). In the dynamic provider process
`components.engine_log` sends them to the engine as status messages of the resource being operated on; elsewhere
(the program, the tests) they only go to the `ece_eck_remote.progress` logger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

FIRST_REPORT_SECONDS = 5.0
"""A wait says nothing before this: most waits are over by then."""
REPORT_EVERY_SECONDS = 15.0
"""At most one line per operation this often."""
MAX_DETAIL = 240

log = logging.getLogger("ece_eck_remote.progress")

Sink = Callable[[str], None]
_sink: list[Sink] = []
_local = threading.local()


def set_sink(sink: Sink | None) -> None:
    """Where progress lines go (in addition to the logger); None: only the logger."""
    _sink[:] = [sink] if sink is not None else []


def emit(message: str) -> None:
    """Send one line. Progress never fails an operation: a sink's error is logged and dropped."""
    log.info("%s", message)
    for sink in list(_sink):
        try:
            sink(message)
        except Exception as error:  # a lost progress line must not fail the wait
            log.debug("progress line not delivered: %s", error)


def _active() -> list[Waiting]:
    stack: list[Waiting] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _seconds(value: float) -> str:
    """Whole seconds elapsed (floored: 14.9 s have not made 15)."""
    return f"{int(max(value, 0.0))}s"


class Waiting:
    """One wait's progress: `with Waiting(what, limit) as waiting:` then `waiting.tick(detail)` on every round.

    `what` completes "waiting for ..."; `limit` is the bound in seconds (None: no time bound, e.g. HTTP attempts);
    `detail` says where the wait stands (what is still missing, the last answer)."""

    def __init__(
        self,
        what: str,
        limit: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
    ) -> None:
        self.what = what
        self.limit = limit
        self.clock = clock
        self.started = clock() if started is None else started
        self.spoke = False
        self.last_report: float | None = None
        """On the outermost wait of an operation: when its operation last said something (its own clock)."""

    def __enter__(self) -> Waiting:
        _active().append(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        stack = _active()
        if self in stack:
            stack.remove(self)
        if self.spoke and kind is None:
            emit(f"waited {_seconds(self.clock() - self.started)} for {self.what}")

    def message(self, elapsed: float, detail: str | None = None) -> str:
        bound = f" of {self.limit:g}s" if self.limit is not None else ""
        text = f"waiting for {self.what}: {_seconds(elapsed)}{bound}"
        if detail:
            line = detail.strip().splitlines()[0] if detail.strip() else ""
            if line:
                text += f" ({line[:MAX_DETAIL]}{'...' if len(line) > MAX_DETAIL else ''})"
        return text

    def tick(self, detail: str | None = None) -> bool:
        """Say where the wait stands if it is time to; True when a line went out."""
        elapsed = self.clock() - self.started
        if elapsed < FIRST_REPORT_SECONDS:
            return False
        stack = _active()
        root = stack[0] if stack else self
        now = root.clock()
        if root.last_report is not None and now - root.last_report < REPORT_EVERY_SECONDS:
            return False
        root.last_report = now
        self.spoke = True
        emit(self.message(elapsed, detail))
        return True
