"""Committing what a guided-steps wizard gathered: all of it in one transaction, or nothing.

A wizard collects step data, document files and (for enrollment) identity and job facts;
until the caseworker finishes, everything lives in a draft (:mod:`desktop.services.drafts`).
:func:`commit_track` then writes the track, its steps, the checklist with attachments and
the mapped person facts (a job at an employer the store already holds when it names the
same one) in a single transaction and removes the draft in the same one, so
a cancel or a crash never leaves half a track behind. Attachment blobs are encrypted and
written first (content-addressed, harmless if orphaned) and the rows after.

A step the wizard proposes as ``ready`` whose workflow needs its forms printed first
(``advance_when: [..., forms_printed]``) is written as ``in_progress`` unless those forms
were printed while the wizard was open (:func:`desktop.services.printing.gate_state`);
printing them later moves it on (:func:`desktop.services.printing.record_printed`). So is
one whose documents (``documents_collected``) are not all attached: the Tracks tab then
names the papers still missing.
"""

from __future__ import annotations

import datetime as dt
import decimal
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import literal_column, select

from desktop.domain import dates, ids, lengths, workflow
from desktop.domain.catalogue import ENTITIES
from desktop.domain.errors import UserError
from desktop.domain.text import clean
from desktop.domain.validation import Issue, has_errors
from desktop.models.entities import (
    Attachment,
    ChecklistItem,
    Draft,
    Employment,
    IdentityDocument,
    Person,
    PersonName,
    Step,
)
from desktop.models.search import reindex_people
from desktop.models.store import Store
from desktop.services import drafts, employers, importer, printing, steps
from desktop.services.attachments import blob_store, stored_name
from desktop.services.cases import find_case, get_case_file, new_track
from desktop.services.eligibility import REASON_FIELD, insured_status_end, last_ended_job
from desktop.services.people import PersonInput, create_person, held_documents


@dataclass(frozen=True)
class DocumentCommit:
    """One checklist item and the files chosen for it."""

    doc_key: str
    required: bool
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackCommit:
    """Everything a finished wizard hands over."""

    kind: str
    workflow: str
    steps: Sequence[tuple[str, Mapping[str, Any], str]]  # (step key, data, state) in order
    documents: Sequence[DocumentCommit] = ()
    benefit: str | None = None
    path: str | None = None
    event_date: dt.date | None = None
    # Person facts the workflow maps fields to: "document.<kind>.number", "employer.name" ...
    facts: Mapping[str, Any] = field(default_factory=dict)
    draft_key: str | None = None
    # When the wizard was first opened (UTC ISO): forms printed since then count as printed.
    printed_since: str | None = None


