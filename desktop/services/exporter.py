"""Export people with their names, documents and cases as CSV or JSON.

JSON is one object per person (``names``, ``documents``, ``cases`` as lists). CSV is
one row per person with the lists joined by ``" | "`` (``kind:value`` pairs), written as
UTF-8 with a BOM so spreadsheet programs show Thai, Burmese, Khmer and Lao correctly.
People are read in pages, so memory stays flat for 100,000 people. Tombstoned and merged
people are left out.

:func:`export_person` is the other kind: everything the store holds about one person, on
their request (PDPA), as one indented UTF-8 JSON file (and, when asked, their attached
files decrypted into a ZIP beside it). Every row is written with every catalogue field
(:mod:`desktop.domain.catalogue`), so a field added there is exported without a change here.

Both write beside the destination and rename at the end (:func:`_replacing`), so an
interrupted export never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import app_version
from desktop.domain import catalogue, files, i18n
from desktop.domain.errors import UserError
from desktop.models.base import Synced, listed
from desktop.models.entities import (
    Attachment,
    AuditEvent,
    Case,
    ChecklistItem,
    Consent,
    ContributionMonth,
    Employer,
    Employment,
    IdentityDocument,
    Note,
    Person,
    PersonName,
    Step,
    Track,
)
from desktop.models.recorder import record_action
from desktop.models.store import Store, storage_error
from desktop.models.sync_records import SyncMerge
from desktop.services import attachments, cases

Format = Literal["csv", "json"]
_Row = TypeVar("_Row", bound=Synced)
PAGE = 1000
CSV_COLUMNS = (
    "person_id",
    "names",
    "sex",
    "title",
    "marital_status",
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
    title: str | None
    marital_status: str | None
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
            "title": self.title,
            "marital_status": self.marital_status,
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
            self.title or "",
            self.marital_status or "",
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
                p.title,
                p.marital_status,
                p.birth_date,
                p.nationality,
                p.phone,
                tuple(names.get(p.id, ())),
                tuple(docs.get(p.id, ())),
                tuple(cases.get(p.id, ())),
            )
        after = persons[-1].id


# What a spreadsheet program reads as a formula when a cell begins with it: a phone typed
# "+66 81..." or a value an agency list carried ("=HYPERLINK(...)") would run, or break.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """``value`` for a CSV cell a spreadsheet program shows as text: one that would be read
    as a formula gets a leading apostrophe, which the program hides (OWASP's advice).
    :func:`read_csv_export` takes it off again."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _from_spreadsheet_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


def export_people(store: Store, path: Path, fmt: Format, *, overwrite: bool = False) -> int:
    """Write every person to ``path``; returns how many. Refuses to overwrite unless asked.

    The file is written beside its destination and renamed at the end, so an interrupted
    export never leaves a half-written file under the requested name.
    """
    _refuse_existing(path, overwrite=overwrite)
    count = 0
    with (
        _replacing(path) as partial,
        partial.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as out,
    ):
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for person in iter_people(store):
                writer.writerow([spreadsheet_cell(cell) for cell in person.as_csv()])
                count += 1
        else:
            out.write("[\n")
            for person in iter_people(store):
                if count:
                    out.write(",\n")
                out.write(json.dumps(person.as_json(), ensure_ascii=False))
                count += 1
            out.write("\n]\n")
    return count


def _refuse_existing(*paths: Path, overwrite: bool) -> None:
    for path in paths:
        if path.exists() and not overwrite:
            raise UserError("export.file_exists", path=str(path))


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """:func:`desktop.domain.files.replacing`, where a folder that is not there (a stick
    pulled out), cannot be written or fills up is a :class:`UserError`."""
    try:
        with files.replacing(path) as partial:
            yield partial
    except OSError as exc:
        raise write_refusal(exc, path) from exc


def write_refusal(exc: OSError, path: Path) -> UserError:
    """What an ``OSError`` writing ``path`` outside the store means to the person: a full
    disk or a folder this account cannot write as the store says them, else the file could
    not be written, with the system's reason."""
    said = storage_error(exc, path.parent)
    if said is not None:
        return said
    return UserError("error.write_failed", path=str(path), detail=exc.strerror or str(exc))


# --- one person's data, on their request (PDPA) ---------------------------------------------

PERSON_FORMAT = "sapan.person-export"
PERSON_FORMAT_VERSION = 1


@dataclass(frozen=True)
class PersonExport:
    """What :func:`export_person` wrote: the JSON file, the ZIP of files (None unless asked
    for), how many rows of each entity (``person``, ``note``, ...), and how many attached
    files were put in the ZIP or left out (one not yet downloaded to this device is)."""

    person_id: str
    path: Path
    files_path: Path | None
    rows: dict[str, int]
    files: int = 0
    files_missing: int = 0
    files_lost: int = 0  # not here and on no server: no sync brings them (check_blobs)


def files_path_for(path: Path) -> Path:
    """Where the attached files of the export ``path`` go: ``aung.json`` ->
    ``aung.attachments.zip`` in the same folder."""
    return path.with_name(f"{path.stem}.attachments.zip")


def export_person(
    store: Store,
    number_or_id: str,
    path: Path,
    *,
    overwrite: bool = False,
    files: bool = False,
    now: dt.datetime | None = None,
) -> PersonExport:
    """Write everything the store holds about one person to ``path`` as indented JSON.

    ``number_or_id`` is a case number, a case id or a person id; an unknown one is
    ``export.person_unknown``. A person merged into another is exported as the person kept,
    with every duplicate merged into them (their rows may still hang from the duplicate
    until the merge has synced). Tombstoned rows are left out, and so are the audit events
    about them. With ``files``, the attached files are decrypted into a ZIP beside the JSON
    (:func:`files_path_for`; none when nothing is attached); the JSON names each one's entry.
    Refuses to replace either file unless ``overwrite``.
    """
    with store.read() as session:
        person_id, people = _people(session, number_or_id)
        data, rows = _person_data(session, people)
    # no scans attached: no ZIP, an empty one would only puzzle the person given it
    zip_path = files_path_for(path) if files and data["attachments"] else None
    _refuse_existing(path, *([zip_path] if zip_path else []), overwrite=overwrite)
    written = missing = lost = 0
    if zip_path is not None:
        written, missing, lost = _write_files(store, zip_path, data["attachments"])
    data = {"export": _header(store, now, files=zip_path), **data}
    try:
        with _replacing(path) as partial:
            partial.write_text(
                json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
                newline="\n",
            )
    except BaseException:
        if zip_path is not None:  # decrypted scans are not left without their export
            with contextlib.suppress(OSError):
                zip_path.unlink(missing_ok=True)
        raise
    with store.session() as session:  # PDPA accountability: who handed out whose data, when
        person = session.get(Person, person_id)
        office = person.office if person is not None else store.office
        record_action(
            session, "person.exported", "person", person_id, office, rows=rows, files=written
        )
    return PersonExport(person_id, path, zip_path, rows, written, missing, lost)


def person_export_text(done: PersonExport, translate: Callable[..., str]) -> str:
    """What was written, in the reader's words (``translate(key, **params)``: the app's
    ``tr``, or ``i18n.text`` in the command line's language)."""
    lines = [translate("export.person_written", path=str(done.path))]
    if done.files_path is not None:
        lines.append(translate("export.person_files", count=done.files, path=str(done.files_path)))
        if done.files_missing:
            lines.append(translate("export.person_files_missing", count=done.files_missing))
        if done.files_lost:
            lines.append(translate("export.person_files_lost", count=done.files_lost))
    return "\n".join(lines)


def _people(session: Session, number_or_id: str) -> tuple[str, list[Person]]:
    """The person kept (followed from a merged-away duplicate) and everyone merged into them,
    by their rows (``merged_into``) or by the merge records this device holds."""
    key = number_or_id.strip()
    person = session.get(Person, key)
    if person is None or person.deleted:
        try:
            case = cases.find_case(session, key)
        except UserError:
            raise UserError("export.person_unknown", key=number_or_id) from None
        person = session.get(Person, case.person_id)
        if person is None or person.deleted:
            raise UserError("export.person_unknown", key=number_or_id)
    person = cases.kept_after_merges(session, person)
    people = {person.id: person}
    wanted = {person.id}
    while wanted:
        merged = session.scalars(
            select(Person).where(
                Person.deleted.is_(False),
                Person.id.not_in(list(people)),
                Person.merged_into.in_(wanted)
                | Person.id.in_(
                    select(SyncMerge.source_id).where(
                        SyncMerge.entity == "person",
                        SyncMerge.undone.is_(False),
                        SyncMerge.target_id.in_(wanted),
                    )
                ),
            )
        ).all()
        people.update((p.id, p) for p in merged)
        wanted = {p.id for p in merged}
    del people[person.id]
    return person.id, [person, *sorted(people.values(), key=lambda p: p.id)]


def _values(row: Synced) -> dict[str, Any]:
    """A row's id and every catalogue field, as the sync protocol writes them (ISO dates,
    decimals as strings)."""
    spec = catalogue.entity(row.__entity__)
    return {
        "id": row.id,
        **{
            name: catalogue.to_wire(field, getattr(row, name))
            for name, field in spec.fields.items()
        },
    }


def _live(session: Session, cls: type[_Row], *where: Any, order: Any = None) -> list[_Row]:
    query = select(cls).where(cls.deleted.is_(False), *where)
    return list(session.scalars(query.order_by(*(order or ()), cls.id)).all())


def _person_data(session: Session, people: list[Person]) -> tuple[dict[str, Any], dict[str, int]]:
    """Every live row about the person, nested where a reader looks for it: tracks in their
    case, steps and checklist items in their track, an employer in each employment and
    contribution month; and how many rows of each entity that is."""
    ids = [p.id for p in people]
    names = _live(session, PersonName, PersonName.person_id.in_(ids), order=[PersonName.kind])
    documents = _live(
        session,
        IdentityDocument,
        IdentityDocument.person_id.in_(ids),
        order=[IdentityDocument.kind],
    )
    employments = _live(
        session, Employment, Employment.person_id.in_(ids), order=[Employment.start_date]
    )
    months = _live(
        session,
        ContributionMonth,
        ContributionMonth.person_id.in_(ids),
        order=[ContributionMonth.month],
    )
    consents = _live(session, Consent, Consent.person_id.in_(ids), order=[Consent.given_on])
    case_rows = _live(session, Case, Case.person_id.in_(ids), order=[Case.opened_on])
    case_ids = [c.id for c in case_rows]
    tracks = _live(session, Track, Track.case_id.in_(case_ids), order=[Track.opened_on])
    track_ids = [t.id for t in tracks]
    steps = _live(session, Step, Step.track_id.in_(track_ids), order=[Step.position])
    items = _live(session, ChecklistItem, ChecklistItem.track_id.in_(track_ids))
    notes = _live(
        session,
        Note,
        Note.person_id.in_(ids) | Note.case_id.in_(case_ids),
        order=[Note.written_at],
    )
    held = {a for item in items for a in item.attachment_ids or ()}
    attachments = _live(
        session,
        Attachment,
        Attachment.person_id.in_(ids)
        | Attachment.case_id.in_(case_ids)
        | Attachment.document_id.in_([d.id for d in documents])
        | Attachment.id.in_(listed(held)),
        order=[Attachment.filename],
    )
    employer_ids = {e.employer_id for e in employments if e.employer_id}
    employer_ids |= {m.employer_id for m in months if m.employer_id}
    employers = {e.id: _values(e) for e in _live(session, Employer, Employer.id.in_(employer_ids))}
    rows: list[Synced] = [
        *people, *names, *documents, *employments, *months, *consents, *case_rows,
        *tracks, *steps, *items, *notes, *attachments,
    ]  # fmt: skip
    by_entity: dict[str, list[str]] = {}
    for row in rows:
        by_entity.setdefault(row.__entity__, []).append(row.id)
    events = [
        event
        for entity, row_ids in sorted(by_entity.items())
        for event in _live(
            session, AuditEvent, AuditEvent.entity == entity, AuditEvent.row_id.in_(listed(row_ids))
        )
    ]
    events.sort(key=lambda e: (e.at or "", e.id))
    holders: dict[str, list[str]] = {}
    for item in items:
        for attachment_id in item.attachment_ids or ():
            holders.setdefault(attachment_id, []).append(item.id)
    counts = {entity: len(row_ids) for entity, row_ids in by_entity.items()}
    counts.update(employer=len(employers), audit_event=len(events))
    return {
        "person": _values(people[0]),
        "merged_people": [_values(p) for p in people[1:]],
        "names": [_values(n) for n in names],
        "identity_documents": [_values(d) for d in documents],
        "employments": [_with_employer(_values(e), employers) for e in employments],
        "contribution_months": [_with_employer(_values(m), employers) for m in months],
        "consents": [_values(c) for c in consents],
        "cases": [
            {
                **_values(case),
                "tracks": [
                    {
                        **_values(track),
                        "steps": [_values(s) for s in steps if s.track_id == track.id],
                        "checklist_items": [_values(i) for i in items if i.track_id == track.id],
                    }
                    for track in tracks
                    if track.case_id == case.id
                ],
                "notes": [_values(n) for n in notes if n.case_id == case.id],
            }
            for case in case_rows
        ],
        "notes": [_values(n) for n in notes if n.case_id not in case_ids],
        "attachments": [
            {**_values(a), "checklist_item_ids": holders.get(a.id, [])} for a in attachments
        ],
        "audit_events": [_values(e) for e in events],
    }, counts


def _with_employer(values: dict[str, Any], employers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {**values, "employer": employers.get(values.get("employer_id") or "")}


def _write_files(store: Store, zip_path: Path, found: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Decrypt each attachment held on this device into the ZIP (one entry per file content,
    streamed); set each attachment's ``file_in_zip`` to its entry, None for one not held.
    Returns (files written, attachments whose file is not on this device yet, attachments
    whose file is lost: not here and never on the server)."""
    blobs = attachments.blob_store(store)
    entries: dict[str, str] = {}
    missing = 0
    with (
        _replacing(zip_path) as partial,
        zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for row in found:
            sha256 = row["sha256"] or ""
            if sha256 not in entries:
                if not sha256 or not blobs.has(sha256):
                    row["file_in_zip"] = None
                    missing += 1
                    continue
                entries[sha256] = f"{sha256[:12]}-{row['filename'] or 'file'}"
                with archive.open(entries[sha256], "w", force_zip64=True) as out:
                    for block in blobs.read_chunks(sha256):
                        out.write(block)
            row["file_in_zip"] = entries[sha256]
    held = [row["sha256"] for row in found if row["file_in_zip"] is None and row["sha256"]]
    gone = attachments.lost_scans(store, held)
    lost = sum(1 for sha256 in held if sha256 in gone)
    return len(entries), missing - lost, lost


def _header(store: Store, now: dt.datetime | None, *, files: Path | None) -> dict[str, Any]:
    """When, by whom, with which version; what the file holds, in every language."""
    return {
        "format": PERSON_FORMAT,
        "format_version": PERSON_FORMAT_VERSION,
        "exported_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "exported_by": store.user,
        "device": store.device_id,
        "app_version": app_version(),
        "files": files.name if files is not None else None,
        "about": {lang: i18n.text("export.person_about", lang) for lang in i18n.LANGUAGES},
    }


def read_csv_export(path: Path) -> list[dict[str, str]]:
    """Read back a CSV export (for tests and round trips)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {key: _from_spreadsheet_cell(value) for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


__all__: Sequence[str] = (
    "CSV_COLUMNS",
    "ExportedPerson",
    "PersonExport",
    "export_people",
    "export_person",
    "files_path_for",
    "iter_people",
    "person_export_text",
    "read_csv_export",
    "spreadsheet_cell",
)
