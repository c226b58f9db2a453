"""Elasticsearch's error answer: `{"error":{"root_cause":[{"type","reason"}],"type","reason","caused_by"?},"status"}`."""

from __future__ import annotations

from typing import Any

from emulators.common import Response

PRODUCT_HEADER = {"X-elastic-product": "Elasticsearch"}


class EsError(Exception):
    """One failed request: raised anywhere in a handler, turned into Elasticsearch's error body by the app."""

    def __init__(
        self,
        status: int,
        type_: str,
        reason: str,
        *,
        caused_by: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.type = type_
        self.reason = reason
        self.caused_by = caused_by
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        cause = {"type": self.type, "reason": self.reason, **self.extra}
        error: dict[str, Any] = {"root_cause": [cause], **cause}
        if self.caused_by is not None:
            error["caused_by"] = self.caused_by
        return {"error": error, "status": self.status}

    def response(self) -> Response:
        return Response(self.status, self.body(), {**PRODUCT_HEADER, **self.headers})


def illegal_argument(reason: str, *, caused_by: dict[str, Any] | None = None) -> EsError:
    return EsError(400, "illegal_argument_exception", reason, caused_by=caused_by)


def parse_error(reason: str) -> EsError:
    """`ElasticsearchParseException`: role parsing, time values, a missing body."""
    return EsError(400, "parse_exception", reason)


def x_content(parser: str, message: str, location: str = "[1:2]") -> EsError:
    """`XContentParseException` from an object parser: unknown fields, wrong value types."""
    return EsError(400, "x_content_parse_exception", f"{location} [{parser}] {message}")


def validation(*messages: str) -> EsError:
    """`ActionRequestValidationException`: `Validation Failed: 1: <msg>;2: <msg>;`."""
    numbered = "".join(f"{index}: {message};" for index, message in enumerate(messages, start=1))
    return EsError(400, "action_request_validation_exception", f"Validation Failed: {numbered}")


def not_found(reason: str) -> EsError:
    return EsError(404, "resource_not_found_exception", reason)


def body_required() -> EsError:
    return parse_error("request body is required")
