"""Run the same short request sequence against two Elasticsearch clusters (the emulator pair, the real pair) and
get back a transcript each: every request with its status and its answer, normalised so that two faithful
clusters give equal transcripts.

Normalised (they differ between any two clusters, or between two runs): the ids, secrets and `encoded` values of
API keys (named placeholders, in the order they first appear, also inside messages), timestamps (`<now>`, and an
expiration as `<now+1d>`), node ids, node names, cluster names and UUIDs, keystore paths and digests. Kept: the
status, the JSON keys in their order, error `type`/`reason`/`root_cause`, every other value."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator

VERSION = "8.19.21"
PASSWORD = "side-by-side-password"  # the emulators' elastic password
TIMESTAMP_KEYS = frozenset({"creation", "expiration", "invalidation", "keystore_last_modified_time"})
DAY_MS = 86_400_000
SETTINGS_SCOPES = frozenset({"persistent", "transient", "defaults"})


def iso(millis: int) -> str:
    """A licence date as Elasticsearch renders it: `2026-11-30T04:44:30.948Z`."""
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def licence_placeholders(answer: Any) -> Any:
    """`GET _license` (an `adjust` for `Transcript.call`): its uid and dates differ between any two clusters. Kept: the
    fields and their order, type, status, the counts and the issuer; and how the dates relate: each ISO date is the
    moment of its millis, and an expiry becomes `<issued+Nd>` (a trial runs 30 days)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("license"), dict):
        return answer
    licence = dict(answer["license"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", licence["uid"]), licence
    licence["uid"] = "<uid>"
    issued = licence["issue_date_in_millis"]
    for prefix in ("issue_date", "expiry_date"):
        millis = licence.get(f"{prefix}_in_millis")
        if isinstance(millis, int):
            assert licence[prefix] == iso(millis), licence
            days = (millis - issued) / DAY_MS
            placeholder = f"<issued{days:+g}d>" if days else "<issued>"
            licence[prefix] = licence[f"{prefix}_in_millis"] = placeholder
    return {"license": licence}


class Requester(Protocol):
    """`RealNode.request`'s shape; `EmulatorNode` has it too."""

    def request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> requests.Response: ...


@dataclass
class EmulatorNode:
    """An emulator reached over HTTP as `elastic`, like a `RealNode`."""

    emulator: ElasticsearchEmulator
    url: str
    password: str = PASSWORD
    session: requests.Session = field(default_factory=requests.Session)

    def request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> requests.Response:
        return self.session.request(
            method,
            f"{self.url}/{path.lstrip('/')}",
            json=json,
            params=params,
            auth=("elastic", self.password),
            timeout=30,
        )

    def control(self, method: str, what: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def emulator_pair() -> Iterator[dict[str, EmulatorNode]]:
    """Two emulated 8.19.21 clusters named as the real ones are ("local", "remote")."""
    emulators = {
        name: ElasticsearchEmulator(Config(cluster_name=name, version=VERSION, elastic_password=PASSWORD))
        for name in ("local", "remote")
    }
    try:
        with running(emulators["local"]) as local, running(emulators["remote"]) as remote:
            nodes = {
                "local": EmulatorNode(emulators["local"], local.url),
                "remote": EmulatorNode(emulators["remote"], remote.url),
            }
            yield nodes
            for node in nodes.values():
                node.session.close()
    finally:
        for emulator in emulators.values():
            emulator.close()


class Transcript:
    """One run of a scenario: `call` sends a request to one of the clusters, records it with its normalised answer
    and returns the raw answer body (for the ids the next requests need)."""

    def __init__(self, clusters: Mapping[str, Requester], names: Mapping[str, Iterable[str]]) -> None:
        """`names`: per cluster, its node name and cluster name; each becomes `<local-name>` (and so on) wherever it
        is a whole string. (One placeholder for both: the harness gives its node the cluster's name.)"""
        self.clusters = clusters
        self.entries: list[dict[str, Any]] = []
        self.started_ms = int(time.time() * 1000)
        self._secrets: dict[str, str] = {}  # a random value -> its placeholder (replaced wherever it appears)
        self._whole: dict[str, str] = {}  # a value replaced only where it is a whole string
        self._counts: dict[str, int] = {}
        self.cleanups: list[Callable[[], None]] = []
        for cluster, known in names.items():
            for value in known:
                self._whole[value] = f"<{cluster}-name>"

    # --- placeholders ---------------------------------------------------------------------------------------
    def secret(self, value: str, kind: str) -> str:
        """The placeholder of a random value (an id, a secret): `<kind-N>`, N counting per kind from 1."""
        if value not in self._secrets:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._secrets[value] = f"<{kind}-{self._counts[kind]}>"
        return self._secrets[value]

    def _text(self, value: str) -> str:
        if value in self._whole:
            return self._whole[value]
        for secret, placeholder in self._secrets.items():
            value = value.replace(secret, placeholder)
        return value

    def normalise(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            # an API key's answer: name its id, secret and encoded value before anything is rendered
            if isinstance(value.get("id"), str) and ("api_key" in value or "invalidated" in value):
                self.secret(value["id"], "key-id")
            for name, kind in (("api_key", "key-secret"), ("encoded", "key-encoded")):
                if isinstance(value.get(name), str):
                    self.secret(value[name], kind)
            if key == "nodes":  # keyed by node id
                return {f"<node-id-{index}>": self.normalise(item) for index, item in enumerate(value.values(), 1)}
            items = value.items()
            # A Java HashMap on the node, iterated in its hash table's order, not one ES defines: API key metadata,
            # and settings rendered nested (`Settings.getAsStructuredMap`; flat settings come sorted, and stay).
            if key == "metadata" or (key in SETTINGS_SCOPES and any(isinstance(v, dict) for v in value.values())):
                return {name: self.normalise(item, "metadata") for name, item in sorted(items)}
            return {name: self.normalise(item, name) for name, item in items}
        if isinstance(value, list):
            return [self.normalise(item, key) for item in value]
        if isinstance(value, str):
            if key in ("keystore_path", "keystore_digest"):
                return f"<{key}>"
            return self._text(value)
        if isinstance(value, int) and not isinstance(value, bool) and key in TIMESTAMP_KEYS:
            return self._timestamp(value)
        return value

    def _timestamp(self, millis: int) -> str:
        """`<now>` for a moment during the run; `<now+Nd>` for one N days later (an expiration)."""
        now = int(time.time() * 1000)
        if self.started_ms - 60_000 <= millis <= now + 60_000:
            return "<now>"
        days = (millis - now) / DAY_MS
        if abs(days - round(days)) * DAY_MS <= 120_000:
            return f"<now{round(days):+d}d>"
        return "<epoch-ms>"

    # --- requests -------------------------------------------------------------------------------------------
    def call(
        self,
        cluster: str,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        *,
        adjust: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Send; record `{cluster, request, [params], [body], status, answer}`; return the raw answer body.
        `adjust` changes the normalised answer (for what is inherent to the clusters; say why where it is used)."""
        response = self.clusters[cluster].request(method, path, json=json, params=params)
        body = response.json() if response.content else None
        entry: dict[str, Any] = {"cluster": cluster, "request": f"{method} {self._text(path)}"}
        if params:
            entry["params"] = self.normalise(params)
        if json is not None:
            entry["body"] = self.normalise(json)
        entry["status"] = response.status_code
        answer = self.normalise(body)
        entry["answer"] = adjust(answer) if adjust is not None else answer
        self.entries.append(entry)
        return body

    def render(self) -> list[str]:
        """One JSON text per request, keys in their order: equal lists mean equal transcripts, key order included
        (a dict comparison would ignore it)."""
        return [json.dumps(entry, indent=1) for entry in self.entries]

    def on_exit(self, cleanup: Callable[[], None]) -> None:
        """Run after the scenario, even when it fails half way (not recorded): how the real nodes stay as found."""
        self.cleanups.append(cleanup)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()
