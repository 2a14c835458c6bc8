"""Where a synced row sits for a person: whose case file it belongs to on this device,
and which detail a change of it is about, in the reader's language.

The Sync page lists two kinds of change a caseworker cannot leave alone, conflicts
(:mod:`desktop.services.coordination`) and changes the server refused
(:mod:`desktop.services.sync_view`); both are named the same way:

- :func:`owners` finds, for a list of rows, the person and case each belongs to by
  walking the catalogue's references (a step's track, a track's case, a case's person),
  and where that case file shows the row (:class:`Place`: the Tracks tab with the step's
  claim and the step selected, or a file's checklist item; the Work tab with the job...);
- :func:`desktop.domain.i18n.detail_text` names the detail ("Person: birth date", "Name:
  new record").

No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import catalogue
from desktop.models.base import listed, synced_classes
from desktop.models.entities import Attachment, Case, ChecklistItem, Employment, Person, Track
from desktop.services import cases, search


@dataclass(frozen=True)
class Place:
    """Where a case file shows a row: its tab (the case file's own names: ``person``,
    ``documents``, ``work``, ``tracks``, ``notes``), the track to select on the Tracks tab,
    and the row to select in the tab's list (a step, a checklist item, a document, a job,
    a contribution month, a note), if any."""

    tab: str = "person"
    track_id: str | None = None
    row_id: str | None = None


NOWHERE = Place()  # a row no case file on this device shows: its case file's first tab

# The tab that shows each kind of row; the person's own details, names and consents, and
# the case's, are on Person.
_TABS = {
    "identity_document": "documents",
    "employment": "work",
    "contribution_month": "work",
    "track": "tracks",
    "step": "tracks",
    "checklist_item": "tracks",
    "attachment": "tracks",  # a file on a claim's checklist (with its item); a scan: Documents
    "note": "notes",
}
# The kinds of row a tab lists one by one: the one at issue is selected.
_LISTED = {
    "identity_document",
    "employment",
    "contribution_month",
    "step",
    "checklist_item",
    "note",
}


@dataclass(frozen=True)
class Owner:
    """The person and case file a row belongs to on this device, and where that case file
    shows it; empty where it cannot tell (a row this device does not hold, an employer no
    case file here names). An employer named in several case files has no person: the
    first case file is opened, and ``named_in`` says how many name it."""

    person_id: str | None = None
    person_name: str = ""
    case_number: str = ""
    case_id: str | None = None  # the case file to open to see the row in its context
    place: Place = NOWHERE
    # an employer: how many case files on this device name it (the first is opened)
    named_in: int = 0


def owners(session: Session, rows: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Owner]:
    """The owner of each ``(entity, row id)``: each row's references walked up to its
    person (a few keyed reads per row), then the names and case numbers of all of them
    read at once. A row of a person with no case of its own on the path (a person, a
    name, a document) opens that person's first case; an employer's, the first case file
    of the people it employs (:func:`_employer_owner`)."""
    classes = synced_classes()
    walked = {row: _walk(session, classes, *row) for row in set(rows)}
    jobs = _jobs_of(session, {rid for entity, rid in walked if entity == "employer"})
    employed = {pid for held in jobs.values() for _job, pid in held}
    people = search.summaries(
        session, {pid for pid, _case, _track in walked.values() if pid} | employed
    )
    first_case = _first_cases(
        session, {pid for pid, case, _track in walked.values() if pid and not case} | employed
    )
    numbers = _case_numbers(
        session,
        {case for _pid, case, _track in walked.values() if case}
        | {first_case[pid] for pid in employed if pid in first_case},
    )
    attached = _attachment_places(
        session, {rid for entity, rid in walked if entity == "attachment"}
    )
    found = {}
    for row, (person_id, case_id, track_id) in walked.items():
        if row[0] == "employer":
            found[row] = _employer_owner(jobs.get(row[1], []), first_case, numbers, people)
            continue
        case_id = case_id or first_case.get(person_id or "")
        person = people.get(person_id or "")
        found[row] = Owner(
            person_id=person_id,
            person_name=person.display_name if person else "",
            case_number=numbers.get(case_id or "")
            or (person.case_numbers[0] if person and person.case_numbers else ""),
            case_id=case_id,
            place=_place(*row, track_id, attached) if case_id else NOWHERE,
        )
    return found


def _jobs_of(session: Session, employer_ids: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Each employer's live jobs on this device, (employment id, person id), the latest
    started first."""
    if not employer_ids:
        return {}
    found: dict[str, list[tuple[str, str]]] = {}
    for employer_id, job_id, person_id in session.execute(
        select(Employment.employer_id, Employment.id, Employment.person_id)
        .where(Employment.employer_id.in_(listed(employer_ids)), Employment.deleted.is_(False))
        .order_by(Employment.start_date.desc(), Employment.id)
    ):
        found.setdefault(str(employer_id), []).append((job_id, person_id))
    return found


