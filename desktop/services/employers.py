"""Employers, employment and contribution months (the input to eligibility).

A value longer than the sync server accepts is refused when saved (``value.too_long``),
measured as it will be stored.

An employer named again (by the enrollment wizard, by an agency list) is the row the store
already holds, not a new one: :func:`find_employer` is the one rule of what "the same
employer" is, and :func:`employer_for` reuses what it finds, filling in only the details
the stored row lacks.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import ids, lengths, places
from desktop.domain.errors import UserError
from desktop.domain.text import clean, search_fold
from desktop.domain.validation import Issue, has_errors, issue
from desktop.models.base import live_row
from desktop.models.entities import ContributionMonth, Employer, Employment
from desktop.models.store import Store


@dataclass(frozen=True)
class EmployerInput:
    name: str
    name_th: str | None = None
    sso_account: str | None = None
    sso_branch: str | None = "000000"
    province_code: str | None = None
    district: str | None = None
    address: str | None = None
    contact_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class EmploymentInput:
    employer_id: str | None
    start_date: dt.date | None
    end_date: dt.date | None = None
    monthly_wage: decimal.Decimal | None = None
    occupation: str | None = None
    section: int = 33
    end_reason: str | None = None


# Why a job ended, as the employment row stores it (``end_reason``; the unemployment rule
# reads them through services.eligibility): the codes a caseworker may choose from.
END_REASONS = ("laid_off", "resigned", "contract_ended", "dismissed_misconduct")


@dataclass(frozen=True)
class ContributionInput:
    month: str  # "YYYY-MM"
    wage: decimal.Decimal
    employer_id: str | None = None
    section: int = 33
    source: str = "payslip"
    status: str = "paid"


def validate_employer(data: EmployerInput) -> list[Issue]:
    found: list[Issue] = []
    if not clean(data.name):
        found.append(issue("employer.name_required", "name"))
    if data.sso_account:
        found.extend(ids.validate_sso_employer_account(data.sso_account))
    if data.sso_branch:
        found.extend(ids.validate_sso_branch(data.sso_branch))
    if data.province_code and data.province_code not in places.provinces():
        found.append(
            issue("employer.unknown_province", "province_code", province=data.province_code)
        )
    return [*found, *lengths.length_issues("employer", _employer_values(data))]


def _employer_values(data: EmployerInput) -> dict[str, Any]:
    """The fields of the employer row :func:`create_employer` writes for ``data``."""
    return {
        "name": clean(data.name),
        "name_th": clean(data.name_th) if data.name_th else None,
        "sso_account": ids.digits_only(data.sso_account) if data.sso_account else None,
        "sso_branch": ids.digits_only(data.sso_branch) if data.sso_branch else None,
        "province_code": data.province_code,
        "district": data.district,
        "address": data.address,
        "contact_name": data.contact_name,
        "phone": data.phone,
    }


def create_employer(store: Store, data: EmployerInput, *, office: str | None = None) -> str:
    found = validate_employer(data)
    if has_errors(found):
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        row = Employer(office=office or store.office, **_employer_values(data))
        session.add(row)
        session.flush()
        return row.id


# What a caseworker corrects of an employer (Work tab, "Employer details…"): the details a
# form prints (the province as its code, desktop.domain.places).
EDITABLE_EMPLOYER_FIELDS = (
    "name",
    "name_th",
    "sso_account",
    "sso_branch",
    "province_code",
    "district",
    "address",
    "phone",
)


def employer_details(store: Store, employer_id: str) -> dict[str, str | None]:
    """The employer's :data:`EDITABLE_EMPLOYER_FIELDS` as stored."""
    with store.read() as session:
        row = live_row(session, Employer, employer_id)
        return {name: getattr(row, name) for name in EDITABLE_EMPLOYER_FIELDS}


def update_employer(store: Store, employer_id: str, **changes: str | None) -> bool:
    """Correct an employer's details (a mistyped SSO account is printed on every form of
    every worker of that employer); returns whether anything changed. Checked as a new
    employer is (:func:`validate_employer`): an invalid account or branch, an empty name or
    a value too long is ``error.invalid_input`` and nothing is written. Only the fields
    that changed travel."""
    unknown = set(changes) - set(EDITABLE_EMPLOYER_FIELDS)
    if unknown:
        raise ValueError(f"not an editable employer field: {sorted(unknown)}")
    with store.session() as session:
        row = live_row(session, Employer, employer_id)
        merged = {name: getattr(row, name) for name in EDITABLE_EMPLOYER_FIELDS}
        merged |= {name: value or None for name, value in changes.items()}  # "": none
        data = EmployerInput(**{**merged, "name": merged["name"] or ""})
        found = validate_employer(data)
        if has_errors(found):
            raise UserError("error.invalid_input", issues=found)
        values = _employer_values(data)
        changed = False
        for name in EDITABLE_EMPLOYER_FIELDS:
            if getattr(row, name) != values[name]:
                setattr(row, name, values[name])
                changed = True
        return changed


