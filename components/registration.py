"""A barrier that opens once the program has declared every resource.

Pulumi starts a resource's create as soon as it is declared and its inputs are known, while the program is still
declaring the next ones (a Python program takes a while to declare fifty resources). Trust changes of one ECE
deployment are written together, one plan for all (`ece.trust._TrustWriter`), only if they arrive together: an input
that resolves when the program is done holds each of them until then. The program opens the barrier (`declaring`);
a library user who does not gets no barrier and nothing waits.

The program also makes Python's full garbage collections rarer (`fewer_full_collections`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator

import pulumi

_barrier: list[asyncio.Future[bool]] = []

GEN1_COLLECTIONS_PER_FULL = 100
"""Python's default is 10 (`gc.get_threshold()[2]`): a full collection every ~70,000 net allocations."""


def fewer_full_collections() -> None:
    """A full collection walks every object of the process, and a program's objects (resources, Outputs, their
    tasks) live until it ends: each one finds little garbage and costs more than the one before, the more links the
    stack has. Measured under mocks, one run per process: 6 full collections, 0.65 to 0.8 s, a third of the evaluation
    of 50 links, and none for 10 links, so the cost per link grew with the number of links. A full collection every
    100 younger ones (~700,000 net allocations) leaves none to a 50-link program, bounds the garbage it keeps
    (cycles, about 0.8 MB per link) and still collects it in a long run. Young generations are unchanged. Process-wide
    and only ever raised: called from the program's `declaring`, never by the components themselves."""
    young, middle, full = gc.get_threshold()
    if full < GEN1_COLLECTIONS_PER_FULL:
        gc.set_threshold(young, middle, GEN1_COLLECTIONS_PER_FULL)


def after_declarations() -> pulumi.Output[bool] | None:
    """An input that resolves once every resource is declared; None outside `declaring`."""
    return pulumi.Output.from_input(_barrier[0]) if _barrier else None


@contextlib.contextmanager
def declaring() -> Iterator[None]:
    """Around the program's declarations: the barrier opens when they are done, or failed."""
    fewer_full_collections()
    future: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
    _barrier[:] = [future]
    try:
        yield
    finally:
        _barrier.clear()
        if not future.done():
            future.set_result(True)
