"""More than four operations at once in the dynamic provider process.

The SDK's dynamic provider server serves the engine with `grpc.server(futures.ThreadPoolExecutor(max_workers=4))`
(pulumi/dynamic/__main__.py, SDK 3.260.0, line 265): at most four creates, updates or deletes of dynamic resources run
at the same time, however many the engine sends. With more links than that, their operations queue: the checks of ten
links, each waiting for its connection, would wait four by four. The pool is the server's only executor in the process;
when this module is first imported there (by the first provider call), its bound is raised. A ThreadPoolExecutor
starts a thread per submitted call while it has fewer than `_max_workers` (concurrent/futures/thread.py,
`_adjust_thread_count`), so the new bound applies to the next calls.

The pool is found as the `server` the SDK's `main` holds on the main thread's stack (`server._state.thread_pool`, grpc
1.x); only when it is not there are all the process's objects searched (some 7 ms with the components loaded, on the
first provider call, which every other call of a preview waits for).
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from . import lifeline

SDK_WORKERS = 4
WORKERS = 64
"""Enough for every link of a large stack; each waits mostly on the network."""

log = logging.getLogger("ece_eck_remote.provider_pool")


def widen(workers: int = WORKERS) -> int:
    """In the provider process, raise the server pool's bound; returns how many pools were widened."""
    if not lifeline.in_provider_process():
        return 0
    pool = server_pool()
    if pool is None:
        return widen_pools(workers)
    if pool._max_workers != SDK_WORKERS:
        return 0
    pool._max_workers = workers
    return 1


def server_pool(thread: threading.Thread | None = None) -> ThreadPoolExecutor | None:
    """The pool of the gRPC server held as `server` by a `main` function on `thread`'s stack (default: the main
    thread, where the SDK's `main` waits for ever); None when there is none."""
    ident = (thread or threading.main_thread()).ident
    frame = sys._current_frames().get(ident) if ident is not None else None
    while frame is not None:
        if frame.f_code.co_name == "main":
            pool = getattr(getattr(frame.f_locals.get("server"), "_state", None), "thread_pool", None)
            if isinstance(pool, ThreadPoolExecutor):
                return pool
        frame = frame.f_back
    return None


def widen_pools(workers: int) -> int:
    widened = 0
    for candidate in gc.get_objects():
        if isinstance(candidate, ThreadPoolExecutor) and candidate._max_workers == SDK_WORKERS:
            candidate._max_workers = workers
            widened += 1
    if widened != 1:
        log.info("widened %d thread pools of %d workers (expected the server's one)", widened, SDK_WORKERS)
    return widened