def commit_track(
    store: Store,
    case_id: str,
    data: TrackCommit,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Write the track and everything it carries; returns the new track id.

    The person facts are checked before any file is stored (:func:`_fact_rows`)."""
    facts = _fact_rows(data.facts)
    blobs: dict[str, tuple[str, int, str]] = {}  # path -> (sha256, size, filename)
    files = [f for doc in data.documents for f in doc.files]
    for done, name in enumerate(files):
        blob = blob_store(store).put_file(Path(name))
        blobs[name] = (blob.sha256, blob.size, stored_name(Path(name)))
        if progress is not None:
            progress(done + 1, len(files))
    with store.session() as session:
        case = find_case(session, case_id)
        track = new_track(
            session,
            case,
            data.kind,
            benefit=data.benefit,
            path=data.path,
            workflow=data.workflow,
            event_date=data.event_date,
        )
        printed = (
            printing.printed_since(session, case.id, data.printed_since)
            if data.printed_since
            else frozenset()
        )
        present = frozenset(doc.doc_key for doc in data.documents if doc.files)
        every = steps.track_values(values for _, values, _ in data.steps)
        for position, (key, values, state) in enumerate(data.steps):
            values, state = _gated(data.workflow, key, dict(values), state, present, printed, every)
            session.add(
                Step(
                    office=case.office,
                    track_id=track.id,
                    key=key,
                    position=position,
                    state=state,
                    data=values,
                )
            )
        for doc in data.documents:
            attachment_ids: list[str] = []
            for name in doc.files:
                sha, size, filename = blobs[name]
                row = Attachment(
                    office=case.office,
                    sha256=sha,
                    filename=filename,
                    mime=mimetypes.guess_type(filename)[0],
                    size=size,
                    case_id=case.id,
                    description=doc.doc_key,
                )
                session.add(row)
                session.flush()
                attachment_ids.append(row.id)
            session.add(
                ChecklistItem(
                    office=case.office,
                    track_id=track.id,
                    doc_key=doc.doc_key,
                    required=doc.required,
                    status="present" if attachment_ids else "missing",
                    attachment_ids=sorted(attachment_ids),
                )
            )
        _write_facts(session, case.office, case.person_id, facts)
        if data.draft_key:
            draft = session.get(Draft, data.draft_key)
            if draft is not None:
                session.delete(draft)
        session.flush()
        return track.id


def _gated(
    workflow_key: str,
    key: str,
    values: dict[str, Any],
    state: str,
    documents: frozenset[str],
    printed: frozenset[str],
    every: Mapping[str, Any],
) -> tuple[dict[str, Any], str]:
    """A step's data (with the forms printed for it) and the state it may be written in;
    ``every`` holds the values of the track's steps (a document's condition reads them)."""
    definition = workflow.load().get(workflow_key)
    step = definition.find(key) if definition is not None else None
    if step is None:
        return values, state
    mine = sorted(f for f in step.forms if f in printed)
    if mine:
        values["forms_printed"] = mine
    progress = steps.step_progress(step, state, values, documents, every)
    return values, printing.gate_state(step, state, progress)


@dataclass(frozen=True)
class _FactRows:
    """The rows an enrollment's facts add to the person, as their field values."""

    documents: tuple[dict[str, Any], ...] = ()
    employer: dict[str, Any] | None = None
    employment: dict[str, Any] | None = None  # its employer is the one above, if any
    birth_date: str | None = None  # "YYYY-MM-DD", as the person stores it
    nationality: str | None = None  # the code the person stores ("MMR")
    # the day the current job ended (an unemployment claim's ``employment.end_date``)
    job_end: dt.date | None = None


# The detail of the store a person fact fills in: "employer.name" is the employer's name.
_FACT_ENTITIES = {
    "document": "identity_document",
    "employer": "employer",
    "employment": "employment",
    "person": "person",
}


def _parse_fact(target: str) -> tuple[str, str, str] | None:
    """A fact's ``(group, document kind, field)``: ``document.pink_card.number`` is
    ``("document", "pink_card", "number")``, ``employer.name`` ``("employer", "", "name")``;
    None for a target that is none of these."""
    parts = target.split(".")
    if parts[0] == "document" and len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if parts[0] in _FACT_ENTITIES and parts[0] != "document" and len(parts) == 2:
        return parts[0], "", parts[1]
    return None


def fact_field(target: str) -> tuple[str, str] | None:
    """The synced ``(entity, field)`` a wizard field's fact fills in ("document.passport.
    number" is an identity document's number), or None for a fact that is not stored so
    (a name fact, ``person.name.passport``, only starts the field: the value is the step's)."""
    parsed = _parse_fact(target)
    if parsed is None:
        return None
    entity = _FACT_ENTITIES[parsed[0]]
    return (entity, parsed[2]) if parsed[2] in ENTITIES[entity].fields else None


