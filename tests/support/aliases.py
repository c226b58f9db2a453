"""Aliases over every character the alias rule allows (components/names.py: lowercase letters, digits, `-`, `_`), and
the neighbours an alias must never be confused with.

Every alias-derived name (the keystore key `cluster.remote.<alias>.credentials`, the settings keys
`cluster.remote.<alias>.*`, a role's `clusters`, the check's `_resolve/cluster/<alias>:*`, the trust entry
`ece-eck-remote-<alias>`) is tested with these, not only with plain letters: a name built by stripping, replacing or
matching on a prefix shows only with `-`, `_` or a neighbour that shares a prefix."""

from __future__ import annotations

ALIASES = ("logs-eu_1", "logs-eu", "logs_eu", "0-_9")
"""All four kinds of character, `-` and `_` alone, and digits first."""


def twin(alias: str) -> str:
    """The alias with `-` and `_` swapped (another alias that a name folding one into the other would confuse)."""
    swapped = alias.translate(str.maketrans("-_", "_-"))
    return swapped if swapped != alias else f"{alias}_2"


def neighbours(alias: str) -> tuple[str, ...]:
    """Aliases a name derived from `alias` must leave alone: its twin, and one it is a prefix of."""
    return (twin(alias), f"{alias}_1")
