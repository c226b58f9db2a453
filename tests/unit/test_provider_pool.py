"""The dynamic provider process serves more than the SDK's four calls at once (components/provider_pool.py): the
checks of many links wait for their connections at the same time, not four by four."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from components.provider_pool import widen_pools


def test_the_provider_pool_runs_more_than_four_calls_at_once() -> None:
    pool = ThreadPoolExecutor(max_workers=4)  # what the SDK's server makes
    try:
        assert widen_pools(16) >= 1
        running, peak, lock, release = [0], [0], threading.Lock(), threading.Event()

        def call() -> None:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            release.wait(5)
            with lock:
                running[0] -= 1

        futures = [pool.submit(call) for _ in range(10)]
        time.sleep(0.3)
        release.set()
        for future in futures:
            future.result()
        assert peak[0] == 10
    finally:
        pool.shutdown()