def _fact_rows(facts: Mapping[str, Any]) -> _FactRows:
    """What the identity document and job facts of an enrollment will write, checked first.

    A malformed document number, or a value longer than the sync server accepts (as it
    will be stored), is ``error.invalid_input`` with its issues: raised before any file is
    stored or any row written.
    """
    documents: dict[str, dict[str, Any]] = {}
    employer: dict[str, Any] = {}
    employment: dict[str, Any] = {}
    person: dict[str, Any] = {}
    for target, value in facts.items():
        parsed = _parse_fact(target)
        if parsed is None or value in (None, ""):
            continue
        group, kind, name = parsed
        if group == "document":
            documents.setdefault(kind, {})[name] = value
        elif group == "employer":
            employer[name] = value
        elif group == "person":
            person[name] = value
        else:
            employment[name] = value
    found: list[Issue] = []
    document_rows = []
    for kind, values in documents.items():
        number = str(values.get("number", ""))
        found += ids.validate_document_number(kind, number)
        row = {
            "kind": kind,
            "number": ids.normalise_document_number(number),  # as the importer stores it
            "issued_on": _date(values.get("issued_on")),
            "expires_on": _date(values.get("expires_on")),
            "status": "current",
        }
        found += lengths.length_issues("identity_document", row, f"document.{kind}.")
        document_rows.append(row)
    employer_row: dict[str, Any] | None = None
    if clean(str(employer.get("name", ""))):
        employer_row = {
            "name": clean(str(employer["name"])),
            "sso_account": ids.digits_only(str(employer["sso_account"]))
            if employer.get("sso_account")
            else None,
            "sso_branch": str(employer.get("sso_branch") or "000000"),
            "province_code": employer.get("province_code"),
        }
        found += lengths.length_issues("employer", employer_row, "employer.")
    # the day the job ended, alone: the end of the job on file, not a new job
    job_end = _date(employment.pop("end_date")) if set(employment) == {"end_date"} else None
    employment_row: dict[str, Any] | None = None
    if employment or employer_row:
        wage = employment.get("monthly_wage")
        employment_row = {
            "start_date": _date(employment.get("start_date")),
            "monthly_wage": decimal.Decimal(str(wage)) if wage not in (None, "") else None,
            "occupation": employment.get("occupation"),
            "section": int(employment.get("section", 33)),
        }
        found += lengths.length_issues("employment", employment_row, "employment.")
    if has_errors(found):
        raise UserError("error.invalid_input", issues=found)
    return _FactRows(
        tuple(document_rows),
        employer_row,
        employment_row,
        _stored(BIRTH_DATE, person.get("birth_date")),
        _stored(NATIONALITY, person.get("nationality")),
        job_end,
    )


# The person's own details a wizard's field may fill in (``fact:``), where the file says less.
BIRTH_DATE = "person.birth_date"
NATIONALITY = "person.nationality"
PERSON_FACTS = (BIRTH_DATE, NATIONALITY)
# The fact of a claim's "the job ended on" field (the unemployment and old-age claims).
JOB_END = "employment.end_date"


def _stored(fact: str, value: Any) -> str | None:
    """A wizard field's value of a person fact as the person stores it: a date as
    ``YYYY-MM-DD`` (a malformed one is a ``ValueError``), a workflow's nationality choice
    (``myanmar``) as its code (``MMR``), read as the importer reads a nationality column;
    None for no value."""
    if fact == BIRTH_DATE:
        born = _date(value)
        return born.isoformat() if born else None
    return importer.coded("nationality", str(value or ""))


def kept_on_file(fact: str, held: str | None, typed: str | None) -> bool:
    """Whether finishing a wizard keeps the person's ``held`` value of a person fact in
    place of the different one ``typed`` (both as stored, :func:`_stored`). A nationality
    on file is kept; so is a birth date on file, unless it says less than the one typed and
    agrees with it (the year, or the year and month alone, as the worker's documents often
    give), which is then filled in. Nothing on file, nothing typed, or the same value: not
    kept. The one rule for what Finish writes (:func:`_write_facts`) and what the wizard
    says it will not change (:func:`kept_value`)."""
    if not held or not typed or held == typed:
        return False
    return fact != BIRTH_DATE or not (len(held) < len(typed) and typed.startswith(held))


def kept_value(on_file: Mapping[str, str], fact: str, value: Any) -> str | None:
    """The person's value of a person fact (``on_file``, :func:`facts_on_file`) that
    finishing the wizard keeps in place of a field's ``value`` (as the field validated it:
    ``1990-03-12``, ``myanmar``), as stored; None when the field's value would be written,
    or is the same, or the fact is not one the person keeps."""
    if fact not in PERSON_FACTS:
        return None
    held = on_file.get(fact)
    return held if kept_on_file(fact, held, _stored(fact, value)) else None


