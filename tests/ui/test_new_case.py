"""The New case form: a case from scratch, and each kind of bad input refused clearly."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.models.store import Store
from desktop.services import cases
from desktop.ui.context import AppContext
from desktop.ui.new_case import NewCaseDialog
from tests.fakes import FakeDialogs
from tests.ui.conftest import drain

# 13 digits starting 00 (non-Thai registry) with a valid check digit
PINK_CARD = "0012345678901"


def _valid_pink_card() -> str:
    from desktop.domain.ids import thai_id_check_digit

    return "001234567890" + str(thai_id_check_digit("001234567890"))


def _dialog(qtbot: QtBot, ctx: AppContext) -> NewCaseDialog:
    dialog = NewCaseDialog(ctx)
    qtbot.addWidget(dialog)
    return dialog


def test_creating_a_case_from_scratch(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("မောင်မောင်")  # keyClicks only types ASCII
    qtbot.keyClicks(dialog.fields["name_passport"], "MAUNG MAUNG")
    qtbot.keyClicks(dialog.fields["birth_date"], "1990-05-01")
    qtbot.keyClicks(dialog.fields["arrived_on"], "12/01/2019")
    qtbot.keyClicks(dialog.fields["doc_number"], _valid_pink_card())
    with qtbot.waitSignal(dialog.created, timeout=10_000) as signal:
        dialog.submit()
    case = cases.get_case_file(store, signal.args[0])
    assert {n.full_name for n in case.person.names} == {"မောင်မောင်", "MAUNG MAUNG"}
    assert case.person.birth_date == "1990-05-01"
    assert case.person.arrived_on.isoformat() == "2019-01-12"
    assert [(d.kind, d.number) for d in case.person.documents] == [
        ("pink_card", _valid_pink_card())
    ]
    actions = {a for _when, a, _user in cases.audit_trail(store, [case.id, case.person.id])}
    assert {"case.created", "person.created"} <= actions


def test_invalid_id_is_refused_with_a_message(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("Som")
    dialog.fields["doc_number"].setText("12345")
    dialog.submit()
    assert "13" in dialog.issues.text()  # "must have 13 digits"
    drain(qtbot, ctx)
    assert cases.count_cases(store) == 0


def test_a_future_date_is_refused(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("Som")
    dialog.fields["birth_date"].setText("2027-01-01")
    _data, found = dialog.validate()
    assert [i.code for i in found] == ["date.in_future"]
    dialog.submit()
    assert dialog.issues.text()
    drain(qtbot, ctx)
    assert cases.count_cases(store) == 0


def test_a_be_year_where_ce_was_expected_is_caught(qtbot: QtBot, ctx: AppContext) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("Som")
    dialog.fields["birth_date"].setText("01/05/2533")
    data, found = dialog.validate()
    assert data is None
    assert [i.code for i in found] == ["date.be_year_as_ce"]
    assert found[0].params["ce_year"] == 1990
    dialog.submit()
    assert "1990" in dialog.issues.text()


def test_no_name_is_refused(qtbot: QtBot, ctx: AppContext, dialogs: FakeDialogs) -> None:
    dialog = _dialog(qtbot, ctx)
    data, found = dialog.validate()
    assert data is None
    assert [i.code for i in found] == ["error.name_required"]


def test_a_pasted_phone_is_cut_at_what_the_server_accepts(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    dialog = _dialog(qtbot, ctx)
    dialog.show()
    dialog.fields["name_native"].setText("Som")
    pasted = "081 234 5678 / 089 876 5432 (wife), 02 123 4567 (work)"
    QGuiApplication.clipboard().setText(pasted)
    dialog.fields["phone"].setFocus()
    qtbot.keyClick(dialog.fields["phone"], Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialog.fields["phone"].text() == pasted[:40]
    with qtbot.waitSignal(dialog.created, timeout=10_000) as signal:
        dialog.submit()
    assert cases.get_case_file(store, signal.args[0]).person.phone == pasted[:40]


def test_a_zawgyi_name_that_grows_past_the_limit_in_unicode_is_refused_with_a_message(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """199 characters typed in Zawgyi fit the editor; converted (as the caseworker agreed),
    they are 249 in Unicode: the save is refused naming the detail and its limit, and
    nothing is written."""
    dialog = _dialog(qtbot, ctx)
    typed = " ".join(["အဂၤလိပ္"] * 25)
    dialog.fields["name_native"].setText(typed)
    assert dialog.fields["name_native"].text() == typed
    dialogs.confirm_answer = True
    dialog.submit()
    qtbot.waitUntil(lambda: "too long" in dialog.issues.text(), timeout=10_000)
    assert dialog.issues.text() == (
        "Some fields are not valid; nothing was saved.\n"
        "Name: full name is too long: it holds at most 200 characters, and this has 249."
        " Shorten it."
    )
    assert dialog.buttons.isEnabled()
    assert cases.count_cases(store) == 0


def test_a_zawgyi_name_that_cannot_be_converted_is_refused_when_conversion_was_agreed(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """The caseworker agreed to convert; the converter cannot without loss. Stored as typed
    it would print as garbage: the form says to type it again and writes nothing."""
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္")
    dialogs.confirm_answer = True
    dialog.submit()
    qtbot.waitUntil(lambda: "Unicode" in dialog.issues.text(), timeout=10_000)
    assert "Some fields are not valid; nothing was saved." in dialog.issues.text()
    assert dialog.buttons.isEnabled()
    assert cases.count_cases(store) == 0


def test_a_certificate_of_identity_is_taken(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    """The form once offered the kind as "certificate_of_identity", a name the number
    check does not know (it is "ci"): every CI holder's case was refused as "unknown kind
    of document"."""
    dialog = _dialog(qtbot, ctx)
    qtbot.keyClicks(dialog.fields["name_passport"], "SOK CHANTHY")
    dialog.doc_kind.setCurrentIndex(dialog.doc_kind.findData("ci"))
    qtbot.keyClicks(dialog.fields["doc_number"], "CI 765432")
    with qtbot.waitSignal(dialog.created, timeout=10_000) as signal:
        dialog.submit()
    case = cases.get_case_file(store, signal.args[0])
    # stored as the importer stores it, so the two find each other as one person
    assert [(d.kind, d.number) for d in case.person.documents] == [("ci", "CI765432")]


