"""Long waits say what they wait for, the time elapsed and the limit, at most every 15 s; the provider process sends
those lines to the engine as status messages of the resource being served (checked here against a gRPC Engine
stand-in; `tests/engine/test_progress.py` shows them in the real CLI's output). Time is simulated where it can be."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent import futures
from itertools import pairwise
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from components import engine_log, progress
from components.ece.client import PlanTracking
from components.polling import WaitTimeoutError, wait_for
from components.progress import FIRST_REPORT_SECONDS, REPORT_EVERY_SECONDS, Waiting
from tests.contract.test_ece_plan_tracking import BEFORE, DONE, OLD, RUNNING, Scripted, attempt, read
from tests.support.progress_capture import Clock, progress_lines

LINE = re.compile(r"^waiting for (?P<what>.+?): (?P<elapsed>\d+)s(?: of (?P<limit>\d+)s)?(?: \((?P<detail>.*)\))?$")


@pytest.fixture
def lines() -> Iterator[list[str]]:
    with progress_lines() as said:
        yield said


def waiting_lines(said: list[str]) -> list[dict[str, str]]:
    parsed = [LINE.match(line) for line in said]
    return [match.groupdict() for match in parsed if match]


def test_a_long_wait_says_what_it_waits_for_elapsed_and_limit_at_most_every_15s(lines: list[str]) -> None:
    clock = Clock()
    result = wait_for(
        lambda: "ready" if clock.now >= 62 else None,
        timeout=120,
        describe=lambda: "still missing: Secret elastic/ca",
        what="the ECK operator's objects",
        clock=clock,
        sleep=clock.sleep,
    )
    assert result == "ready"
    reports = waiting_lines(lines)
    assert len(reports) >= 3
    assert {r["what"] for r in reports} == {"the ECK operator's objects"}
    assert {r["limit"] for r in reports} == {"120"}
    assert {r["detail"] for r in reports} == {"still missing: Secret elastic/ca"}
    elapsed = [int(r["elapsed"]) for r in reports]
    assert elapsed[0] >= FIRST_REPORT_SECONDS
    assert all(later - earlier >= REPORT_EVERY_SECONDS for earlier, later in pairwise(elapsed))
    assert all(later - earlier <= REPORT_EVERY_SECONDS + 1 for earlier, later in pairwise(elapsed))
    assert lines[-1] == "waited 62s for the ECK operator's objects"


def test_a_short_wait_says_nothing(lines: list[str]) -> None:
    clock = Clock()
    wait_for(lambda: clock.now >= 3 or None, timeout=60, describe=str, what="x", clock=clock, sleep=clock.sleep)
    assert lines == []


def test_a_wait_that_gives_up_says_nothing_more_than_its_error(lines: list[str]) -> None:
    clock = Clock()
    with pytest.raises(WaitTimeoutError, match="gave up after 30s: nothing yet"):
        wait_for(lambda: None, timeout=30, describe=lambda: "nothing yet", what="x", clock=clock, sleep=clock.sleep)
    assert lines and not any(line.startswith("waited") for line in lines)


def test_a_wait_inside_a_wait_shares_its_pace_and_names_itself(lines: list[str]) -> None:
    clock = Clock()
    with Waiting("the outer thing", 300, clock=clock) as outer:
        clock.now = 6
        assert outer.tick("outer detail")
        with Waiting("an inner call", None, clock=clock) as inner:
            clock.now = 14  # inner: 8 s in, but the operation spoke 8 s ago
            assert not inner.tick("attempt 2 failed")
            clock.now = 22
            assert inner.tick("attempt 3 failed")
        clock.now = 30
        assert not outer.tick("outer detail")
    assert lines == [
        "waiting for the outer thing: 6s of 300s (outer detail)",
        "waiting for an inner call: 16s (attempt 3 failed)",
        "waited 16s for an inner call",
        "waited 30s for the outer thing",
    ]


def test_a_failing_sink_never_fails_the_wait() -> None:
    def broken(_line: str) -> None:
        raise RuntimeError("engine gone")

    progress.set_sink(broken)
    try:
        clock = Clock()
        assert wait_for(
            lambda: clock.now >= 30 or None, timeout=60, describe=str, what="x", clock=clock, sleep=clock.sleep
        )
    finally:
        progress.set_sink(None)


def test_the_ece_plan_wait_reports_the_plan_and_its_step(lines: list[str]) -> None:
    ours = attempt("ours", RUNNING)
    pending = [read(OLD, ours)] * 40
    client = Scripted([BEFORE, *pending, read(attempt("ours", DONE))], PlanTracking(poll_seconds=2.0))
    client.wait_for_plan("d1", "main-elasticsearch", 600, before=BEFORE)
    reports = waiting_lines(lines)
    assert reports, lines
    assert reports[0]["what"] == "the ECE plan on deployment d1 (main-elasticsearch) to finish"
    assert reports[0]["limit"] == "600"
    assert reports[0]["detail"] == "plan pending, at step 'rolling-update-instances'"
    assert re.match(r"waited \d+s for the ECE plan on deployment d1 \(main-elasticsearch\) to finish$", lines[-1])


# --- the engine channel ---------------------------------------------------------------------------------------------


class Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []

    def Log(self, request: engine_pb2.LogRequest, context: Any) -> empty_pb2.Empty:  # gRPC's name
        self.logs.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    servicer = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        server.stop(0)


class Request:
    def __init__(self, urn: str) -> None:
        self.urn = urn


class DynamicResourceProviderServicer:
    """Stands for the SDK's servicer (pulumi/dynamic/__main__.py): its `Create(self, request, context)` calls the
    provider, which waits and reports, on the same thread."""

    def Create(self, request: Request, context: Any, wait: Any) -> Any:  # the SDK's name
        return wait()


def test_lines_reach_the_engine_as_status_messages_of_the_resource_served_on_each_thread(
    engine: tuple[Engine, str],
) -> None:
    servicer, address = engine
    sink = engine_log.EngineLog(address)
    urns = [f"urn:pulumi:test::ece-eck-remote::eceeck:index:EceTrustedCa::link-{i}" for i in range(2)]

    def serve(urn: str) -> None:
        DynamicResourceProviderServicer().Create(Request(urn), None, lambda: sink(f"waiting for {urn[-6:]}"))

    threads = [threading.Thread(target=serve, args=(urn,)) for urn in urns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = sorted((log.urn, log.message, log.ephemeral, log.severity) for log in servicer.logs)
    assert got == sorted((urn, f"waiting for {urn[-6:]}", True, engine_pb2.INFO) for urn in urns)


def test_a_line_outside_a_served_request_goes_to_the_stack(engine: tuple[Engine, str]) -> None:
    servicer, address = engine
    engine_log.EngineLog(address)("no resource here")
    assert [(log.urn, log.message) for log in servicer.logs] == [("", "no resource here")]


def test_the_engine_address_is_the_plugins_argument_and_install_is_only_for_the_provider_process() -> None:
    assert engine_log.engine_address(["127.0.0.1:40123"]) == "127.0.0.1:40123"
    assert engine_log.engine_address(["--logtostderr", "-v=9", "127.0.0.1:1"]) == "127.0.0.1:1"
    assert engine_log.engine_address([]) is None
    assert engine_log.install(["127.0.0.1:1"]) is False  # pytest is not `python -m pulumi.dynamic`