def facts_on_file(store: Store, case_id: str) -> dict[str, str]:
    """The case's person's details a wizard's fields may differ from, by fact, as stored
    (``{"person.birth_date": "1990", "person.nationality": "MMR"}``); one not recorded
    is left out. Two columns of the person's row: not the whole case file, which the
    wizard's start (:func:`known_facts`) has read already."""
    with store.read() as session:
        person_id = find_case(session, case_id).person_id
        person = session.get(Person, person_id)
        if person is None:
            raise UserError("error.person_not_found", person_id=person_id)
        held = {BIRTH_DATE: person.birth_date, NATIONALITY: person.nationality}
    return {fact: value for fact, value in held.items() if value}


def _write_facts(session: Any, office: str, person_id: str, rows: _FactRows) -> None:
    """Add the rows of an enrollment's facts (:func:`_fact_rows`) to the person.

    The job's employer is one the store already holds when it names the same one
    (:func:`desktop.services.employers.employer_for`: ten workers of one factory are ten
    jobs at one employer), given only the details it lacked; else a new employer. A document
    the person already holds (the same kind and number, typed when the case was opened) is
    likewise given only the dates it lacked, not recorded twice. The birth date and
    nationality typed are written unless the person's are kept (:func:`kept_on_file`)."""
    person = session.get(Person, person_id)
    for name, fact in (("birth_date", BIRTH_DATE), ("nationality", NATIONALITY)):
        typed = getattr(rows, name)
        if person is None or typed is None:
            continue
        if not kept_on_file(fact, getattr(person, name), typed):
            setattr(person, name, typed)  # else the file's is kept: the Person tab corrects it
    held = held_documents(session, person_id)
    for values in rows.documents:
        same = held.get((values["kind"], values["number"]))
        if same is None:
            session.add(IdentityDocument(office=office, person_id=person_id, **values))
            continue
        for name in ("issued_on", "expires_on"):
            if getattr(same, name) is None and values[name] is not None:
                setattr(same, name, values[name])
    employer_id: str | None = None
    if rows.employer is not None:
        # The store's employer of that account (or name) if it has one, else a new row.
        employer_id = employers.employer_for(session, office, rows.employer)
    if rows.employment is not None:
        session.add(
            Employment(
                office=office, person_id=person_id, employer_id=employer_id, **rows.employment
            )
        )
    if rows.documents:
        session.flush()
        reindex_people(session, [person_id])
    if rows.job_end is not None:
        _end_current_job(session, person_id, rows.job_end)


