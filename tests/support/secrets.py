"""Looking for secrets in text the user sees: error messages, validation failures, progress and log lines.

A secret is looked for in every form it travels in, and in pieces: a message that cuts a value (a detail shortened
to 80 or 240 characters) still leaks it. So every run of `WINDOW` characters of each form must be absent. Secrets
used with this are at least `WINDOW` characters long and distinctive (no run of them is ordinary text)."""

from __future__ import annotations

import base64
import binascii

WINDOW = 20


def forms(secret: str) -> list[str]:
    """The value; a password as it travels in a Basic `Authorization` header (`elastic:<password>` in base64); the
    secret part of an encoded cross-cluster key (base64 of `id:api_key`: the `api_key`; the id is no secret)."""
    found = [secret, base64.b64encode(f"elastic:{secret}".encode()).decode()]
    try:
        decoded = base64.b64decode(secret, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if ":" in decoded and decoded.isprintable():
        found.append(decoded.split(":", 1)[1])
    return [form for form in found if len(form) >= WINDOW]


def leaks(text: str, *secrets: str) -> list[str]:
    """The pieces of `secrets` found in `text` (empty: none leaked)."""
    found = []
    for secret in secrets:
        assert len(secret) >= WINDOW, f"a secret for these tests must have {WINDOW} characters or more: {secret!r}"
        for form in forms(secret):
            piece = next(
                (form[i : i + WINDOW] for i in range(len(form) - WINDOW + 1) if form[i : i + WINDOW] in text), None
            )
            if piece is not None:
                found.append(piece)
    return found


def assert_hidden(text: str, *secrets: str) -> None:
    leaked = leaks(text, *secrets)
    assert not leaked, f"secret shown ({leaked[0]!r}) in: {text}"
