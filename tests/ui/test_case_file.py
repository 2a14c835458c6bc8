"""The case file (desktop/ui/case_file.py): the track panel says which forms a track still
waits on, in the current language, until they are printed; a note too long for the sync
server is refused and kept in its editor; a document of every kind the Documents tab
offers is added; the header's Export button writes the person's data where the person
chose; the checklist shows each document's whole name, the track list each track's
state; a contribution month typed again is corrected, not doubled; a name typed in Zawgyi
is converted once the caseworker agrees, and one that cannot be is refused."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QScrollArea
from pytestqt.qtbot import QtBot

from desktop.domain import ids
from desktop.models.store import Store
from desktop.services import attachments, cases, employers, people, printing, ui_wizards
from desktop.ui.app import install_fonts
from desktop.ui.case_file import CaseFileView, changed_tabs
from desktop.ui.context import AppContext
from desktop.ui.step_fields import StepEditor
from tests.fakes import FakeDialogs
from tests.ui.conftest import drain


def _claim(store: Store) -> str:
    case_id = _nang(store)
    prepared = {
        "bank_name": "Krungthai",
        "bank_account": "1234567890",
        "claimant_signs": "signature",
    }
    steps = [("prepare_claim", prepared, "ready"), ("submit_claim", {}, "not_started")]
    ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit("claim", "claim_maternity", steps, benefit="maternity"),
    )
    return case_id


def _nang(store: Store) -> str:
    """A new case of a worker with one name (Burmese script) and nothing else on file."""
    return ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("နန်း")]))


def _load(qtbot: QtBot, view: CaseFileView, case_id: str) -> str:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.load(case_id)
    view.tabs.setCurrentIndex(3)  # tracks
    return view.track_hint.text()


def test_the_track_panel_lists_the_forms_still_to_print(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _claim(store)
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    shown = _load(qtbot, view, case_id)
    assert "Forms still to print:" in shown
    assert "sso_2_01" not in shown  # the form by its name, not its code
    ctx.language.set_language("th")
    qtbot.wait(10)  # the language change event reaches the view
    assert "แบบฟอร์มที่ยังต้องพิมพ์" in view.track_hint.text()

    printing.record_printed(store, case_id, None, "print")
    shown = _load(qtbot, view, case_id)
    assert "แบบฟอร์มที่ยังต้องพิมพ์" not in shown
    assert cases.get_case_file(store, case_id).tracks[0].steps[0].state == "ready"


def test_a_claim_withdrawn_and_resumed_from_the_tracks_tab(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    case_id = _claim(store)
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    _load(qtbot, view, case_id)
    assert view.withdraw_button.text() == "Withdraw…"
    dialogs.texts = ["  "]  # no reason: refused, nothing written
    view.withdraw_button.click()
    assert dialogs.errors[-1].startswith("Give the reason it is withdrawn")
    dialogs.texts = ["went home to Kayin State"]
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.withdraw_button.click()
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.state, track.outcome) == ("closed", "withdrawn")
    assert view.track_list.item(0).text().endswith("— Withdrawn")
    assert view.withdraw_button.text() == "Resume…"
    dialogs.texts = ["came back for the claim"]
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.withdraw_button.click()
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.state, track.outcome) == ("in_progress", None)
    assert view.withdraw_button.text() == "Withdraw…"


def test_a_note_too_long_is_refused_with_its_limit_and_stays_to_be_shortened(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """A note has no one-line editor to cut it: Add refuses it, naming the detail and how
    much it holds, writes nothing, and leaves every word in the editor; shortened, it goes."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    case_id = _claim(store)
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    _load(qtbot, view, case_id)
    view.tabs.setCurrentIndex(4)  # notes
    said = "ลูกจ้างแจ้งว่า "  # "the worker says"
    long_note = said + "ก" * (10_001 - len(said))
    QGuiApplication.clipboard().setText(long_note)
    view.note_edit.setFocus()
    qtbot.keyClick(view.note_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert view.note_edit.toPlainText() == long_note

    view.add_note()
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=10_000)
    assert dialogs.errors == [
        "Some fields are not valid; nothing was saved.\n"
        "Note: text is too long: it holds at most 10000 characters, and this has 10001."
        " Shorten it."
    ]
    assert view.note_edit.toPlainText() == long_note
    assert cases.get_case_file(store, case_id).notes == ()

    view.note_edit.setPlainText(long_note[:-1])
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.add_note()
    assert view.note_edit.toPlainText() == ""
    (note,) = cases.get_case_file(store, case_id).notes
    assert note.body == long_note[:-1]


