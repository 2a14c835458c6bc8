"""Search people and their cases by any name fragment in any script, or an ID fragment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from desktop.models.entities import Case, IdentityDocument, PersonName
from desktop.models.search import search_person_ids
from desktop.models.store import Store


@dataclass(frozen=True)
class SearchHit:
    person_id: str
    rank: float
    names: tuple[str, ...]
    documents: tuple[str, ...]
    case_numbers: tuple[str, ...]

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else ""


def search(store: Store, query: str, limit: int = 20) -> list[SearchHit]:
    """People matching ``query``, best first, with their names, documents and case numbers."""
    with store.read() as session:
        ranked = search_person_ids(session, query, limit)
        ids = [pid for pid, _ in ranked]
        if not ids:
            return []
        names: dict[str, list[str]] = {}
        for pid, name, _kind in session.execute(
            select(PersonName.person_id, PersonName.full_name, PersonName.kind)
            .where(PersonName.person_id.in_(ids), PersonName.deleted.is_(False))
            .order_by(PersonName.kind != "native")
        ):
            names.setdefault(pid, []).append(name or "")
        docs: dict[str, list[str]] = {}
        for pid, kind, number in session.execute(
            select(
                IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number
            ).where(IdentityDocument.person_id.in_(ids), IdentityDocument.deleted.is_(False))
        ):
            docs.setdefault(pid, []).append(f"{kind}:{number}")
        cases: dict[str, list[str]] = {}
        for pid, number in session.execute(
            select(Case.person_id, Case.number)
            .where(Case.person_id.in_(ids), Case.deleted.is_(False))
            .order_by(Case.number)
        ):
            cases.setdefault(pid, []).append(number or "")
    return [
        SearchHit(
            pid,
            rank,
            tuple(names.get(pid, ())),
            tuple(docs.get(pid, ())),
            tuple(cases.get(pid, ())),
        )
        for pid, rank in ranked
    ]
