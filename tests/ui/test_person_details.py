"""The case file's details editor (desktop/ui/person_details.py): a person's sex, birth
date, nationality and arrival date corrected after the case was made, each changed detail
one change for sync; a birth date may be a year or a month; every bad date refused with a
message naming the detail, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.domain import i18n
from desktop.models.entities import AuditEvent, OutboxEntry, Person
from desktop.models.store import Store
from desktop.services import cases, people, ui_wizards
from desktop.ui.case_file import CaseFileView
from desktop.ui.context import AppContext
from desktop.ui.person_details import (
    NATIONALITIES,
    fill_choices,
    marital_choices,
    nationality_choices,
    sex_choices,
    title_choices,
)
from tests.fakes import FakeDialogs
from tests.ui.conftest import drain, open_case_file


def _case(
    store: Store,
    *,
    sex: str | None = "F",
    birth: str = "1990-05-17",
    nationality: str = "MMR",
    title: str | None = None,
) -> str:
    person = people.PersonInput(
        names=[people.NameInput("နန်း")],
        sex=sex,
        title=title,
        birth_date=birth,
        nationality=nationality,
        arrived_on=dt.date(2019, 1, 12),
    )
    return ui_wizards.create_case(store, person)


def _open(qtbot: QtBot, ctx: AppContext, case_id: str) -> CaseFileView:
    """The case file on its Person tab, the details editor opened with its button."""
    view: CaseFileView = open_case_file(qtbot, ctx, case_id)
    assert not view.details_editor.isVisible()
    qtbot.mouseClick(view.edit_details_button, Qt.MouseButton.LeftButton)
    assert view.details_editor.isVisible()
    return view


def _queued(store: Store) -> list[tuple[str, str]]:
    """(entity, field) of every change waiting in the outbox, oldest first."""
    with store.read() as session:
        return [(e.entity, e.field) for e in session.scalars(select(OutboxEntry))]


def _person_changes(store: Store, before: int) -> list[str]:
    """The person's fields queued since ``before`` changes (each write's audit event
    travels too, whole)."""
    return sorted(field for entity, field in _queued(store)[before:] if entity == "person")


def _save(qtbot: QtBot, view: CaseFileView) -> None:
    """Save, and wait for the case file to be read again."""
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(view.details_editor.save_button, Qt.MouseButton.LeftButton)


def _type(qtbot: QtBot, box: QLineEdit, typed: str) -> None:
    box.clear()
    qtbot.keyClicks(box, typed)


def test_a_corrected_birth_date_is_stored_and_sent_as_one_change(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.birth_date.text() == "17/05/1990"  # as a CE field takes it back
    assert editor.arrived_on.text() == "12/01/2019"
    assert editor.sex.currentData() == "F"
    assert editor.nationality.currentData() == "MMR"
    before = len(_queued(store))

    _type(qtbot, editor.birth_date, "17/05/1980")
    _save(qtbot, view)

    person = cases.get_case_file(store, case_id).person
    assert (person.birth_date, person.sex, person.nationality) == ("1980-05-17", "F", "MMR")
    assert sorted(_queued(store)[before:]) == [("audit_event", "*"), ("person", "birth_date")]
    with store.read() as session:
        audit = session.scalars(
            select(AuditEvent).where(
                AuditEvent.row_id == person.id, AuditEvent.action == "person.updated"
            )
        ).one()
    assert audit.details == {"fields": ["birth_date"]}
    assert not editor.isVisible()
    assert "17/05/1980" in view.details.text()


def test_a_year_only_birth_date_a_new_arrival_and_a_nationality_refresh_the_case_file(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A worker who knows only the year they were born; the arrival date moves the journey's
    arrival, read again with the eligibility panel after the save."""
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    before = len(_queued(store))
    _type(qtbot, editor.birth_date, "1988")
    _type(qtbot, editor.arrived_on, "2018-07-01")
    editor.nationality.setCurrentIndex(editor.nationality.findData("KHM"))
    panel = view.panel
    _save(qtbot, view)

    person = cases.get_case_file(store, case_id).person
    assert (person.birth_date, person.arrived_on, person.nationality) == (
        "1988",
        dt.date(2018, 7, 1),
        "KHM",
    )
    assert _person_changes(store, before) == ["arrived_on", "birth_date", "nationality"]
    assert [e.day for e in view.journey if e.kind == "arrival"] == [dt.date(2018, 7, 1)]
    assert view.panel is not panel  # judged again
    shown = view.details.text()
    assert "1988" in shown
    assert i18n.text("ui.nationality.KHM", "en") in shown


