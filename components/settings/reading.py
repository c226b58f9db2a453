"""Helpers for walking raw config: the problems found so far, unknown keys, PEMs inline or from files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .. import validation as v
from ..validation import SettingsError, SettingsErrors, UnknownSettingError
from .keys import ACCEPTED

PEM = "(PEM)"
"""How a certificate is shown in an error: never its text."""

P = ParamSpec("P")
T = TypeVar("T")


class Problems:
    """Every problem of one config, so that all are reported at once.

    Rules raise `SettingsError`; the parser runs each independent part through `value`, which records the error and
    goes on. A part that needs another part checks only when that one parsed (a link to a cluster whose version is
    wrong is not checked against that version), so each mistake is reported once.
    """

    def __init__(self) -> None:
        self.found: list[SettingsError] = []

    def add(self, error: SettingsError) -> None:
        self.found.extend(error.problems)

    def value(self, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """What `parse` returns, or None when it raises a `SettingsError` (recorded)."""
        try:
            return parse(*args, **kwargs)
        except SettingsError as error:
            self.add(error)
            return None

    def mark(self) -> int:
        return len(self.found)

    def since(self, mark: int) -> bool:
        """Whether a problem was found since `mark`."""
        return len(self.found) > mark

    def raise_any(self, order: Sequence[str] = ()) -> None:
        """Raise every problem found, those of the top-level keys in `order` sorted by it (the order of the stack
        file); the others (unknown keys) first."""
        if self.found:

            def position(error: SettingsError) -> int:
                top = re.split(r"[.\[]", error.key, maxsplit=1)[0]
                return order.index(top) if top in order else -1

            raise SettingsErrors(sorted(self.found, key=position))


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


def known(key: str, node: Mapping[str, Any], level: str) -> None:
    """Refuses every key `keys.ACCEPTED[level]` does not list, with the nearest it does (their values are not shown)."""
    unknown = sorted(set(node) - ACCEPTED[level], key=str)
    if unknown:
        raise SettingsErrors(
            [UnknownSettingError(f"{key}.{name}" if key else str(name), ACCEPTED[level]) for name in unknown]
        )


def secrets_for(secrets: Mapping[str, Any], cluster: str) -> Mapping[str, Any]:
    clusters = secret_mapping("secrets.eckClusters", secrets.get("eckClusters", {}))
    entry = secret_mapping(f"secrets.eckClusters.{cluster}", clusters.get(cluster, {}))
    known(f"secrets.eckClusters.{cluster}", entry, "secrets.eckClusters.<name>")
    wrong = [
        SettingsError(f"secrets.eckClusters.{cluster}.{name}", value, "must be a string", secret=True)
        for name, value in entry.items()
        if not isinstance(value, str)
    ]
    if wrong:
        raise SettingsErrors(wrong)
    return entry


def secret_mapping(key: str, value: Any) -> dict[str, Any]:
    """An object under `secrets`: a wrong value is not shown in the error."""
    return dict(
        v.require_type(key, value, dict, "an object (set with `pulumi config set --secret --path`)", secret=True)
    )