def find_employer(
    session: Session,
    office: str,
    *,
    name: str | None,
    sso_account: str | None = None,
    sso_branch: str | None = None,
) -> Employer | None:
    """The live (not deleted) employer of ``office`` these values name, or None.

    * With an SSO account: the employer with that account and branch (the head office,
      ``000000``, when no branch is given). The name is not compared: the account is what
      identifies an employer, and its name is written many ways.
    * Without one: an employer whose name is the same once cleaned and folded as names are
      compared (:func:`desktop.domain.text.search_fold`: case and Latin accents aside).
      One without an account comes first; else one with an account, but only when every
      employer of that name has the same account and branch. Two employers of one name
      with different accounts are two businesses, and a name alone picks neither.

    An employer with a different account is never found by its name. Only ``office``'s
    employers count: the employment that names one is of that office, and a device or
    coordinator who sees the employment must see its employer too. Among duplicates the
    oldest row is found (ids are time-ordered).
    """
    live = (Employer.deleted.is_(False), Employer.office == office)
    account = ids.digits_only(sso_account) if sso_account else ""
    if account:
        branch = ids.digits_only(sso_branch or "") or ids.SSO_HEAD_OFFICE_BRANCH
        query = select(Employer).where(
            *live, Employer.sso_account == account, Employer.sso_branch == branch
        )
        return session.scalars(query.order_by(Employer.id).limit(1)).first()
    wanted = search_fold(name or "")
    if not wanted:
        return None
    # Names are folded here (SQLite has no Unicode case folding): read the columns only.
    named = [
        (row_id, row_account or None, row_branch)
        for row_id, row_name, row_account, row_branch in session.execute(
            select(Employer.id, Employer.name, Employer.sso_account, Employer.sso_branch)
            .where(*live)
            .order_by(Employer.id)
        )
        if row_name and search_fold(row_name) == wanted
    ]
    without_account = [row_id for row_id, row_account, _ in named if row_account is None]
    if without_account:
        return session.get(Employer, without_account[0])
    if len({(row_account, row_branch) for _, row_account, row_branch in named}) == 1:
        return session.get(Employer, named[0][0])
    return None


# What makes an employer the one it is: never filled in on a row found by its name.
_IDENTITY = ("sso_account", "sso_branch")


def employer_for(session: Session, office: str, values: Mapping[str, Any]) -> str:
    """The id of the employer ``values`` (the employer's fields, as stored) name.

    The employer :func:`find_employer` finds gets the details it lacks from ``values``
    (a province where it has none): what it holds is never overwritten, and its account
    and branch are never set. Else a new employer of ``office`` is added with ``values``.
    """
    row = find_employer(
        session,
        office,
        name=values.get("name"),
        sso_account=values.get("sso_account"),
        sso_branch=values.get("sso_branch"),
    )
    if row is None:
        row = Employer(office=office, **values)
        session.add(row)
        session.flush()
        return row.id
    for key, value in values.items():
        if key not in _IDENTITY and value not in (None, "") and getattr(row, key) in (None, ""):
            setattr(row, key, value)
    return row.id


@dataclass(frozen=True)
class KnownEmployer:
    """An employer the store holds, as a form offers it to choose from."""

    name: str
    sso_account: str | None
    sso_branch: str | None
    province_code: str | None = None


def known_employers(store: Store) -> list[KnownEmployer]:
    """Every live employer by name, each name and account once (duplicate rows are one
    choice), for completing an employer's name as it is typed."""
    with store.read() as session:
        rows = session.execute(
            select(Employer.name, Employer.sso_account, Employer.sso_branch, Employer.province_code)
            .where(Employer.deleted.is_(False))
            .order_by(
                Employer.name,
                Employer.sso_account,
                Employer.sso_branch,
                Employer.province_code.is_(None),  # of duplicates, one that has a province
            )
        ).all()
    seen: dict[tuple[str, str | None, str | None], KnownEmployer] = {}
    for name, account, branch, province in rows:
        if name:  # a branch means nothing without its account
            choice = KnownEmployer(name, account or None, branch if account else None, province)
            seen.setdefault((search_fold(name), choice.sso_account, choice.sso_branch), choice)
    return list(seen.values())


def add_employment(store: Store, person_id: str, data: EmploymentInput) -> str:
    found = lengths.length_issues(
        "employment", {"occupation": data.occupation, "end_reason": data.end_reason}
    )
    if data.start_date and data.end_date and data.end_date < data.start_date:
        found.append(issue("employment.end_before_start", "end_date"))
    if found:
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        from desktop.services.people import live_person

        person = live_person(session, person_id)
        row = Employment(
            office=person.office,
            person_id=person_id,
            employer_id=data.employer_id,
            start_date=data.start_date,
            end_date=data.end_date,
            monthly_wage=data.monthly_wage,
            occupation=data.occupation,
            section=data.section,
            end_reason=data.end_reason,
        )
        session.add(row)
        session.flush()
        return row.id


