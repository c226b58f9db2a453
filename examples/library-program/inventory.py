"""`Inventory`: the record a platform team publishes for an environment, read from a JSON file when the program is
applied. It stands for the resources a program of your own has: each value it gives is an Output of a resource, unknown
in the preview of a first `up`, as an `ec.Deployment`'s id, a Service's load-balancer address or a Secret read from
the cluster would be.

    {
      "deploymentId": "...", "refId": "main-elasticsearch",
      "remote": {"address": "host:9443", "serverName": "...", "caCertificate": "-----BEGIN...", "url": "https://..."},
      "indexPatterns": ["logs-*"]
    }

The file's digest is an input, so a changed record is an update of this resource and of what uses its values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _values(path: str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(Path(path).read_text())
    return values


class InventoryProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({**news, "digest": _digest(news["path"])}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in ("path", "digest") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changes), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("inventory", {**props, "values": _values(props["path"])})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "values": _values(news["path"])})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {**props, "values": _values(props["path"])})


class Inventory(Resource):
    values: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, *, path: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(InventoryProvider(), name, {"path": path, "digest": None, "values": None}, opts)
