"""tune_gc: thresholds raised, start-up frozen, cycles still collected; state restored."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from desktop.domain.gc_tuning import THRESHOLDS, tune_gc


class Node:
    """A weak-referenceable object to build reference cycles with."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    """Give the collector back as found: thresholds, and nothing left frozen."""
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0, "another test left objects frozen"
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _tracked(obj: object) -> bool:
    """Whether the collector's generations (not the permanent one) hold ``obj``."""
    return any(o is obj for o in gc.get_objects())


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_the_thresholds_are_raised() -> None:
    tune_gc()
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700  # far fewer young collections than CPython's default


def test_what_exists_is_frozen_and_what_comes_later_is_not() -> None:
    before = [Node()]
    assert _tracked(before)
    frozen = tune_gc()
    assert frozen == gc.get_freeze_count() > 0
    assert not _tracked(before)
    after = [Node()]
    assert _tracked(after)


def test_cycles_made_after_tuning_are_still_collected() -> None:
    tune_gc()
    dead = _cycle()
    assert dead() is not None  # only a collection can free a cycle
    gc.collect()
    assert dead() is None


def test_young_garbage_is_collected_rather_than_frozen() -> None:
    dead = _cycle()
    tune_gc()
    assert dead() is None


def test_other_thresholds_can_be_given() -> None:
    tune_gc((1000, 5, 50))
    assert gc.get_threshold() == (1000, 5, 50)


@pytest.mark.parametrize("thresholds", [(0, 20, 100), (50_000, -1, 100), (50_000, 20)])
def test_thresholds_that_would_disable_collection_are_refused(
    thresholds: tuple[int, int, int],
) -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="three positive thresholds"):
        tune_gc(thresholds)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
