"""People and their identity documents: create, edit, read.

Names are cleaned (NFC, spacing) and their script detected; Burmese text that looks
like Zawgyi is converted to Unicode only when the caller confirms (``convert_zawgyi``),
and the raw input is kept in ``raw_input`` for the audit trail. Document numbers are
validated by kind: an error blocks the save, a warning (e.g. a failed check digit on a
pink-card number) is returned to be shown. A value longer than the sync server accepts
is an error too (``value.too_long``), measured as it will be stored: cleaned, and
converted from Zawgyi where asked.

A person's ``title`` (``mr``, ``mrs``, ``miss``) and ``marital_status`` take only the codes
the sync catalogue lists (``value.unknown_code`` otherwise, as the server would refuse
them). The title is recorded, never derived: a woman chooses Mrs or Miss whatever her
marital status (Act on Title of Women, B.E. 2551). It must fit the person's sex when both
are recorded (``person.title_sex``): Mr is a man's, Mrs and Miss a woman's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import catalogue, ids, lengths, names, text
from desktop.domain.errors import UserError
from desktop.domain.i18n import Detail
from desktop.domain.names import NAME_KINDS
from desktop.domain.validation import Issue, has_errors, issue
from desktop.models.base import live_row
from desktop.models.entities import IdentityDocument, Person, PersonName
from desktop.models.search import reindex_people
from desktop.models.store import Store


@dataclass(frozen=True)
class NameInput:
    full_name: str
    kind: str = "native"
    given_name: str | None = None
    family_name: str | None = None
    convert_zawgyi: bool = False


@dataclass(frozen=True)
class DocumentInput:
    kind: str
    number: str
    issuing_country: str | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    status: str = "current"


@dataclass(frozen=True)
class PersonInput:
    names: Sequence[NameInput]
    sex: str | None = None
    title: str | None = None  # catalogue.PERSON_TITLES: "mr", "mrs", "miss"
    marital_status: str | None = None  # catalogue.MARITAL_STATUSES
    birth_date: str | None = None  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    nationality: str | None = None
    languages: Sequence[str] = ()
    preferred_language: str | None = None
    phone: str | None = None
    line_id: str | None = None
    address_th: str | None = None
    address_home: str | None = None
    arrived_on: dt.date | None = None
    documents: Sequence[DocumentInput] = ()


@dataclass(frozen=True)
class PersonResult:
    person_id: str
    warnings: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class NameView:
    id: str
    full_name: str
    script: str
    kind: str
    given_name: str | None
    family_name: str | None
    honorific: str | None


@dataclass(frozen=True)
class DocumentView:
    id: str
    kind: str
    number: str
    issuing_country: str | None
    issued_on: dt.date | None
    expires_on: dt.date | None
    status: str | None


@dataclass(frozen=True)
class PersonView:
    id: str
    office: str
    sex: str | None
    birth_date: str | None
    nationality: str | None
    languages: tuple[str, ...]
    preferred_language: str | None
    phone: str | None
    line_id: str | None
    address_th: str | None
    address_home: str | None
    arrived_on: dt.date | None
    names: tuple[NameView, ...] = field(default=())
    documents: tuple[DocumentView, ...] = field(default=())
    title: str | None = None
    marital_status: str | None = None
    left_on: dt.date | None = None  # the day they last left Thailand (went home)

    @property
    def display_name(self) -> str:
        """The native-script name first, then the passport spelling."""
        if not self.names:
            return ""
        ordered = sorted(
            self.names, key=lambda n: NAME_KINDS.index(n.kind) if n.kind in NAME_KINDS else 9
        )
        return ordered[0].full_name


def validate_person(data: PersonInput) -> list[Issue]:
    issues: list[Issue] = []
    if not any(text.clean(n.full_name) for n in data.names):
        issues.append(Issue("error.name_required", "names"))
    for i, name in enumerate(data.names):
        issues.extend(conversion_issues(name, f"names.{i}.full_name"))
    for i, doc in enumerate(data.documents):
        issues.extend(ids.validate_document_number(doc.kind, doc.number, field=f"documents.{i}"))
    return [*issues, *detail_issues(data), *length_issues(data)]


def conversion_issues(name: NameInput, where: str = "full_name") -> list[Issue]:
    """``text.zawgyi_unconvertible`` when the caller asked for a name typed in Zawgyi to
    be converted and it cannot be without loss: stored as typed it would print as garbage
    in every Unicode font, so the caseworker is asked to type it again."""
    if not name.convert_zawgyi:
        return []
    _result, found = text.check_encoding(text.clean(name.full_name), where)
    return [item for item in found if item.code == "text.zawgyi_unconvertible"]


def detail_issues(data: PersonInput) -> list[Issue]:
    """What refuses ``data``'s coded details: a code the catalogue does not list, a title
    that does not fit the sex (:func:`code_issues`, :func:`title_issues`)."""
    values = _person_values(data)
    return [*code_issues(values), *title_issues(data.sex, data.title)]


def code_issues(values: Mapping[str, object]) -> list[Issue]:
    """The person's coded details (``title``, ``marital_status``) among ``values`` (field
    -> value) that are not codes the sync catalogue lists (``value.unknown_code``)."""
    found: list[Issue] = []
    person = catalogue.entity("person")
    for name, value in values.items():
        spec = person.fields.get(name)
        if spec is not None and catalogue.unknown_choice(spec, value):
            found.append(
                issue(
                    "value.unknown_code",
                    name,
                    detail=Detail("person", name),
                    value=str(value),
                    codes=", ".join(spec.choices),
                )
            )
    return found


def title_issues(sex: str | None, title: str | None) -> list[Issue]:
    """``person.title_sex`` when ``title`` is not one a person of ``sex`` has: Mr is a
    man's title, Mrs and Miss a woman's. Nothing when either is not recorded."""
    if (sex, title) in (("M", "mrs"), ("M", "miss"), ("F", "mr")):
        return [issue("person.title_sex", "title")]
    return []


def length_issues(data: PersonInput) -> list[Issue]:
    """Values of ``data`` longer than the sync server accepts, as :func:`add_person` would
    store them; fields ``phone``, ``names.<i>.full_name``, ``documents.<i>.number``...

    A name is measured by what is typed (:func:`_name_texts`); what the app derives from
    it (script, honorific) is a short code of its own.
    """
    found = lengths.length_issues("person", _person_values(data))
    for i, name in enumerate(data.names):
        if text.clean(name.full_name):
            found += lengths.length_issues("person_name", _name_texts(name), f"names.{i}.")
    for i, doc in enumerate(data.documents):
        found += lengths.length_issues(
            "identity_document", _document_values(doc), f"documents.{i}."
        )
    return found


def create_person(store: Store, data: PersonInput, *, office: str | None = None) -> PersonResult:
    """Create a person with names and documents in one transaction."""
    issues = validate_person(data)
    if has_errors(issues):
        raise UserError("error.invalid_input", issues=issues)
    with store.session() as session:
        person = add_person(session, data, office or store.office)
        reindex_people(session, [person.id])
    return PersonResult(person.id, tuple(issues))


def add_person(session: Session, data: PersonInput, office: str) -> Person:
    """Add a person (names, documents, search text) inside the caller's transaction.

    For services that write a person together with other rows (imports); the data must
    have been validated (:func:`validate_person`).
    """
    person = Person(office=office, **_person_values(data))
    session.add(person)
    session.flush()
    for name in data.names:
        if text.clean(name.full_name):
            session.add(_name_row(person, name))
    for doc in data.documents:
        session.add(_document_row(person, doc))
    return person


def _person_values(data: PersonInput) -> dict[str, Any]:
    """The fields of the person row :func:`add_person` writes for ``data``."""
    return {
        "sex": data.sex,
        "title": data.title,
        "marital_status": data.marital_status,
        "birth_date": data.birth_date,
        "nationality": data.nationality,
        "languages": list(data.languages) or None,
        "preferred_language": data.preferred_language,
        "phone": text.clean(data.phone) if data.phone else None,
        "line_id": data.line_id,
        "address_th": data.address_th,
        "address_home": data.address_home,
        "arrived_on": data.arrived_on,
    }


def _name_row(person: Person, name: NameInput) -> PersonName:
    return PersonName(office=person.office, person_id=person.id, **_name_values(name))


def _name_values(name: NameInput) -> dict[str, Any]:
    """The fields of the name row written for ``name``: its texts (:func:`_name_texts`),
    its kind, and the script and honorific found in it."""
    texts = _name_texts(name)
    full = texts["full_name"]
    honorific, _rest = names.split_honorific(full)
    return {
        **texts,
        "script": str(text.dominant_script(full)),
        "kind": name.kind,
        "honorific": str(honorific) if honorific else None,
    }


def _name_texts(name: NameInput) -> dict[str, Any]:
    """The texts of the name row written for ``name``, cleaned: its full name, converted
    from Zawgyi when asked (the input then kept in ``raw_input``), given and family name."""
    raw = name.full_name
    full = text.clean(raw)
    raw_kept: list[str] | None = None
    if name.convert_zawgyi:
        converted = text.detect_and_convert(full)
        if converted.was_zawgyi and converted.text != full:
            full = text.clean(converted.text)
            raw_kept = [raw]
    return {
        "full_name": full,
        "given_name": text.clean(name.given_name) if name.given_name else None,
        "family_name": text.clean(name.family_name) if name.family_name else None,
        "raw_input": raw_kept,
    }


def _document_row(person: Person, doc: DocumentInput) -> IdentityDocument:
    return IdentityDocument(office=person.office, person_id=person.id, **_document_values(doc))


def _document_values(doc: DocumentInput) -> dict[str, Any]:
    """The fields of the document row written for ``doc``, its number normalised."""
    number = ids.normalise_document_number(doc.number)  # as the importer stores it
    return {
        "kind": doc.kind,
        "number": number,
        "issuing_country": doc.issuing_country,
        "issued_on": doc.issued_on,
        "expires_on": doc.expires_on,
        "status": doc.status,
    }


def add_name(store: Store, person_id: str, name: NameInput) -> str:
    """Add a name to a person; one longer than the sync server accepts (after cleaning and
    any Zawgyi conversion) is ``error.invalid_input`` with its ``value.too_long`` issue."""
    found = conversion_issues(name) or lengths.length_issues("person_name", _name_texts(name))
    if found:
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        person = live_person(session, person_id)
        row = _name_row(person, name)
        session.add(row)
        session.flush()
        reindex_people(session, [person_id])
        return row.id


def remove_name(store: Store, name_id: str) -> None:
    """Remove a name entered by mistake (a tombstone, on every device after a sync): it is
    no longer printed nor found. The person's last name is ``error.name_required``; one
    not on file is ``error.not_found``."""
    with store.session() as session:
        row = live_row(session, PersonName, name_id)
        others = session.scalar(
            select(func.count())
            .select_from(PersonName)
            .where(
                PersonName.person_id == row.person_id,
                PersonName.deleted.is_(False),
                PersonName.id != name_id,
            )
        )
        if not others:
            raise UserError("error.name_required")
        row.deleted = True
        session.flush()
        reindex_people(session, [row.person_id])


def held_documents(
    session: Session, person_id: str
) -> dict[tuple[str | None, str | None], IdentityDocument]:
    """The person's live documents by kind and (normalised) number."""
    rows = session.scalars(
        select(IdentityDocument).where(
            IdentityDocument.person_id == person_id, IdentityDocument.deleted.is_(False)
        )
    )
    return {(row.kind, row.number): row for row in rows}


