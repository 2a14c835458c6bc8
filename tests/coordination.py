"""Shared steps of the coordination tests (service, UI): devices registered with an
in-process server, people made on them, a conflict made the way caseworkers make one."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.models.entities import (
    Case,
    ChecklistItem,
    Consent,
    ContributionMonth,
    Employment,
    IdentityDocument,
    PersonName,
    Step,
    Track,
)
from desktop.models.store import Store, create_store
from desktop.models.sync_records import SyncConflict
from desktop.services import (
    attachments,
    cases,
    consent,
    employers,
    people,
    sync_view,
    ui_wizards,
)
from sync.protocol import Role
from sync.server import admin
from tests.conftest import PASSPHRASE, SERVER_PASSWORD

URL = "http://testserver"
Factory = Callable[[str], Any]


def add_account(server_app: Any, user: str, role: Role, offices: list[str]) -> None:
    ctx = server_app.state.ctx
    admin.create_user(ctx.engine, ctx.hasher, user, SERVER_PASSWORD, role, offices)


def register(store: Store, user: str, factory: Factory) -> Store:
    sync_view.register(store, URL, user, SERVER_PASSWORD, store.paths.root.name, factory)
    return store


def new_device(root: Path, user: str, factory: Factory) -> Store:
    """A new store at ``root``, registered as ``user``; the caller closes it."""
    return register(create_store(root, PASSPHRASE), user, factory)


def make_person(
    store: Store,
    name: str,
    birth: str | None = None,
    passport: str | None = None,
    native: str | None = None,
) -> str:
    """A new person with a Latin ``name`` (and a ``native`` one, listed first)."""
    documents = [people.DocumentInput("passport", passport)] if passport else []
    names = [people.NameInput(name, "latin")]
    if native is not None:
        names.append(people.NameInput(native, "native"))
    made = people.create_person(
        store, people.PersonInput(names=names, birth_date=birth, documents=documents)
    )
    return made.person_id


def case_of(store: Store, person_id: str) -> str:
    with store.read() as session:
        return session.scalars(select(Case.id).where(Case.person_id == person_id)).one()


def synced(store: Store, factory: Factory) -> None:
    summary = sync_view.run_sync(store, factory)
    assert summary.ok, summary.error


def conflicting_birth_dates(caseworker: Store, root: Path, factory: Factory) -> tuple[str, str]:
    """A second device of the same caseworker changes a birth date the first changes too,
    both offline; the second syncs last, so its value is in force. Returns the person's
    id and their case's number (from the server's block)."""
    person = make_person(caseworker, "Aung Aung", "1990-01-02")
    cases.open_case(caseworker, person)
    synced(caseworker, factory)
    second = new_device(root, "somchai", factory)
    synced(second, factory)
    people.update_person(caseworker, person, birth_date="1990-02-01")
    people.update_person(second, person, birth_date="1991-01-02")
    synced(caseworker, factory)
    synced(second, factory)
    second.close()
    with caseworker.read() as session:
        return person, session.get(Case, case_of(caseworker, person)).number


def merged_then_cases_merged(
    caseworker: Store, coordinator: Store, factory: Factory
) -> tuple[str, str, Any, Any]:
    """Two records of one worker, each with a case, made by ``caseworker``; the
    coordinator merges the second person into the first, syncs, then merges the second's
    case (the first's since) into the first's: (kept, extra, person merge, case merge)."""
    from desktop.services import coordination

    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    cases.open_case(caseworker, kept)
    cases.open_case(caseworker, extra)
    kept_case, extra_case = case_of(caseworker, kept), case_of(caseworker, extra)
    synced(caseworker, factory)
    if coordinator is not caseworker:
        synced(coordinator, factory)
    people_merge = coordination.merge(coordinator, "person", extra, kept, factory)
    synced(coordinator, factory)
    case_merge = coordination.merge(coordinator, "case", extra_case, kept_case, factory)
    return kept, extra, people_merge, case_merge


def case_with_one_of_everything(store: Store, tmp_path: Path) -> dict[str, str]:
    """A case file holding a row of each kind a conflict or a refused change can be about:
    the person, a name, a passport and its scan, a job and a contribution month, a
    consent, a maternity claim with its steps, checklist and a file on it, and a note.
    Returns their ids by entity (``scan``: the passport's scan; ``step``: the claim's
    prepare_claim; ``track``: the claim), and the case's own as ``case``."""
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("AUNG AUNG", "passport")],
            documents=[people.DocumentInput("passport", "MA1234567")],
        ),
    )
    person = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    employers.add_employment(
        store, person, employers.EmploymentInput(employer, dt.date(2025, 1, 1))
    )
    month = employers.ContributionInput("2025-01", decimal.Decimal(9000), employer)
    employers.record_contributions(store, person, [month])
    given = consent.ConsentInput("data_processing", True, "signed")
    consent.record_consent(store, person, given, today=dt.date(2026, 1, 5))
    steps = [
        ("check_eligibility", {"event_date": "2026-01-10", "claimant_is": "mother"}, "ready"),
        ("gather_documents", {}, "in_progress"),
        ("prepare_claim", {"bank_name": "Krungthai"}, "in_progress"),
        ("submit_claim", {}, "in_progress"),
        ("appeal", {}, "not_started"),
    ]
    papers = [ui_wizards.DocumentCommit("child_birth_certificate", True)]
    claim = ui_wizards.TrackCommit("claim", "claim_maternity", steps, papers)
    ui_wizards.commit_track(store, case_id, claim)
    with store.read() as session:
        ids = {
            "case": case_id,
            "person": person,
            "person_name": session.scalars(select(PersonName.id)).one(),
            "identity_document": session.scalars(select(IdentityDocument.id)).one(),
            "employment": session.scalars(select(Employment.id)).one(),
            "contribution_month": session.scalars(select(ContributionMonth.id)).one(),
            "consent": session.scalars(select(Consent.id)).one(),
            "track": session.scalars(select(Track.id)).one(),
            "step": session.scalars(select(Step.id).where(Step.key == "prepare_claim")).one(),
            "checklist_item": session.scalars(select(ChecklistItem.id)).one(),
        }
    scan = tmp_path / "passport.png"
    scan.write_bytes(b"\x89PNG a passport")
    document = ids["identity_document"]
    ids["scan"] = attachments.add_attachment(store, scan, person_id=person, document_id=document)
    item = ids["checklist_item"]
    ids["attachment"] = attachments.add_attachment(
        store, scan, case_id=case_id, checklist_item_id=item
    )
    ids["note"] = cases.add_note(store, case_id, "Came with her sister.")
    return ids


