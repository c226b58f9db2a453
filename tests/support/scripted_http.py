"""A stand-in for the `requests` session of an `HttpClient`: scripted answers or failures, in turn, and a record of
what was sent; for the HTTP layer's tests of retries, waits and messages without a server."""

from __future__ import annotations

from typing import Any

import requests


def response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> requests.Response:
    """An answer as `requests` gives it."""
    answer = requests.Response()
    answer.status_code = status
    answer.headers.update(headers or {})
    answer._content = body
    return answer


class Scripted:
    """A session whose requests answer, or fail, in turn; it keeps the method and URL of each, and the keyword
    arguments it was given."""

    def __init__(self, *outcomes: requests.Response | Exception) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[str, str]] = []
        self.arguments: list[dict[str, Any]] = []
        self.verify: bool | str = True
        self.cert: tuple[str, str] | None = None

    @property
    def calls(self) -> int:
        return len(self.sent)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.sent.append((method, url))
        self.arguments.append(kwargs)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
