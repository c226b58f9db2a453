"""Helpers for walking raw config: key paths in errors, unknown keys, PEMs inline or from files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import validation as v
from ..validation import SettingsError
from .keys import ACCEPTED


class Reader:
    """Walks one raw config tree, remembering the key path for error messages."""

    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir

    def text_or_file(self, node: Mapping[str, Any], key: str, inline: str, file: str) -> str | None:
        """A PEM given inline (`inline`) or as a path relative to the project (`file`); not both."""
        if inline in node and file in node:
            raise SettingsError(f"{key}.{file}", node[file], f"give either '{inline}' or '{file}', not both")
        if inline in node:
            return str(v.require_type(f"{key}.{inline}", node[inline], str, "a PEM string"))
        if file in node:
            path_text = v.require_type(f"{key}.{file}", node[file], str, "a file path")
            path = (self.project_dir / path_text).resolve()
            try:
                return str(path.read_text())
            except OSError as error:
                raise SettingsError(f"{key}.{file}", path_text, f"the file cannot be read ({error.strerror})") from None
        return None


def decode(raw: str | None) -> Any:
    """A config value as the engine hands it over: JSON for objects, lists and numbers, plain text otherwise."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def known(key: str, node: Mapping[str, Any], level: str, *, secret: bool = False) -> None:
    """Refuses a key `keys.ACCEPTED[level]` does not list, naming the keys it does."""
    allowed = ACCEPTED[level]
    for unknown in sorted(set(node) - allowed):
        raise SettingsError(
            f"{key}.{unknown}",
            node[unknown],
            "is not a known setting; known: " + ", ".join(sorted(allowed)),
            secret=secret,
        )


def secrets_for(secrets: Mapping[str, Any], cluster: str) -> Mapping[str, Any]:
    clusters = secret_mapping("secrets.eckClusters", secrets.get("eckClusters", {}))
    entry = secret_mapping(f"secrets.eckClusters.{cluster}", clusters.get(cluster, {}))
    known(f"secrets.eckClusters.{cluster}", entry, "secrets.eckClusters.<name>", secret=True)
    return entry


def secret_mapping(key: str, value: Any) -> dict[str, Any]:
    """An object under `secrets`: a wrong value is not shown in the error."""
    return dict(
        v.require_type(key, value, dict, "an object (set with `pulumi config set --secret --path`)", secret=True)
    )
