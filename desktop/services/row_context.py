"""Where a synced row sits for a person: whose case file it belongs to on this device,
and which detail a change of it is about, in the reader's language.

The Sync page lists two kinds of change a caseworker cannot leave alone, conflicts
(:mod:`desktop.services.coordination`) and changes the server refused
(:mod:`desktop.services.sync_view`); both are named the same way:

- :func:`owners` finds, for a list of rows, the person and case each belongs to by
  walking the catalogue's references (a step's track, a track's case, a case's person);
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
from desktop.models.entities import Case, Person
from desktop.services import cases, search


@dataclass(frozen=True)
class Owner:
    """The person and case file a row belongs to on this device; empty where it cannot
    tell (an employer, a row this device does not hold)."""

    person_id: str | None = None
    person_name: str = ""
    case_number: str = ""
    case_id: str | None = None  # the case file to open to see the row in its context


def owners(session: Session, rows: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Owner]:
    """The owner of each ``(entity, row id)``: each row's references walked up to its
    person (a few keyed reads per row), then the names and case numbers of all of them
    read at once. A row of a person with no case of its own on the path (a person, a
    name, a document) opens that person's first case."""
    classes = synced_classes()
    walked = {row: _walk(session, classes, *row) for row in set(rows)}
    people = search.summaries(session, {pid for pid, _case in walked.values() if pid})
    numbers = _case_numbers(session, {case for _pid, case in walked.values() if case})
    first_case = _first_cases(session, {pid for pid, case in walked.values() if pid and not case})
    found = {}
    for row, (person_id, case_id) in walked.items():
        case_id = case_id or first_case.get(person_id or "")
        person = people.get(person_id or "")
        found[row] = Owner(
            person_id=person_id,
            person_name=person.display_name if person else "",
            case_number=numbers.get(case_id or "")
            or (person.case_numbers[0] if person and person.case_numbers else ""),
            case_id=case_id,
        )
    return found


# How a row reaches the person whose case file it belongs to: its reference to the
# nearest parent, from the catalogue (a step's track, a track's case, a case's person).
_PARENT = {
    entity: (name, name.removesuffix("_id"))
    for entity, spec in catalogue.ENTITIES.items()
    for name in ("person_id", "case_id", "track_id")  # the nearest parent is named last
    if name in spec.fields and spec.fields[name].type is catalogue.FieldType.REF
}


def _walk(
    session: Session, classes: dict[str, Any], entity: str, row_id: str
) -> tuple[str | None, str | None]:
    """(person id, case id) a row belongs to on this device; None for what it cannot tell
    (an employer, or a row this device does not hold)."""
    case_id: str | None = None
    for _hop in range(4):  # step -> track -> case -> person
        if entity == "person":  # a merged-away person's rows now hang from the one kept
            person = session.get(Person, row_id)
            return (cases.kept_after_merges(session, person).id if person else row_id), case_id
        if entity == "case":
            case_id = row_id
        link = _PARENT.get(entity)
        cls = classes.get(entity)
        if link is None or cls is None:
            return None, case_id
        parent = session.scalar(select(getattr(cls, link[0])).where(cls.id == row_id))
        if not parent:
            return None, case_id
        entity, row_id = link[1], str(parent)
    return None, case_id  # pragma: no cover - the chain above is at most four hops


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
