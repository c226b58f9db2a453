"""The official Python client, elasticsearch-py, drives our Elasticsearch emulator as it drives the real product.

tests/clients/es_py/calls.py makes the calls (cross-cluster API keys, proxy-mode remote settings with their
validation errors, remote info, resolve cluster, roles with remote_indices) in a subprocess, under the client's own
environment (tools/client_envs.py: one per major, pinned and hashed in tests/clients/es_py/requirements-*.txt),
and prints a record per call; here they are normalised with tests/reales/side_by_side.py's normaliser (ids,
timestamps, node and cluster names) and compared:

- the 8.x client against an emulated 8.19.21 cluster and against the real 8.19.21 node: equal records, answer
  headers included (Content-Type, X-Elastic-Product);
- the 9.x client against an emulated 9.3.2 cluster: every call answers as expected, and exactly as it answers the
  8.x client (9.x accepts `compatible-with=8` and `=9`), but for the Content-Type, which echoes the version;
- the 9.x client against 8.19.21, emulated and real: `compatible-with=9` refused, the same 400 on both.

The real node is reached as the client reaches any cluster: HTTPS verified against the node's CA, basic auth.
Neither the client nor the script calls `GET /` (the real harness node does not serve it: 405)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.real_nodes import RealNodes
from tests.reales.side_by_side import Transcript
from tools import client_envs

SCRIPT = Path(__file__).resolve().parent / "es_py" / "calls.py"
PASSWORD = "es-py-password"
CLUSTER = "local"
VERSIONS = {"8": "8.19.21", "9": "9.3.2"}


def closed_address() -> str:
    """An address on loopback where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


CLOSED = closed_address()  # one for the module: every run must send the same proxy address


@pytest.fixture(scope="module")
def emulated() -> Iterator[dict[str, tuple[ElasticsearchEmulator, str]]]:
    """One emulated cluster per major, named as the real local node is: {"8": (emulator, url), "9": ...}."""
    emulators = {
        major: ElasticsearchEmulator(Config(cluster_name=CLUSTER, version=version, elastic_password=PASSWORD))
        for major, version in VERSIONS.items()
    }
    try:
        with running(emulators["8"]) as eight, running(emulators["9"]) as nine:
            yield {"8": (emulators["8"], eight.url), "9": (emulators["9"], nine.url)}
    finally:
        for emulator in emulators.values():
            emulator.close()


@pytest.fixture
def real(request: pytest.FixtureRequest) -> RealNodes:
    """The real nodes, checked to be left as found (`nodes_left_as_found`)."""
    nodes: RealNodes = request.getfixturevalue("nodes_left_as_found")
    return nodes


def calls(
    major: str, url: str, password: str, *, ca_file: Path | None = None, scenario: str = "all"
) -> list[dict[str, Any]]:
    """Run the script under elasticsearch-py `major`; its records, normalised (node name and cluster name are the
    same text on both sides: the harness names its node after its cluster, and the emulators are named alike)."""
    python = client_envs.ensure(major)
    transcript = Transcript({}, {CLUSTER: [CLUSTER, f"{CLUSTER}-es-default-0"]})  # timestamps relative to now
    command = [str(python), "-I", str(SCRIPT), "--url", url, "--proxy-address", CLOSED]
    command += ["--scenario", scenario] + (["--ca-file", str(ca_file)] if ca_file is not None else [])
    environment = {**os.environ, "ES_PASSWORD": password}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=environment)
    sys.stderr.write(done.stderr)
    assert done.returncode == 0, f"elasticsearch-py {major} failed:\n{done.stderr}"
    records = []
    for line in done.stdout.splitlines():
        record = json.loads(line)
        record["args"] = transcript.normalise(record["args"])
        record["body"] = _header_set_sorted(transcript.normalise(record["body"]))
        records.append(record)
    return records


def _header_set_sorted(body: Any) -> Any:
    """Elasticsearch names the failed headers from a `Set.of(...)`, whose order Java randomises per JVM (seen on the
    real node as `[Content-Type, Accept]` in one run and `[Accept, Content-Type]` in another): sort that list."""
    text = json.dumps(body)
    pattern = re.compile(r"Invalid media-type value on headers \[([^\]]*)\]")
    text = pattern.sub(lambda m: f"Invalid media-type value on headers [{', '.join(sorted(m[1].split(', ')))}]", text)
    return json.loads(text)


