"""Cases: offline numbers, the whole case file, lazy listing, forward-only steps, notes."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path

import pytest

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import attachments, cases, employers, people, steps
from desktop.services.cases import CaseFilter, TrackInput
from desktop.services.people import NameInput, PersonInput


def _person(store: Store, name: str = "မမြင့်မြင့်") -> str:
    return people.create_person(store, PersonInput(names=[NameInput(name)])).person_id


def test_case_numbers_come_from_the_device_block(store: Store) -> None:
    pid = _person(store)
    first = cases.open_case(store, pid)
    second = cases.open_case(store, pid)
    assert re.fullmatch(r"TAK-9\d{3}-000001", first)
    assert second.endswith("-000002")
    assert second[:8] == first[:8]


def test_a_case_file_whose_person_this_laptop_does_not_hold_says_why(store: Store) -> None:
    """Merged into a person of another office, the person leaves this office's laptops
    while the case file stays: "No person with id …" told the caseworker nothing."""
    from sqlalchemy import text

    number = cases.open_case(store, _person(store))
    elsewhere = "01a21458-cf11-7000-8000-000000000001"
    with store.session() as session:  # as a pull of the merge leaves it on this laptop
        session.execute(text('UPDATE "case" SET person_id = :p'), {"p": elsewhere})

    with pytest.raises(UserError) as caught:
        cases.get_case_file(store, number)

    assert caught.value.code == "error.case_person_elsewhere"
    said = caught.value.translated("en")
    assert said.startswith(f"The person of case file {number} is not on this laptop")
    assert elsewhere not in said


def test_case_file_gathers_everything(store: Store) -> None:
    pid = _person(store)
    employer = employers.create_employer(
        store, employers.EmployerInput("Mae Sot Garment Co.", sso_account="6300012345")
    )
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2025, 1, 6), None, decimal.Decimal(9000)),
    )
    employers.record_contributions(
        store,
        pid,
        [
            employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000), employer)
            for m in range(1, 7)
        ],
    )
    number = cases.open_case(store, pid)
    track = cases.start_track(
        store,
        number,
        TrackInput(
            "claim", ["collect", "file"], [("birth_certificate", True)], benefit="maternity"
        ),
    )
    cases.add_note(store, number, "Worker is due in March.")
    case_file = cases.get_case_file(store, number)
    assert case_file.person.id == pid
    assert case_file.employments[0].employer_name == "Mae Sot Garment Co."
    assert [c.month for c in case_file.contributions] == [f"2025-{m:02d}" for m in range(1, 7)]
    (claim,) = case_file.tracks
    assert claim.id == track
    assert [s.state for s in claim.steps] == ["in_progress", "not_started"]
    assert claim.checklist[0].status == "missing"
    assert case_file.notes[0].body == "Worker is due in March."


def test_recording_the_same_contributions_twice_changes_nothing(store: Store) -> None:
    pid = _person(store)
    months = [employers.ContributionInput("2025-01", decimal.Decimal(12000))]
    assert employers.record_contributions(store, pid, months) == 1
    assert employers.record_contributions(store, pid, months) == 0
    with pytest.raises(UserError):
        employers.record_contributions(
            store, pid, [employers.ContributionInput("2569-13", decimal.Decimal(1))]
        )


def test_steps_only_move_forward_unless_reopened_with_a_reason(store: Store) -> None:
    number = cases.open_case(store, _person(store))
    cases.start_track(store, number, TrackInput("enrollment", ["documents"], path="pink_card"))
    step = cases.get_case_file(store, number).tracks[0].steps[0]
    cases.save_step(store, step.id, state="submitted", data={"filed_on": "2026-03-01"})
    with pytest.raises(UserError) as caught:
        cases.save_step(store, step.id, state="in_progress")
    assert caught.value.code == "error.step_backwards"
    with pytest.raises(UserError):
        steps.reopen_step(store, step.id, "  ")
    steps.reopen_step(store, step.id, "SSO returned the form unsigned")
    reopened = cases.get_case_file(store, number).tracks[0].steps[0]
    assert reopened.state == "in_progress"
    assert reopened.data == {"filed_on": "2026-03-01"}
    actions = [a for _, a, _ in cases.audit_trail(store, [step.id])]
    assert "step.reopened" in actions


def test_listing_filters_and_rows(store: Store) -> None:
    numbers = [
        cases.open_case(store, _person(store, name)) for name in ("Aung Aung", "Sok Dara", "Noy")
    ]
    cases.start_track(store, numbers[1], TrackInput("claim", ["file"], benefit="maternity"))
    ids = cases.list_case_ids(store)
    assert len(ids) == 3 == cases.count_cases(store)
    rows = cases.case_rows(store, ids)
    assert [r.number for r in rows] == sorted(numbers)
    assert all(r.pending_changes > 0 for r in rows)
    only = cases.list_case_ids(store, CaseFilter(benefit="maternity"))
    assert cases.case_rows(store, only)[0].name == "Sok Dara"
    by_name = cases.case_rows(store, cases.list_case_ids(store, sort="name"))
    assert [r.name for r in by_name] == ["Aung Aung", "Noy", "Sok Dara"]
    assert (
        cases.case_rows(store, cases.list_case_ids(store, CaseFilter(text="dara")))[0].name
        == "Sok Dara"
    )


def test_unknown_case_and_empty_note(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        cases.get_case_file(store, "TAK-0000-000000")
    assert caught.value.code == "error.case_not_found"
    number = cases.open_case(store, _person(store))
    with pytest.raises(UserError):
        cases.add_note(store, number, " \n ")


def test_a_note_longer_than_the_server_accepts_is_refused_whole(store: Store) -> None:
    """A note is measured as kept (blank lines around it do not count): 10,000 characters
    go in; one more is an issue naming the note's text and its limit, and nothing is
    written, so the caseworker can shorten it and save again."""
    number = cases.open_case(store, _person(store))
    with pytest.raises(UserError) as caught:
        cases.add_note(store, number, "บ" * 10_001)
    (found,) = caught.value.issues
    assert (found.code, found.params["limit"], found.params["length"]) == (
        "value.too_long",
        10_000,
        10_001,
    )
    assert caught.value.translated("en") == "Some fields are not valid; nothing was saved."
    assert cases.get_case_file(store, number).notes == ()
    cases.add_note(store, number, "\n\n" + "บ" * 10_000 + "\n")
    (note,) = cases.get_case_file(store, number).notes
    assert len(note.body) == 10_000


def test_attachment_on_a_checklist_item_marks_it_present(store: Store, tmp_path: Path) -> None:
    number = cases.open_case(store, _person(store))
    cases.start_track(store, number, TrackInput("claim", ["file"], [("medical_certificate", True)]))
    item = cases.get_case_file(store, number).tracks[0].checklist[0]
    scan = tmp_path / "certificate.png"
    scan.write_bytes(b"\x89PNG fake scan")
    attachment_id = attachments.add_attachment(
        store, scan, case_id=cases.case_id_for(store, number), checklist_item_id=item.id
    )
    case_file = cases.get_case_file(store, number)
    assert case_file.tracks[0].checklist[0].status == "present"
    assert case_file.tracks[0].checklist[0].attachment_ids == (attachment_id,)
    assert attachments.read_attachment(store, case_file.attachments[0].sha256) == scan.read_bytes()


def test_a_full_checklist_item_refuses_another_file_before_storing_it(
    store: Store, tmp_path: Path
) -> None:
    """The sync server takes at most 200 files in one checklist item: the 201st is
    refused when attached, not days later at sync, and nothing is stored for it."""
    from sqlalchemy import func, select

    from desktop.models.entities import Attachment, ChecklistItem
    from sync.protocol import MAX_LIST_ITEMS

    number = cases.open_case(store, _person(store))
    cases.start_track(store, number, TrackInput("claim", ["file"], [("medical_certificate", True)]))
    item = cases.get_case_file(store, number).tracks[0].checklist[0]
    with store.session() as session:
        full = [f"00000000-0000-4000-8000-{i:012d}" for i in range(MAX_LIST_ITEMS)]
        session.get(ChecklistItem, item.id).attachment_ids = full
    scan = tmp_path / "page-201.png"
    scan.write_bytes(b"\x89PNG another page")

    with pytest.raises(UserError) as caught:
        attachments.add_attachment(
            store, scan, case_id=cases.case_id_for(store, number), checklist_item_id=item.id
        )

    assert caught.value.code == "error.checklist_item_full"
    assert "200" in caught.value.english()
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not any(store.paths.attachments.rglob("*")), "no blob written"


def test_a_200_mb_attachment_is_refused_and_nothing_recorded(store: Store, tmp_path: Path) -> None:
    number = cases.open_case(store, _person(store))
    huge = tmp_path / "huge.tiff"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(UserError) as caught:
        attachments.add_attachment(store, huge, case_id=cases.case_id_for(store, number))
    assert caught.value.code == "error.attachment_too_large"
    assert cases.get_case_file(store, number).attachments == ()


def test_an_unknown_step_state_is_a_clear_error(store: Store) -> None:
    number = cases.open_case(store, _person(store))
    cases.start_track(store, number, TrackInput("enrollment", ["documents"], path="pink_card"))
    step = cases.get_case_file(store, number).tracks[0].steps[0]
    with pytest.raises(UserError) as caught:
        cases.save_step(store, step.id, state="done")
    assert caught.value.code == "error.bad_step_state"
    assert caught.value.params["state"] == "done"
    assert cases.get_case_file(store, number).tracks[0].steps[0].state == step.state


def test_a_pasted_control_character_is_left_out_of_a_note_its_lines_kept(store: Store) -> None:
    """A NUL pasted from a PDF once went into the note, and the sync server refused the
    note for ever (notes are never edited)."""
    number = cases.open_case(store, _person(store))
    cases.add_note(store, number, "  line one\x00\n\n  line two\x07  \n")
    (note,) = cases.get_case_file(store, number).notes
    assert note.body == "line one\n\n  line two"


def test_a_merged_away_case_leads_to_the_case_kept(store: Store) -> None:
    """A packet printed before a coordinator merged two cases carries the merged-away
    case's number and QR code: they open (and print, and take new steps on) the case kept,
    which now holds what the merged-away one did, not its empty shell."""
    from desktop.models.entities import Case

    pid = _person(store)
    kept, merged, again = (cases.open_case(store, pid) for _ in range(3))
    kept_id, merged_id, again_id = (cases.case_id_for(store, n) for n in (kept, merged, again))
    with store.remote_session() as session:  # as a pull applies a merge made on the server
        session.get(Case, merged_id).merged_into = again_id
        session.get(Case, again_id).merged_into = kept_id  # merged twice: followed to the end

    for key in (merged, merged_id, again):
        assert cases.get_case_file(store, key).number == kept
        assert cases.case_id_for(store, key) == kept_id
    with store.remote_session() as session:  # the case kept is not on this device
        session.get(Case, kept_id).deleted = True
    assert cases.get_case_file(store, merged).number == again
