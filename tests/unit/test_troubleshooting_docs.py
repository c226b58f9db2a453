"""The README's Troubleshooting section quotes what users really see: every message in the first column of its table
still occurs in the code that prints it, so the docs cannot drift from the messages.

A quote is checked in pieces: `<…>` and `…` stand for what varies (an f-string's `{…}`), and every piece between them
must occur in one string literal of the code (adjacent literals joined, as Python joins them; an f-string's reference
to a module-level string constant resolved). Messages from components/ and the CI example's check are looked up in
their source; a row marked "Pulumi's message" quotes the CLI, and is looked up in the tests that run the real CLI and
assert that message.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOLE = "\x00"
PLACEHOLDER = re.compile(r"<[^<>`]*>|…")
PULUMI_MARK = "Pulumi's message"


def troubleshooting_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Troubleshooting\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def quoted_messages() -> list[tuple[str, bool]]:
    """(message, from Pulumi) for every backticked quote in the first column of the section's table."""
    found: list[tuple[str, bool]] = []
    for line in troubleshooting_section().splitlines():
        if not line.startswith("|"):
            continue
        first = line.strip().strip("|").split("|")[0].strip()
        if first in ("message", "you see") or set(first) <= {"-", " ", ":"}:
            continue
        found.extend((quote, PULUMI_MARK in first) for quote in re.findall(r"`([^`]+)`", first))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _render(node: ast.expr, constants: dict[str, ast.expr], depth: int = 0) -> str:
    """A string expression as text, with HOLE where a value goes in at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_render(value, constants, depth) for value in node.values)
    if isinstance(node, ast.FormattedValue):
        inner = node.value
        if isinstance(inner, ast.Name) and inner.id in constants and depth < 3:
            return _render(constants[inner.id], constants, depth + 1)
        return HOLE
    return HOLE


def literal_pieces(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _docstrings(tree)
    constants = {
        statement.targets[0].id: statement.value
        for statement in getattr(tree, "body", [])
        if isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(statement.value, ast.Constant | ast.JoinedStr)
    }
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            yield from _render(node, constants).split(HOLE)


@cache
def pieces(*folders: str) -> tuple[str, ...]:
    return tuple(
        piece for folder in folders for path in sorted((ROOT / folder).rglob("*.py")) for piece in literal_pieces(path)
    )


def missing_fragments(quote: str, found_in: tuple[str, ...]) -> list[str]:
    fragments = [fragment for fragment in PLACEHOLDER.split(quote) if fragment]
    assert max((len(f) for f in fragments), default=0) >= 12, f"{quote!r} quotes too little to be checked"
    return [fragment for fragment in fragments if not any(fragment in piece for piece in found_in)]


def test_the_section_quotes_messages() -> None:
    messages = quoted_messages()
    assert len(messages) >= 15 and any(pulumi for _, pulumi in messages)


@pytest.mark.parametrize(("quote", "from_pulumi"), quoted_messages(), ids=lambda value: str(value)[:40])
def test_every_quoted_message_still_occurs_where_it_is_printed(quote: str, from_pulumi: bool) -> None:
    where = ("tests",) if from_pulumi else ("components", "examples")
    missing = missing_fragments(quote, pieces(*where))
    assert not missing, f"the Troubleshooting quote {quote!r} no longer matches {'/, '.join(where)}/: {missing}"


def test_the_check_finds_a_drifted_quote() -> None:
    assert missing_fragments("CA: the deployment does not trust the remote's CA", pieces("components")) == []
    assert missing_fragments("CA: the deployment does not trust the remote CA at all", pieces("components")) == [
        "CA: the deployment does not trust the remote CA at all"
    ]
    # A constant named in an f-string is resolved: the licence remedy's feature name reads as users see it.
    assert missing_fragments("(Elasticsearch feature [advanced-remote-cluster-security])", pieces("components")) == []
