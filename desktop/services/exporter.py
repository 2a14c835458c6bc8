"""Export people with their names, documents and cases as CSV or JSON.

JSON is one object per person (``names``, ``documents``, ``cases`` as lists). CSV is
one row per person with the lists joined by ``" | "`` (``kind:value`` pairs), written as
UTF-8 with a BOM so spreadsheet programs show Thai, Burmese, Khmer and Lao correctly.
People are read in pages, so memory stays flat for 100,000 people. Tombstoned and merged
people are left out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.models.entities import Case, IdentityDocument, Person, PersonName
from desktop.models.store import Store

Format = Literal["csv", "json"]
PAGE = 1000
CSV_COLUMNS = (
    "person_id",
    "names",
    "sex",
    "birth_date",
    "nationality",
    "phone",
    "documents",
    "cases",
)


@dataclass(frozen=True)
class ExportedPerson:
    id: str
    sex: str | None
    birth_date: str | None
    nationality: str | None
    phone: str | None
    names: tuple[tuple[str, str], ...]  # (kind, full name)
    documents: tuple[tuple[str, str], ...]  # (kind, number)
    cases: tuple[tuple[str, str], ...]  # (number, status)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "nationality": self.nationality,
            "phone": self.phone,
            "names": [{"kind": k, "full_name": n} for k, n in self.names],
            "documents": [{"kind": k, "number": n} for k, n in self.documents],
            "cases": [{"number": n, "status": s} for n, s in self.cases],
        }

    def as_csv(self) -> list[str]:
        return [
            self.id,
            " | ".join(f"{k}:{n}" for k, n in self.names),
            self.sex or "",
            self.birth_date or "",
            self.nationality or "",
            self.phone or "",
            " | ".join(f"{k}:{n}" for k, n in self.documents),
            " | ".join(f"{n}:{s}" for n, s in self.cases),
        ]


def iter_people(store: Store, page: int = PAGE) -> Iterator[ExportedPerson]:
    """Every live person with names, documents and cases, in id order, read page by page."""
    after = ""
    while True:
        with store.read() as session:
            persons = session.scalars(
                select(Person)
                .where(Person.id > after, Person.deleted.is_(False), Person.merged_into.is_(None))
                .order_by(Person.id)
                .limit(page)
            ).all()
            if not persons:
                return
            ids = [p.id for p in persons]
            names: dict[str, list[tuple[str, str]]] = {}
            for pid, kind, full in session.execute(
                select(PersonName.person_id, PersonName.kind, PersonName.full_name)
                .where(PersonName.person_id.in_(ids), PersonName.deleted.is_(False))
                .order_by(PersonName.person_id, PersonName.kind)
            ):
                names.setdefault(pid, []).append((kind or "", full or ""))
            docs: dict[str, list[tuple[str, str]]] = {}
            for pid, kind, number in session.execute(
                select(IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number)
                .where(IdentityDocument.person_id.in_(ids), IdentityDocument.deleted.is_(False))
                .order_by(IdentityDocument.person_id, IdentityDocument.kind)
            ):
                docs.setdefault(pid, []).append((kind or "", number or ""))
            cases: dict[str, list[tuple[str, str]]] = {}
            for pid, number, status in session.execute(
                select(Case.person_id, Case.number, Case.status)
                .where(Case.person_id.in_(ids), Case.deleted.is_(False))
                .order_by(Case.number)
            ):
                cases.setdefault(pid, []).append((number or "", status or ""))
        for p in persons:
            yield ExportedPerson(
                p.id,
                p.sex,
                p.birth_date,
                p.nationality,
                p.phone,
                tuple(names.get(p.id, ())),
                tuple(docs.get(p.id, ())),
                tuple(cases.get(p.id, ())),
            )
        after = persons[-1].id


def export_people(store: Store, path: Path, fmt: Format, *, overwrite: bool = False) -> int:
    """Write every person to ``path``; returns how many. Refuses to overwrite unless asked.

    The file is written beside its destination and renamed at the end, so an interrupted
    export never leaves a half-written file under the requested name.
    """
    if path.exists() and not overwrite:
        raise UserError("export.file_exists", path=str(path))
    partial = path.with_name(path.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for person in iter_people(store):
                writer.writerow(person.as_csv())
                count += 1
        else:
            out.write("[\n")
            for person in iter_people(store):
                if count:
                    out.write(",\n")
                out.write(json.dumps(person.as_json(), ensure_ascii=False))
                count += 1
            out.write("\n]\n")
    partial.replace(path)
    return count


def read_csv_export(path: Path) -> list[dict[str, str]]:
    """Read back a CSV export (for tests and round trips)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


__all__: Sequence[str] = (
    "CSV_COLUMNS",
    "ExportedPerson",
    "export_people",
    "iter_people",
    "read_csv_export",
)
