"""SSO e-filing files: fixed-width registration (240) and contribution (135) records.

Layouts and code values are data: ``resources/forms/sso/layouts.yaml`` (domain.md §4.2).

Rules:

* **Names** go through :func:`desktop.domain.names.split_for_sso`: the Thai-script name
  when the person has one, else the Latin name; a title written in the name is left out
  (WARNING ``name.title_dropped``: the title code comes from the person's title);
  a name without a family name gets ``-`` as last name; a name too long for its field is
  cut at a word boundary (never between a letter and its marks) with a WARNING per row.
* **Errors skip the row**, never write a malformed line: missing or malformed employer
  account or branch, missing 13-digit ID, an ID whose check digit fails for a Thai-registry
  category (for categories 0/6/7 it is a warning, domain.md §1.4), a name that cannot be
  written in TIS-620 (a Burmese name with no Thai or Latin form).
* **Wages** are clamped to the floor and ceiling in force that month by
  :func:`desktop.domain.contributions.contribution_for` (WARNING ``form.sso.wage_capped``);
  amounts are written in satang, right-aligned and zero-filled.
* **Dates** use Buddhist Era years: DDMMYYYY for birth and employment dates, DDMMYY for
  the payment date and MMYY for the wage period.

Encoding: **TIS-620** (Python codec ``tis_620``), the single-byte Thai standard SSO's
e-filing programs read; every TIS-620 file is also valid Windows-874 (cp874). Being
single-byte, each character is one byte, so a 240-character record is 240 bytes. Lines
end with CRLF, as the Windows programs expect.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

from desktop.domain import contributions, ids, names
from desktop.domain.errors import UserError
from desktop.domain.resources import resource_path
from desktop.domain.validation import Issue, Severity, issue
from desktop.forms.data import ContributionMonth, Employer, Person, RegistrationRecord

ENCODING = "tis_620"
NEWLINE = "\r\n"

ContributionFn = Callable[[dt.date, Decimal, int], contributions.Contribution]


@dataclass(frozen=True)
class FieldDef:
    name: str
    width: int
    kind: str  # "N" digits or "A" text


@dataclass(frozen=True)
class Layout:
    length: int
    fields: tuple[FieldDef, ...]

    def format(self, values: Mapping[str, str]) -> str:
        """One record; every field padded or zero-filled to its width.

        Raises ``ValueError`` if a value does not fit: callers check first, so this is
        a bug, and it is better to fail than to write a shifted line.
        """
        parts = []
        for f in self.fields:
            value = values.get(f.name, "")
            if len(value) > f.width:
                raise ValueError(f"{f.name}: {value!r} is wider than {f.width}")
            if f.kind == "N":
                if value and not (value.isascii() and value.isdigit()):
                    raise ValueError(f"{f.name}: {value!r} is not digits")
                parts.append(value.rjust(f.width, "0"))
            else:
                parts.append(value.ljust(f.width))
        line = "".join(parts)
        assert len(line) == self.length, (len(line), self.length)
        return line


@functools.cache
def _layouts() -> Mapping[str, Any]:
    raw = yaml.safe_load(resource_path("forms", "sso", "layouts.yaml").read_text("utf-8"))
    assert isinstance(raw, dict)
    return raw


@functools.cache
def layout(name: str) -> Layout:
    """A record layout from the data file: registration, contribution_header/detail."""
    raw = _layouts()[name]
    fields = tuple(FieldDef(str(f["name"]), int(f["width"]), str(f["kind"])) for f in raw["fields"])
    result = Layout(int(raw["length"]), fields)
    if sum(f.width for f in fields) != result.length:
        raise ValueError(f"layout {name}: widths do not add up to {result.length}")
    return result


def code(table: str, key: str) -> str | None:
    """A code value from the data file (None when SSO's code for ``key`` is unknown)."""
    value = _layouts()["codes"][table].get(key)
    return None if value is None else str(value)


@dataclass(frozen=True)
class RowIssue:
    """A finding about one input row (1-based), with who it concerns."""

    row: int
    who: str
    issue: Issue


@dataclass(frozen=True)
class ExportResult:
    """The records written and every issue found; rows with errors are left out."""

    lines: tuple[str, ...]
    issues: tuple[RowIssue, ...] = field(default=())

    @property
    def errors(self) -> tuple[RowIssue, ...]:
        return tuple(i for i in self.issues if i.issue.is_error)

    @property
    def warnings(self) -> tuple[RowIssue, ...]:
        return tuple(i for i in self.issues if not i.issue.is_error)

    def encode(self) -> bytes:
        """The file content in TIS-620 with CRLF line ends."""
        return "".join(line + NEWLINE for line in self.lines).encode(ENCODING)

    def write(self, path: str | Path) -> None:
        Path(path).write_bytes(self.encode())


# --- value helpers -------------------------------------------------------------------


def be_ddmmyyyy(day: dt.date | None) -> str:
    return "" if day is None else f"{day.day:02d}{day.month:02d}{day.year + 543:04d}"


def be_ddmmyy(day: dt.date) -> str:
    return f"{day.day:02d}{day.month:02d}{(day.year + 543) % 100:02d}"


def be_mmyy(day: dt.date) -> str:
    return f"{day.month:02d}{(day.year + 543) % 100:02d}"


def satang(amount: Decimal) -> str:
    """Baht as whole satang digits: ``Decimal("875.5")`` → ``"87550"``."""
    return str(int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def encodable(value: str) -> bool:
    try:
        value.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _who(person: Person) -> str:
    return person.name_latin or person.display_name or person.national_id


def _employer_issues(employer: Employer) -> list[Issue]:
    found = ids.validate_sso_employer_account(employer.account, "employer_account")
    found += ids.validate_sso_branch(employer.branch or "", "employer_branch")
    return found


def _person_issues(person: Person) -> list[Issue]:
    return ids.validate_thai_id(person.national_id, "national_id")


def sso_name(person: Person) -> tuple[str, str, list[Issue]]:
    """First and last name for SSO files, from the Thai name or else the Latin one."""
    # Thai first, then Latin; a name only in another script is reported as not encodable.
    name = person.name("th") or person.name("latin") or next(iter(person.names), None)
    if name is None:
        return "", "", [issue("name.required", "first_name")]
    full = unicodedata.normalize("NFC", name.full)
    family = unicodedata.normalize("NFC", name.family) if name.family else None
    first, last, found = names.split_for_sso(full, family)
    if not (encodable(first) and encodable(last)):
        found.append(issue("form.sso.not_encodable", "first_name", name=full))
    return first, last, found


def _title(person: Person) -> tuple[str, list[Issue]]:
    value = names.sso_title_code(person.title) if person.title else None
    if value is None:
        return "000", [issue("form.sso.title_unknown", "title", Severity.WARNING)]
    return value, []


def _coded(table: str, key: str, field_name: str) -> tuple[str, list[Issue]]:
    if not key:
        return "", []
    value = code(table, key)
    if value is None:
        return "", [issue("form.sso.code_unknown", field_name, Severity.WARNING, value=key)]
    return value, []


# --- registration file -----------------------------------------------------------------


def registration_line(record: RegistrationRecord) -> tuple[str | None, list[Issue]]:
    """One 240-character 1-03 or 6-09 record, or None with the errors that prevent it."""
    if record.kind not in ("103", "609"):
        raise ValueError(f"unknown registration record type {record.kind!r}")
    person, employer, job = record.person, record.employer, record.employment
    found = _employer_issues(employer) + _person_issues(person)
    first, last, name_issues = sso_name(person)
    found += name_issues
    title, title_issues = _title(person)
    found += title_issues
    nationality = code("nationality", person.nationality)
    if nationality is None:
        nationality = "000"
        found.append(
            issue(
                "form.sso.code_unknown", "nationality", Severity.WARNING, value=person.nationality
            )
        )
    id_type, more = _coded("id_type", person.id_type, "id_type")
    sex, more2 = _coded("sex", person.sex, "sex")
    marital, more3 = _coded("marital_status", person.marital_status, "marital_status")
    found += more + more2 + more3
    if not employer.sso_province_code:  # the line would say 00, which no province is
        found.append(issue("form.sso.province_missing", "sso_province", Severity.WARNING))
    event = job.start_date if record.kind == "103" else job.end_date
    if event is None:
        field_name = "start_date" if record.kind == "103" else "end_date"
        found.append(issue("form.sso.date_required", field_name))
    reason = ""
    if record.kind == "609":
        reason, more4 = _coded("leave_reason", job.leave_reason, "leave_reason")
        found += more4
    if any(i.is_error for i in found):
        return None, found
    hospitals = "".join(h[:7].ljust(7) for h in person.hospitals[:3])
    values = {
        "record_type": record.kind,
        "sso_province": employer.sso_province_code,
        "sso_branch": employer.sso_branch_code,
        "employer_account": employer.account,
        "employer_branch": employer.branch,
        "nid": ids.digits_only(person.national_id),
        "id_type": id_type,
        "nationality": nationality,
        "sex": sex,
        "title": title,
        "first_name": first,
        "last_name": last,
        # the file's DDMMYYYY takes a whole date; a year alone is left for the office
        "birth_date": be_ddmmyyyy(
            person.birth_date if isinstance(person.birth_date, dt.date) else None
        ),
        "marital_status": marital,
        "event_date": be_ddmmyyyy(event),
        "employment_type": job.employment_type[:1],
        "alien_flag": "" if person.nationality == "THA" else "1",
        "hospitals": hospitals,
        "leave_reason": reason,
    }
    return layout("registration").format(values), found


def export_registrations(records: Iterable[RegistrationRecord]) -> ExportResult:
    """The registration file for ``records``; rows with errors are reported and skipped."""
    lines: list[str] = []
    issues: list[RowIssue] = []
    for row, record in enumerate(records, start=1):
        line, found = registration_line(record)
        issues += [RowIssue(row, _who(record.person), i) for i in found]
        if line is not None:
            lines.append(line)
    return ExportResult(tuple(lines), tuple(issues))


# --- contribution file -----------------------------------------------------------------


def _default_contribution(
    month: dt.date, wage: Decimal, section: int
) -> contributions.Contribution:
    return contributions.contribution_for(month, wage, section)


def export_contributions(
    statement: ContributionMonth,
    contribution_for: ContributionFn = _default_contribution,
) -> ExportResult:
    """The monthly contribution file (สปส.1-10): one header, one detail per worker.

    A missing or malformed employer account/branch is a ``UserError``: without it there
    is no header and so no file. Worker rows with errors are reported and skipped; the
    header totals count only the rows written.
    """
    employer = statement.employer
    problems = _employer_issues(employer)
    if problems:
        raise UserError("form.sso.employer_invalid", issues=problems, employer=employer.name)
    month = statement.month.replace(day=1)
    details: list[str] = []
    issues: list[RowIssue] = []
    total_wages = employee_total = employer_total = Decimal(0)
    for row, item in enumerate(statement.rows, start=1):
        found = _person_issues(item.person)
        first, last, name_issues = sso_name(item.person)
        found += name_issues
        title, title_issues = _title(item.person)
        found += title_issues
        share = None
        try:
            share = contribution_for(month, item.wage, 33)
        except UserError as exc:
            found.append(issue(exc.code, "wage", **exc.params))
        if share is not None and share.capped:
            found.append(
                issue(
                    "form.sso.wage_capped",
                    "wage",
                    Severity.WARNING,
                    wage=str(item.wage),
                    base=str(share.wage_base),
                )
            )
        issues += [RowIssue(row, _who(item.person), i) for i in found]
        if share is None or any(i.is_error for i in found):
            continue
        details.append(
            layout("contribution_detail").format(
                {
                    "record_type": "2",
                    "nid": ids.digits_only(item.person.national_id),
                    "title": title,
                    "first_name": first,
                    "last_name": last,
                    "wage": satang(share.wage_base),
                    "contribution": satang(share.employee),
                }
            )
        )
        total_wages += share.wage_base
        employee_total += share.employee
        employer_total += share.employer
    header = layout("contribution_header").format(
        {
            "record_type": "1",
            "employer_account": employer.account,
            "employer_branch": employer.branch,
            "payment_date": be_ddmmyy(statement.payment_date),
            "wage_period": be_mmyy(month),
            "employer_name": _fit_employer_name(employer.name, issues),
            "rate": _rate(month),
            "insured_count": str(len(details)),
            "total_wages": satang(total_wages),
            "total_contribution": satang(employee_total + employer_total),
            "employee_total": satang(employee_total),
            "employer_total": satang(employer_total),
        }
    )
    return ExportResult((header, *details), tuple(issues))


def _fit_employer_name(name: str, issues: list[RowIssue]) -> str:
    width = next(f.width for f in layout("contribution_header").fields if f.name == "employer_name")
    value = unicodedata.normalize("NFC", name)
    if not encodable(value):
        value = "".join(ch for ch in value if encodable(ch))
    short, cut = names.fit_width(value, width)
    if cut:
        issues.append(
            RowIssue(
                0,
                name,
                issue(
                    "name.truncated", "employer_name", Severity.WARNING, width=width, original=name
                ),
            )
        )
    return short


def _rate(month: dt.date) -> str:
    """The employee rate as percent × 100 in 4 digits (5% → ``0500``)."""
    from desktop.domain.rules import load

    rate = load().decimal("rate_employee_s33", month)
    return str(int((rate * 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))).rjust(4, "0")


def issue_lines(
    result: ExportResult, translate: Callable[[str, Mapping[str, Any]], str]
) -> Sequence[str]:
    """Human-readable lines for a report: ``row 3 (Name): [ERROR] message [field]``."""
    out = []
    for found in result.issues:
        level = "ERROR" if found.issue.is_error else "warning"
        message = translate(found.issue.code, found.issue.params)
        out.append(f"row {found.row} ({found.who}): [{level}] {message} [{found.issue.field}]")
    return out
