"""Helpers shared by the dynamic providers: the preview sentinel, input checks, stable hashing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown

from . import lifeline, names

# In the dynamic provider process this module is first loaded by the first provider call (the engine's request
# carries the pickled provider, whose class lives in a module that imports this one): from then on, the process
# ends by itself as soon as the engine that started it is gone. Nowhere else (program, tests, tools) does it start.
lifeline.start_in_provider_process()

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""What a dynamic provider receives, in preview, for an input whose value is not known yet."""


def is_unknown(value: Any) -> bool:
    """The preview sentinel string, or (inside secrets and nested values) the SDK's `Unknown` marker."""
    if isinstance(value, Unknown) or value == UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(item) for item in value)
    return False


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """Inputs among `keys` whose new value differs from the old one (an unknown new value counts as a change)."""
    return [key for key in keys if is_unknown(news.get(key)) or _canonical(olds.get(key)) != _canonical(news.get(key))]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=lambda _o: UNKNOWN)


def stable_hash(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def require(news: Mapping[str, Any], keys: Iterable[str]) -> list[CheckFailure]:
    return [CheckFailure(key, f"'{key}' is required") for key in keys if news.get(key) in (None, "")]


def check_alias(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The `alias` input follows the alias rule (one rule for the keystore key and the settings)."""
    alias = news.get("alias")
    if isinstance(alias, str) and not is_unknown(alias) and not names.valid_alias(alias):
        return [CheckFailure("alias", f"'{alias}': {names.ALIAS_RULE}")]
    return []