def add_document(store: Store, person_id: str, doc: DocumentInput) -> tuple[str, list[Issue]]:
    """Add a document (older ones stay as history); returns its id and any warnings. One
    the person already holds (the same kind and number) is not recorded twice: its id."""
    issues = ids.validate_document_number(doc.kind, doc.number)
    values = _document_values(doc)
    issues += lengths.length_issues("identity_document", values)
    if has_errors(issues):
        raise UserError("error.invalid_input", issues=issues)
    with store.session() as session:
        person = live_person(session, person_id)
        same = held_documents(session, person_id).get((values["kind"], values["number"]))
        if same is not None:
            return same.id, issues
        row = _document_row(person, doc)
        session.add(row)
        session.flush()
        reindex_people(session, [person_id])
        return row.id, issues


# What an identity document's ``status`` may say (the Documents tab's Details…).
DOCUMENT_STATUSES = ("current", "expired", "replaced", "lost")
# A document the record holds as in force: current, or no status recorded.
IN_FORCE = (None, "current")


def holds_pink_card(documents: Iterable[DocumentView]) -> bool:
    """Whether the person's permission to stay rests on a pink card in force: when their
    job ends, they have a few weeks to find a new employer (rule D15)."""
    return any(d.kind == ids.DocumentKind.PINK_CARD and d.status in IN_FORCE for d in documents)


