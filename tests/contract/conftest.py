"""Shared fixtures for the contract tests: the emulated ECE -> local Elasticsearch -> remote Elasticsearch chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.ece.trust import forget_claims
from tools.emulated_link import EmulatedLink, emulated_link


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedLink]:
    with emulated_link(tmp_path_factory.mktemp("emulators")) as link:
        yield link


@pytest.fixture
def env(emulators: EmulatedLink) -> EmulatedLink:
    """The emulators, reset to their fixtures before each test (and the trust claims of the process with them)."""
    emulators.reset()
    forget_claims()
    return emulators
