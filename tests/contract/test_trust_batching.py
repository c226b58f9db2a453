"""Trust changes of one deployment made at the same time are written together: one `PUT`, one ECE plan. One that
cannot be made fails alone. And the dynamic provider process can serve more than the SDK's four calls at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from components.dynamic import AdoptionError
from components.ece.connection_props import client_from
from components.ece.trust import EntryRef, change_entry, entry_body
from components.provider_pool import widen_pools
from tools.emulated_link import REF_ID, EmulatedLink


def attempts(env: EmulatedLink) -> list[str]:
    found = env.ece_resource()["plans"]
    return [attempt["name"] for attempt in [*found["history"], found["current"]]]


def puts(env: EmulatedLink) -> int:
    return sum(
        1 for r in env.requests_to(env.ece) if r.get("method") == "PUT" and r["path"].endswith(env.deployment_id)
    )


def run_together(env: EmulatedLink, changes: list[tuple[str, str | None]]) -> dict[str, Any]:
    client = client_from({"ece": env.ece_props(), "ece_credentials": env.ece_credentials()})
    results: dict[str, Any] = {}

    def one(name: str, absorb: str | None) -> None:
        ref = EntryRef(env.deployment_id, REF_ID, name)
        try:
            results[name] = change_entry(
                client, ref, lambda _e: entry_body(name, "api-key", [env.rcs_ca], None), 10, absorb=absorb
            )
        except AdoptionError as error:
            results[name] = error

    threads = [threading.Thread(target=one, args=change) for change in changes]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # arriving one after the other, as the engine's calls do
    for thread in threads:
        thread.join()
    return results


def test_changes_made_together_cost_one_write_and_one_plan(env: EmulatedLink) -> None:
    env.control(env.ece, "POST", "plan-duration", {"seconds": 0.5})
    before, writes = attempts(env), puts(env)
    names = [f"ece-eck-remote-link{i}" for i in range(6)]
    results = run_together(env, [(name, None) for name in names])
    assert puts(env) - writes == 1
    assert len([a for a in attempts(env) if a not in before]) == 1
    assert all(results[name]["name"] == name for name in names)  # each got its own entry as stored
    assert {e["name"] for e in env.direct_entries()} >= set(names)


def test_a_change_that_cannot_be_made_fails_alone(env: EmulatedLink) -> None:
    results = run_together(
        env, [("ece-eck-remote-a", None), ("ece-eck-remote-b", "not-there"), ("ece-eck-remote-c", None)]
    )
    assert isinstance(results["ece-eck-remote-b"], AdoptionError)
    assert results["ece-eck-remote-a"]["name"] == "ece-eck-remote-a" and results["ece-eck-remote-c"] is not None
    assert "ece-eck-remote-b" not in {e["name"] for e in env.direct_entries()}


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