def gone_home(person: PersonView) -> bool:
    """Whether the person has left Thailand and not come back, as recorded: a day they
    left, and no arrival after it. What a job's end asks of someone in Thailand (the DOE,
    s.39, a pink card's employer search) is then no one's to do; claims from home go on."""
    left, arrived = person.left_on, person.arrived_on
    return left is not None and (arrived is None or arrived <= left)


def update_document(
    store: Store,
    document_id: str,
    *,
    issued_on: dt.date | None,
    expires_on: dt.date | None,
    status: str,
) -> bool:
    """Correct when an identity document was issued and expires, and whether it is current
    (:data:`DOCUMENT_STATUSES`: a passport lost, a pink card replaced by a new one);
    returns whether anything changed, only the changed fields travelling. An unknown
    status or an expiry before the issue is ``error.invalid_input``, nothing written."""
    found: list[Issue] = []
    if status not in DOCUMENT_STATUSES:
        found.append(issue("document.status_unknown", "status", status=status))
    if issued_on and expires_on and expires_on < issued_on:
        found.append(issue("document.expires_before_issued", "expires_on"))
    if found:
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        row = live_row(session, IdentityDocument, document_id)
        changed = False
        for name, value in (("issued_on", issued_on), ("expires_on", expires_on)):
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if (row.status or "current") != status:
            row.status, changed = status, True
        return changed


