"""The `filter_path` query parameter: comma-separated paths with `*` (one name) and `**` (any depth); a leading
`-` excludes. Dotted field names (flat settings) are matched as paths too."""

from __future__ import annotations

import fnmatch
from typing import Any

_MISSING = object()


def apply(body: Any, filter_path: str) -> Any:
    patterns = [p.strip() for p in filter_path.split(",") if p.strip()]
    includes = [p.split(".") for p in patterns if not p.startswith("-")]
    excludes = [p[1:].split(".") for p in patterns if p.startswith("-")]
    result = body
    if includes:
        result = _filter(body, [(p, 0) for p in includes], keep=True)
        result = {} if result is _MISSING else result
    if excludes:
        result = _filter(result, [(p, 0) for p in excludes], keep=False)
        result = {} if result is _MISSING else result
    return result


def _advance(states: list[tuple[list[str], int]], segment: str) -> list[tuple[list[str], int]]:
    advanced: list[tuple[list[str], int]] = []
    for pattern, index in _closure(states):
        if index >= len(pattern):
            continue
        if pattern[index] == "**":
            advanced.append((pattern, index))
        elif fnmatch.fnmatchcase(segment, pattern[index]):
            advanced.append((pattern, index + 1))
    return advanced


def _closure(states: list[tuple[list[str], int]]) -> list[tuple[list[str], int]]:
    """`**` may match no segment at all."""
    result = list(states)
    for pattern, start in states:
        index = start
        while index < len(pattern) and pattern[index] == "**":
            index += 1
            result.append((pattern, index))
    return result


def _complete(states: list[tuple[list[str], int]]) -> bool:
    return any(index >= len(pattern) for pattern, index in _closure(states))


def _filter(node: Any, states: list[tuple[list[str], int]], *, keep: bool) -> Any:
    if isinstance(node, list):
        items = [_filter(item, states, keep=keep) for item in node]
        kept = [item for item in items if item is not _MISSING]
        return kept if kept or not keep else _MISSING
    if not isinstance(node, dict):
        return _MISSING if keep else node
    result: dict[str, Any] = {}
    for key, value in node.items():
        next_states = states
        for segment in key.split("."):
            next_states = _advance(next_states, segment)
        if _complete(next_states):
            if keep:
                result[key] = value
            continue
        if not next_states:
            if not keep:
                result[key] = value
            continue
        filtered = _filter(value, next_states, keep=keep)
        if filtered is not _MISSING:
            result[key] = filtered
    if keep and not result:
        return _MISSING
    return result
