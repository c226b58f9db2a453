"""The real Pulumi CLI on a copy of this project, against the emulators on loopback, with the Kubernetes provider in
render mode. Tests in a module share one stack and run in order, like the life of an environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.emulated_link import EmulatedLink, emulated_link
from tools.engine_stack import EngineStack, make_engine_stack


@pytest.fixture(scope="module")
def engine_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedLink]:
    with emulated_link(tmp_path_factory.mktemp("engine-emulators")) as env:
        yield env


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    return make_engine_stack(tmp_path_factory.mktemp("engine"), engine_env, "test")