def remove_document(store: Store, document_id: str) -> None:
    """Remove an identity document entered by mistake (a tombstone, on every device after
    a sync): it is no longer printed nor found by its number. Its scans stay in the case
    file. One not on file is ``error.not_found``."""
    with store.session() as session:
        row = live_row(session, IdentityDocument, document_id)
        row.deleted = True
        session.flush()
        reindex_people(session, [row.person_id])


PERSON_FIELDS = (
    "sex",
    "title",
    "marital_status",
    "birth_date",
    "nationality",
    "languages",
    "preferred_language",
    "phone",
    "line_id",
    "address_th",
    "address_home",
    "arrived_on",
    "left_on",
)


def update_person(store: Store, person_id: str, **changes: object) -> None:
    """Change top-level fields of a person; only changed fields reach the outbox.

    A value longer than the sync server accepts is ``error.invalid_input``."""
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise ValueError(f"not person fields: {sorted(unknown)}")
    found = lengths.length_issues("person", changes)
    if found:
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        person = live_person(session, person_id)
        found = code_issues(changes)
        if "sex" in changes or "title" in changes:  # as the person will be, changed or not
            sex, title = changes.get("sex", person.sex), changes.get("title", person.title)
            found += title_issues(
                sex if isinstance(sex, str) else None, title if isinstance(title, str) else None
            )
        if found:
            raise UserError("error.invalid_input", issues=found)
        for key, value in changes.items():
            if getattr(person, key) != value:
                setattr(person, key, value)


def get_person(store: Store, person_id: str) -> PersonView:
    with store.read() as session:
        return person_view(session, live_person(session, person_id))


def person_view(session: Session, person: Person) -> PersonView:
    name_rows = session.scalars(
        select(PersonName).where(PersonName.person_id == person.id, PersonName.deleted.is_(False))
    ).all()
    doc_rows = session.scalars(
        select(IdentityDocument)
        .where(IdentityDocument.person_id == person.id, IdentityDocument.deleted.is_(False))
        .order_by(IdentityDocument.issued_on.desc())
    ).all()
    return PersonView(
        id=person.id,
        office=person.office,
        sex=person.sex,
        title=person.title,
        marital_status=person.marital_status,
        birth_date=person.birth_date,
        nationality=person.nationality,
        languages=tuple(person.languages or ()),
        preferred_language=person.preferred_language,
        phone=person.phone,
        line_id=person.line_id,
        address_th=person.address_th,
        address_home=person.address_home,
        arrived_on=person.arrived_on,
        left_on=person.left_on,
        names=tuple(
            NameView(
                n.id,
                n.full_name or "",
                n.script or "",
                n.kind or "",
                n.given_name,
                n.family_name,
                n.honorific,
            )
            for n in name_rows
        ),
        documents=tuple(
            DocumentView(
                d.id,
                d.kind or "",
                d.number or "",
                d.issuing_country,
                d.issued_on,
                d.expires_on,
                d.status,
            )
            for d in doc_rows
        ),
    )


def live_person(session: Session, person_id: str) -> Person:
    """The person row inside the caller's transaction; ``error.person_not_found`` when it
    does not exist or was deleted."""
    person = session.get(Person, person_id)
    if person is None or person.deleted:
        raise UserError("error.person_not_found", person_id=person_id)
    return person
