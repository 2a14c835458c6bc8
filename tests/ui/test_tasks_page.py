"""The Tasks page: a task's case opens from the keyboard as with a double-click."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.services.ui_queries import TaskRow
from desktop.ui.context import AppContext
from desktop.ui.pages import TasksPage


def test_enter_on_a_task_opens_its_case(qtbot: QtBot, ctx: AppContext) -> None:
    """A caseworker going down the list with the arrow keys opens a case with Enter."""
    page = TasksPage(ctx)
    qtbot.addWidget(page)
    rows = [
        TaskRow(
            "case-1",
            "TAK-0001-000001",
            "မြမြ",
            "deadline.file_claim",
            dt.date(2026, 3, 20),
            "due_soon",
        ),
        TaskRow(
            "case-2",
            "TAK-0001-000002",
            "ສຸລິຍະ",
            "deadline.file_claim",
            dt.date(2026, 3, 1),
            "overdue",
        ),
    ]
    page.model.set_rows(rows)
    page.show()
    page.view.setFocus()
    page.view.setCurrentIndex(page.model.index(1, 0))
    with qtbot.waitSignal(page.case_opened, timeout=2000) as opened:
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert opened.args == ["case-2"]
    # a double-click opens it too, once
    seen: list[str] = []
    page.case_opened.connect(seen.append)
    first = page.view.visualRect(page.model.index(0, 1)).center()
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=first)
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=first)
    assert seen == ["case-1"]
