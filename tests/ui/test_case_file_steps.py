"""The case file moves a track's steps on and back: a button for each move the workflow
allows the selected step, what stands before ``ready`` in words, a reopen with a reason;
the track closes when its last step is done and opens again when one goes back."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.models.store import Store
from desktop.services import cases, people, ui_queries, ui_wizards
from desktop.ui.case_file import CaseFileView
from desktop.ui.context import AppContext
from tests.fakes import FakeDialogs
from tests.ui.conftest import open_case_file


def _claim(store: Store) -> str:
    """A maternity claim whose wizard got as far as the claim's filing: ready to hand in."""
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("နန်း")]))
    check = {"event_date": "2026-01-10", "claimant_is": "mother"}
    prepared = {
        "bank_name": "Krungthai",
        "bank_account": "1234567890",
        "claimant_signs": "signature",
        "forms_printed": ["sso_2_01"],
    }
    submit = {"submitted_on": "2026-03-01", "sso_office": "Mae Sot"}
    steps = [
        ("check_eligibility", check, "ready"),
        ("gather_documents", {}, "in_progress"),
        ("prepare_claim", prepared, "ready"),
        ("submit_claim", submit, "ready"),
        ("appeal", {}, "not_started"),
    ]
    ui_wizards.commit_track(
        store, case_id, ui_wizards.TrackCommit("claim", "claim_maternity", steps)
    )
    return case_id


def _open(qtbot: QtBot, ctx: AppContext, case_id: str) -> CaseFileView:
    view: CaseFileView = open_case_file(qtbot, ctx, case_id, tab=3)  # tracks
    return view


def _select(view: CaseFileView, key_label: str) -> None:
    rows = [view.steps_list.item(i).text() for i in range(view.steps_list.count())]
    view.steps_list.setCurrentRow(next(i for i, t in enumerate(rows) if key_label in t))


def _click(qtbot: QtBot, view: CaseFileView, name: str) -> None:
    button = view.move_buttons.get(name.removeprefix("move_")) or view.reopen_button
    assert button.isVisible(), name
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _visible_moves(view: CaseFileView) -> set[str]:
    return {s for s, b in view.move_buttons.items() if b.isVisible()}


def _states(store: Store, case_id: str) -> dict[str, str]:
    track = cases.get_case_file(store, case_id).tracks[0]
    return {s.key: s.state for s in track.steps}