def _end_current_job(session: Any, person_id: str, day: dt.date) -> None:
    """The day the person's current job ended (a claim's answer) on that job
    (:func:`employers.current_job`). None open (the end already recorded, or no job):
    nothing. A day before that job began is ``error.invalid_input``
    (:func:`employers.set_job_end`), and the wizard's whole result with it, so the
    caseworker corrects the day typed."""
    job = employers.current_job(
        session.scalars(
            select(Employment).where(
                Employment.person_id == person_id, Employment.deleted.is_(False)
            )
        ).all()
    )
    if job is not None:
        employers.set_job_end(job, day, job.end_reason)


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def known_facts(store: Store, case_id: str, workflow_key: str) -> dict[str, str]:
    """What a new wizard's fields can start with: the number of each identity document the
    workflow asks for (a field's ``document.<kind>.number`` fact) that the person already
    holds, current first, as typed when the case was opened, and their birth date when it
    is known whole (``person.birth_date``, as DD/MM/YYYY), the day their last job ended
    when none is still open (``employment.end_date``) and why (an unemployment claim's
    ``unemployment_reason``, when it is one of its choices), and their nationality as the
    field's choice that stands for it (``person.nationality``), and for a field that asks
    for a kind of name (``person.name.passport``) the person's current name of that kind
    (the one recorded last). Field name -> text; a field with nothing on file is left out.
    Keeps the caseworker from typing it again, and a typo from recording a second
    document."""
    definition = workflow.load().get(workflow_key)
    if definition is None:
        return {}
    case = get_case_file(store, case_id)
    person = case.person
    held: dict[str, str] = {}
    left = insured_status_end(case)  # every job on file ended: the last one's day
    if left is not None:
        held[JOB_END] = dates.format_ce(left)
    for doc in sorted(person.documents, key=lambda d: d.status != "current"):
        held.setdefault(f"document.{doc.kind}.number", doc.number)
    born = _date(person.birth_date) if len(person.birth_date or "") == 10 else None
    if born is not None:
        held["person.birth_date"] = dates.format_ce(born)
    fields = [spec for step in definition.steps for spec in step.fields]
    kinds = {workflow.name_kind(spec.fact) for spec in fields} - {None}
    if kinds:
        held |= _current_names(store, person.id, kinds)
    found = {spec.name: held[spec.fact] for spec in fields if spec.fact in held}
    if person.nationality:  # as the field's choice that stands for it ("myanmar" for MMR)
        found |= {
            spec.name: choice
            for spec in fields
            if spec.fact == "person.nationality"
            for choice in spec.choices
            if importer.coded("nationality", choice) == person.nationality
        }
    last = last_ended_job(case) if left is not None else None
    if last is not None and last.end_reason:  # why it ended, recorded on the Work tab
        found |= {
            spec.name: last.end_reason
            for spec in fields
            if spec.name == REASON_FIELD and last.end_reason in spec.choices
        }
    return found


def _current_names(store: Store, person_id: str, kinds: set[str | None]) -> dict[str, str]:
    """The person's current name of each of ``kinds`` (the one recorded last), by its name
    fact: ``{"person.name.passport": "MAUNG MAUNG"}``."""
    with store.read() as session:
        rows = session.execute(
            select(PersonName.kind, PersonName.full_name)
            .where(
                PersonName.person_id == person_id,
                PersonName.deleted.is_(False),
                PersonName.kind.in_(sorted(k for k in kinds if k)),
            )
            # within a second, the order they were written in on this device
            .order_by(PersonName.updated_at, literal_column("rowid"))
        ).all()
    return {workflow.NAME_FACT + str(kind): name for kind, name in rows if name}


def wizard_start(store: Store, case_id: str, workflow_key: str, key: str) -> dict[str, Any]:
    """What a wizard opens with: its draft (``key``) if one was left, else the facts
    already on file (:func:`known_facts`) as typed values."""
    found = drafts.load_draft(store, key)
    if found is not None:
        return dict(found.data)
    return {"raw": known_facts(store, case_id, workflow_key)}


def create_case(store: Store, data: PersonInput) -> str:
    """Create the person and open a case for them; returns the case id."""
    from desktop.services.cases import case_id_for, open_case

    person = create_person(store, data)
    number = open_case(store, person.person_id)
    return case_id_for(store, number)


def add_job(store: Store, case_id: str, facts: Mapping[str, Any]) -> None:
    """A job of the case's person that no enrollment recorded (a worker registered by the
    employer before coming to the office): the facts an enrollment's job step gives
    (``employer.name``, ``employer.sso_account``, ``employment.start_date`` ...), checked
    as a new employer is and written as Finish writes them (:func:`_fact_rows`,
    :func:`_write_facts`): the store's employer of that account or name is the job's,
    else a new one."""
    employer = employers.EmployerInput(
        name=str(facts.get("employer.name") or ""),
        sso_account=facts.get("employer.sso_account") or None,
        sso_branch=facts.get("employer.sso_branch") or None,
    )
    found = employers.validate_employer(employer)  # a name, an account of 10 digits ...
    if has_errors(found):
        raise UserError("error.invalid_input", issues=found)
    rows = _fact_rows(facts)
    with store.session() as session:
        case = find_case(session, case_id)
        _write_facts(session, case.office, case.person_id, rows)
