"""What a wait says, captured: the progress lines of `components.progress`, and a fake clock to drive a wait with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from components import progress


@contextlib.contextmanager
def progress_lines() -> Iterator[list[str]]:
    """Every progress line said inside the block, in order; the sink is put back after it."""
    said: list[str] = []
    progress.set_sink(said.append)
    try:
        yield said
    finally:
        progress.set_sink(None)


class Clock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
