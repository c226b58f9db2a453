"""API authentication: `Authorization: ApiKey <key>` or HTTP basic (the swagger's two securityDefinitions)."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from emulators.common import Request

DEFAULT_API_KEY = "ece-emulator-api-key"
DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "ece-emulator-password"  # noqa: S105 - a loopback emulator's well-known default


def header(request: Request, name: str) -> str | None:
    """A request header, whatever its case."""
    wanted = name.lower()
    return next((value for key, value in request.headers.items() if key.lower() == wanted), None)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Credentials:
    """What the emulator accepts; a None part disables that scheme."""

    api_key: str | None = DEFAULT_API_KEY
    username: str | None = DEFAULT_USERNAME
    password: str | None = DEFAULT_PASSWORD
    more_api_keys: tuple[str, ...] = ()
    """Further valid API keys (ECE users may hold several; a key is revoked by leaving it out)."""

    def accept(self, request: Request) -> bool:
        scheme, _, credentials = (header(request, "Authorization") or "").strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "apikey":
            valid = [key for key in (self.api_key, *self.more_api_keys) if key]
            return any([_same(credentials, key) for key in valid])  # every key compared: no early exit
        if scheme.lower() == "basic" and self.username and self.password is not None:
            try:
                user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return _same(user, self.username) & _same(password, self.password)
        return False
