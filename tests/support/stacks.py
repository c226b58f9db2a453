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


SECRET_PLACEHOLDER = "placeholder-for-a-secret"


def _without_ciphertext(value: Any) -> Any:
    """Encrypted leaves (`{secure: ...}`) become a placeholder: tests do not know the stacks' passphrases."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {key: _without_ciphertext(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(item) for item in value]
    return value


def stack_config(stack: str, project: str = "ece-eck-remote") -> dict[str, Any]:
    """Project config of a stack, keys without the project prefix, secrets replaced by a placeholder."""
    document = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text()) or {}
    result: dict[str, Any] = {}
    for key, value in (document.get("config") or {}).items():
        if key.startswith(f"{project}:"):
            result[key.split(":", 1)[1]] = _without_ciphertext(value)
    return result


def with_operator_secrets(config: dict[str, Any]) -> dict[str, Any]:
    """Secrets that the shared stacks leave to whoever runs them (their CI secret store), as placeholders."""
    secrets = dict(config.get("secrets") or {})
    if config.get("ece") is not None and not secrets.get("ece"):
        secrets["ece"] = {"apiKey": SECRET_PLACEHOLDER}
    return {**config, "secrets": secrets}


def stack_project_dir(tmp: Path) -> Path:
    """A project folder where the files the committed stacks name exist (the local stack's emulator CA)."""
    from tests.support.certs import make_ca

    (tmp / ".local").mkdir(parents=True, exist_ok=True)
    (tmp / ".local" / "remote-ca.pem").write_text(make_ca("local-emulator-ca").certificate_pem)
    (tmp / "certs").mkdir(exist_ok=True)
    (tmp / "certs" / "ece-proxy-ca.pem").write_text(make_ca("ece-proxy-ca").certificate_pem)
    return tmp


def raw_getter(config: dict[str, Any]):  # type: ignore[no-untyped-def]
    return lambda key: (
        None if key not in config else (config[key] if isinstance(config[key], str) else json.dumps(config[key]))
    )