def test_the_note_chosen_stays_chosen_when_the_case_file_is_read_again(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Another read of the case file (after a write, a sync, a double-click on the Sync
    page) or a language switch writes the notes list again; the note chosen stays so."""
    case_id = _claim(store)
    first, second = (cases.add_note(store, case_id, body) for body in ("first", "second"))
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    _load(qtbot, view, case_id)
    notes = [note.id for note in view.case.notes]
    assert sorted(notes) == sorted([first, second])
    chosen = notes[0]  # not the last: a list with nothing chosen answers row -1
    view.notes_list.setCurrentRow(0)

    _load(qtbot, view, case_id)
    assert view.notes_list.currentRow() == 0
    assert view.case.notes[0].id == chosen
    view.retranslate()  # as a language switch does
    assert view.notes_list.currentRow() == 0


def test_a_document_of_every_kind_offered_is_added(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Each kind in the Documents tab is one the number check knows: "certificate_of_identity"
    was not (the kind is "ci"), so no CI could be added to a case file."""
    first12 = "310000000001"
    numbers = {
        "pink_card": "0-0000-00001-12-1",
        "passport": "MC1234567",
        "thai_id": first12 + str(ids.thai_id_check_digit(first12)),
        "ci": "CI 765432",
        "work_permit": "WP 2567 001234",
        "border_pass": "TK 0123456",
        "sso_number": "000000002345" + str(ids.thai_id_check_digit("000000002345")),
    }
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("Sok")]))
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    _load(qtbot, view, case_id)
    offered = [view.doc_kind.itemData(i) for i in range(view.doc_kind.count())]
    assert set(offered) == set(numbers)
    for kind in offered:
        view.doc_kind.setCurrentIndex(view.doc_kind.findData(kind))
        view.doc_number.setText(numbers[kind])
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            view.add_document()
        assert view.doc_issues.text() == ""
    stored = cases.get_case_file(store, case_id).person.documents
    assert sorted(d.kind for d in stored) == sorted(numbers)


