"""Read the committed stack files the way the Pulumi CLI hands config to the program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"


def stack_names() -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in STACKS.glob("Pulumi.*.yaml"))


def stack_config(stack: str, project: str = "ece-eck-remote") -> dict[str, Any]:
    """Project config of a stack, keys without the project prefix; secure values are left out."""
    document = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text()) or {}
    result: dict[str, Any] = {}
    for key, value in (document.get("config") or {}).items():
        if key.startswith(f"{project}:") and not (isinstance(value, dict) and "secure" in value):
            result[key.split(":", 1)[1]] = value
    return result


def raw_getter(config: dict[str, Any]):  # type: ignore[no-untyped-def]
    return lambda key: (
        None if key not in config else (config[key] if isinstance(config[key], str) else json.dumps(config[key]))
    )
