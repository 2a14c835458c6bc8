"""The item models pass qtmodeltester; the lazy case model loads pages on demand."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.services.cases import CaseRow
from desktop.ui.case_list import case_columns
from desktop.ui.models import CaseTableModel, Column, RowTableModel


def _row(i: int) -> CaseRow:
    return CaseRow(
        f"id{i}", f"TAK-{i:06d}", f"p{i}", f"Name {i}", "open", "63", dt.date(2026, 1, 1), "", i % 3
    )


def _synchronous(rows: dict[str, CaseRow]) -> tuple[CaseTableModel, list[int]]:
    requested: list[int] = []
    holder: list[CaseTableModel] = []

    def loader(page: int, ids: list[str]) -> None:
        requested.append(page)
        holder[0].page_loaded(page, [rows[i] for i in ids])

    model = CaseTableModel(case_columns(), loader)
    holder.append(model)
    return model, requested


def test_row_table_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = RowTableModel([Column("ui.cases.col.name", lambda r: r)], ["a", "b", "c"])
    qtmodeltester.check(model)
    model.set_rows(["x"])
    qtmodeltester.check(model)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"


def test_case_table_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    rows = {f"id{i}": _row(i) for i in range(250)}
    model, _requested = _synchronous(rows)
    model.set_ids(list(rows))
    qtmodeltester.check(model)


def test_pages_load_only_when_shown() -> None:
    rows = {f"id{i}": _row(i) for i in range(1000)}
    model, requested = _synchronous(rows)
    model.set_ids(list(rows))
    assert requested == []
    assert model.data(model.index(250, 0)) == "TAK-000250"
    assert requested == [2]
    assert model.data(model.index(0, 1)) == "Name 0"
    assert requested == [2, 0]


def test_a_page_for_an_old_result_is_dropped() -> None:
    asked: list[tuple[int, list[str]]] = []
    model = CaseTableModel(case_columns(), lambda page, ids: asked.append((page, ids)))
    model.set_ids(["a", "b"])
    old = model.generation
    assert model.data(model.index(0, 0)) == "…"
    model.set_ids(["c"])
    model.page_loaded(0, [_row(1)], old)
    assert model.row_for(0) is None


def test_the_whole_result_extends_its_first_page_without_a_reset(
    qtmodeltester: ModelTester,
) -> None:
    rows = {f"id{i}": _row(i) for i in range(250)}
    model, requested = _synchronous(rows)
    model.set_ids(list(rows)[:100])
    assert model.data(model.index(0, 1)) == "Name 0"
    resets: list[int] = []
    inserted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.extend_ids(list(rows))
    assert (resets, inserted) == ([], [(100, 249)])
    assert model.rowCount() == 250
    assert model.row_for(0) == rows["id0"]  # the page shown stays loaded: no flicker
    assert model.data(model.index(120, 1)) == "Name 120"
    assert requested == [0, 1]
    qtmodeltester.check(model)


def test_a_short_first_page_is_read_again_after_the_whole_result() -> None:
    rows = {f"id{i}": _row(i) for i in range(150)}
    model, requested = _synchronous(rows)
    model.set_ids(list(rows)[:30])
    model.data(model.index(0, 0))
    model.extend_ids(list(rows))
    assert model.data(model.index(40, 1)) == "Name 40"
    assert requested == [0, 0]


def test_a_whole_result_that_differs_from_its_first_page_replaces_it() -> None:
    rows = {f"id{i}": _row(i) for i in range(150)}
    model, _requested = _synchronous(rows)
    model.set_ids(["id5", "id6"])
    generation = model.generation
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.extend_ids(["id1", "id5", "id6"])  # a case was added between the two reads
    assert resets == [1]
    assert model.generation == generation + 1
    assert model.ids == ["id1", "id5", "id6"]
    model.extend_ids(["id1"])  # shorter: replaced too
    assert model.ids == ["id1"]


def test_rows_read_with_the_ids_need_no_second_trip(qtmodeltester: ModelTester) -> None:
    rows = {f"id{i}": _row(i) for i in range(150)}
    model, requested = _synchronous(rows)
    model.set_ids(list(rows), [rows[f"id{i}"] for i in range(100)])
    assert model.data(model.index(99, 1)) == "Name 99"
    assert requested == []
    assert model.data(model.index(100, 1)) == "Name 100"
    assert requested == [1]
    model.set_ids(list(rows), [])  # rows that do not fill the page are not taken
    assert model.data(model.index(0, 1)) == "Name 0"
    assert requested == [1, 0]
    qtmodeltester.check(model)


def test_cell_texts_follow_the_language(qtbot: QtBot) -> None:
    from desktop.ui.i18n import LanguageSwitch

    rows = {f"id{i}": _row(i) for i in range(3)}
    model, _requested = _synchronous(rows)
    model.set_ids(list(rows))
    language = LanguageSwitch()
    language.set_language("en")
    english = model.data(model.index(0, 2))
    assert model.data(model.index(0, 3)) == "Tak"  # province code 63, by name
    language.set_language("th")
    model.retranslate()
    try:
        assert model.data(model.index(0, 2)) != english
        assert model.data(model.index(0, 3)) == "ตาก"
        assert model.data(model.index(0, 0)) == "TAK-000000"
        assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == "id0"
        assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is None
    finally:
        language.set_language("en")


def test_no_reference_leak_on_none(qtmodeltester: ModelTester) -> None:
    """PySide6 6.12 leaked references to None on Python 3.11: the pin to 6.11 holds."""
    rows = {f"id{i}": _row(i) for i in range(300)}
    model, _ = _synchronous(rows)
    model.set_ids(list(rows))
    read: Callable[[int], Any] = lambda i: model.data(model.index(i % 300, i % 7), 13)  # noqa: E731
    for i in range(500):
        read(i)
        model.data(model.index(i % 300, 0))  # fill the cell-text cache first
    # The garbage collector, run by allocations in the loop, would free other tests'
    # leftovers that hold None and move the count: only PySide's own leak is measured.
    gc.collect()
    was_enabled = gc.isenabled()  # off already under the package's GUI-thread collection
    gc.disable()
    try:
        before = sys.getrefcount(None)
        for i in range(5000):
            read(i)
            model.data(model.index(i % 300, 0))
            model.headerData(i % 7, Qt.Orientation.Horizontal)
        after = sys.getrefcount(None)
    finally:
        if was_enabled:
            gc.enable()
    assert abs(after - before) < 100
