"""Plain input for forms, packets and SSO exports: frozen dataclasses, no database.

The renderer, the packet builder and the exporters take only these objects, so they
can be tested without a store and the store can change without touching the PDFs.
``desktop.services.printing`` builds them from a stored case.

Dates are ``datetime.date`` (CE; the renderer shows BE years), money is ``Decimal`` baht.
A value that is not known is ``None`` or ``""``; the form then leaves its box empty and
the packet checklist lists it as missing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from desktop.domain.dates import PartialDate

# Scripts a name can be written in; "latin" is the romanised form from a passport or CI.
SCRIPTS: tuple[str, ...] = ("th", "my", "km", "lo", "latin")


@dataclass(frozen=True)
class Name:
    """One way of writing a person's name. ``family`` may be empty (most Burmese names).

    ``written`` is the whole name as the worker's documents write it, when it is known:
    its order is theirs (Khmer and many passports put the family name first).
    """

    script: str
    given: str
    family: str = ""
    written: str = ""

    @property
    def full(self) -> str:
        return self.written or " ".join(part for part in (self.given, self.family) if part)


@dataclass(frozen=True)
class Person:
    """The insured person (worker) as the forms need them."""

    names: tuple[Name, ...]
    language: str = "th"  # the worker's language: en th my km lo
    title: str = ""  # "mr", "mrs", "miss" (SSO title codes) or "" when unknown
    national_id: str = ""  # 13-digit Thai ID / pink-card number, digits only
    id_type: str = "nid"  # "nid", "pink_card", "passport", "ci"
    passport: str = ""  # passport, else CI, else border-pass number
    work_permit: str = ""
    sso_number: str = ""
    # a year, or a year and month, when that is all the worker's documents say
    birth_date: dt.date | PartialDate | None = None
    nationality: str = ""  # ISO 3166-1 alpha-3, e.g. "MMR", "KHM", "LAO", "THA"
    sex: str = ""  # "M", "F" or ""
    marital_status: str = ""  # "single", "married", "widowed", "divorced" or ""
    address: str = ""
    phone: str = ""
    hospitals: tuple[str, ...] = ()  # hospital codes chosen for medical care, in order
    # Script of the name the worker calls their own, when it is not their language's (a
    # Vietnamese worker reads Thai but writes their name in Latin letters); "" = same.
    native_script: str = ""

    def name(self, script: str) -> Name | None:
        """The name written in ``script``, or None."""
        return next((n for n in self.names if n.script == script), None)

    def full_name(self, script: str) -> str:
        found = self.name(script)
        return found.full if found else ""

    @property
    def name_thai(self) -> str:
        return self.full_name("th")

    @property
    def name_latin(self) -> str:
        return self.full_name("latin")

    @property
    def name_native(self) -> str:
        """The name in the worker's own script (falls back to Latin)."""
        return self.full_name(self.native_script or self.language) or self.name_latin

    @property
    def display_name(self) -> str:
        """Best single line for headings: Thai, else native, else Latin."""
        return self.name_thai or self.name_native or self.name_latin


@dataclass(frozen=True)
class Employer:
    """The employer and its SSO account."""

    name: str = ""
    account: str = ""  # SSO employer account number (10 digits)
    branch: str = ""  # SSO account branch ("000000" = head office); "" = not recorded
    province: str = ""  # province name (Thai)
    sso_province_code: str = ""  # two-digit province code used in SSO files
    sso_branch_code: str = "00"  # SSO provincial branch office code (2 digits)
    address: str = ""
    phone: str = ""
    business_type: str = ""


@dataclass(frozen=True)
class Employment:
    """The worker's job with this employer."""

    start_date: dt.date | None = None
    end_date: dt.date | None = None
    monthly_wage: Decimal | None = None
    position: str = ""
    leave_reason: str = ""  # "resigned", "dismissed", "contract_end", "retired", "died", "other"
    employment_type: str = "1"  # SSO employment type code; 1 = regular (placeholder)


@dataclass(frozen=True)
class Benefit:
    """The benefit claimed and its key dates."""

    # The store's benefit codes: sickness, maternity, invalidity, death, child_allowance,
    # old_age, unemployment; "wcf" for a work injury.
    kind: str = ""
    event_date: dt.date | None = None
    filing_deadline: dt.date | None = None
    section: int | None = None  # 33, 39 or 40 as recorded; None = not recorded


@dataclass(frozen=True)
class Office:
    """Where the packet is filed."""

    name: str = ""
    address: str = ""
    phone: str = ""
    hours: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    """A required document. ``label`` is a catalogue key or, failing that, plain text."""

    label: str
    present: bool
    note: str = ""


@dataclass(frozen=True)
class BankAccount:
    """Where the benefit is paid."""

    bank: str = ""
    branch: str = ""
    account_number: str = ""
    account_name: str = ""


@dataclass(frozen=True)
class Claimant:
    """Who claims when it is not the insured person: after a death, the funeral organiser,
    a named beneficiary or a statutory heir (domain.md §3 row 4)."""

    name: str = ""
    claims_as: str = ""  # funeral_organiser | beneficiary | heir
    relationship: str = ""  # spouse | child | parent | sibling | other_relative | not_related
    id_number: str = ""  # the document the claimant is known by (a Thai ID, a passport...)
    phone: str = ""


@dataclass(frozen=True)
class Injury:
    """Facts for the work-injury notice and claim (กท.16)."""

    occurred_at: dt.datetime | dt.date | None = None  # a date alone when the hour is unknown
    place: str = ""
    description: str = ""
    injury: str = ""  # nature of injury and body part
    treatment_facility: str = ""
    employer_learned_date: dt.date | None = None
    witnesses: tuple[str, ...] = ()
    referral_kt44: bool | None = None  # None = not known (neither box ticked)


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence attached to a complaint."""

    description: str
    pages: int | None = None


@dataclass(frozen=True)
class Complaint:
    """An employer's failure to register or to remit contributions."""

    kind: str = "not_registered"  # "not_registered" or "not_remitted"
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    details: str = ""
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class CaseData:
    """Everything one packet needs, taken from one case at one moment."""

    case_id: uuid.UUID
    case_number: str
    person: Person
    packet_version: int = 1
    employer: Employer = field(default_factory=Employer)
    employment: Employment = field(default_factory=Employment)
    benefit: Benefit = field(default_factory=Benefit)
    office: Office = field(default_factory=Office)
    checklist: tuple[ChecklistItem, ...] = ()
    bank: BankAccount = field(default_factory=BankAccount)
    claimant: Claimant | None = None  # None: the insured claims for themselves
    injury: Injury | None = None
    complaint: Complaint | None = None
    forms: tuple[str, ...] = ()  # form ids to include in the packet, e.g. ("sps2_01",)
    caseworker: str = ""
    organisation: str = ""
    printed_on: dt.date | None = None  # None = today at render time

    @property
    def lang(self) -> str:
        return self.person.language


@dataclass(frozen=True)
class ContributionRow:
    """One worker's wage for one month in the contribution file."""

    person: Person
    wage: Decimal


@dataclass(frozen=True)
class ContributionMonth:
    """One employer's monthly contribution statement (สปส.1-10) for the e-filing file."""

    employer: Employer
    month: dt.date  # any day in the wage month
    payment_date: dt.date
    rows: tuple[ContributionRow, ...]


@dataclass(frozen=True)
class RegistrationRecord:
    """One registration (1-03) or leaving (6-09) event for the e-filing file."""

    kind: str  # "103" or "609"
    person: Person
    employer: Employer
    employment: Employment
