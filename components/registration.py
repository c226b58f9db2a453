"""A barrier that opens once the program has declared every resource.

Pulumi starts a resource's create as soon as it is declared and its inputs are known, while the program is still
declaring the next ones (a Python program takes a while to declare fifty resources). Trust changes of one ECE
deployment are written together, one plan for all (`ece.trust._TrustWriter`), only if they arrive together: an input
that resolves when the program is done holds each of them until then. The program opens the barrier (`declaring`);
a library user who does not gets no barrier and nothing waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pulumi

_barrier: list[asyncio.Future[bool]] = []


def after_declarations() -> pulumi.Output[bool] | None:
    """An input that resolves once every resource is declared; None outside `declaring`."""
    return pulumi.Output.from_input(_barrier[0]) if _barrier else None


@contextlib.contextmanager
def declaring() -> Iterator[None]:
    """Around the program's declarations: the barrier opens when they are done, or failed."""
    future: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
    _barrier[:] = [future]
    try:
        yield
    finally:
        _barrier.clear()
        if not future.done():
            future.set_result(True)