def test_contact_details_are_corrected_in_place_and_only_what_changed_is_sent(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A worker's new phone and LINE id, typed in the case file: written once, each
    detail its own change for sync; saving again with nothing changed writes nothing; a
    pasted phone longer than the server takes is cut at its limit."""
    from sqlalchemy import select

    from desktop.models.entities import OutboxEntry

    case_id = ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("Sok")], phone="0811111111")
    )
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    _load(qtbot, view, case_id)
    view.tabs.setCurrentIndex(0)
    phone, line = view.contact_edits["phone"], view.contact_edits["line_id"]
    assert phone.text() == "0811111111"
    with store.read() as session:
        before = len(session.scalars(select(OutboxEntry)).all())

    phone.setText("  089 123 4567 ")
    line.setText("sok.line")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.save_contact()

    person = cases.get_case_file(store, case_id).person
    assert (person.phone, person.line_id, person.address_th) == ("089 123 4567", "sok.line", None)
    with store.read() as session:
        sent = [e.field for e in session.scalars(select(OutboxEntry))][before:]
    assert sorted(f for f in sent if f in ("phone", "line_id")) == ["line_id", "phone"]
    assert phone.text() == "089 123 4567"  # shown as stored
    with store.read() as session:
        queued = len(session.scalars(select(OutboxEntry)).all())
    view.save_contact()  # nothing changed
    with store.read() as session:
        assert len(session.scalars(select(OutboxEntry)).all()) == queued
    phone.setText("0" * 60)
    assert len(phone.text()) == 40


def test_export_button_writes_the_persons_data_where_the_dialog_says(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs, tmp_path: Path
) -> None:
    """The Person tab's Export button asks where to save and whether the scans go too
    (they leave the store decrypted), writes off the GUI thread, and says where the
    person's data went; cancelling the chooser writes nothing."""
    from PySide6.QtCore import Qt

    from tests.ui.conftest import drain

    case_id = _claim(store)
    scan = tmp_path / "payslip.jpg"
    scan.write_bytes(b"\xff\xd8\xff a payslip")
    attachments.add_attachment(store, scan, case_id=case_id)
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    _load(qtbot, view, case_id)
    number = cases.get_case_file(store, case_id).number
    assert view.export_button.text() == "Export this person's data…"

    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)  # cancelled
    drain(qtbot, ctx)
    assert dialogs.save_requests == [
        ("Save everything held about this person", f"{number}-person.json")
    ]
    assert dialogs.infos == []

    target = tmp_path / "nang.json"
    dialogs.save_paths.append(target)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert dialogs.errors == []
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["cases"][0]["id"] == case_id
    assert "နန်း" in {n["full_name"] for n in data["names"]}
    assert dialogs.infos == [
        f"Everything held about this person was written to {target}.\n"
        f"Their attached files (1) are in {tmp_path / 'nang.attachments.zip'}."
    ]
    assert dialogs.questions[-1].startswith("Also save their scanned documents?")

    dialogs.confirm_answer = False  # no scans this time: the JSON alone
    alone = tmp_path / "nang-alone.json"
    dialogs.save_paths.append(alone)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert alone.exists()
    assert not (tmp_path / "nang-alone.attachments.zip").exists()
    assert dialogs.infos[-1] == f"Everything held about this person was written to {alone}."


def _shown(qtbot: QtBot, ctx: AppContext, case_id: str) -> CaseFileView:
    """A case file on a laptop's screen, on its Tracks tab."""
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    _load(qtbot, view, case_id)
    return view


def test_the_checklist_shows_each_documents_whole_name(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """It read "Copy of …" and "Evidence of …" beside a wide empty Files column."""
    case_id = _nang(store)
    documents = [ui_wizards.DocumentCommit("work_evidence", True)]
    ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit("work_injury", "work_injury", [], documents, "work_injury"),
    )
    view = _shown(qtbot, ctx, case_id)
    table = view.checklist_view
    shown = table.model().index(0, 0).data()
    assert shown.startswith("Evidence of the work")
    assert table.columnWidth(0) >= table.fontMetrics().horizontalAdvance(shown)