def employer_and_job(store: Store, case_id: str) -> tuple[str, str]:
    """The employer and job of the one job in case ``case_id``'s person's file."""
    person = cases.get_case_file(store, case_id).person.id
    with store.read() as session:
        employer, job = session.execute(
            select(Employment.employer_id, Employment.id).where(Employment.person_id == person)
        ).one()
    return str(employer), job


def another_case_at(store: Store, employer: str, name: str = "MYA MYA") -> tuple[str, str]:
    """A second worker of ``employer`` with a case file of their own: (case id, job id)."""
    person = make_person(store, name)
    cases.open_case(store, person)
    job = employers.add_employment(
        store, person, employers.EmploymentInput(employer, dt.date(2025, 6, 1))
    )
    return case_of(store, person), job


def kept_conflict(
    store: Store, entity: str, row_id: str, field: str, applied: Any, other: Any
) -> None:
    """An open conflict record (id ``c1``) over ``entity``/``row_id``'s ``field``, as a
    pull keeps it, with its two sides (``{"value": ..., "user_id": ...}``) as given."""
    with store.remote_session() as session:
        session.add(
            SyncConflict(
                id="c1",
                seq=1,
                entity=entity,
                row_id=row_id,
                field=field,
                office="TAK-01",
                applied=applied,
                other=other,
                status="open",
            )
        )
