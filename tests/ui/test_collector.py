"""Reference cycles that hold Qt objects are collected on the GUI thread, never a worker's."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

from desktop.ui import collector
from desktop.ui.collector import collect_due, collect_on_gui_thread
from desktop.ui.operations import Operations


@pytest.fixture(autouse=True)
def small_heap() -> Iterator[None]:
    """What earlier tests left is frozen: these tests' full collections walk only their own."""
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture
def low_thresholds() -> Iterator[None]:
    """Collections every few hundred allocations, as a busy worker reaches them."""
    saved = gc.get_threshold()
    gc.set_threshold(200, 2, 2)
    yield
    gc.set_threshold(*saved)


def _cycle_holding_a_qobject(deaths: list[int]) -> None:
    """A QObject owned by Python, reachable only through a cycle once this returns."""
    obj = QObject()
    obj.setObjectName("left in a cycle")
    obj.destroyed.connect(
        lambda: deaths.append(threading.get_ident()), Qt.ConnectionType.DirectConnection
    )
    obj.itself = obj  # type: ignore[attr-defined]


def _allocate_in_a_worker() -> list[list[int]]:
    """Allocations past the thresholds in another thread; what it keeps is returned."""
    kept: list[list[int]] = []

    def churn() -> None:
        for _ in range(50):
            [[] for _ in range(1000)]
        kept.extend([] for _ in range(1000))  # net allocations: the count stays up

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    return kept


def _automatic(enabled: bool) -> Callable[[], None]:
    was = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    return lambda: gc.enable() if was else gc.disable()


@pytest.mark.usefixtures("low_thresholds")
def test_without_it_a_worker_destroys_a_qt_object_it_does_not_own(qtbot: QtBot) -> None:
    """What the app must prevent (the suite once crashed in a reader thread's collection)."""
    restore = _automatic(True)
    try:
        gc.collect()
        deaths: list[int] = []
        _cycle_holding_a_qobject(deaths)
        kept = _allocate_in_a_worker()
    finally:
        restore()
    assert len(kept) == 1000
    gc.collect()
    assert len(deaths) == 1
    assert deaths[0] != threading.get_ident()


@pytest.mark.usefixtures("low_thresholds")
def test_within_it_the_qt_object_dies_on_the_gui_thread(qtbot: QtBot) -> None:
    deaths: list[int] = []
    with collect_on_gui_thread(interval_ms=10):
        _cycle_holding_a_qobject(deaths)
        kept = _allocate_in_a_worker()
        assert len(kept) == 1000
        assert deaths == []  # the worker's allocations collected nothing
        qtbot.waitUntil(lambda: deaths != [], timeout=2000)  # the timer's collection did
    assert deaths == [threading.get_ident()]


@pytest.mark.usefixtures("low_thresholds")
def test_work_run_by_operations_never_collects_on_its_worker(qtbot: QtBot) -> None:
    ops = Operations()
    collected_on: set[int] = set()

    def note(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collected_on.add(threading.get_ident())

    def work() -> int:
        for _ in range(50):
            [[] for _ in range(1000)]
        return 1

    gc.callbacks.append(note)
    try:
        with collect_on_gui_thread(interval_ms=10):
            for _ in range(5):
                ops.run(work)
            qtbot.waitUntil(lambda: not ops.busy, timeout=5000)
            qtbot.wait(30)
    finally:
        gc.callbacks.remove(note)
    assert collected_on == {threading.get_ident()}


def test_leaving_the_block_collects_and_restores_automatic_collection(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "_active", 0)  # as in the app: no block open yet
    restore = _automatic(True)
    try:
        deaths: list[int] = []
        with collect_on_gui_thread():
            assert not gc.isenabled()
            with collect_on_gui_thread():  # an app started inside it
                _cycle_holding_a_qobject(deaths)
            assert not gc.isenabled(), "the outer block still wants it off"
            assert deaths == [threading.get_ident()]
        assert gc.isenabled()
    finally:
        restore()


def test_the_generation_collected_is_the_one_cpython_would_collect() -> None:
    saved = gc.get_threshold()
    restore = _automatic(False)
    try:
        gc.collect()
        gc.set_threshold(10**6, 10, 10)
        assert collect_due() is None  # nothing allocated past the threshold
        gc.set_threshold(1, 10, 10)
        kept = [[] for _ in range(10)]  # allocated and still alive: counted
        assert collect_due() == 0
        for _ in range(11):
            gc.collect(0)
        kept += [[] for _ in range(10)]
        assert collect_due() == 1
        for _ in range(11):
            gc.collect(1)
        kept += [[] for _ in range(10)]
        assert collect_due() == 2
        assert gc.get_count()[2] == 0
    finally:
        gc.set_threshold(*saved)
        restore()
