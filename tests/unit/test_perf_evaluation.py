"""What keeps the program's evaluation linear in the number of links (issue #16): providers pickled at a constant cost,
and no full garbage collection walking every declared resource again and again."""

from __future__ import annotations

import gc
import pickle
from collections.abc import Iterator

import pytest
from pulumi.dynamic import dynamic as sdk_dynamic

from components import registration
from components.dynamic import PICKLER_PATCHED
from components.elasticsearch.roles import RemoteRoleProvider

DYNAMIC_RESOURCES = 1200
"""More dynamic resources than one process could pickle before (about a thousand: the recursion limit)."""


def pickler_layers() -> int:
    """How many sorting wrappers `pickle._Pickler._batch_setitems` goes through before the stock method."""
    layers, method = 0, vars(pickle._Pickler)["_batch_setitems"]
    while method.__closure__:
        inner = [cell.cell_contents for cell in method.__closure__ if callable(cell.cell_contents)]
        if not inner:
            break
        layers, method = layers + 1, inner[0]
    return layers


def test_every_provider_is_pickled_through_one_sorting_layer_the_same_bytes() -> None:
    provider = RemoteRoleProvider()
    provider.state = {"b": 1, "a": [2]}  # type: ignore[attr-defined]  # state: a dict the pickler sorts
    before = {name: vars(pickle._Pickler)[name] for name in PICKLER_PATCHED}
    first = sdk_dynamic.serialize_provider(provider)
    for _ in range(DYNAMIC_RESOURCES):
        last = sdk_dynamic.serialize_provider(provider)
    assert last == first
    assert {name: vars(pickle._Pickler)[name] for name in PICKLER_PATCHED} == before
    assert pickler_layers() == 0


def test_the_sdk_serializer_is_wrapped_once() -> None:
    wrapped = sdk_dynamic.serialize_provider
    assert getattr(wrapped, "restores_pickler", False)
    assert not getattr(wrapped.__wrapped__, "restores_pickler", False)  # type: ignore[attr-defined]


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    try:
        yield saved
    finally:
        gc.set_threshold(*saved)


def test_the_program_makes_full_collections_rarer_and_leaves_young_ones_alone(
    thresholds: tuple[int, int, int],
) -> None:
    gc.set_threshold(700, 10, 10)
    registration.fewer_full_collections()
    assert gc.get_threshold() == (700, 10, registration.GEN1_COLLECTIONS_PER_FULL)


def test_a_rarer_setting_is_kept(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 1000)
    registration.fewer_full_collections()
    assert gc.get_threshold() == (700, 10, 1000)
