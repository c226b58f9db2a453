"""Check ECE bodies and routes against the official ECE 3.8 swagger (`shared/specs/ece-apidocs.json`).

Bodies are validated as draft-4 JSON Schema against `#/definitions/<Name>`, `$ref`s resolved inside the swagger.
`strict=True` (the default) also rejects properties a definition does not declare, so a misspelt or invented
field fails. Routes are looked up in `paths`, which are relative to `basePath` (`/api/v1`).

One documented relaxation: `KeystoreSecret.value` is declared `type: object` (go-swagger's rendering of an
untyped value) while its description says "This can either be a string or a JSON object"; it accepts both.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from components.ece.client import api_prefix
from tests.support.specs import SPECS

SWAGGER_FILE = SPECS / "ece-apidocs.json"
RELAXED: dict[tuple[str, str], dict[str, Any]] = {
    ("KeystoreSecret", "value"): {"type": ["string", "object"]},
}
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        datetime.datetime.fromisoformat(value)
    return True


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        result = {key: _strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


class EceSwagger:
    """The swagger document, with validators per definition and a route index."""

    def __init__(self, path: Path = SWAGGER_FILE) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.base_path: str = self.document["basePath"]
        definitions = copy.deepcopy(self.document["definitions"])
        for (definition, prop), schema in RELAXED.items():
            definitions[definition]["properties"][prop] = {
                **schema,
                "description": definitions[definition]["properties"][prop].get("description", ""),
            }
        self._definitions = {False: definitions, True: _strict(definitions)}
        self._validators: dict[tuple[str, bool], jsonschema.Draft4Validator] = {}
        self._templates: list[tuple[str, re.Pattern[str]]] = sorted(
            ((template, self._template_regex(template)) for template in self.document["paths"]),
            key=lambda item: (item[0].count("{"), -len(item[0])),
        )

    # --- bodies ---------------------------------------------------------------------------------------------------
    def validator(self, definition: str, *, strict: bool = True) -> jsonschema.Draft4Validator:
        key = (definition, strict)
        if key not in self._validators:
            definitions = self._definitions[strict]
            if definition not in definitions:
                raise KeyError(f"no definition {definition!r} in the swagger")
            schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
            self._validators[key] = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
        return self._validators[key]

    def errors(self, body: Any, definition: str, *, strict: bool = True) -> list[str]:
        """Every way `body` fails `#/definitions/<definition>`, as "path: message" lines."""
        found = sorted(self.validator(definition, strict=strict).iter_errors(body), key=lambda error: list(error.path))
        return [
            f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}" for error in found
        ]

    def validate(self, body: Any, definition: str, *, strict: bool = True) -> None:
        """AssertionError listing the problems when `body` is not a valid `<definition>`."""
        problems = self.errors(body, definition, strict=strict)
        assert not problems, f"not a valid {definition}:\n  " + "\n  ".join(problems[:20])

    # --- routes ---------------------------------------------------------------------------------------------------
    @staticmethod
    def _template_regex(template: str) -> re.Pattern[str]:
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", template):
            if part.startswith("{"):
                name = part[1:-1]
                pattern += "(.+)" if name == "proxy_path" else "([^/]+)"
            else:
                pattern += re.escape(part)
        return re.compile(pattern)

    def relative(self, path: str, *, region_prefix: bool = True) -> str:
        """A request path without basePath, and without `/regions/{region}` where the API takes one: only in front of
        the routes cloud-sdk-go sends to a region (`components.ece.client.api_prefix`). A regioned global route
        (`/regions/x/deployments/...`) is kept as it is, so it matches no swagger path."""
        path = path.split("?", 1)[0]
        if path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        regioned = re.match(r"^/regions/([^/]+)(/.*)$", path)
        if region_prefix and regioned and api_prefix(regioned[2], regioned[1]) != self.base_path:
            path = regioned[2]
        return path

    def template(self, path: str) -> str:
        """The `paths` template a concrete path (absolute or relative to basePath) belongs to."""
        relative = self.relative(path)
        if relative in self.document["paths"]:
            return relative
        for template, regex in self._templates:
            if regex.fullmatch(relative):
                return template
        raise KeyError(f"no swagger path matches {path!r}")

    def operation(self, method: str, path: str) -> dict[str, Any]:
        """The operation object of (method, path template or concrete path)."""
        template = path if path in self.document["paths"] else self.template(path)
        operations = self.document["paths"][template]
        if method.lower() not in operations:
            raise KeyError(f"{method.upper()} {template} is not in the swagger")
        operation: dict[str, Any] = operations[method.lower()]
        return operation

    def has_status(self, method: str, path: str, status: int) -> bool:
        try:
            return str(status) in self.operation(method, path)["responses"]
        except KeyError:
            return False

    def assert_documented(self, method: str, path: str, status: int) -> None:
        operation = self.operation(method, path)
        documented = sorted(operation["responses"])
        assert str(status) in operation["responses"], (
            f"{method.upper()} {self.template(path)} answered {status}; the swagger documents {documented}"
        )

    def response_definition(self, method: str, path: str, status: int) -> str | None:
        """The `#/definitions/X` name of a documented response schema, if any."""
        response = self.operation(method, path)["responses"].get(str(status), {})
        reference = response.get("schema", {}).get("$ref", "")
        return reference.rsplit("/", 1)[-1] or None

    def request_definition(self, method: str, path: str) -> str | None:
        """The `#/definitions/X` name of the body parameter, if any."""
        for parameter in self.operation(method, path).get("parameters", []):
            if parameter.get("in") == "body":
                reference = parameter.get("schema", {}).get("$ref", "")
                return reference.rsplit("/", 1)[-1] or None
        return None


@cache
def swagger() -> EceSwagger:
    """The shared, parsed swagger (parsing it takes a moment: do it once per test session)."""
    return EceSwagger()
