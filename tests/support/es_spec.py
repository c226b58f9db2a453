"""Elasticsearch's rest-api-spec and request/response examples (`shared/specs/elasticsearch/`), for contract tests.

(a) `check_request(method, url, params)`: the route is one of a spec's `url.paths` with that method (path parts
    such as `{id}` matched) and every query parameter is one of the spec's `params` (or a common one).
(b) `examples(api, kind)`: the example YAMLs, with `method_request` split into method, path and query and the
    JSON `value` parsed (the examples use `//` comments); `shape_problems(expected, actual)` compares shapes.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import yaml

from tests.support.specs import SPECS

SPEC_DIR = Path(os.environ.get("ES_SPEC_DIR") or SPECS / "elasticsearch")
# rest-api-spec `_common.json`: accepted by every API.
COMMON_PARAMS = frozenset({"pretty", "human", "error_trace", "source", "filter_path"})


@dataclass(frozen=True)
class SpecPath:
    template: str
    methods: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class SpecApi:
    name: str
    paths: tuple[SpecPath, ...]
    params: Mapping[str, Any]
    body: Mapping[str, Any] | None

    def param_names(self) -> frozenset[str]:
        return frozenset(self.params) | COMMON_PARAMS


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


@functools.cache
def apis() -> dict[str, SpecApi]:
    found: dict[str, SpecApi] = {}
    for file in sorted((SPEC_DIR / "rest-api-spec").glob("*.json")):
        for name, spec in json.loads(file.read_text()).items():
            paths = tuple(
                SpecPath(entry["path"], tuple(entry["methods"]), _path_pattern(entry["path"]))
                for entry in spec["url"]["paths"]
            )
            found[name] = SpecApi(name, paths, spec.get("params", {}), spec.get("body"))
    return found


def find_api(method: str, path: str) -> SpecApi | None:
    """The spec API serving `method path` (a path without query string), if any."""
    for api in apis().values():
        for spec_path in api.paths:
            if spec_path.pattern.fullmatch(path) and method.upper() in spec_path.methods:
                return api
    return None


def check_request(method: str, url: str, params: Mapping[str, Any] | None = None) -> SpecApi:
    """Assert that the request is one the spec defines; returns its API."""
    parts = urlsplit(url)
    path = parts.path or "/"
    api = find_api(method, path)
    if api is None:
        known = [f"{m} {p.template}" for a in apis().values() for p in a.paths for m in p.methods]
        raise AssertionError(f"{method} {path} is not in the rest-api-spec; known routes: {known}")
    names = set(parse_qs(parts.query, keep_blank_values=True)) | set(params or {})
    unknown = sorted(names - api.param_names())
    if unknown:
        raise AssertionError(
            f"{api.name}: query parameters {unknown} are not in the spec's params {sorted(api.params)}"
        )
    return api


# --- examples ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    api: str
    kind: str  # "request" or "response"
    name: str
    method: str | None
    path: str | None
    query: dict[str, str]
    body: Any
    raw: Mapping[str, Any] = field(repr=False)


def strip_json_comments(text: str) -> str:
    """Drop `// ...` comments that sit outside JSON strings."""
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", index):
            while index < len(text) and text[index] != "\n":
                index += 1
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _example(api: str, kind: str, file: Path) -> Example:
    raw = yaml.safe_load(file.read_text()) or {}
    method = path = None
    query: dict[str, str] = {}
    if raw.get("method_request"):
        method, _, target = str(raw["method_request"]).partition(" ")
        parts = urlsplit(target.strip() if target.strip().startswith("/") else "/" + target.strip())
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    value = raw.get("value")
    body = json.loads(strip_json_comments(value)) if isinstance(value, str) and value.strip() else value
    return Example(api, kind, file.stem, method, path, query, body, raw)


@functools.cache
def _all_examples() -> tuple[Example, ...]:
    found = []
    for directory in sorted((SPEC_DIR / "examples").iterdir()):
        for kind in ("request", "response"):
            for file in sorted((directory / kind).glob("*.yaml")):
                found.append(_example(directory.name, kind, file))
    return tuple(found)


def examples(api: str | None = None, kind: str | None = None) -> list[Example]:
    return [e for e in _all_examples() if (api is None or e.api == api) and (kind is None or e.kind == kind)]


def example(api: str, name: str) -> Example:
    for candidate in examples(api):
        if candidate.name == name:
            return candidate
    raise KeyError(f"no example {name} for {api}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape_problems(
    expected: Any, actual: Any, *, keyed_by_id: Iterable[str] = (), ignore: Iterable[str] = (), at: str = "$"
) -> list[str]:
    """Every field of `expected` is in `actual` with the same JSON type, recursively (arrays: first items).
    `keyed_by_id`: paths of objects whose keys are ids (node ids, role names): each actual value is compared to
    the first expected value. `ignore`: paths left out (fields a response documents only in some cases)."""
    keyed, ignored = set(keyed_by_id), set(ignore)
    if at in ignored:
        return []
    if _json_type(expected) != _json_type(actual):
        return [f"{at}: expected {_json_type(expected)}, got {_json_type(actual)}"]
    problems: list[str] = []
    if isinstance(expected, dict):
        if at in keyed:
            if expected and actual:
                sample = next(iter(expected.values()))
                for value in actual.values():
                    problems += shape_problems(sample, value, keyed_by_id=keyed, ignore=ignored, at=f"{at}.*")
            return problems
        for key, value in expected.items():
            if f"{at}.{key}" in ignored:
                continue
            if key not in actual:
                problems.append(f"{at}.{key}: missing")
                continue
            problems += shape_problems(value, actual[key], keyed_by_id=keyed, ignore=ignored, at=f"{at}.{key}")
    elif isinstance(expected, list) and expected and actual:
        problems += shape_problems(expected[0], actual[0], keyed_by_id=keyed, ignore=ignored, at=f"{at}[]")
    return problems


# --- a session that checks every request it sends ------------------------------------------------------------
class SpecCheckedSession(requests.Session):
    """A `requests.Session` on one base URL that checks each API request against the spec before sending it
    (unless its `METHOD /template` is in `unspecified`), and records which spec APIs were called."""

    def __init__(self, base_url: str, *, auth: tuple[str, str] | None, unspecified: Iterable[str] = ()) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.unspecified = [
            (method, _path_pattern(template)) for method, _, template in (entry.partition(" ") for entry in unspecified)
        ]
        self.called: set[str] = set()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        method, url = str(method), str(url)
        path = urlsplit(url).path
        checked = not path.startswith("/_emulator/")
        if checked and not any(m == method.upper() and p.fullmatch(path) for m, p in self.unspecified):
            self.called.add(check_request(method, url, kwargs.get("params")).name)
        return super().request(method, self.base_url + url if url.startswith("/") else url, *args, **kwargs)