def test_the_current_step_is_shown_with_what_it_still_needs(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    view = _open(qtbot, ctx, _claim(store))
    current = view.steps_list.currentItem()
    assert "Gather documents" in current.text()
    assert current.font().bold()
    assert _visible_moves(view) == {"ready"}
    hint = view.step_hint.text()
    assert hint.startswith("Before this step is ready:")
    assert "• Child's birth certificate: This document has not been collected yet." in hint
    ctx.language.set_language("th")
    qtbot.wait(10)
    assert "ยังไม่ได้รวบรวมเอกสารนี้" in view.step_hint.text()
    assert view.move_buttons["ready"].text() == "ทำเครื่องหมายว่า พร้อมแล้ว"


def test_a_claim_is_handed_in_decided_and_paid_then_reopened_with_a_reason(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)
    _select(view, "Submit")
    assert _visible_moves(view) == {"submitted"}
    # what the step holds, named and shown as the wizard shows it
    assert view.step_data.text() == "Submitted on: 01/03/2026 · SSO office: Mae Sot"
    ctx.language.set_language("th")
    qtbot.wait(10)
    _select(view, "4.")
    assert view.step_data.text() == "วันที่ยื่น: 01/03/2569 · สำนักงานประกันสังคม: Mae Sot"
    ctx.language.set_language("en")
    qtbot.wait(10)
    _select(view, "Submit")
    _click(qtbot, view, "move_submitted")
    assert _states(store, case_id)["submit_claim"] == "submitted"
    _select(view, "Submit")
    assert _visible_moves(view) == {"approved", "rejected"}
    _click(qtbot, view, "move_approved")
    _select(view, "Submit")
    _click(qtbot, view, "move_paid")
    track = cases.get_case_file(store, case_id).tracks[0]
    assert (track.state, track.outcome) == ("closed", "paid")
    assert "Closed: Paid" in view.track_hint.text()
    assert "Closed" in view.track_list.currentItem().text()

    _select(view, "Submit")
    assert view.reopen_to.currentData() == "approved"  # one step back is offered first
    dialogs.texts.append("   ")
    view.reopen_step()
    assert dialogs.errors[-1] == "Give a reason for reopening."
    assert _states(store, case_id)["submit_claim"] == "paid"  # nothing written
    dialogs.texts.append("The bank returned the transfer: wrong account number")
    _click(qtbot, view, "reopen_step")
    assert _states(store, case_id)["submit_claim"] == "approved"
    track = cases.get_case_file(store, case_id).tracks[0]
    assert (track.state, track.outcome) == ("in_progress", None)
    submit = next(s for s in track.steps if s.key == "submit_claim")
    assert "step.reopened" in [a for _, a, _ in cases.audit_trail(store, [submit.id])]


def test_a_move_refused_by_the_workflow_is_explained_and_writes_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)
    assert view.steps_list.currentItem().text().startswith("2.")  # gather documents
    view.move_buttons["ready"].click()
    assert not view.move_buttons["ready"].isEnabled()  # one move at a time
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=10_000)
    assert view.move_buttons["ready"].isEnabled()  # refused: it may be tried again
    assert "is not ready" in dialogs.errors[-1]
    assert "Step Gather documents is not ready" in dialogs.errors[-1]  # named, not its key
    missing = "Child's birth certificate: This document has not been collected yet."
    assert missing in dialogs.errors[-1]  # which document, not only that one is missing
    assert _states(store, case_id)["gather_documents"] == "in_progress"


def test_fill_in_shows_a_date_as_its_label_asks_for_one(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Submitted on 2026-03-01 was shown as stored, under "(DD/MM/YYYY, year AD)"."""
    view = _open(qtbot, ctx, _claim(store))
    _select(view, "Submit")
    view.edit_step_button.click()
    editor = view.step_editor
    assert editor is not None
    assert editor.fields.raw("submitted_on") == "01/03/2026"
    editor.reject()


def test_the_payment_notice_of_an_approved_claim_is_filled_in_and_starts_collection(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Approved, the claim's filing step takes the day the SSO's payment notice came (Fill
    in…): not a day before the claim was handed in; once saved, collecting the payment is
    on the Tasks page's data (D9, two years from the notice)."""
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)
    _select(view, "Submit")
    _click(qtbot, view, "move_submitted")
    _select(view, "Submit")
    _click(qtbot, view, "move_approved")
    _select(view, "Submit")
    view.edit_step_button.click()
    editor = view.step_editor
    assert editor is not None
    editor.fields.set_raw("payment_notified_on", "2026-02-20")  # before it was handed in
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert "workflow.date_before" in [i.code for i in editor.fields.issues]
    assert editor.isVisible()

    editor.fields.set_raw("payment_notified_on", "2026-03-10")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    submit = next(
        s for s in cases.get_case_file(store, case_id).tracks[0].steps if s.key == "submit_claim"
    )
    assert (submit.state, submit.data["payment_notified_on"]) == ("approved", "2026-03-10")
    [task] = [
        t
        for t in ui_queries.open_tasks(store, dt.date(2028, 2, 1))
        if t.action == "deadline.collect_payment"
    ]
    assert (task.case_id, task.due, task.state) == (case_id, dt.date(2028, 3, 10), "due_soon")