def _employer_owner(
    jobs: list[tuple[str, str]],
    first_case: dict[str, str],
    numbers: dict[str, str],
    people: dict[str, search.PersonSummary],
) -> Owner:
    """Where an employer's row is seen: the case files of the people it employs (each
    person's first), on the Work tab with their job there selected. The one with the
    lowest number is opened; when there are several, the owner names no one of them
    (the change is about them all) and says how many (``named_in``)."""
    by_case: dict[str, tuple[str, str]] = {}  # case -> (its person's job, the person)
    for job_id, person_id in jobs:
        if person_id in first_case:
            by_case.setdefault(first_case[person_id], (job_id, person_id))
    if not by_case:
        return Owner()
    case_id = min(by_case, key=lambda case: (numbers.get(case, ""), case))
    job_id, person_id = by_case[case_id]
    place = Place("work", None, job_id)
    if len(by_case) > 1:
        return Owner(case_id=case_id, place=place, named_in=len(by_case))
    person = people.get(person_id)
    name = person.display_name if person else ""
    return Owner(person_id, name, numbers.get(case_id, ""), case_id, place, named_in=1)


def _place(entity: str, row_id: str, track_id: str | None, attached: dict[str, Place]) -> Place:
    """Where the case file shows the row ``entity``/``row_id`` of track ``track_id``; an
    attachment where ``attached`` (:func:`_attachment_places`) says."""
    if row_id in attached:
        return attached[row_id]
    return Place(_TABS.get(entity, "person"), track_id, row_id if entity in _LISTED else None)


def _attachment_places(session: Session, attachment_ids: set[str]) -> dict[str, Place]:
    """Where the case file shows each of these attachments that it shows with another row:
    the scan of a document with that document on Documents, a file on a claim's checklist
    with the checklist item holding it on Tracks (its claim selected)."""
    if not attachment_ids:
        return {}
    found: dict[str, Place] = {}
    cases_of: dict[str, str] = {}
    for aid, document_id, case_id in session.execute(
        select(Attachment.id, Attachment.document_id, Attachment.case_id).where(
            Attachment.id.in_(listed(attachment_ids))
        )
    ):
        if document_id:
            found[aid] = Place("documents", None, document_id)
        elif case_id:
            cases_of[aid] = case_id
    if not cases_of:
        return found
    items = session.execute(
        select(ChecklistItem.id, ChecklistItem.track_id, ChecklistItem.attachment_ids)
        .join(Track, Track.id == ChecklistItem.track_id)
        .where(Track.case_id.in_(listed(set(cases_of.values()))), ChecklistItem.deleted.is_(False))
        .order_by(ChecklistItem.id)
    )
    for item_id, track_id, held in items:
        for aid in held or ():
            if aid in cases_of:
                found.setdefault(aid, Place("tracks", track_id, item_id))
    return found


# How a row reaches the person whose case file it belongs to: its references to its
# parents, from the catalogue, nearest first (a step's track, a track's case, a case's
# person; a note's case, else its person: a scan of a document names no case).
_PARENTS = {
    entity: links
    for entity, spec in catalogue.ENTITIES.items()
    if (
        links := tuple(
            (name, name.removesuffix("_id"))
            for name in ("track_id", "case_id", "person_id")
            if name in spec.fields and spec.fields[name].type is catalogue.FieldType.REF
        )
    )
}


def _walk(
    session: Session, classes: dict[str, Any], entity: str, row_id: str
) -> tuple[str | None, str | None, str | None]:
    """(person id, case id, track id) a row belongs to on this device; None for what it
    cannot tell (an employer, or a row this device does not hold) or is not on its path
    (a name belongs to no track)."""
    case_id: str | None = None
    track_id: str | None = None
    for _hop in range(4):  # step -> track -> case -> person
        if entity == "person":  # a merged-away person's rows now hang from the one kept
            person = session.get(Person, row_id)
            kept = cases.kept_after_merges(session, person).id if person else row_id
            return kept, case_id, track_id
        if entity == "case":
            case_id = row_id
        if entity == "track":
            track_id = row_id
        links = _PARENTS.get(entity)
        cls = classes.get(entity)
        if links is None or cls is None:
            return None, case_id, track_id
        refs = session.execute(
            select(*(getattr(cls, name) for name, _parent in links)).where(cls.id == row_id)
        ).first()
        if refs is None:  # not on this device
            return None, case_id, track_id
        parents = [(parent, str(ref)) for (_n, parent), ref in zip(links, refs, strict=True) if ref]
        if not parents:  # hanging from nothing
            return None, case_id, track_id
        entity, row_id = parents[0]
    return None, case_id, track_id  # pragma: no cover - the chain is at most four hops


def _first_cases(session: Session, person_ids: set[str]) -> dict[str, str]:
    """Each person's live case with the lowest number: the one a list opens for them."""
    found: dict[str, str] = {}
    for person_id, case_id in session.execute(
        select(Case.person_id, Case.id)
        .where(
            Case.person_id.in_(listed(person_ids)),
            Case.deleted.is_(False),
            Case.merged_into.is_(None),
        )
        .order_by(Case.number.desc())
    ):
        found[person_id] = case_id  # the lowest number comes last and stays
    return found


def _case_numbers(session: Session, case_ids: set[str]) -> dict[str, str]:
    if not case_ids:
        return {}
    return {
        cid: number or ""
        for cid, number in session.execute(
            select(Case.id, Case.number).where(Case.id.in_(listed(case_ids)))
        )
    }
