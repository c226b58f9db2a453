"""Bounded waiting that reacts within a second of readiness, instead of fixed sleeps, and says how it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .progress import Waiting

T = TypeVar("T")


class WaitTimeoutError(TimeoutError):
    pass


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    describe: Callable[[], str],
    what: str | None = None,
    first_interval: float = 0.1,
    max_interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `probe` until it returns a value other than None; raise WaitTimeoutError with `describe()` after `timeout` s.

    The interval starts at `first_interval` and doubles up to `max_interval`, so a fast condition is seen quickly
    and a slow one costs at most one probe a second. `what` (completing "waiting for ...") makes a long wait say what
    it waits for, the time elapsed, the limit and `describe()` (`components.progress`).
    """
    with Waiting(what or "a condition", timeout, clock=clock) as waiting:
        deadline = waiting.started + timeout
        interval = first_interval
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = deadline - clock()
            if remaining <= 0:
                raise WaitTimeoutError(f"gave up after {timeout:g}s: {describe()}")
            if what is not None:
                waiting.tick(describe())
            sleep(min(interval, remaining))
            interval = min(max_interval, interval * 2)