def test_the_day_a_worker_went_home_is_recorded_and_shown(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A worker who has gone home: the day they left is typed in the details editor (not
    in the future, as the other dates), stored as one change, shown on the Person tab and
    on the journey; emptied, it is cleared."""
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.left_on.text() == ""
    assert "Left Thailand" not in view.details.text()  # said only of those who have
    _type(qtbot, editor.left_on, "01/04/2026")  # after today (15 March)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "Left Thailand (gone home): This date is in the future." in editor.issues.text()
    assert cases.get_case_file(store, case_id).person.left_on is None

    before = len(_queued(store))
    _type(qtbot, editor.left_on, "01/03/2026")
    _save(qtbot, view)
    person = cases.get_case_file(store, case_id).person
    assert person.left_on == dt.date(2026, 3, 1)
    assert _person_changes(store, before) == ["left_on"]
    assert "Left Thailand (gone home)</b>: 01/03/2026" in view.details.text()

    qtbot.mouseClick(view.edit_details_button, Qt.MouseButton.LeftButton)
    assert view.details_editor.left_on.text() == "01/03/2026"
    _type(qtbot, view.details_editor.left_on, "")
    _save(qtbot, view)
    assert cases.get_case_file(store, case_id).person.left_on is None


@pytest.mark.parametrize(
    ("detail", "typed", "message"),
    [
        ("birth_date", "2027", "Born: This date is in the future."),
        ("birth_date", "04/2026", "Born: This date is in the future."),  # today is 15/03/2026
        (
            "birth_date",
            "2533",
            "Born: 2533 looks like a Buddhist Era year. Did you mean 1990?",
        ),
        (
            "birth_date",
            "17/05/2533",
            "Born: 2533 looks like a Buddhist Era year. Did you mean 1990?",
        ),
        ("birth_date", "31/02/1990", "Born: This day does not exist in the calendar."),
        ("birth_date", "13/1990", "Born: This month does not exist in the calendar."),
        (
            "birth_date",
            "May 1990",
            "Born: Write the date as DD/MM/YYYY, the month as MM/YYYY, or the year alone as YYYY.",
        ),
        ("arrived_on", "01/01/2027", "Arrived in Thailand: This date is in the future."),
        (
            "arrived_on",
            "12/01/2562",
            "Arrived in Thailand: 2562 looks like a Buddhist Era year. Did you mean 2019?",
        ),
        (
            "arrived_on",
            "2019",  # an arrival is a day
            "Arrived in Thailand: Write the date as DD/MM/YYYY or YYYY-MM-DD.",
        ),
    ],
)
def test_a_bad_date_is_refused_with_a_message_and_nothing_is_written(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    dialogs: FakeDialogs,
    detail: str,
    typed: str,
    message: str,
) -> None:
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    editor.sex.setCurrentIndex(editor.sex.findData("M"))  # a good change goes no further
    queued = _queued(store)
    _type(qtbot, getattr(editor, detail), typed)

    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)

    assert editor.issues.text() == message
    assert editor.isVisible()
    assert getattr(editor, detail).text() == typed  # kept, to be mended
    assert _queued(store) == queued
    person = cases.get_case_file(store, case_id).person
    assert (person.sex, person.birth_date, person.arrived_on) == (
        "F",
        "1990-05-17",
        dt.date(2019, 1, 12),
    )
    assert dialogs.errors == []


def test_nothing_changed_or_cancel_writes_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Saving the details as they were filled, or cancelling a change, writes nothing; a
    birth month and a stored nationality outside the offered ones survive the round trip."""
    case_id = _case(store, birth="1990-05", nationality="THA", sex=None)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.birth_date.text() == "05/1990"
    assert editor.nationality.currentData() == "THA"
    assert editor.sex.currentData() == ""
    queued = _queued(store)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert not editor.isVisible()
    assert _queued(store) == queued

    qtbot.mouseClick(view.edit_details_button, Qt.MouseButton.LeftButton)
    _type(qtbot, editor.birth_date, "1970")
    qtbot.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert not editor.isVisible()
    assert _queued(store) == queued
    assert cases.get_case_file(store, case_id).person.birth_date == "1990-05"


def test_an_emptied_birth_date_is_cleared(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    before = len(_queued(store))
    view.details_editor.birth_date.clear()
    _save(qtbot, view)
    assert cases.get_case_file(store, case_id).person.birth_date is None
    assert _person_changes(store, before) == ["birth_date"]


def test_the_editor_speaks_the_chosen_language_and_takes_ce_years_in_thai(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """In Thai the case file shows the Buddhist Era year, and the editor the CE one it
    takes back; every text the editor shows is translated, its issues too."""
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    _type(qtbot, editor.birth_date, "2027")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    english = {
        texts["en"]
        for key, texts in i18n.catalogue().items()
        if key.startswith(("ui.", "date.")) and len(set(texts.values())) > 1
    }
    for lang in i18n.LANGUAGES:
        ctx.language.set_language(lang)
        qtbot.wait(10)  # the language change event reaches the view
        shown = [
            editor.title(),
            editor.save_button.text(),
            editor.cancel_button.text(),
            view.edit_details_button.text(),
            editor.birth_date.placeholderText(),
            editor.arrived_on.placeholderText(),
            editor.sex.currentText(),
            editor.person_title.currentText(),
            editor.marital_status.currentText(),
            editor.nationality.currentText(),
            *(label.text() for label in editor.labels.values()),
            *editor.issues.text().split("\n"),
        ]
        assert not [t for t in shown if t.startswith(("ui.", "date."))], (lang, shown)
        if lang != "en":
            assert not [t for t in shown if t in english], (lang, shown)
        assert editor.birth_date.text() == "2027"  # what was typed stays
        assert editor.nationality.currentData() == "MMR"
    ctx.language.set_language("th")
    qtbot.wait(10)
    born, future = (i18n.text(k, "th") for k in ("ui.person.birth", "date.in_future"))
    assert editor.issues.text() == f"{born}: {future}"
    qtbot.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    assert "17/05/2533" in view.details.text()  # shown in the Buddhist Era
    qtbot.mouseClick(view.edit_details_button, Qt.MouseButton.LeftButton)
    assert editor.birth_date.text() == "17/05/1990"  # and given to edit in CE
    assert editor.issues.text() == ""


def test_the_choices_are_the_new_case_forms() -> None:
    assert [v for v, _ in nationality_choices()] == list(NATIONALITIES)
    assert [v for v, _ in nationality_choices("MMR")] == list(NATIONALITIES)
    assert [v for v, _ in nationality_choices("")] == ["", *NATIONALITIES]
    assert [v for v, _ in sex_choices("F")] == ["", "F", "M"]
    assert [v for v, _ in sex_choices("X")] == ["X", "", "F", "M"]


def _items(box: QComboBox) -> list[str]:
    return [box.itemData(i) for i in range(box.count())]


def test_a_womans_title_and_marital_status_are_chosen_and_sent_as_two_changes(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Miss though married: the title is hers to choose (Act on Title of Women, B.E. 2551)."""
    case_id = _case(store)
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.person_title.isEnabled()
    assert _items(editor.person_title) == ["", "mrs", "miss"]
    assert _items(editor.marital_status) == ["", "single", "married", "widowed", "divorced"]
    before = len(_queued(store))

    editor.person_title.setCurrentIndex(editor.person_title.findData("miss"))
    editor.marital_status.setCurrentIndex(editor.marital_status.findData("married"))
    _save(qtbot, view)

    person = cases.get_case_file(store, case_id).person
    assert (person.title, person.marital_status) == ("miss", "married")
    assert _person_changes(store, before) == ["marital_status", "title"]
    shown = view.details.text()
    assert "<b>Title</b>: Miss (นางสาว)" in shown
    assert "<b>Marital status</b>: Married" in shown


def test_a_mans_title_is_mr_shown_and_not_chosen(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store, sex="M")
    assert "<b>Title</b>: Mr (นาย)" in open_case_file(qtbot, ctx, case_id).details.text()
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert not editor.person_title.isEnabled()
    assert (editor.person_title.currentText(), _items(editor.person_title)) == ("Mr (นาย)", [""])
    queued = _queued(store)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert _queued(store) == queued  # nothing changed: none written


def test_a_woman_corrected_to_a_man_loses_her_title_with_it(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store, title="mrs")
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.person_title.currentData() == "mrs"
    before = len(_queued(store))
    editor.sex.setCurrentIndex(editor.sex.findData("M"))
    assert (editor.person_title.isEnabled(), editor.person_title.currentText()) == (
        False,
        "Mr (นาย)",
    )
    _save(qtbot, view)
    person = cases.get_case_file(store, case_id).person
    assert (person.sex, person.title) == ("M", None)
    assert _person_changes(store, before) == ["sex", "title"]


def test_a_man_recorded_as_mr_corrected_to_a_woman_is_offered_a_womans_title(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Mr recorded (an import's "นาย") is not kept for a woman: her title is left to
    choose, and saving the sex alone is not refused as a man's title."""
    case_id = _case(store, sex="M", title="mr")
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert editor.person_title.currentData() == "mr"
    editor.sex.setCurrentIndex(editor.sex.findData("F"))
    assert editor.person_title.isEnabled()
    assert _items(editor.person_title) == ["", "mrs", "miss"]
    assert editor.person_title.currentText() == "—"
    _save(qtbot, view)
    assert dialogs.errors == []
    person = cases.get_case_file(store, case_id).person
    assert (person.sex, person.title) == ("F", None)


def test_a_code_from_a_newer_app_is_kept_when_saving_another_detail(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A title a colleague's newer app recorded (pulled as the server sent it) is shown as
    stored, and saving another detail neither changes nor refuses it."""
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    with store.remote_session() as session:
        session.get(Person, person_id).title = "ms"
    view = _open(qtbot, ctx, case_id)
    editor = view.details_editor
    assert (editor.person_title.currentData(), editor.person_title.currentText()) == ("ms", "ms")
    before = len(_queued(store))
    editor.marital_status.setCurrentIndex(editor.marital_status.findData("single"))
    _save(qtbot, view)
    person = cases.get_case_file(store, case_id).person
    assert (person.title, person.marital_status) == ("ms", "single")
    assert _person_changes(store, before) == ["marital_status"]


def test_the_titles_offered_follow_the_sex() -> None:
    assert [v for v, _ in title_choices("F")] == ["", "mrs", "miss"]
    assert [v for v, _ in title_choices(None)] == ["", "mr", "mrs", "miss"]
    assert [v for v, _ in title_choices("M")] == [""]
    assert [v for v, _ in title_choices("M", "mr")] == ["mr"]
    assert [v for v, _ in title_choices("M", "miss")] == [""]  # corrected to a man
    assert [v for v, _ in title_choices("F", "mr")] == ["", "mrs", "miss"]  # to a woman
    assert [v for v, _ in title_choices("F", "ms")] == ["ms", "", "mrs", "miss"]
    assert [v for v, _ in marital_choices("separated")][:2] == ["separated", ""]


def test_a_choice_list_refilled_in_another_language_is_as_wide_as_its_new_texts(
    qtbot: QtBot,
) -> None:
    """Qt sizes a combo box once, when first shown: after a switch to Burmese the consent
    box's answer showed "သဘောတ" of its choice."""
    box = QComboBox()
    qtbot.addWidget(box)
    fill_choices(box, [("given", "Yes")])
    box.show()
    qtbot.waitExposed(box)
    english = box.sizeHint().width()
    fill_choices(box, [("given", "သဘောတူသည် (လက်မှတ်ရေးထိုး၍)")])
    assert box.sizeHint().width() > english + box.fontMetrics().horizontalAdvance("သဘောတူ")
