"""Run program code under Pulumi mocks, one fresh event loop per run, and record every registration."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT = "ece-eck-remote"


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    custom: bool | None
    provider: str | None
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    urn: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()
    """The parent URN of each alias spec, or each alias URN (whichever the SDK sends the mock monitor)."""


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Also records each registration's parent, dependencies and additional secret outputs."""

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        mocks = self.mocks
        if isinstance(mocks, RecordingMocks) and request.type != "pulumi:pulumi:Stack":
            record = next(r for r in mocks.registered if r.typ == request.type and r.name == request.name and not r.urn)
            record.parent = request.parent
            record.dependencies = tuple(request.dependencies)
            record.additional_secret_outputs = tuple(request.additionalSecretOutputs)
            record.urn = response.urn
            record.protect = bool(request.protect)
            record.retain_on_delete = bool(request.retainOnDelete)
            record.aliases = (
                *(alias.spec.parentUrn for alias in request.aliases if alias.HasField("spec")),
                *request.aliasURNs,
            )
        return response


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs as outputs, merged with `outputs(args)` for resources whose outputs a test supplies."""

    outputs: Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]] = lambda _args: {}
    registered: list[Registered] = field(default_factory=list)
    calls: list[pulumi.runtime.MockCallArgs] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(Registered(args.typ, args.name, dict(args.inputs), args.custom, args.provider))
        state = {**args.inputs, **self.outputs(args)}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        return {}, None

    def by_type(self, typ: str) -> list[Registered]:
        return [r for r in self.registered if r.typ == typ]

    def named(self, name: str) -> Registered:
        found = [r for r in self.registered if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def one(self, typ: str) -> Registered:
        found = self.by_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
        return found[0]


@dataclass(frozen=True)
class Resolved:
    value: Any
    known: bool
    secret: bool


def config_map(values: dict[str, Any], project: str = PROJECT) -> dict[str, str]:
    return {f"{project}:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def run_under_mocks(
    build: Callable[[], Any],
    mocks: RecordingMocks,
    *,
    config: dict[str, Any] | None = None,
    secret_keys: tuple[str, ...] = ("secrets",),
    preview: bool = False,
    stack: str = "test",
    record_details: bool = True,
) -> Any:
    """Run `build` as a Pulumi program and return what it returned (Outputs left for `resolve`)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    reset_options(project=PROJECT, stack=stack, preview=preview)
    set_all_config(config_map(config or {}), [f"{PROJECT}:{key}" for key in secret_keys])
    monitor = RecordingMonitor(mocks) if record_details else pulumi_mocks.MockMonitor(mocks)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    holder: dict[str, Any] = {}

    def body() -> None:
        holder["result"] = build()

    _sync_await(run_pulumi_func(body))
    return holder.get("result")


def resolve(output: Any) -> Resolved:
    """Value, knownness and secrecy of an Output (or plain value) after `run_under_mocks`."""
    out = pulumi.Output.from_input(output)
    return Resolved(_sync_await(out.future()), bool(_sync_await(out.is_known())), bool(_sync_await(out.is_secret())))


SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"


def unwrap_secret(value: Any) -> tuple[Any, bool]:
    """(plain value, True) for an input the SDK sent as a secret; (value, False) otherwise."""
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        return value["value"], True
    return value, False
