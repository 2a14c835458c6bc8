"""The Tasks page: a task's case opens from the keyboard as with a double-click."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.ui_queries import TaskRow
from desktop.ui.context import AppContext
from desktop.ui.pages import TasksPage
from tests.ui.conftest import drain


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


def _stored_tasks(store: Store) -> None:
    """A worker whose job ended on 12 February: on 15 March the DOE registration (the
    worker's, 30 days) is overdue, the employer's notice (by the 15th) due soon."""
    person = people.create_person(store, people.PersonInput(names=[people.NameInput("နန်း")]))
    cases.open_case(store, person.person_id)
    ended = employers.EmploymentInput(None, dt.date(2024, 1, 1), dt.date(2026, 2, 12))
    employers.add_employment(store, person.person_id, ended)


def test_the_tasks_are_narrowed_to_the_overdue_or_to_whose_action_they_are(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A caseworker with a long list shows only the overdue, or only what the employer must
    do (to chase), and sees how many of how many are shown; the choices hold across a
    refresh and are in the reader's language."""
    _stored_tasks(store)
    page = TasksPage(ctx)
    qtbot.addWidget(page)
    page.refresh()
    drain(qtbot, ctx)
    everything = [(r.action, r.state, r.actor) for r in page.model.rows]
    assert ("deadline.notify_leaving", "due_soon", "employer") in everything
    assert ("deadline.register_unemployment", "overdue", "worker") in everything
    total = len(everything)
    assert page.count.text() == f"{total} of {total} tasks shown, 1 of them overdue"

    page.actor_filter.setCurrentIndex(page.actor_filter.findData("employer"))
    assert [r.action for r in page.model.rows] == ["deadline.notify_leaving"]
    assert page.count.text() == f"1 of {total} tasks shown, 0 of them overdue"
    page.state_filter.setCurrentIndex(page.state_filter.findData("overdue"))
    assert page.model.rows == []
    page.refresh()  # the choices stay
    drain(qtbot, ctx)
    assert page.model.rows == []
    assert page.actor_filter.currentData() == "employer"

    ctx.language.set_language("th")
    qtbot.wait(10)  # the language change event reaches the page
    assert page.actor_filter.currentText() == "นายจ้าง"
    assert page.state_filter.currentText() == "เลยกำหนด"
    assert page.count.text().startswith("แสดง 0 จาก")


def test_the_tasks_are_narrowed_to_a_province_named_in_the_readers_language(
    qtbot: QtBot, ctx: AppContext
) -> None:
    """A coordinator's list spans provinces: the box offers those of the cases listed (by
    name, in the reader's language) and narrows the list to one."""
    page = TasksPage(ctx)
    qtbot.addWidget(page)

    def task(number: str, province: str) -> TaskRow:
        due, action = dt.date(2026, 3, 1), "deadline.file_claim"
        return TaskRow(number, number, "A", action, due, "overdue", "worker", province)

    page.set_tasks([task("TAK-1", "63"), task("RNG-1", "85"), task("TAK-2", "63"), task("X-1", "")])
    offered = [page.province_filter.itemData(i) for i in range(page.province_filter.count())]
    assert offered == ["", "85", "63"]  # all, then Ranong before Tak
    assert page.province_filter.itemText(2) == "Tak"
    page.province_filter.setCurrentIndex(page.province_filter.findData("63"))
    assert [r.case_number for r in page.model.rows] == ["TAK-1", "TAK-2"]
    assert page.count.text() == "2 of 4 tasks shown, 2 of them overdue"
    ctx.language.set_language("th")
    qtbot.wait(10)
    assert page.province_filter.currentText() == "ตาก"
    assert [r.case_number for r in page.model.rows] == ["TAK-1", "TAK-2"]