def test_a_long_track_name_wraps_and_its_state_stays_in_sight(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """ "Work injury (Workmen's Compensation) — In progress" ran past the list's edge."""
    case_id = _nang(store)
    ui_wizards.commit_track(
        store, case_id, ui_wizards.TrackCommit("work_injury", "work_injury", [], (), "work_injury")
    )
    view = _shown(qtbot, ctx, case_id)
    tracks = view.track_list
    item = tracks.item(0)
    assert item.text().endswith("In progress")
    qtbot.waitUntil(lambda: tracks.visualItemRect(item).width() <= tracks.viewport().width())
    line = tracks.fontMetrics().height()
    assert tracks.fontMetrics().horizontalAdvance(item.text()) > tracks.viewport().width()
    assert tracks.visualItemRect(item).height() > line  # wrapped onto a second line


def test_a_month_typed_again_is_corrected_not_recorded_twice(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """2022-01 on file from the employer, typed again with its right wage: two 2022-01."""
    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    employers.add_employment(
        store, person_id, employers.EmploymentInput(employer, dt.date(2022, 1, 1))
    )
    month = employers.ContributionInput("2022-01", decimal.Decimal(12860), employer)
    employers.record_contributions(store, person_id, [month])
    view = _shown(qtbot, ctx, case_id)
    view.work.month_edit.setText("2022-01")
    view.work.wage_edit.setText("13000")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.work.add_month_button.click()
    months = cases.get_case_file(store, case_id).contributions
    assert [(m.month, m.wage) for m in months] == [("2022-01", decimal.Decimal(13000))]


def test_months_paid_under_s39_are_typed_as_such_and_judged_so(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A worker who left the job and pays s.39 contributions: the months typed under s.39
    are the worker's own (no employer), the box then starts at s.39 for the next, and the
    eligibility panel judges the worker under s.39."""
    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    job = employers.EmploymentInput(employer, dt.date(2024, 1, 1), dt.date(2025, 6, 30))
    employers.add_employment(store, person_id, job)
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    assert view.work.section_box.currentData() == "33"
    view.work.section_box.setCurrentIndex(view.work.section_box.findData("39"))
    assert view.work.section_box.currentText() == "s.39: paid by the worker after leaving the job"
    view.work.month_edit.setText("2025-08")
    view.work.wage_edit.setText("4800")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.work.add_month_button.click()
    (month,) = cases.get_case_file(store, case_id).contributions
    assert (month.month, month.section, month.employer_id) == ("2025-08", 39, None)
    assert view.work.section_box.currentData() == "39"
    assert all(line.result is None or line.result.section == 39 for line in view.panel)


def test_a_month_still_to_come_is_refused_with_why(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _nang(store)
    view = _shown(qtbot, ctx, case_id)
    view.work.month_edit.setText("2031-05")  # for 2021-05
    view.work.wage_edit.setText("9000")
    view.work.add_month_button.click()
    drain(qtbot, ctx)
    assert view.work.issues.text() == (
        "2031-05 has not come yet: only months already worked are recorded."
    )
    assert cases.get_case_file(store, case_id).contributions == ()


def test_a_job_ended_is_recorded_from_the_work_tab_and_judged_on(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Job ended… on the Work tab: the day and why, checked as a wizard checks them, saved
    to the job; the table says why, and unemployment is judged on it (30% for 90 days for
    a contract that ended), not left as "reason unknown"."""
    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    job = employers.EmploymentInput(employer, dt.date(2024, 1, 1))
    employers.add_employment(store, person_id, job)
    months = [
        employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000), employer)
        for m in range(1, 13)
    ]
    employers.record_contributions(store, person_id, months)
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    assert view.work.end_job_button.isEnabled()
    view.work.end_job_button.click()
    editor = view.work_editor
    assert editor is not None
    assert editor.isVisible()
    assert editor.windowTitle() == "When and why the job ended"
    editor.fields.set_raw("employment_end", "31/12/2023")  # before the job began
    editor.fields.set_raw("unemployment_reason", "contract_ended")
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    drain(qtbot, ctx)
    assert dialogs.errors[-1].endswith("The employment ends before it starts.")
    assert editor.isVisible()  # refused by the store: stays open to be corrected
    assert cases.get_case_file(store, case_id).employments[0].end_date is None

    editor.fields.set_raw("employment_end", "31/01/2026")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert view.work_editor is None  # closed once stored
    (held,) = cases.get_case_file(store, case_id).employments
    assert (held.end_date, held.end_reason) == (dt.date(2026, 1, 31), "contract_ended")
    model = view.work.employment_model
    shown = [model.index(0, c).data() for c in range(model.columnCount())]
    assert "31/01/2026" in shown
    assert "Contract ended" in shown
    (unemployment,) = (line for line in view.panel if line.benefit == "unemployment")
    assert unemployment.error_code is None
    assert unemployment.result is not None
    [amount] = unemployment.result.amounts
    assert (amount.params["percent"], amount.params["max_days"]) == (30, 90)
    assert "30% of the daily wage" in view.eligibility_text.text()


def test_a_job_registered_before_the_worker_came_is_added_from_the_work_tab(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Add job…: the employer, start and wage of a job no enrollment recorded; a claim's
    forms then print its employer."""
    case_id = _nang(store)
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    assert not view.work.end_job_button.isEnabled()  # no job yet
    view.work.add_job_button.click()
    editor = view.work_editor
    assert editor is not None
    editor.fields.set_raw("employer_account", "10-0000-0001")
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert "ui.wizard.required" in [i.code for i in editor.fields.issues]  # no name
    editor.fields.set_raw("employer_name", "Mae Sot Garments")
    editor.fields.set_raw("employment_start", "01/05/2023")
    editor.fields.set_raw("monthly_wage", "9,500")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.employer_name, job.employer_sso_account, job.start_date, job.monthly_wage) == (
        "Mae Sot Garments",
        "1000000001",
        dt.date(2023, 5, 1),
        decimal.Decimal(9500),
    )
    assert view.work.end_job_button.isEnabled()


def _declined(qtbot: QtBot, ctx: AppContext, dialogs: FakeDialogs, button: Any) -> str:
    """Click ``button`` and decline what it asks; the question asked."""
    dialogs.confirm_answer = False
    button.click()
    drain(qtbot, ctx)
    return dialogs.questions[-1]


def _agreed(qtbot: QtBot, view: CaseFileView, dialogs: FakeDialogs, button: Any) -> None:
    """Click ``button``, agree, and wait for the case file read again after the write."""
    dialogs.confirm_answer = True
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        button.click()


def test_a_job_entered_by_mistake_is_removed_from_the_work_tab(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    for name, start in (("Mae Sot Garments", 2023), ("Wrong Farm", 2024)):
        employer = employers.create_employer(store, employers.EmployerInput(name=name))
        job = employers.EmploymentInput(employer, dt.date(start, 1, 1))
        employers.add_employment(store, person_id, job)
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    view.work.employment_view.selectRow(1)
    asked = _declined(qtbot, ctx, dialogs, view.work.remove_job_button)
    assert "Remove the job at Wrong Farm" in asked
    assert len(cases.get_case_file(store, case_id).employments) == 2  # not agreed
    _agreed(qtbot, view, dialogs, view.work.remove_job_button)
    jobs = cases.get_case_file(store, case_id).employments
    assert [j.employer_name for j in jobs] == ["Mae Sot Garments"]
    assert view.work.employment_model.rowCount() == 1


def _employer_editor(
    qtbot: QtBot, ctx: AppContext, store: Store, data: employers.EmployerInput
) -> tuple[str, CaseFileView, StepEditor]:
    """A case whose one job is at an employer of ``data``, shown, its Work tab's Employer
    details… open: the case id, the case file and the dialog."""
    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, data)
    employers.add_employment(store, person_id, employers.EmploymentInput(employer, None))
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    view.work.employer_button.click()
    qtbot.waitUntil(lambda: view.work_editor is not None, timeout=10_000)
    assert view.work_editor is not None
    return case_id, view, view.work_editor


def test_an_employer_s_account_is_corrected_from_the_work_tab(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Employer details…: the dialog starts with what is stored, checks an account as the
    enrollment wizard does (a refusal keeps it open), and the corrected account shows."""
    data = employers.EmployerInput(name="Mae Sot Garments", sso_account="1000000002")
    case_id, view, editor = _employer_editor(qtbot, ctx, store, data)
    assert editor.fields.raw("employer_name") == "Mae Sot Garments"
    assert editor.fields.raw("employer_account") == "1000000002"
    editor.fields.set_raw("employer_account", "12345")
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert "id.length" in [i.code for i in editor.fields.issues]  # checked before the store
    editor.fields.set_raw("employer_account", "10-0000-0001")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert view.work_editor is None
    assert dialogs.errors == []
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.employer_sso_account == "1000000001"
    assert view.work.employment_model.index(0, 1).data() == "1000000001"


def test_an_employer_s_province_is_chosen_by_its_name_in_the_caseworker_s_language(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Employer details…: the province box lists the provinces by name (Thai names in
    Thai) and stores the code the forms and the SSO file print."""
    from PySide6.QtWidgets import QComboBox

    ctx.language.set_language("th")
    data = employers.EmployerInput(name="Mae Sot Garments")
    case_id, view, editor = _employer_editor(qtbot, ctx, store, data)
    box = editor.fields.editors["employer_province"]
    assert isinstance(box, QComboBox)
    assert box.count() == 78  # none, then 77 provinces
    names = [box.itemText(i) for i in range(1, box.count())]
    assert "ตาก" in names
    assert "Tak" not in names
    box.setCurrentIndex(box.findText("ตาก"))
    editor.fields.set_raw("employer_district", "แม่สอด")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert dialogs.errors == []
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.employer_province == "63"
    assert job.employer_id is not None
    details = employers.employer_details(store, job.employer_id)
    assert (details["province_code"], details["district"]) == ("63", "แม่สอด")


def test_a_province_code_the_box_does_not_offer_is_kept_as_it_is(qtbot: QtBot) -> None:
    from desktop.ui.step_fields import StepFields
    from desktop.ui.work_tab import EMPLOYER_DETAILS

    fields = StepFields(EMPLOYER_DETAILS)
    qtbot.addWidget(fields)
    fields.set_raw("employer_province", "X1")
    assert fields.raw("employer_province") == "X1"
    fields.set_raw("employer_name", "Mae Sot Garments")
    _values, found = fields.validate(fields.raw_values(), dt.date(2026, 3, 15))
    assert [(i.code, i.field) for i in found] == [("ui.wizard.not_a_choice", "employer_province")]
    assert "X1" in fields.issues_label.text()  # said, with the value, not "required"
    fields.set_raw("employer_province", "63")
    assert fields.raw("employer_province") == "63"


def test_months_entered_by_mistake_are_removed_once_the_caseworker_agrees(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    from PySide6.QtCore import QItemSelectionModel

    case_id = _nang(store)
    person_id = cases.get_case_file(store, case_id).person.id
    months = [employers.ContributionInput(f"2025-0{m}", decimal.Decimal(9000)) for m in range(1, 5)]
    employers.record_contributions(store, person_id, months)
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(2)  # work
    view.work.remove_months_button.click()  # nothing selected: says what to do
    assert view.work.issues.text() == "Select the months entered by mistake in the table first."
    chosen = view.work.contribution_view.selectionModel()
    rows = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in (1, 3):
        chosen.select(view.work.contribution_model.index(row, 0), rows)
    asked = _declined(qtbot, ctx, dialogs, view.work.remove_months_button)
    assert "2025-02, 2025-04" in asked
    assert len(cases.get_case_file(store, case_id).contributions) == 4  # not agreed
    _agreed(qtbot, view, dialogs, view.work.remove_months_button)
    held = [c.month for c in cases.get_case_file(store, case_id).contributions]
    assert held == ["2025-01", "2025-03"]
    assert view.work.contribution_model.rowCount() == 2


def test_a_name_entered_by_mistake_is_removed_from_the_person_tab(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    names = [people.NameInput("နန်း"), people.NameInput("NANG NANGG", "passport")]
    case_id = ui_wizards.create_case(store, people.PersonInput(names=names))
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(0)  # person
    view.remove_name_button.click()  # the chooser cancelled: nothing asked, nothing removed
    assert dialogs.offered[-1] == ["Own script: နန်း", "As on passport: NANG NANGG"]
    assert dialogs.questions == []
    dialogs.choices = [1]
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.remove_name_button.click()
    assert "Remove the name NANG NANGG" in dialogs.questions[-1]
    held = cases.get_case_file(store, case_id).person.names
    assert [n.full_name for n in held] == ["နန်း"]
    dialogs.choices = [0]  # the last name: refused, with why
    view.remove_name_button.click()
    drain(qtbot, ctx)
    assert dialogs.errors[-1] == "A person needs at least one name."
    assert len(cases.get_case_file(store, case_id).person.names) == 1


def test_a_passport_s_dates_and_loss_are_recorded_from_the_documents_tab(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("နန်း")],
            documents=[people.DocumentInput("passport", "MA1234567")],
        ),
    )
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(1)  # documents
    view.documents_view.selectRow(0)
    view.doc_details_button.click()
    editor = view.work_editor
    assert editor is not None
    assert editor.fields.raw("document_status") == "current"
    editor.fields.set_raw("document_issued_on", "01/05/2022")
    editor.fields.set_raw("document_expires_on", "30/04/2021")  # before it was issued
    editor.fields.set_raw("document_status", "lost")
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    drain(qtbot, ctx)
    assert editor.isVisible()  # refused by the store: stays open to be corrected
    editor.fields.set_raw("document_expires_on", "30/04/2032")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    (doc,) = cases.get_case_file(store, case_id).person.documents
    assert (doc.issued_on, doc.expires_on, doc.status) == (
        dt.date(2022, 5, 1),
        dt.date(2032, 4, 30),
        "lost",
    )
    shown = [view.documents_model.index(0, c).data() for c in range(5)]
    assert shown[2:] == ["01/05/2022", "30/04/2032", "Lost"]


def test_a_document_entered_by_mistake_is_removed_from_the_documents_tab(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    wrong = "AB1234567"
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("နန်း")],
            documents=[people.DocumentInput("passport", wrong)],
        ),
    )
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(1)  # documents
    view.remove_doc_button.click()
    assert view.doc_issues.text() == "Select the document in the table first."
    view.documents_view.selectRow(0)
    dialogs.confirm_answer = True
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.remove_doc_button.click()
    assert f"Remove the Passport {wrong}" in dialogs.questions[-1]
    assert cases.get_case_file(store, case_id).person.documents == ()
    assert view.documents_model.rowCount() == 0


def test_print_asks_which_claim_when_the_case_holds_two(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """A worker claiming maternity and sickness at once: the packet is about the claim
    chosen; cancelling prints nothing. A case with one claim is not asked."""
    case_id = _claim(store)
    view = _shown(qtbot, ctx, case_id)
    asked: list[tuple[str, str]] = []
    view.print_requested.connect(lambda case, benefit: asked.append((case, benefit)))
    view.print_button.click()
    assert (asked, dialogs.offered) == ([(case_id, "")], [])

    ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit(
            "claim", "claim_sickness", [("check_eligibility", {}, "ready")], benefit="sickness"
        ),
    )
    _load(qtbot, view, case_id)
    view.print_button.click()  # cancelled
    dialogs.choices.append(1)
    view.print_button.click()
    assert dialogs.offered == [["Maternity", "Sickness"]] * 2
    assert asked == [(case_id, ""), (case_id, "sickness")]


def _add_name(qtbot: QtBot, ctx: AppContext, store: Store, typed: str) -> CaseFileView:
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("AUNG")]))
    view = _shown(qtbot, ctx, case_id)
    view.tabs.setCurrentIndex(0)
    view.new_name.setText(typed)
    view.add_name_button.click()
    drain(qtbot, ctx)
    return view


@pytest.mark.parametrize(("agreed", "stored"), [(True, "မောင်မောင်"), (False, "ေမာင္ေမာင္")])
def test_a_name_typed_in_zawgyi_is_converted_once_the_caseworker_agrees(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs, agreed: bool, stored: str
) -> None:
    dialogs.confirm_answer = agreed
    view = _add_name(qtbot, ctx, store, "ေမာင္ေမာင္")
    assert dialogs.questions == [
        "This name looks like Zawgyi. Convert it to Unicode as “မောင်မောင်”?"
    ]
    assert view.case is not None
    names = [n.full_name for n in cases.get_case_file(store, view.case.id).person.names]
    assert stored in names


def test_a_name_in_zawgyi_that_cannot_be_converted_is_refused_not_a_crash(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """The question showed the name converted, and the conversion raised: an error
    dialog of the unexpected kind. Now it says to retype it, and keeps what was typed."""
    typed = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"
    view = _add_name(qtbot, ctx, store, typed)
    assert dialogs.questions == []
    assert dialogs.errors == [
        "This text looks like Zawgyi but cannot be converted safely."
        " Please type it again with a Unicode keyboard."
    ]
    assert view.new_name.text() == typed
    assert view.case is not None
    assert [n.full_name for n in cases.get_case_file(store, view.case.id).person.names] == ["AUNG"]


def test_a_narrow_case_file_shows_whose_case_it_is_and_does_not_scroll_sideways(
    qtbot: QtBot, ctx: AppContext, store: Store, qapp: QApplication
) -> None:
    """In Burmese, in a 1024-pixel window (the case file 800 wide beside the page list):
    the case number and the worker's name whole, the controls on a row below, and the
    Person tab no wider than the window (the consent box's row of choices and buttons
    made it scroll sideways); in a wide window the controls back beside the title."""
    before = qapp.font()
    install_fonts(qapp)  # as the app runs: Burmese is wider than in a fallback font
    try:
        ctx.language.set_language("my")
        case_id = _claim(store)
        view = CaseFileView(ctx)
        qtbot.addWidget(view)
        view.resize(800, 660)
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            view.load(case_id)
        view.tabs.setCurrentIndex(0)
        qtbot.wait(50)  # laid out
        title = view.title
        assert title.width() >= title.fontMetrics().horizontalAdvance(title.text())
        assert view.controls.y() > title.y()  # the track choice and buttons: a row below
        person_tab = view.tabs.widget(0)
        assert isinstance(person_tab, QScrollArea)
        assert person_tab.horizontalScrollBar().maximum() == 0
        # wide enough for all of it on one row, the controls go back beside the title
        tabs_top = view.tabs.y()
        view.resize(1200, 660)
        qtbot.waitUntil(lambda: view.controls.y() < title.y() + title.height())
        assert title.width() >= title.fontMetrics().horizontalAdvance(title.text())
        assert view.tabs.y() < tabs_top  # the row below is gone: more room for the tabs
    finally:
        qapp.setFont(before)


def test_what_a_sync_changed_in_a_case_file_is_named_by_its_tabs(
    store: Store, tmp_path: Path
) -> None:
    """The case file's note after a sync names the tabs whose content changed; a change
    of the case's own details (its status, its number) alone names none."""
    from tests.coordination import case_with_one_of_everything

    ids_ = case_with_one_of_everything(store, tmp_path)
    shown = cases.get_case_file(store, ids_["case"])
    assert changed_tabs(shown, shown) == []
    assert changed_tabs(shown, replace(shown, status="closed", number="TAK-0002-000001")) == []
    person = replace(shown.person, phone="0899999999")
    assert changed_tabs(shown, replace(shown, person=person)) == ["person"]
    no_documents = replace(shown.person, documents=())
    assert changed_tabs(shown, replace(shown, person=no_documents)) == ["documents"]
    assert changed_tabs(shown, replace(shown, attachments=())) == ["documents"]
    assert changed_tabs(shown, replace(shown, contributions=(), notes=())) == ["work", "notes"]
    assert changed_tabs(shown, replace(shown, tracks=(), consents=())) == ["person", "tracks"]
