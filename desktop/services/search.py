"""Search people and their cases by any name fragment in any script, or an ID fragment."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from desktop.models.base import listed
from desktop.models.entities import Case, IdentityDocument, Person, PersonName
from desktop.models.search import search_person_ids
from desktop.models.store import Store


@dataclass(frozen=True)
class PersonSummary:
    """What a list shows of a person: names (native first), documents as ``kind:number``,
    case numbers, birth date and office."""

    person_id: str
    names: tuple[str, ...]
    documents: tuple[str, ...]
    case_numbers: tuple[str, ...]
    birth_date: str | None = None
    office: str = ""

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else ""


@dataclass(frozen=True)
class SearchHit(PersonSummary):
    rank: float = 0.0


def search(store: Store, query: str, limit: int = 20) -> list[SearchHit]:
    """People matching ``query``, best first, with their names, documents and case numbers."""
    with store.read() as session:
        ranked = search_person_ids(session, query, limit)
        found = summaries(session, [pid for pid, _ in ranked])
    return [
        SearchHit(**vars(found[pid]), rank=rank) if pid in found else SearchHit(pid, (), (), ())
        for pid, rank in ranked
    ]


def summaries(session: Session, person_ids: Collection[str]) -> dict[str, PersonSummary]:
    """A :class:`PersonSummary` of each live row of ``person_ids`` (deleted rows left out)."""
    if not person_ids:
        return {}
    ids = listed(person_ids)
    names: dict[str, list[str]] = {}
    for _name_id, pid, name, _deleted in session.execute(
        _name_rows(PersonName.person_id.in_(ids), PersonName.deleted.is_(False))
    ):
        names.setdefault(pid, []).append(name or "")
    docs: dict[str, list[str]] = {}
    for pid, kind, number in session.execute(
        select(IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number)
        .where(IdentityDocument.person_id.in_(ids), IdentityDocument.deleted.is_(False))
        .order_by(IdentityDocument.id)
    ):
        docs.setdefault(pid, []).append(f"{kind}:{number}")
    cases: dict[str, list[str]] = {}
    for pid, number in session.execute(
        select(Case.person_id, Case.number)
        .where(Case.person_id.in_(ids), Case.deleted.is_(False))
        .order_by(Case.number)
    ):
        cases.setdefault(pid, []).append(number or "")
    return {
        pid: PersonSummary(
            pid,
            tuple(names.get(pid, ())),
            tuple(docs.get(pid, ())),
            tuple(cases.get(pid, ())),
            birth,
            office,
        )
        for pid, birth, office in session.execute(
            select(Person.id, Person.birth_date, Person.office).where(
                Person.id.in_(ids), Person.deleted.is_(False)
            )
        )
    }


def named_by(
    session: Session, name_ids: Mapping[str, Collection[str]], retired: Collection[str] = ()
) -> dict[str, PersonSummary]:
    """A :class:`PersonSummary` of each person in ``name_ids`` (person id -> ids of
    ``person_name`` rows) made of those rows only, wherever they hang now, their names in
    the order :func:`summaries` gives; deleted rows are left out unless ``retired`` lists
    them. A person none of whose rows is on this device is left out; documents and case
    numbers stay empty.

    Once a person merge has synced, B's names hang from A; the merge record lists them,
    and this names B as lists named B before the merge.
    """
    wanted = {name_id for ids in name_ids.values() for name_id in ids}
    if not wanted:
        return {}
    kept = set(retired)
    ordered = [
        (name_id, name or "")
        for name_id, _pid, name, deleted in session.execute(
            _name_rows(PersonName.id.in_(listed(wanted)))
        )
        if not deleted or name_id in kept
    ]
    found: dict[str, PersonSummary] = {}
    for pid, ids in name_ids.items():
        mine = set(ids)
        names = tuple(name for name_id, name in ordered if name_id in mine)
        if names:
            found[pid] = PersonSummary(pid, names, (), ())
    return found


def _name_rows(*where: Any) -> Select[str, str, str | None, bool]:
    """(id, person id, full name, deleted) of the ``person_name`` rows ``where`` picks, in
    the order a person's names are listed: native names first (a list shows the first,
    :attr:`PersonSummary.display_name`), then as they were made (ids are time-ordered)."""
    return (
        select(PersonName.id, PersonName.person_id, PersonName.full_name, PersonName.deleted)
        .where(*where)
        .order_by(PersonName.kind != "native", PersonName.id)
    )