def test_a_birth_year_or_month_alone_is_taken(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    """Many workers know only the year they were born: it is stored as the year alone."""
    for typed, stored in (("1990", "1990"), ("05/1990", "1990-05"), ("๑๙๘๕", "1985")):
        dialog = _dialog(qtbot, ctx)
        dialog.fields["name_native"].setText("Som")
        dialog.fields["birth_date"].setText(typed)
        with qtbot.waitSignal(dialog.created, timeout=10_000) as signal:
            dialog.submit()
        assert dialog.issues.text() == ""
        assert cases.get_case_file(store, signal.args[0]).person.birth_date == stored


@pytest.mark.parametrize(
    ("typed", "code", "shown"),
    [
        ("2533", "date.be_year_as_ce", "2533 looks like a Buddhist Era year. Did you mean 1990?"),
        ("05/2533", "date.be_year_as_ce", "Did you mean 1990?"),
        ("2027", "date.in_future", "This date is in the future."),
        ("04/2026", "date.in_future", "This date is in the future."),  # today is 15/03/2026
        ("13/1990", "date.no_such_month", "This month does not exist in the calendar."),
        ("1870", "date.year_out_of_range", "The year 1870 CE is not plausible here"),
        ("May 1990", "date.partial_malformed", "the year alone as YYYY"),
    ],
)
def test_a_bad_birth_year_or_month_is_refused_with_a_message(
    qtbot: QtBot, ctx: AppContext, store: Store, typed: str, code: str, shown: str
) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.fields["name_native"].setText("Som")
    dialog.fields["birth_date"].setText(typed)
    data, found = dialog.validate()
    assert data is None
    assert [i.code for i in found] == [code]
    dialog.submit()
    assert dialog.issues.text().startswith("Date of birth ")
    assert shown in dialog.issues.text()
    drain(qtbot, ctx)
    assert cases.count_cases(store) == 0


def test_the_birth_date_box_says_a_year_or_month_will_do(qtbot: QtBot, ctx: AppContext) -> None:
    dialog = _dialog(qtbot, ctx)
    assert dialog.fields["birth_date"].placeholderText() == "(YYYY, MM/YYYY or DD/MM/YYYY, year AD)"
    assert dialog.nationality.currentData() == "MMR"  # no "none" offered first


@pytest.mark.parametrize("lang", ["en", "th", "my", "km", "lo"])
def test_the_date_formats_are_read_in_full(qtbot: QtBot, ctx: AppContext, lang: str) -> None:
    """The birth date and arrival fields say what to type only in their placeholder;
    in Khmer and Lao the dialog opened so narrow that it was cut ("(YYYY, MM/YYYY ឬ DD...")."""
    ctx.language.set_language(lang)
    dialog = _dialog(qtbot, ctx)
    dialog.show()
    qtbot.waitExposed(dialog)
    for name in ("birth_date", "arrived_on"):
        field = dialog.fields[name]
        hint = field.placeholderText()
        assert hint
        room = field.contentsRect().width() - 2 * 4  # the line edit's own text margins
        assert field.fontMetrics().horizontalAdvance(hint) <= room, (name, hint)


def test_a_woman_chooses_her_title_and_a_mans_is_mr(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Mrs or Miss is hers to choose; a man's title is Mr, shown and not chosen."""
    dialog = _dialog(qtbot, ctx)
    box = dialog.person_title
    assert [box.itemData(i) for i in range(box.count())] == ["", "mr", "mrs", "miss"]
    box.setCurrentIndex(box.findData("mr"))
    dialog.sex.setCurrentIndex(dialog.sex.findData("F"))
    assert box.currentData() == ""  # Mr is not a woman's: not kept
    dialog.sex.setCurrentIndex(dialog.sex.findData("M"))
    assert (box.isEnabled(), box.currentText(), box.currentData()) == (False, "Mr (นาย)", "")
    dialog.sex.setCurrentIndex(dialog.sex.findData("F"))
    assert box.isEnabled()
    assert [box.itemText(i) for i in range(box.count())] == ["—", "Mrs (นาง)", "Miss (นางสาว)"]
    box.setCurrentIndex(box.findData("miss"))
    dialog.fields["name_native"].setText("Ma Aye")
    with qtbot.waitSignal(dialog.created, timeout=10_000) as signal:
        dialog.submit()
    person = cases.get_case_file(store, signal.args[0]).person
    assert (person.sex, person.title, person.marital_status) == ("F", "miss", None)


def test_the_title_box_speaks_the_chosen_language(qtbot: QtBot, ctx: AppContext) -> None:
    dialog = _dialog(qtbot, ctx)
    dialog.sex.setCurrentIndex(dialog.sex.findData("F"))
    dialog.person_title.setCurrentIndex(dialog.person_title.findData("mrs"))
    ctx.language.set_language("my")
    qtbot.wait(10)
    assert dialog.labels["person_title"].text() == "ဘွဲ့အမည်"  # as the printed SSO 1-03 names it
    assert (dialog.person_title.currentData(), dialog.person_title.currentText()) == (
        "mrs",
        "ဒေါ် (นาง)",
    )
