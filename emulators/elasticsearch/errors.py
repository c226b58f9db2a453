"""Elasticsearch's error answer: `{"error":{"root_cause":[{"type","reason"}],"type","reason","caused_by"?},"status"}`."""

from __future__ import annotations

from typing import Any

from emulators.common import Response

PRODUCT_HEADER = {"X-elastic-product": "Elasticsearch"}
# Error types that are ElasticsearchExceptions (not plain Java exceptions): the ones `root_cause` unwraps to.
ELASTICSEARCH_EXCEPTIONS = frozenset(
    {"parse_exception", "security_exception", "no_such_remote_cluster_exception", "resource_not_found_exception"}
)


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
        root_cause: dict[str, Any] | None = None,
        product: bool = True,
    ) -> None:
        """`product=False`: sent without `X-elastic-product`, as a real 8.19.21 node sends the failures of
        authentication (401) and of authorization (403): security rejects them outside the REST dispatch that adds
        the header (checked there; every other error carries it)."""
        super().__init__(reason)
        self.status = status
        self.type = type_
        self.reason = reason
        self.caused_by = caused_by
        self.headers = headers or {}
        self.extra = extra or {}
        self.root_cause = root_cause  # None: this error itself
        self.product = product

    def body(self) -> dict[str, Any]:
        cause = {"type": self.type, "reason": self.reason, **self.extra}
        error: dict[str, Any] = {"root_cause": [self.root_cause or cause], **cause}
        if self.caused_by is not None:
            error["caused_by"] = self.caused_by
        return {"error": error, "status": self.status}

    def response(self) -> Response:
        return Response(self.status, self.body(), {**(PRODUCT_HEADER if self.product else {}), **self.headers})


def illegal_argument(reason: str, *, caused_by: dict[str, Any] | None = None) -> EsError:
    return EsError(400, "illegal_argument_exception", reason, caused_by=caused_by)


def parse_error(reason: str) -> EsError:
    """`ElasticsearchParseException`: role parsing, time values, a missing body."""
    return EsError(400, "parse_exception", reason)


def x_content(parser: str, message: str, location: str = "[1:2]") -> EsError:
    """`XContentParseException` from an object parser: unknown fields, wrong value types."""
    return EsError(400, "x_content_parse_exception", f"{location} [{parser}] {message}")


def wrapped(outer: EsError, inner: EsError) -> EsError:
    """`outer` caused by `inner`. The `root_cause` ES reports is the deepest ElasticsearchException of the chain:
    an inner `parse_exception` (or one already wrapped) becomes it, an inner `illegal_argument_exception` (a plain
    Java exception) does not, and the outer error stays the root. Both checked on a real 8.19.21 node."""
    cause = {"type": inner.type, "reason": inner.reason, **inner.extra}
    if inner.caused_by is not None:
        cause["caused_by"] = inner.caused_by
    root = inner.root_cause
    if root is None and inner.type in ELASTICSEARCH_EXCEPTIONS:
        root = {"type": inner.type, "reason": inner.reason, **inner.extra}
    return EsError(
        outer.status,
        outer.type,
        outer.reason,
        caused_by=cause,
        root_cause=root,
        headers=outer.headers,
        product=outer.product,
    )


def validation(*messages: str) -> EsError:
    """`ActionRequestValidationException`: `Validation Failed: 1: <msg>;2: <msg>;`."""
    numbered = "".join(f"{index}: {message};" for index, message in enumerate(messages, start=1))
    return EsError(400, "action_request_validation_exception", f"Validation Failed: {numbered}")


def not_found(reason: str) -> EsError:
    return EsError(404, "resource_not_found_exception", reason)


def body_required() -> EsError:
    return parse_error("request body is required")
