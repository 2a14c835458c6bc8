"""Steps moved on and back by their workflow's rules: gates, the next step, the track."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop.domain import workflow
from desktop.domain.errors import UserError
from desktop.models.entities import Case, OutboxEntry, Track
from desktop.models.store import Store
from desktop.services import attachments, cases, people, printing, steps
from desktop.services.cases import StepView, TrackInput, TrackView
from desktop.services.people import NameInput, PersonInput

TODAY = dt.date(2026, 11, 23)


def _claim(store: Store, listed: bool = True) -> tuple[str, str]:
    """A maternity claim as ``start_track`` makes it, with its documents on the checklist
    unless not ``listed``: (case number, track id)."""
    person = people.create_person(store, PersonInput(names=[NameInput("Sok Dara")])).person_id
    number = cases.open_case(store, person)
    definition = workflow.track("claim_maternity")
    documents = [(d, True) for s in definition.steps for d in s.documents if s.when is None]
    documents = documents if listed else []
    track = cases.start_track(
        store,
        number,
        TrackInput(
            "claim",
            [s.key for s in definition.steps],
            documents,
            benefit="maternity",
            workflow="claim_maternity",
        ),
    )
    return number, track


def _track(store: Store, number: str, track_id: str) -> TrackView:
    return next(t for t in cases.get_case_file(store, number).tracks if t.id == track_id)


def _step(track: TrackView, key: str) -> StepView:
    return next(s for s in track.steps if s.key == key)


def _choice(track: TrackView, key: str) -> steps.StepChoice:
    return next(c for c in steps.step_choices(track, TODAY) if c.key == key)


def _closed_on(store: Store, case_id: str) -> dt.date | None:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.closed_on


def _actions(store: Store, row_id: str) -> list[str]:
    return [a for _, a, _ in cases.audit_trail(store, [row_id])]


def _to_submitted(store: Store, number: str, track_id: str, tmp_path: Path) -> TrackView:
    """Every step before the decision done the way a caseworker does it."""
    track = _track(store, number, track_id)
    check = _step(track, "check_eligibility").id
    cases.save_step(store, check, data={"event_date": "2026-10-01", "claimant_is": "mother"})
    steps.move_step(store, check, "ready", TODAY)
    case_id = cases.get_case_file(store, number).id
    for item in track.checklist:
        scan = tmp_path / f"{item.doc_key}.jpg"
        scan.write_bytes(b"\xff\xd8\xff" + item.doc_key.encode())
        attachments.add_attachment(store, scan, case_id=case_id, checklist_item_id=item.id)
    steps.move_step(store, _step(track, "gather_documents").id, "ready", TODAY)
    prepare = _step(track, "prepare_claim").id
    bank = {"bank_name": "Krungthai", "bank_account": "1234567890", "claimant_signs": "signature"}
    cases.save_step(store, prepare, data=bank)
    printing.record_printed(store, number, None, "print")  # the form printed: ready by itself
    submit = _step(track, "submit_claim").id
    cases.save_step(store, submit, data={"submitted_on": "2026-11-20", "sso_office": "Mae Sot"})
    steps.move_step(store, submit, "ready", TODAY)
    steps.move_step(store, submit, "submitted", TODAY)
    return _track(store, number, track_id)


def test_a_new_claim_offers_its_first_step_and_says_what_is_missing(store: Store) -> None:
    number, track_id = _claim(store)
    track = _track(store, number, track_id)
    first = _choice(track, "check_eligibility")
    assert first.current
    assert first.applies
    assert first.moves == ("ready",)
    assert {(i.code, i.field) for i in first.blockers} == {
        ("workflow.field_required", "event_date"),
        ("workflow.field_required", "claimant_is"),
    }
    assert first.reopen_to == ()
    appeal = _choice(track, "appeal")
    assert not appeal.applies
    assert appeal.moves == ()


def test_a_step_not_ready_is_refused_and_nothing_is_written(store: Store) -> None:
    number, track_id = _claim(store)
    check = _step(_track(store, number, track_id), "check_eligibility").id
    with pytest.raises(UserError) as caught:
        steps.move_step(store, check, "ready", TODAY)
    assert caught.value.code == "error.workflow_not_ready"
    assert _step(_track(store, number, track_id), "check_eligibility").state == "in_progress"
    assert "step.advanced" not in _actions(store, check)
    cases.save_step(store, check, data={"event_date": "2027-01-01", "claimant_is": "mother"})
    with pytest.raises(UserError) as future:
        steps.move_step(store, check, "ready", TODAY)  # the validator of the date runs too
    assert {i.code for i in future.value.issues} == {"date.in_future"}


def test_a_step_done_opens_the_next_one(store: Store) -> None:
    number, track_id = _claim(store)
    check = _step(_track(store, number, track_id), "check_eligibility").id
    cases.save_step(store, check, data={"event_date": "2026-10-01", "claimant_is": "mother"})
    moved = steps.move_step(store, check, "ready", TODAY)
    track = _track(store, number, track_id)
    gather = _step(track, "gather_documents")
    assert (moved.from_state, moved.to_state, moved.opened) == ("in_progress", "ready", gather.id)
    assert gather.state == "in_progress"
    assert _choice(track, "gather_documents").current
    assert {i.code for i in _choice(track, "gather_documents").blockers} == {
        "workflow.document_missing"
    }
    assert "step.advanced" in _actions(store, check)
    assert "step.advanced" in _actions(store, gather.id)


def test_a_paid_claim_closes_its_track_and_a_reopen_opens_it_again(
    store: Store, tmp_path: Path
) -> None:
    number, track_id = _claim(store)
    track = _to_submitted(store, number, track_id, tmp_path)
    submit = _step(track, "submit_claim")
    assert submit.state == "submitted"
    assert _choice(track, "submit_claim").moves == ("approved", "rejected")
    steps.move_step(store, submit.id, "approved", TODAY)
    closed = steps.move_step(store, submit.id, "paid", TODAY)
    assert closed.track_state == "closed"
    track = _track(store, number, track_id)
    assert (track.state, track.outcome, track.decided_on) == ("closed", "paid", TODAY)
    assert not any(c.current for c in steps.step_choices(track, TODAY))
    assert _choice(track, "submit_claim").reopen_to == (
        "approved",
        "submitted",
        "ready",
        "in_progress",
    )
    assert "track.closed" in _actions(store, track_id)
    case = cases.get_case_file(store, number)
    assert (case.status, _closed_on(store, case.id)) == ("closed", TODAY)  # its one track
    assert "case.closed" in _actions(store, case.id)

    with pytest.raises(UserError) as no_reason:
        steps.reopen_step(store, submit.id, "  ", "approved")
    assert no_reason.value.code == "error.reason_required"
    with pytest.raises(UserError) as sideways:
        steps.reopen_step(store, submit.id, "wrong button", "rejected")
    assert sideways.value.code == "error.workflow_reopen_backward"
    assert _track(store, number, track_id).state == "closed"  # nothing written

    back = steps.reopen_step(store, submit.id, "The bank returned the transfer", "approved")
    track = _track(store, number, track_id)
    assert (back.from_state, back.to_state, back.track_state) == ("paid", "approved", "in_progress")
    assert (track.state, track.outcome, track.decided_on) == ("in_progress", None, None)
    assert _choice(track, "submit_claim").current
    assert "step.reopened" in _actions(store, submit.id)
    assert "track.reopened" in _actions(store, track_id)
    assert cases.get_case_file(store, number).status == "open"
    assert "case.reopened" in _actions(store, case.id)


def test_a_new_claim_on_a_closed_case_opens_it_again(store: Store, tmp_path: Path) -> None:
    number, track_id = _claim(store)
    track = _to_submitted(store, number, track_id, tmp_path)
    submit = _step(track, "submit_claim").id
    steps.move_step(store, submit, "approved", TODAY)
    steps.move_step(store, submit, "paid", TODAY)
    assert cases.get_case_file(store, number).status == "closed"
    cases.start_track(store, number, TrackInput("claim", ["check_eligibility"], benefit="sickness"))
    case = cases.get_case_file(store, number)
    assert (case.status, _closed_on(store, case.id)) == ("open", None)


def test_a_rejection_opens_the_appeal(store: Store, tmp_path: Path) -> None:
    number, track_id = _claim(store)
    track = _to_submitted(store, number, track_id, tmp_path)
    appeal = _step(track, "appeal")
    with pytest.raises(UserError) as early:
        steps.move_step(store, appeal.id, "in_progress", TODAY)
    assert early.value.code == "error.step_not_applicable"
    moved = steps.move_step(store, _step(track, "submit_claim").id, "rejected", TODAY)
    assert moved.opened == appeal.id
    track = _track(store, number, track_id)
    assert track.state == "in_progress"  # the appeal is still to do
    assert _choice(track, "appeal").current
    assert {i.field for i in _choice(track, "appeal").blockers} >= {
        "decision_received_on",
        "appeal_grounds",
    }
    # the appeal's documents came onto the checklist with it, so they can be attached
    added = {c.doc_key: c for c in track.checklist if c.doc_key in ("decision_letter",)}
    assert added["decision_letter"].required
    assert {c.doc_key for c in track.checklist} >= {"decision_letter", "supporting_evidence"}
    case_id = cases.get_case_file(store, number).id
    for item in track.checklist:
        if item.doc_key in ("decision_letter", "supporting_evidence"):
            scan = tmp_path / f"{item.doc_key}.pdf"
            scan.write_bytes(b"%PDF-1.4 " + item.doc_key.encode())
            attachments.add_attachment(store, scan, case_id=case_id, checklist_item_id=item.id)
    grounds = {"decision_received_on": "2026-11-10", "appeal_grounds": "contributions were paid"}
    cases.save_step(store, appeal.id, data=grounds)
    steps.move_step(store, appeal.id, "ready", TODAY)
    steps.move_step(store, appeal.id, "submitted", TODAY)
    closed = steps.move_step(store, appeal.id, "approved", TODAY)
    assert closed.track_state == "closed"
    track = _track(store, number, track_id)
    assert (track.state, track.outcome) == ("closed", "approved")
    assert [c.doc_key for c in track.checklist].count("decision_letter") == 1


def test_bad_moves_are_refused(store: Store) -> None:
    number, track_id = _claim(store)
    check = _step(_track(store, number, track_id), "check_eligibility").id
    for to, code in (
        ("done", "error.bad_step_state"),
        ("paid", "error.workflow_transition"),
        ("in_progress", "error.workflow_transition"),
    ):
        with pytest.raises(UserError) as caught:
            steps.move_step(store, check, to, TODAY)
        assert caught.value.code == code
    with pytest.raises(UserError) as missing:
        steps.move_step(store, "no-such-step", "ready", TODAY)
    assert missing.value.code == "error.not_found"


def test_a_track_without_a_workflow_has_no_moves_but_can_be_reopened(store: Store) -> None:
    person = people.create_person(store, PersonInput(names=[NameInput("Noy")])).person_id
    number = cases.open_case(store, person)
    track_id = cases.start_track(store, number, TrackInput("claim", ["file"], benefit="sickness"))
    track = _track(store, number, track_id)
    assert steps.step_choices(track, TODAY) == ()
    step = track.steps[0]
    with pytest.raises(UserError) as caught:
        steps.move_step(store, step.id, "ready", TODAY)
    assert caught.value.code == "error.workflow_unknown_track"
    with pytest.raises(UserError):
        steps.reopen_step(store, step.id, "typo", "submitted")  # not behind in_progress
    steps.reopen_step(store, step.id, "typo", "not_started")
    assert _track(store, number, track_id).steps[0].state == "not_started"


def test_a_step_in_a_state_the_engine_has_no_move_for_is_shown_but_never_moved(
    store: Store,
) -> None:
    """A state written by another tool ("decided", a track state) does not break the
    case file: the step gets no choices, and a move of it is refused in words."""
    number, track_id = _claim(store)
    check = _step(_track(store, number, track_id), "check_eligibility").id
    cases.save_step(store, check, state="decided")
    track = _track(store, number, track_id)
    assert "check_eligibility" not in {c.key for c in steps.step_choices(track, TODAY)}
    assert _choice(track, "gather_documents").moves == ("in_progress",)
    with pytest.raises(UserError) as caught:
        steps.move_step(store, check, "paid", TODAY)
    assert caught.value.code == "error.bad_step_state"


def _item(store: Store, track_id: str, doc_key: str, **values: Any) -> str:
    with store.session() as session:
        track = session.get(Track, track_id)
        assert track is not None
        item = cases.missing_item(track, doc_key, required=False)
        for name, value in values.items():
            setattr(item, name, value)
        session.add(item)
        session.flush()
        return item.id


def _outbox(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(OutboxEntry)) or 0


def test_twin_checklist_items_fold_into_the_first_with_everything_they_hold(
    store: Store,
) -> None:
    """What two laptops that opened one step each listed (tests/sync/test_step_moves.py):
    the first item stays with every file, note and status; the others are tombstoned."""
    number, track_id = _claim(store)
    first = _item(store, track_id, "decision_letter", note="ask the employer")
    second = _item(
        store, track_id, "decision_letter", status="present", attachment_ids=["b"], note="copy"
    )
    # a twin another laptop folded already, after a file was added to it there
    folded = _item(store, track_id, "decision_letter", attachment_ids=["a"], deleted=True)
    other = _item(store, track_id, "supporting_evidence")

    assert steps.merge_twin_items(store) == 1
    checklist = _track(store, number, track_id).checklist
    letters = [c for c in checklist if c.doc_key == "decision_letter"]
    assert [(c.id, c.status, c.attachment_ids, c.note) for c in letters] == [
        (first, "present", ("a", "b"), "ask the employer\ncopy")
    ]
    assert "checklist_item.deleted" in _actions(store, second)
    assert other in {c.id for c in _track(store, number, track_id).checklist}
    assert folded not in {c.id for c in _track(store, number, track_id).checklist}

    # folding again finds nothing to do and writes nothing
    waiting = _outbox(store)
    assert steps.merge_twin_items(store) == 0
    assert _outbox(store) == waiting


def test_a_scan_is_not_attached_to_an_item_folded_away(store: Store, tmp_path: Path) -> None:
    _, track_id = _claim(store)
    _item(store, track_id, "decision_letter")
    twin = _item(store, track_id, "decision_letter")
    steps.merge_twin_items(store)
    scan = tmp_path / "letter.jpg"
    scan.write_bytes(b"\xff\xd8\xff letter")
    with pytest.raises(UserError) as refused:
        attachments.add_attachment(store, scan, checklist_item_id=twin)
    assert refused.value.code == "error.not_found"


@pytest.mark.parametrize(
    ("claimant", "listed"), [("mother", False), ("father_wife_uninsured", True)]
)
def test_a_marriage_certificate_is_listed_only_when_the_father_claims(
    store: Store, tmp_path: Path, claimant: str, listed: bool
) -> None:
    """A maternity claim started with an empty checklist lists its documents when the
    eligibility step is done: the marriage certificate only for the father claiming for
    his uninsured wife, and the documents step then waits for it (domain.md §3 row 2)."""
    number, track_id = _claim(store, listed=False)
    track = _track(store, number, track_id)
    check = _step(track, "check_eligibility").id
    cases.save_step(store, check, data={"event_date": "2026-10-01", "claimant_is": claimant})
    steps.move_step(store, check, "ready", TODAY)
    track = _track(store, number, track_id)
    keys = {c.doc_key: c.required for c in track.checklist}
    assert ("marriage_certificate" in keys) is listed
    assert {"id_original", "child_birth_certificate", "bank_passbook"} <= set(keys)
    assert all(keys.values())
    case_id = cases.get_case_file(store, number).id
    for item in track.checklist:
        if item.doc_key != "marriage_certificate":
            scan = tmp_path / f"{item.doc_key}.jpg"
            scan.write_bytes(b"\xff\xd8\xff" + item.doc_key.encode())
            attachments.add_attachment(store, scan, case_id=case_id, checklist_item_id=item.id)
    blockers = _choice(_track(store, number, track_id), "gather_documents").blockers
    assert [i.field for i in blockers] == (["marriage_certificate"] if listed else [])