def test_an_appeal_is_filled_in_from_the_case_file_after_a_rejection(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """The wizard never asks for an appeal's fields (it follows a rejection); the step's
    Fill in… dialog does, checks them as the wizard would, and saves them to the step."""
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)
    _select(view, "Submit")
    _click(qtbot, view, "move_submitted")
    _select(view, "Submit")
    _click(qtbot, view, "move_rejected")
    assert _states(store, case_id)["appeal"] == "in_progress"  # the appeal opened
    _select(view, "5. ")
    assert view.edit_step_button.isVisible()
    assert "This field is required." in view.step_hint.text()

    view.edit_step_button.click()
    editor = view.step_editor
    assert editor is not None
    assert editor.isVisible()
    editor.fields.set_raw("decision_received_on", "2026-04-05")  # not yet come
    editor.fields.set_raw("appeal_grounds", "ลูกจ้างมีเงินสมทบครบ 5 เดือน")
    editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert "date.in_future" in [i.code for i in editor.fields.issues]
    assert editor.isVisible()
    appeal = next(
        s for s in cases.get_case_file(store, case_id).tracks[0].steps if s.key == "appeal"
    )
    assert appeal.data == {}  # nothing written

    editor.fields.set_raw("decision_received_on", "2026-03-10")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert view.step_editor is None  # closed once stored, and gone
    appeal = next(
        s for s in cases.get_case_file(store, case_id).tracks[0].steps if s.key == "appeal"
    )
    assert appeal.data["decision_received_on"] == "2026-03-10"
    assert appeal.data["appeal_grounds"] == "ลูกจ้างมีเงินสมทบครบ 5 เดือน"
    hint = view.step_hint.text()
    assert "This field is required." not in hint  # only the documents are left
    assert "This document has not been collected yet." in hint


def test_fill_in_offers_unicode_for_text_typed_in_zawgyi(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Fill in… shares the wizard's editors: an office typed on a Zawgyi keyboard is
    offered for conversion before it is saved, and saved converted once agreed."""
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)
    _select(view, "Submit")
    view.edit_step_button.click()
    editor = view.step_editor
    assert editor is not None
    editor.fields.set_raw("sso_office", "ျမဝတီ")
    dialogs.confirm_answer = True
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        editor.buttons.button(editor.buttons.StandardButton.Save).click()
    assert dialogs.questions == ["SSO office looks like Zawgyi. Convert it to Unicode as “မြဝတီ”?"]
    submit = next(
        s for s in cases.get_case_file(store, case_id).tracks[0].steps if s.key == "submit_claim"
    )
    assert submit.data["sso_office"] == "မြဝတီ"


def test_fill_in_keeps_zawgyi_declined_and_does_not_ask_again_about_it(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Declined, the office is saved exactly as typed; Fill in… opened again to add the
    filing date does not ask again about the office it holds unchanged (as the wizard,
    whose answers it may be holding, does not)."""
    case_id = _claim(store)
    view = _open(qtbot, ctx, case_id)

    def fill_in(**typed: str) -> None:
        _select(view, "Submit")
        view.edit_step_button.click()
        editor = view.step_editor
        assert editor is not None
        for name, value in typed.items():
            editor.fields.set_raw(name, value)
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            editor.buttons.button(editor.buttons.StandardButton.Save).click()

    def submit_data() -> dict[str, object]:
        steps = cases.get_case_file(store, case_id).tracks[0].steps
        return dict(next(s for s in steps if s.key == "submit_claim").data or {})

    dialogs.confirm_answer = False
    fill_in(sso_office="ျမဝတီ")
    assert dialogs.questions == ["SSO office looks like Zawgyi. Convert it to Unicode as “မြဝတီ”?"]
    assert submit_data()["sso_office"] == "ျမဝတီ"

    fill_in(submitted_on="10/03/2026")
    assert len(dialogs.questions) == 1
    assert submit_data()["sso_office"] == "ျမဝတီ"
    assert submit_data()["submitted_on"] == "2026-03-10"
