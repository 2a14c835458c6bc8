"""Where a synced row sits for a person: its case file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.models.entities import PersonName
from desktop.models.store import Store
from desktop.services import cases, row_context
from tests.coordination import (
    another_case_at,
    case_of,
    case_with_one_of_everything,
    employer_and_job,
    make_person,
)


def test_rows_are_placed_in_the_case_file_they_belong_to_in_one_pass(store: Store) -> None:
    person = make_person(store, "Aung Aung")
    number = cases.open_case(store, person)
    case_id = case_of(store, person)
    note = cases.add_note(store, case_id, "Came with her sister.")
    with store.read() as session:
        name = session.scalars(select(PersonName.id).where(PersonName.person_id == person)).one()
        found = row_context.owners(
            session,
            [
                ("person", person),
                ("person_name", name),
                ("note", note),
                ("note", note),  # asked twice: one answer
                ("employer", "00000000-0000-4000-8000-000000000001"),
                ("step", "00000000-0000-4000-8000-000000000002"),  # not on this device
            ],
        )

    theirs = row_context.Owner(person, "Aung Aung", number, case_id)
    on_notes = row_context.Place("notes", None, note)  # the note selected on the Notes tab
    assert found == {
        ("person", person): theirs,
        ("person_name", name): theirs,
        ("note", note): dataclasses.replace(theirs, place=on_notes),
        ("employer", "00000000-0000-4000-8000-000000000001"): row_context.Owner(),
        ("step", "00000000-0000-4000-8000-000000000002"): row_context.Owner(),
    }


def test_a_row_of_a_merged_away_person_belongs_to_the_person_kept(store: Store) -> None:
    """Once two people are merged, a conflict about the one merged away (a birth date two
    caseworkers typed before the merge) names the person kept and opens their case file:
    the merged-away one has no name or case of their own left on the device."""
    from desktop.models.entities import Person

    kept = make_person(store, "Aung Aung")
    number = cases.open_case(store, kept)
    away = make_person(store, "Aung  Aung")
    with store.remote_session() as session:  # as a pull applies the merge and its moves
        session.get(Person, away).merged_into = kept
        for name in session.scalars(select(PersonName).where(PersonName.person_id == away)):
            name.deleted = True
    with store.read() as session:
        found = row_context.owners(session, [("person", away)])
    assert found == {
        ("person", away): row_context.Owner(kept, "Aung Aung", number, case_of(store, kept))
    }


@pytest.mark.parametrize(
    ("entity", "tab", "in_track", "selected"),
    [
        ("person", "person", False, None),
        ("person_name", "person", False, None),
        ("consent", "person", False, None),
        ("case", "person", False, None),
        ("identity_document", "documents", False, "identity_document"),
        ("scan", "documents", False, "identity_document"),  # with the document it shows
        ("employment", "work", False, "employment"),
        ("contribution_month", "work", False, "contribution_month"),
        ("track", "tracks", True, None),
        ("step", "tracks", True, "step"),
        ("checklist_item", "tracks", True, "checklist_item"),
        ("attachment", "tracks", True, "checklist_item"),  # a file: the item holding it
        ("note", "notes", False, "note"),
    ],
)
def test_each_kind_of_row_is_placed_where_its_case_file_shows_it(
    store: Store, tmp_path: Path, entity: str, tab: str, in_track: bool, selected: str | None
) -> None:
    """A conflict about a claim's step opened the case file on the Person tab; each row
    is now placed on its tab, with its claim and itself to select there."""
    ids = case_with_one_of_everything(store, tmp_path)
    kind = "attachment" if entity == "scan" else entity
    with store.read() as session:
        (owner,) = row_context.owners(session, [(kind, ids[entity])]).values()
    assert owner.case_id == ids["case"]
    assert owner.place == row_context.Place(
        tab, ids["track"] if in_track else None, ids[selected] if selected else None
    )


def test_a_file_of_a_case_no_checklist_item_holds_opens_the_tracks_tab_alone(
    store: Store, tmp_path: Path
) -> None:
    """A file taken off its checklist item (or never on one) still belongs to the case:
    the Tracks tab, nothing selected; one on an item of a deleted checklist likewise."""
    from desktop.models.entities import ChecklistItem
    from desktop.services import attachments

    ids = case_with_one_of_everything(store, tmp_path)
    scan = tmp_path / "payslip.png"
    scan.write_bytes(b"\x89PNG a payslip")
    loose = attachments.add_attachment(store, scan, case_id=ids["case"])
    with store.remote_session() as session:
        session.get(ChecklistItem, ids["checklist_item"]).deleted = True  # type: ignore[union-attr]
    with store.read() as session:
        found = row_context.owners(
            session, [("attachment", loose), ("attachment", ids["attachment"])]
        )
    assert {owner.place for owner in found.values()} == {row_context.Place("tracks")}


def test_an_employer_opens_the_case_file_of_the_one_worker_it_employs_at_their_job(
    store: Store, tmp_path: Path
) -> None:
    """A conflict about an employer opened no case file. Named in one case file, it is
    that file's, on the Work tab with the job selected."""
    ids = case_with_one_of_everything(store, tmp_path)
    employer, job = employer_and_job(store, ids["case"])
    with store.read() as session:
        (owner,) = row_context.owners(session, [("employer", employer)]).values()
    number = cases.get_case_file(store, ids["case"]).number
    assert owner == row_context.Owner(
        ids["person"], "AUNG AUNG", number, ids["case"], row_context.Place("work", None, job), 1
    )


def test_an_employer_named_in_several_case_files_opens_the_first_and_names_no_one(
    store: Store, tmp_path: Path
) -> None:
    """Named in several, the change is about them all: no person is named, the first
    case file (lowest number) opens at its worker's job, and the count is said."""
    ids = case_with_one_of_everything(store, tmp_path)
    employer, job = employer_and_job(store, ids["case"])
    another_case_at(store, employer)
    another_case_at(store, employer, "HLA HLA")
    with store.read() as session:
        (owner,) = row_context.owners(session, [("employer", employer)]).values()
    assert owner == row_context.Owner(
        case_id=ids["case"], place=row_context.Place("work", None, job), named_in=3
    )


def test_an_employer_whose_only_job_was_deleted_opens_nothing(store: Store, tmp_path: Path) -> None:
    from desktop.models.entities import Employment

    ids = case_with_one_of_everything(store, tmp_path)
    employer, job = employer_and_job(store, ids["case"])
    with store.remote_session() as session:
        session.get(Employment, job).deleted = True  # type: ignore[union-attr]
    with store.read() as session:
        assert row_context.owners(session, [("employer", employer)]) == {
            ("employer", employer): row_context.Owner()
        }
