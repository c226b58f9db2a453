"""Request bodies the way Elasticsearch's object parsers read them: JSON only, unknown fields rejected, value
types checked, with an approximate `[line:column]` location in the messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulators.common import Request

from .errors import EsError, body_required, wrapped, x_content

JSON_MEDIA_TYPES = ("application/json", "application/vnd.elasticsearch+json", "application/x-ndjson")


def token(value: Any) -> str:
    """The Jackson token name ES puts in `doesn't support values of type` messages."""
    if value is None:
        return "VALUE_NULL"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if isinstance(value, int | float):
        return "VALUE_NUMBER"
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, list):
        return "START_ARRAY"
    return "START_OBJECT"


@dataclass
class Body:
    """A parsed JSON body and its text (for locations)."""

    text: str
    data: Any

    def location(self, field: str) -> str:
        index = self.text.find(f'"{field}"')
        if index < 0:
            return "[1:2]"
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return f"[{line}:{column}]"

    def value_location(self, field: str, *, end: bool = False) -> str | None:
        """Where the value of the first `"field"` starts (or, with `end`, the character after the object or array it
        is): the location a parser that stopped there reports (checked on a real 8.19.21 node). None when the field
        is not in the text."""
        index = self.text.find(f'"{field}"')
        if index < 0:
            return None
        index = self.text.index(":", index + len(field) + 2) + 1
        while index < len(self.text) and self.text[index] in " \t\r\n":
            index += 1
        if end:
            depth, in_string, escaped = 0, False, False
            for position in range(index, len(self.text)):
                char = self.text[position]
                if in_string:
                    if escaped:
                        escaped = False
                    elif char == "\\":
                        escaped = True
                    elif char == '"':
                        in_string = False
                elif char == '"':
                    in_string = True
                elif char in "[{":
                    depth += 1
                elif char in "]}":
                    depth -= 1
                    if depth == 0:  # the token after it: where the parser stands once it has read the value
                        index = position + 1
                        break
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return f"[{line}:{column}]"

    def object(self, parser: str) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise x_content(parser, f"Expected START_OBJECT but was: {token(self.data)}", "[1:1]")
        return self.data

    def reject_unknown(self, parser: str, allowed: Iterable[str], data: dict[str, Any] | None = None) -> None:
        known = set(allowed)
        for key in self.data if data is None else data:
            if key not in known:
                raise x_content(parser, f"unknown field [{key}]", self.location(key))

    def expect(self, parser: str, field: str, value: Any, *types: type) -> None:
        """`<field> doesn't support values of type: <TOKEN>` unless `value` is one of `types`."""
        if isinstance(value, bool) and bool not in types:
            raise x_content(parser, f"{field} doesn't support values of type: {token(value)}", self.location(field))
        if not isinstance(value, types):
            raise x_content(parser, f"{field} doesn't support values of type: {token(value)}", self.location(field))


def content_type_error(request: Request) -> EsError | None:
    """ES refuses a body whose Content-Type is missing or not JSON (406)."""
    if not request.body:
        return None
    header = next((value for key, value in request.headers.items() if key.lower() == "content-type"), "")
    media = header.split(";")[0].strip().lower()
    if media in JSON_MEDIA_TYPES:
        return None
    return EsError(406, "media_type_header_exception", f"Content-Type header [{header}] is not supported")


def _header(request: Request, name: str) -> str | None:
    return next((value for key, value in request.headers.items() if key.lower() == name), None)


def _compatible_with(header: str | None) -> tuple[bool, int | None]:
    """(whether ES parses the header as one media type, its `compatible-with` version). A missing header, `*/*` and
    a list (`a, b`) do not parse: ES then takes neither a version nor a media type from it (a real 8.19.21 node
    answers them as `Accept=null`, or plain JSON)."""
    if header is None or "," in header:
        return False, None
    parts = [part.strip() for part in header.split(";")]
    if parts[0] in ("", "*/*"):
        return False, None
    for part in parts[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "compatible-with" and value.strip().isdigit():
            return True, int(value.strip())
    return True, None


def compatible_version_error(request: Request, major: int) -> EsError | None:
    """ES's REST API compatibility check (`RestCompatibleVersionHelper`): a client may ask for the current major or
    the one before with `Accept`/`Content-Type: application/vnd.elasticsearch+json; compatible-with=N`; anything
    else is refused, before the handler runs (after authentication). The official clients send it on every request
    (elasticsearch-py 8.x `compatible-with=8`, 9.x `compatible-with=9`): a real 8.19.21 node refuses the 9.x client
    this way (400; message, wrapping and `Accept=<the header as sent>` checked on it), a 9.x node accepts 9 and 8."""
    accept = _header(request, "accept")
    accept_parsed, accept_version = _compatible_with(accept)
    content_type = _header(request, "content-type")
    content_parsed, content_version = _compatible_with(content_type)
    shown_accept = accept if accept_parsed else None
    shown_content = content_type if content_parsed else None
    acceptable = (major - 1, major)
    wanted_accept = major if accept_version is None else accept_version
    wanted_content = major if content_version is None else content_version
    reason = None
    if wanted_accept not in acceptable:
        reason = (
            f"Accept version must be either version {major} or {major - 1}, but found {wanted_accept}. "
            f"Accept={shown_accept}"
        )
    elif request.body and wanted_content not in acceptable:
        reason = (
            f"Content-Type version must be either version {major} or {major - 1}, but found {wanted_content}. "
            f"Content-Type={shown_content}"
        )
    elif request.body and wanted_content != wanted_accept:
        reason = (
            "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
            "compatible version and the compatible versions must match. "
            f"Accept={shown_accept}, Content-Type={shown_content}"
        )
    elif request.body and (accept_version is None) != (content_version is None):
        reason = (
            "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
            f"compatible version. Accept={shown_accept}, Content-Type={shown_content}"
        )
    if reason is None:
        return None
    return wrapped(
        EsError(400, "media_type_header_exception", "Invalid media-type value on headers [Content-Type, Accept]"),
        EsError(400, "status_exception", reason),
    )


def answer_media_type(request: Request) -> str:
    """The Content-Type of an answer: the vendor type (with the version asked for) when `Accept` asks for it, as a
    real 8.19.21 node does (`application/vnd.elasticsearch+json;compatible-with=8`); else JSON."""
    accept = _header(request, "accept")
    parsed, version = _compatible_with(accept)
    if parsed and accept is not None and accept.split(";")[0].strip().lower() == "application/vnd.elasticsearch+json":
        return "application/vnd.elasticsearch+json" + ("" if version is None else f";compatible-with={version}")
    return "application/json"


def read_body(request: Request, *, required: bool) -> Body | None:
    """The JSON body, None when absent and optional; ES's errors for a missing or malformed one."""
    if not request.body or not request.body.strip():
        if required:
            raise body_required()
        return None
    text = request.body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise EsError(400, "x_content_parse_exception", f"[{error.lineno}:{error.colno}] {error.msg}") from None
    return Body(text, data)