class _Dated(Protocol):
    @property
    def start_date(self) -> dt.date | None: ...
    @property
    def end_date(self) -> dt.date | None: ...


_Job = TypeVar("_Job", bound=_Dated)


def current_job(jobs: Sequence[_Job]) -> _Job | None:
    """The job a claim's "the job ended on" is about: the latest one still open (a stored
    row or a case file's view alike); None when every job on file has ended."""
    still_open = [job for job in jobs if job.end_date is None]
    return max(still_open, key=lambda job: job.start_date or dt.date.min, default=None)


def remove_employment(store: Store, employment_id: str) -> None:
    """Remove a job entered by mistake (the wrong employer chosen in an enrollment): a
    tombstone, on every device after a sync; the forms no longer print it. The employer
    and the contribution months stay. One not on file is ``error.not_found``."""
    with store.session() as session:
        live_row(session, Employment, employment_id).deleted = True


def end_employment(
    store: Store, employment_id: str, end_date: dt.date | None, end_reason: str | None
) -> bool:
    """Record when and why the job ``employment_id`` ended (:func:`set_job_end`)."""
    with store.session() as session:
        return set_job_end(live_row(session, Employment, employment_id), end_date, end_reason)


def set_job_end(row: Employment, end_date: dt.date | None, end_reason: str | None) -> bool:
    """Record when and why the job ``row`` ended (:data:`END_REASONS`; None: not known), or,
    with no ``end_date``, that it goes on (an end recorded by mistake; its reason goes too).

    Returns whether anything changed (the same answer again writes nothing; only a field
    that changed travels, or conflicts). A reason without an end, an unknown reason (but
    the one the job holds: a newer Sapan's code) or an end before the job's start is
    ``error.invalid_input`` with its issues, and nothing is changed."""
    found: list[Issue] = []
    if end_reason not in (None, row.end_reason, *END_REASONS):  # one held is not judged
        found.append(issue("employment.end_reason_unknown", "end_reason", reason=end_reason))
    if end_reason is not None and end_date is None:
        found.append(issue("employment.reason_without_end", "end_date"))
    if row.start_date and end_date and end_date < row.start_date:
        found.append(issue("employment.end_before_start", "end_date"))
    if found:
        raise UserError("error.invalid_input", issues=found)
    changed = False
    if row.end_date != end_date:
        row.end_date, changed = end_date, True
    if row.end_reason != end_reason:
        row.end_reason, changed = end_reason, True
    return changed


def record_contributions(store: Store, person_id: str, months: Sequence[ContributionInput]) -> int:
    """Add or correct contribution months (one row per person, month and employer).

    Returns how many rows were added or changed. Unchanged months write nothing.
    """
    changed = 0
    with store.session() as session:
        from desktop.services.people import live_person

        person = live_person(session, person_id)
        existing = {
            (row.month, row.employer_id): row
            for row in session.scalars(
                select(ContributionMonth).where(
                    ContributionMonth.person_id == person_id,
                    ContributionMonth.deleted.is_(False),
                )
            )
        }
        for item in months:
            _check_month(item.month)
            row = existing.get((item.month, item.employer_id))
            if row is None:
                row = ContributionMonth(
                    office=person.office, person_id=person_id, employer_id=item.employer_id
                )
                session.add(row)
                existing[(item.month, item.employer_id)] = row
            before = (row.month, row.wage, row.section, row.source, row.status)
            row.month, row.wage, row.section = item.month, item.wage, item.section
            row.source, row.status = item.source, item.status
            if before != (row.month, row.wage, row.section, row.source, row.status):
                changed += 1
    return changed


def remove_contributions(store: Store, person_id: str, month_ids: Sequence[str]) -> int:
    """Remove contribution months of ``person_id`` entered by mistake (a tombstone each, on
    every device after a sync); returns how many. An id that is not one of the person's
    live months is ``error.not_found`` and nothing is removed."""
    with store.session() as session:
        rows = {
            row.id: row
            for row in session.scalars(
                select(ContributionMonth).where(
                    ContributionMonth.id.in_(sorted(set(month_ids))),
                    ContributionMonth.person_id == person_id,
                    ContributionMonth.deleted.is_(False),
                )
            )
        }
        for month_id in month_ids:
            if month_id not in rows:
                raise UserError("error.not_found", entity="contribution_month", row_id=month_id)
        for row in rows.values():
            row.deleted = True
        return len(rows)


def _check_month(month: str) -> None:
    try:
        if len(month) != 7 or month[4] != "-":
            raise ValueError(month)
        dt.date(int(month[:4]), int(month[5:]), 1)
    except ValueError as exc:
        raise UserError(
            "error.invalid_input", issues=[issue("date.malformed", "month", value=month)]
        ) from exc
