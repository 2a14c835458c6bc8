"""Printing and SSO exports from the store: builds the plain data the forms layer takes.

``desktop.forms`` never sees the database. This module reads a case (through
:mod:`desktop.services.cases`) and turns it into :class:`desktop.forms.data.CaseData`;
for the e-filing exports it gathers the month's registrations, leavings and wages.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal

from sqlalchemy import and_, select

from desktop.domain import deadlines, i18n
from desktop.domain.dates import YearMonth
from desktop.domain.errors import UserError
from desktop.forms import data
from desktop.models.entities import ContributionMonth as ContributionRecord
from desktop.models.entities import Employer, Employment, Person
from desktop.models.store import Store
from desktop.services import cases
from desktop.services.cases import CaseFile, CaseFilter, TrackView
from desktop.services.people import PersonView, person_view

# Script names used by the store (desktop.domain.text.Script) → forms' script codes.
_SCRIPTS = {"thai": "th", "myanmar": "my", "khmer": "km", "lao": "lo", "latin": "latin"}
# Preferred order of name kinds when a person has several names in one script.
_NAME_KINDS = ("native", "passport", "thai", "alias")
# Forms a track of each kind prints.
TRACK_FORMS: dict[str, tuple[str, ...]] = {
    "enrollment": ("sps1_03",),
    "claim": ("sps2_01",),
    "work_injury": ("kt16",),
    "enforcement": ("complaint",),
}
# Checklist statuses that mean the document is in hand.
_PRESENT = frozenset({"received", "present", "verified", "attached", "done", "submitted"})
_WORKER_ACTORS = frozenset({"worker", "heir"})


def _date(value: str | None) -> dt.date | None:
    """A full ``YYYY-MM-DD`` birth date; partial dates are left for the form to leave blank."""
    if not value or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def form_person(view: PersonView) -> data.Person:
    """The person as the forms need them."""
    names: list[data.Name] = []
    seen: set[str] = set()
    ordered = sorted(
        view.names,
        key=lambda n: _NAME_KINDS.index(n.kind) if n.kind in _NAME_KINDS else len(_NAME_KINDS),
    )
    for name in ordered:
        script = _SCRIPTS.get(name.script)
        if script is None or script in seen:
            continue
        seen.add(script)
        if name.given_name:
            names.append(data.Name(script, name.given_name, name.family_name or ""))
        else:
            names.append(data.Name(script, name.full_name))
    documents = {
        doc.kind: doc.number for doc in sorted(view.documents, key=lambda d: d.status == "current")
    }
    national = documents.get("pink_card") or documents.get("thai_id") or ""
    language = view.preferred_language or next(iter(view.languages), None) or "th"
    if language not in i18n.LANGUAGES:
        language = "en"
    sex = (view.sex or "")[:1].upper()
    return data.Person(
        names=tuple(names),
        language=language,
        national_id=national,
        id_type="pink_card" if "pink_card" in documents else "nid",
        passport=documents.get("passport") or documents.get("ci") or "",
        work_permit=documents.get("work_permit", ""),
        sso_number=documents.get("sso_number", ""),
        birth_date=_date(view.birth_date),
        nationality=(view.nationality or "").upper(),
        sex=sex if sex in ("M", "F") else "",
        address=view.address_th or "",
        phone=view.phone or "",
    )


def _employer(row: Employer | None) -> data.Employer:
    if row is None:
        return data.Employer()
    return data.Employer(
        name=row.name_th or row.name or "",
        account=row.sso_account or "",
        branch=row.sso_branch or "000000",
        sso_province_code=row.province_code or "",
        address=row.address or "",
        phone=row.phone or "",
    )


def _employment(row: Employment | None) -> data.Employment:
    if row is None:
        return data.Employment()
    return data.Employment(
        start_date=row.start_date,
        end_date=row.end_date,
        monthly_wage=row.monthly_wage,
        position=row.occupation or "",
        leave_reason=row.end_reason or "",
    )


def _main_track(case_file: CaseFile) -> TrackView | None:
    open_tracks = [t for t in case_file.tracks if t.state not in ("closed", "done", "cancelled")]
    return next(iter(open_tracks or case_file.tracks), None)


def filing_deadline(track: TrackView | None, today: dt.date) -> dt.date | None:
    """The worker's filing deadline for the track's event, from the deadline rules."""
    if track is None or track.event_date is None:
        return None
    trigger = "work_injury" if track.kind == "work_injury" else "entitlement"
    event = deadlines.CaseEvent(trigger, track.event_date, track.benefit)
    tasks = [t for t in deadlines.tasks_for([event], today) if t.actor in _WORKER_ACTORS]
    return min((t.due for t in tasks), default=None)


def _checklist(track: TrackView | None) -> tuple[data.ChecklistItem, ...]:
    if track is None:
        return ()
    items = []
    for item in track.checklist:
        key = f"workflow.document.{item.doc_key}"
        label = key if i18n.has(key) else item.doc_key
        present = item.status in _PRESENT or bool(item.attachment_ids)
        items.append(data.ChecklistItem(label, present, item.note or ""))
    return tuple(items)


def case_data(
    store: Store,
    number_or_id: str,
    *,
    forms: Sequence[str] | None = None,
    packet_version: int = 1,
    today: dt.date | None = None,
) -> data.CaseData:
    """Everything one packet or form needs for the case ``number_or_id``."""
    today = today or dt.date.today()
    case_file = cases.get_case_file(store, number_or_id)
    track = _main_track(case_file)
    job_view = case_file.employments[-1] if case_file.employments else None
    with store.read() as session:
        job = session.get(Employment, job_view.id) if job_view else None
        employer = session.get(Employer, job.employer_id) if job and job.employer_id else None
        employer_data = _employer(employer)
        employment_data = _employment(job)
    chosen = tuple(forms) if forms is not None else _forms_for(case_file)
    kind = "wcf" if track is not None and track.kind == "work_injury" else None
    return data.CaseData(
        case_id=uuid.UUID(case_file.id),
        case_number=case_file.number,
        person=form_person(case_file.person),
        packet_version=packet_version,
        employer=employer_data,
        employment=employment_data,
        benefit=data.Benefit(
            kind=kind or (track.benefit if track and track.benefit else ""),
            event_date=track.event_date if track else None,
            filing_deadline=filing_deadline(track, today),
        ),
        office=data.Office(name=case_file.office),
        checklist=_checklist(track),
        forms=chosen,
        caseworker=case_file.owner or "",
        printed_on=today,
    )


def _forms_for(case_file: CaseFile) -> tuple[str, ...]:
    chosen: list[str] = []
    for track in case_file.tracks:
        for form_id in TRACK_FORMS.get(track.kind, ()):
            if form_id not in chosen:
                chosen.append(form_id)
    return tuple(chosen)


def iter_case_data(
    store: Store, filters: CaseFilter | None = None, today: dt.date | None = None
) -> Iterator[data.CaseData]:
    """Case data for every matching case, read one case at a time (the print queue)."""
    for case_id in cases.list_case_ids(store, filters or CaseFilter()):
        yield case_data(store, case_id, today=today)


# --- SSO e-filing -----------------------------------------------------------------------


def _month(month: str) -> YearMonth:
    try:
        return YearMonth.parse(month)
    except (ValueError, UserError) as exc:
        raise UserError("form.error.bad_month", month=month) from exc


def registration_records(store: Store, month: str) -> list[data.RegistrationRecord]:
    """1-03 records for jobs started in ``month`` (YYYY-MM) and 6-09 for jobs that ended."""
    ym = _month(month)
    first, last = ym.first_day(), ym.last_day()
    records: list[data.RegistrationRecord] = []
    with store.read() as session:
        rows = session.execute(
            select(Employment, Employer, Person)
            .outerjoin(Employer, and_(Employer.id == Employment.employer_id))
            .join(Person, Person.id == Employment.person_id)
            .where(Employment.deleted.is_(False))
            .order_by(Employment.start_date)
        ).all()
        for job, employer, person in rows:
            view = form_person(person_view(session, person))
            if job.start_date is not None and first <= job.start_date <= last:
                records.append(
                    data.RegistrationRecord("103", view, _employer(employer), _employment(job))
                )
            if job.end_date is not None and first <= job.end_date <= last:
                records.append(
                    data.RegistrationRecord("609", view, _employer(employer), _employment(job))
                )
    return records


def contribution_statements(
    store: Store, month: str, payment_date: dt.date | None = None
) -> list[data.ContributionMonth]:
    """One สปส.1-10 statement per employer with wages recorded for ``month`` (YYYY-MM)."""
    ym = _month(month)
    by_employer: dict[str | None, list[data.ContributionRow]] = {}
    employers: dict[str | None, data.Employer] = {}
    with store.read() as session:
        rows = session.execute(
            select(ContributionRecord, Employer, Person)
            .outerjoin(Employer, and_(Employer.id == ContributionRecord.employer_id))
            .join(Person, Person.id == ContributionRecord.person_id)
            .where(
                ContributionRecord.month == str(ym),
                ContributionRecord.deleted.is_(False),
                ContributionRecord.section.is_(None) | (ContributionRecord.section == 33),
            )
        ).all()
        for record, employer, person in rows:
            key = employer.id if employer is not None else None
            employers[key] = _employer(employer)
            by_employer.setdefault(key, []).append(
                data.ContributionRow(
                    form_person(person_view(session, person)), record.wage or Decimal(0)
                )
            )
    # Contributions are due by the 15th of the next month (domain.md §2.3).
    due = payment_date or ym.add_months(1).first_day().replace(day=15)
    return [
        data.ContributionMonth(employers[key], ym.first_day(), due, tuple(rows_))
        for key, rows_ in by_employer.items()
    ]
