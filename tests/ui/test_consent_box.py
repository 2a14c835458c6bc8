"""The case file's Consent box (desktop/ui/consent_box.py): a consent recorded from the
Person tab is listed with its current state; the selected one withdrawn after a
confirmation and kept in the history; a bad day refused with nothing written; every text
in the reader's language, dates in the Buddhist Era in Thai."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.domain import i18n
from desktop.models.entities import OutboxEntry
from desktop.models.store import Store
from desktop.services import cases, consent, people, ui_wizards
from desktop.ui.case_file import CaseFileView
from desktop.ui.consent_box import ConsentBox
from desktop.ui.context import AppContext
from tests.fakes import FakeDialogs
from tests.ui.conftest import TODAY, drain, open_case_file, untranslated


def _case(store: Store) -> str:
    person = people.PersonInput(names=[people.NameInput("សុខ ចាន់ធី")], nationality="KHM")
    return ui_wizards.create_case(store, person)


def _open(qtbot: QtBot, ctx: AppContext, case_id: str) -> CaseFileView:
    view: CaseFileView = open_case_file(qtbot, ctx, case_id)
    assert view.consent_box.isVisible()
    return view


def _choose(box: ConsentBox, scope: str, answer: str, method: str, day: str = "") -> None:
    box.scope.setCurrentIndex(box.scope.findData(scope))
    box.answer.setCurrentIndex(box.answer.findData(answer))
    box.method.setCurrentIndex(box.method.findData(method))
    box.given_on.clear()
    box.given_on.setText(day)


def _click(qtbot: QtBot, view: CaseFileView, button: QPushButton) -> None:
    """Click, and wait for the case file to be read again after the write."""
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _cells(box: ConsentBox) -> list[list[str]]:
    model = box.model
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def _queued(store: Store) -> list[tuple[str, str]]:
    with store.read() as session:
        return [(e.entity, e.field) for e in session.scalars(select(OutboxEntry))]


def test_a_recorded_consent_is_listed_with_its_state_and_sent(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    store.set_setting("user", "ann")
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box
    assert box.model.rowCount() == 0
    assert box.current.text().count("Not asked yet") == len(consent.SCOPES)
    before = len(_queued(store))

    _choose(box, "data_processing", "given", "thumbprint", "01/03/2026")
    _click(qtbot, view, box.record_button)
    _choose(box, "photos", "refused", "verbal")  # empty: today
    _click(qtbot, view, box.record_button)

    assert _cells(box) == [
        ["Photos", "Refused", "Verbal", "15/03/2026", "ann", ""],
        ["Processing of personal data", "Given", "Thumbprint", "01/03/2026", "ann", ""],
    ]
    shown = box.current.text()
    assert "Given (Thumbprint, 01/03/2026)" in shown
    assert "Refused (Verbal, 15/03/2026)" in shown
    assert shown.count("Not asked yet") == 1  # sharing with the SSO
    assert _queued(store)[before:].count(("consent", "*")) == 2
    assert box.given_on.text() == ""
    assert not box.withdraw_button.isEnabled()  # nothing selected


def test_the_selected_consent_is_withdrawn_after_a_confirmation_and_kept(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    case_id = _case(store)
    person = cases.get_case_file(store, case_id).person.id
    made = consent.record_consent(
        store,
        person,
        consent.ConsentInput("share_with_sso", True, "signed", dt.date(2026, 1, 5)),
        today=TODAY,
    )
    consent.record_consent(
        store, person, consent.ConsentInput("photos", False, "verbal"), today=TODAY
    )
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box

    box.table.selectRow(0)  # the refusal: nothing to withdraw
    assert not box.withdraw_button.isEnabled()
    box.table.selectRow(1)
    assert box.withdraw_button.isEnabled()
    dialogs.confirm_answer = False
    qtbot.mouseClick(box.withdraw_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert dialogs.questions == [
        'Withdraw the consent to "Sharing with the Social Security Office" given on '
        "05/01/2026, as of 15/03/2026? It stays in the history with the day it was withdrawn."
    ]
    assert cases.get_case_file(store, case_id).consents[1].withdrawn_on is None

    dialogs.confirm_answer = True
    _click(qtbot, view, box.withdraw_button)

    withdrawn = next(c for c in cases.get_case_file(store, case_id).consents if c.id == made)
    assert withdrawn.withdrawn_on == TODAY
    assert [row[5] for row in _cells(box)] == ["", "15/03/2026"]  # still listed
    assert "Withdrawn on 15/03/2026" in box.current.text()
    assert dialogs.errors == []
    box.table.selectRow(1)
    assert not box.withdraw_button.isEnabled()  # already withdrawn

    _choose(box, "share_with_sso", "given", "signed")  # given again: a new row
    _click(qtbot, view, box.record_button)
    assert [row[1] for row in _cells(box)] == ["Given", "Refused", "Given"]
    assert "Given (Signed, 15/03/2026)" in box.current.text()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("16/03/2026", "Date: This date is in the future."),
        ("01/03/2569", "Date: 2569 looks like a Buddhist Era year. Did you mean 2026?"),
        ("2026", "Date: Write the date as DD/MM/YYYY or YYYY-MM-DD."),
    ],
)
def test_a_bad_day_is_refused_in_the_box_and_nothing_is_written(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    dialogs: FakeDialogs,
    typed: str,
    message: str,
) -> None:
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box
    queued = _queued(store)
    _choose(box, "data_processing", "given", "signed", typed)

    qtbot.mouseClick(box.record_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)

    assert box.issues.text() == message
    assert box.given_on.text() == typed  # kept, to be mended
    assert _queued(store) == queued
    assert cases.get_case_file(store, case_id).consents == ()
    assert dialogs.errors == []


def test_a_consent_is_withdrawn_as_of_the_day_typed(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """The worker withdrew it at the last visit, recorded today: the day is typed in the
    date field; a day in the future or before the consent was given is refused."""
    case_id = _case(store)
    person = cases.get_case_file(store, case_id).person.id
    made = consent.record_consent(
        store,
        person,
        consent.ConsentInput("photos", True, "signed", dt.date(2026, 2, 1)),
        today=TODAY,
    )
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box
    box.table.selectRow(0)
    queued = _queued(store)

    box.given_on.setText("16/03/2026")
    qtbot.mouseClick(box.withdraw_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert box.issues.text() == "Date: This date is in the future."
    assert dialogs.questions == []  # not even asked
    assert _queued(store) == queued

    box.given_on.setText("31/01/2026")  # before it was given: the service refuses it
    qtbot.mouseClick(box.withdraw_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert dialogs.errors == [
        "Some fields are not valid; nothing was saved.\n"
        "A consent cannot be withdrawn before the day it was given."
    ]
    assert _queued(store) == queued

    box.given_on.setText("01/03/2026")
    box.table.selectRow(0)
    _click(qtbot, view, box.withdraw_button)
    assert dialogs.questions[-1].endswith(
        "given on 01/02/2026, as of 01/03/2026? It stays in the history with the day it "
        "was withdrawn."
    )
    withdrawn = next(c for c in cases.get_case_file(store, case_id).consents if c.id == made)
    assert withdrawn.withdrawn_on == dt.date(2026, 3, 1)
    assert box.given_on.text() == ""  # done: the field is cleared for the next one
    assert box.issues.text() == ""


def test_a_refusal_by_the_service_is_shown_and_the_box_kept(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """A colleague's withdrawal synced in after the case file was read: withdrawing it
    again is refused by the service, and said so."""
    case_id = _case(store)
    person = cases.get_case_file(store, case_id).person.id
    made = consent.record_consent(
        store, person, consent.ConsentInput("photos", True, "signed"), today=TODAY
    )
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box
    consent.withdraw_consent(store, made, today=TODAY)  # behind the open case file's back
    box.table.selectRow(0)
    qtbot.mouseClick(box.withdraw_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert dialogs.errors == [i18n.text("error.consent_already_withdrawn", "en")]


def test_the_box_speaks_the_chosen_language_with_buddhist_era_dates_in_thai(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store)
    person = cases.get_case_file(store, case_id).person.id
    consent.record_consent(
        store, person, consent.ConsentInput("data_processing", True, "signed"), today=TODAY
    )
    view = _open(qtbot, ctx, case_id)
    box = view.consent_box
    box.given_on.setText("2027-01-01")
    qtbot.mouseClick(box.record_button, Qt.MouseButton.LeftButton)
    model = box.model
    for lang in i18n.LANGUAGES:
        ctx.language.set_language(lang)
        qtbot.wait(10)
        shown = [
            box.title(),
            box.record_button.text(),
            box.withdraw_button.text(),
            box.given_on.placeholderText(),
            box.scope.currentText(),
            box.answer.currentText(),
            box.method.currentText(),
            *box.issues.text().split("\n"),
            *(model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())),
            *(model.index(0, c).data() for c in range(3)),
        ]
        shown += re.split(r"<[^>]*>|: ", box.current.text())  # each scope and state
        assert untranslated(shown, lang) == [], lang
    ctx.language.set_language("th")
    qtbot.wait(10)
    assert model.index(0, 3).data() == "15/03/2569"
    assert "15/03/2569" in box.current.text()


def test_the_history_table_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store)
    person = cases.get_case_file(store, case_id).person.id
    for scope in consent.SCOPES:
        consent.record_consent(
            store, person, consent.ConsentInput(scope, True, "verbal"), today=TODAY
        )
    view = _open(qtbot, ctx, case_id)
    assert view.consent_box.model.rowCount() == 3
    qtmodeltester.check(view.consent_box.model)
