"""The provider process finds the gRPC server's pool on the SDK's `main` stack instead of walking every object."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc  # type: ignore[import-untyped]

from components import provider_pool


def test_the_pool_of_the_server_that_main_holds_is_found() -> None:
    ready, done = threading.Event(), threading.Event()
    holder: dict[str, ThreadPoolExecutor] = {}

    def main() -> None:  # as pulumi/dynamic/__main__.py's main: a local `server`, then a wait
        pool = ThreadPoolExecutor(max_workers=provider_pool.SDK_WORKERS)
        server = grpc.server(pool)
        holder["pool"] = pool
        ready.set()
        done.wait(5)
        server.stop(0)
        pool.shutdown()

    thread = threading.Thread(target=main)
    thread.start()
    try:
        assert ready.wait(5)
        assert provider_pool.server_pool(thread) is holder["pool"]
    finally:
        done.set()
        thread.join()


def test_no_server_no_pool() -> None:
    assert provider_pool.server_pool() is None


def test_outside_the_provider_process_nothing_is_widened() -> None:
    assert provider_pool.widen() == 0