def rendered(records: list[dict[str, Any]]) -> list[str]:
    """One JSON text per call: equal lists mean equal records, key order included."""
    return [json.dumps(record, indent=1) for record in records]


def assert_same(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> None:
    """Record by record (a failure shows the one that differs, as a diff), then the count."""
    for one, other in zip(rendered(left), rendered(right), strict=False):
        assert one == other
    assert len(left) == len(right)


def unexpected(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['call']}({r['args']}): {r['status']} {r['outcome']}" for r in records if r["status"] != r["expect"]]


def test_the_8x_client_gets_the_same_answers_from_the_emulator_and_the_real_node(
    emulated: dict[str, tuple[ElasticsearchEmulator, str]], real: RealNodes
) -> None:
    emulator, url = emulated["8"]
    emulator.reset()
    emulated_records = calls("8", url, PASSWORD)
    node = real.local
    real_records = calls("8", node.http_url, node.password, ca_file=node.ca_file)
    assert unexpected(real_records) == []
    assert_same(emulated_records, real_records)
    assert {r["content_type"] for r in real_records} == {"application/vnd.elasticsearch+json;compatible-with=8"}


def test_the_9x_client_drives_an_emulated_9_3_cluster_as_the_8x_client_does(
    emulated: dict[str, tuple[ElasticsearchEmulator, str]],
) -> None:
    emulator, url = emulated["9"]
    emulator.reset()
    nine = calls("9", url, PASSWORD)
    assert unexpected(nine) == []
    assert {r["content_type"] for r in nine} == {"application/vnd.elasticsearch+json;compatible-with=9"}
    emulator.reset()
    eight = calls("8", url, PASSWORD)
    assert {r["content_type"] for r in eight} == {"application/vnd.elasticsearch+json;compatible-with=8"}
    for record in nine + eight:
        del record["content_type"]
    assert_same(nine, eight)


def test_the_9x_client_is_refused_by_8_19_alike_by_the_emulator_and_the_real_node(
    emulated: dict[str, tuple[ElasticsearchEmulator, str]], real: RealNodes
) -> None:
    emulator, url = emulated["8"]
    emulator.reset()
    emulated_records = calls("9", url, PASSWORD, scenario="negotiation")
    node = real.local
    real_records = calls("9", node.http_url, node.password, ca_file=node.ca_file, scenario="negotiation")
    assert_same(emulated_records, real_records)
    assert unexpected(real_records) == []
    assert real_records[0]["body"]["error"]["caused_by"] == {
        "type": "status_exception",
        "reason": "Accept version must be either version 8 or 7, but found 9. "
        "Accept=application/vnd.elasticsearch+json; compatible-with=9",
    }
    assert emulator.state()["settings"]["persistent"] == {}  # refused before the handler


@pytest.mark.parametrize(
    ("major", "asked", "status"),
    [("8", 7, 200), ("8", 8, 200), ("8", 9, 400), ("9", 7, 400), ("9", 8, 200), ("9", 9, 200), ("9", 10, 400)],
)
def test_compatible_with_is_the_current_major_or_the_one_before(
    emulated: dict[str, tuple[ElasticsearchEmulator, str]], major: str, asked: int, status: int
) -> None:
    """Checked on the real 8.19.21 node for 7, 8, 9 (and 6); 9.x accepts 9 and 8 (`RestApiVersion`: current and
    minimum supported), with the same message and wrapping."""
    _emulator, url = emulated[major]
    media_type = f"application/vnd.elasticsearch+json; compatible-with={asked}"
    response = requests.put(
        f"{url}/_cluster/settings",
        data=b'{"persistent":{}}',  # refused by the handler (no settings) once the headers are accepted
        headers={"Accept": media_type, "Content-Type": media_type},
        auth=("elastic", PASSWORD),
        timeout=10,
    )
    if status == 200:
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "action_request_validation_exception"
        assert response.headers["Content-Type"] == f"application/vnd.elasticsearch+json;compatible-with={asked}"
        return
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    current = int(major)
    assert response.json()["error"] == {
        "root_cause": [
            {
                "type": "media_type_header_exception",
                "reason": "Invalid media-type value on headers [Content-Type, Accept]",
            }
        ],
        "type": "media_type_header_exception",
        "reason": "Invalid media-type value on headers [Content-Type, Accept]",
        "caused_by": {
            "type": "status_exception",
            "reason": f"Accept version must be either version {current} or {current - 1}, but found {asked}. "
            f"Accept={media_type}",
        },
    }
