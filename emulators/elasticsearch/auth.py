"""REST authentication: HTTP basic `elastic:<password>`; cross-cluster API keys are refused on the REST API."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from emulators.common import Request

from .errors import EsError

WWW_AUTHENTICATE = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]


def unauthorized(reason: str) -> EsError:
    """401 `security_exception` with the challenge both as a header and in the error body, as ES sends it."""
    return EsError(
        401,
        "security_exception",
        reason,
        headers={"WWW-Authenticate": WWW_AUTHENTICATE[0]},
        extra={"header": {"WWW-Authenticate": WWW_AUTHENTICATE}},
        product=False,
    )


def authenticate(request: Request, password: str, api_key_error: Callable[[str], EsError]) -> None:
    """Raise ES's 401 unless the request carries `elastic:<password>`. `api_key_error(encoded)` explains why an
    `ApiKey` header is refused (the emulator holds cross-cluster keys only)."""
    header = next((v for k, v in request.headers.items() if k.lower() == "authorization"), None)
    missing = f"missing authentication credentials for REST request [{request.path}]"
    if not header:
        raise unauthorized(missing)
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "apikey":
        raise unauthorized(api_key_error(value.strip()).reason)
    if scheme.lower() != "basic":
        raise unauthorized(missing)
    try:
        username, _, given = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized(missing) from None
    if username != "elastic" or given != password:
        raise unauthorized(f"unable to authenticate user [{username}] for REST request [{request.path}]")
