"""The access of a cross-cluster API key, in one canonical form for requests, state and comparisons.

The rules and the form are in `components/es_rules.py` (shared with the settings parser): the form is the one
`GET /_security/api_key` answers. Desired and live access are both brought to it before they are compared or hashed,
so a `names: "logs-*"` or a `query` object in the program shows no change after a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from ..dynamic import stable_hash
from ..es_rules import access_problems, canonical_access


def canonical(access: Mapping[str, Any] | None) -> dict[str, Any]:
    return canonical_access(access)


def access_hash(access: Mapping[str, Any]) -> str:
    return stable_hash(canonical(access))[:16]


def check_access(access: Any, prop: str = "access") -> list[CheckFailure]:
    """Rules Elasticsearch enforces on create, checked before anything is sent."""
    return [CheckFailure(prop, problem) for problem in access_problems(access, prop)]
