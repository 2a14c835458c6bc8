"""One-line editors take no more than the detail they fill in holds, and say so when cut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QToolTip
from pytestqt.qtbot import QtBot

from desktop.ui.context import AppContext
from desktop.ui.limits import limit_to


def _edit(qtbot: QtBot, entity: str, field: str) -> QLineEdit:
    edit = limit_to(QLineEdit(), entity, field)
    qtbot.addWidget(edit)
    edit.show()
    return edit


def test_a_paste_longer_than_the_detail_holds_is_cut_there_and_the_cut_is_said(
    qtbot: QtBot, ctx: AppContext
) -> None:
    edit = _edit(qtbot, "person", "phone")
    QGuiApplication.clipboard().setText("0812345678 " * 5)  # 55 characters
    qtbot.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert edit.text() == ("0812345678 " * 5)[:40]
    assert QToolTip.text() == "At most 40 characters fit here."
    ctx.language.set_language("th")
    qtbot.keyClick(edit, "9")  # full: a key typed is refused too, and said in Thai
    assert len(edit.text()) == 40
    assert QToolTip.text() == "ช่องนี้ใส่ได้ไม่เกิน 40 ตัวอักษร"


def test_exactly_the_limit_fits_in_any_script(qtbot: QtBot, ctx: AppContext) -> None:
    """Thai, Burmese, Khmer and Lao marks count one each in Qt as on the server."""
    edit = _edit(qtbot, "person_name", "full_name")
    name = "ကို" * 66 + "မ" * 2  # 200 code points
    edit.insert(name)
    assert edit.text() == name


def test_a_detail_without_a_limit_leaves_the_editor_as_it_was(qtbot: QtBot) -> None:
    edit = _edit(qtbot, "step", "data")
    assert edit.maxLength() == QLineEdit().maxLength()


def test_a_value_cut_when_filled_in_from_a_draft_says_so_under_the_editors(
    qtbot: QtBot, ctx: AppContext
) -> None:
    """A wizard draft saved before the limit held a longer employer name: loaded, it is cut
    to what the detail holds, and the step's issue line says so (a tip would be gone
    before the page is seen)."""
    from desktop.ui.step_fields import StepFields
    from desktop.ui.workflow_specs import FieldSpec, StepSpec

    field = FieldSpec("employer_name", maps="employer.name")
    fields = StepFields(StepSpec("employer", (field,)))
    qtbot.addWidget(fields)
    fields.set_raw("employer_name", "ห้างหุ้นส่วน " + "ก" * 300)
    edit = fields.editors["employer_name"]
    assert isinstance(edit, QLineEdit)
    assert len(edit.text()) == edit.maxLength() < 300
    [cut] = fields.issues
    assert (cut.code, cut.field, cut.severity.value) == (
        "ui.limit.full",
        "employer_name",
        "warning",
    )
    assert f"At most {edit.maxLength()} characters fit here." in fields.issues_label.text()
