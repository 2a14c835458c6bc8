"""Printing and SSO exports from the store: builds the plain data the forms layer takes.

``desktop.forms`` never sees the database. This module reads a case (through
:mod:`desktop.services.cases`) and turns it into :class:`desktop.forms.data.CaseData`;
for the e-filing exports it gathers the month's registrations, leavings and wages.

It also records what was printed (:func:`record_printed`): an audit event ``forms.printed``
and the form codes in the ``forms_printed`` list of the steps whose workflow ``forms``
name them. That is what the workflow's ``forms_printed`` condition reads: a step that
must have its forms printed (or its papers collected) commits as ``in_progress``
(:func:`gate_state`) and moves to ``ready`` once they are printed and its other conditions
hold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal, get_args

from sqlalchemy import and_, select

from desktop.domain import dates, deadlines, i18n, ids, places, workflow
from desktop.domain.catalogue import MARITAL_STATUSES, PERSON_TITLES
from desktop.domain.dates import PartialDate, YearMonth
from desktop.domain.errors import UserError
from desktop.domain.names import NAME_KINDS, Title
from desktop.domain.validation import has_errors
from desktop.domain.workflow import Condition, StepDef, StepProgress, StepState
from desktop.forms import data
from desktop.models.entities import (
    AuditEvent,
    Employer,
    Employment,
    Person,
    Step,
    Track,
)
from desktop.models.entities import ContributionMonth as ContributionRecord
from desktop.models.recorder import record_action
from desktop.models.store import Store
from desktop.services import cases, steps
from desktop.services.cases import CaseFile, CaseFilter, EmploymentView, TrackView
from desktop.services.eligibility import REASON_FIELD, reason_given
from desktop.services.people import PersonView, person_view

# Script names used by the store (desktop.domain.text.Script) → forms' script codes.
_SCRIPTS = {"thai": "th", "myanmar": "my", "khmer": "km", "lao": "lo", "latin": "latin"}
# Forms a track of each kind prints when it has no known workflow (see track_forms).
TRACK_FORMS: dict[str, tuple[str, ...]] = {
    "enrollment": ("sps1_03",),
    "claim": ("sps2_01",),
    "work_injury": ("kt16",),
    "enforcement": ("complaint",),
}
# Workflow definitions name forms by their SSO/WCF codes; the forms layer by file name.
WORKFLOW_FORMS: Mapping[str, str] = MappingProxyType(
    {
        "sso_1_03": "sps1_03",
        "sso_1_20": "sps1_20",
        "sso_2_01": "sps2_01",
        "sso_6_09": "sps6_09",
        "wcf_kt16": "kt16",
        "complaint_letter": "complaint",
    }
)
# The store's reasons for leaving a job (catalogue: employment.end_reason) that the forms
# and the SSO file (resources/forms/sps6_09.yaml, sso/layouts.yaml) name otherwise; the
# rest are the same word. Being laid off (ถูกเลิกจ้าง) is the form's dismissal (เลิกจ้าง), and
# so is a dismissal for serious misconduct: the form has no box of its own for it.
_LEAVE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "laid_off": "dismissed",
        "dismissed_misconduct": "dismissed",
        "contract_ended": "contract_end",
    }
)
# The step whose packet an office prints to hand a claim in (the claim workflows' filing):
# the print queue's "only claims to hand in" (the app and sapan print queue --to-hand-in).
FILING_STEP = "submit_claim"
# How a packet or form left the app: the print dialog, "save as PDF", the print queue
# (a folder or one combined PDF) or the command line.
PrintedHow = Literal["print", "pdf", "queue", "cli"]
PRINTED_HOW: frozenset[str] = frozenset(get_args(PrintedHow))
_WORKER_ACTORS = frozenset({"worker", "heir"})
# The enrollment's SSO card step: the number on the card (resources/workflows/enrollment.yaml).
SSO_NUMBER_FIELD = "sso_number"


def _birth_date(value: str | None) -> dt.date | PartialDate | None:
    """A birth date as stored (``1994``, ``1994-07`` or ``1994-07-02``): a full one as a
    date, a partial one as it is known (the forms print the year; the export leaves it)."""
    if not value:
        return None
    try:
        known = PartialDate.parse(value)
    except ValueError:
        return None
    return known.as_date() or known


def form_person(view: PersonView) -> data.Person:
    """The person as the forms need them."""
    names: list[data.Name] = []
    seen: set[str] = set()
    ordered = sorted(
        view.names,
        key=lambda n: NAME_KINDS.index(n.kind) if n.kind in NAME_KINDS else len(NAME_KINDS),
    )
    for name in ordered:
        script = _SCRIPTS.get(name.script)
        if script is None or script in seen:
            continue
        seen.add(script)
        if name.given_name:
            # The parts for the SSO file's first and last name; the whole as written,
            # in the order of the worker's documents, for the forms.
            whole = name.full_name or ""
            names.append(data.Name(script, name.given_name, name.family_name or "", whole))
        else:
            names.append(data.Name(script, name.full_name))
    native = next((n.script for n in view.names if n.kind == "native"), None)
    documents = {
        doc.kind: doc.number for doc in sorted(view.documents, key=lambda d: d.status == "current")
    }
    national = documents.get("pink_card") or documents.get("thai_id") or ""
    # the worker's language, else their own script's: forms take the name in it as theirs
    written = (_SCRIPTS.get(n.script) for n in ordered)
    language = (
        view.preferred_language
        or next(iter(view.languages), None)
        or next((code for code in written if code in i18n.LANGUAGES), None)
        or "th"
    )
    if language not in i18n.LANGUAGES:
        language = "en"
    sex = (view.sex or "")[:1].upper()
    # The title recorded (a woman's is her choice, whatever her marital status), else Mr
    # for a man: his title from 15, the age from which he may work. A code this app does
    # not know (a newer colleague's) is printed as not recorded.
    title = view.title if view.title in PERSON_TITLES else ""
    if not title and sex == "M":
        title = Title.MR.value
    return data.Person(
        names=tuple(names),
        language=language,
        national_id=national,
        id_type="pink_card" if "pink_card" in documents else "nid",
        # the number a worker without a 13-digit ID is known by: a border-pass (s.64)
        # worker holds neither passport nor CI (domain.md §1.3)
        passport=(
            documents.get("passport") or documents.get("ci") or documents.get("border_pass") or ""
        ),
        work_permit=documents.get("work_permit", ""),
        sso_number=documents.get("sso_number", ""),
        birth_date=_birth_date(view.birth_date),
        nationality=(view.nationality or "").upper(),
        sex=sex if sex in ("M", "F") else "",
        title=title,
        marital_status=view.marital_status if view.marital_status in MARITAL_STATUSES else "",
        address=view.address_th or "",
        phone=view.phone or "",
        native_script=_SCRIPTS.get(native or "", ""),
    )


def _employer(row: Employer | None) -> data.Employer:
    if row is None:
        return data.Employer()
    return data.Employer(
        name=row.name_th or row.name or "",
        account=row.sso_account or "",
        branch=row.sso_branch or "",  # blank when not recorded: never assume head office
        province=places.province_name(row.province_code, "th"),
        sso_province_code=row.province_code or "",
        address=row.address or "",
        phone=row.phone or "",
    )


def _employment(row: Employment | None, answered: str = "") -> data.Employment:
    """The job as the forms print it; ``answered``: the reason for leaving the unemployment
    claim being printed records, weighed against the job's own (``reason_given``)."""
    if row is None:
        return data.Employment()
    reason = reason_given(row.end_reason, answered) or ""
    return data.Employment(
        start_date=row.start_date,
        end_date=row.end_date,
        monthly_wage=row.monthly_wage,
        position=row.occupation or "",
        leave_reason=_LEAVE_REASONS.get(reason, reason),
    )


def bank_account(track: TrackView | None) -> data.BankAccount:
    """Where the benefit is paid, as the claim's steps record it.

    The bank name and account number are entered in the claim's ``prepare_claim`` step
    (``bank_name``, ``bank_account``; resources/workflows/common.yaml). They are read from
    the track being printed only: a person has no stored bank account of their own, and
    another claim's account may be out of date. Within the track a later step wins.
    The bank branch and account name are not recorded anywhere, so they stay blank.
    """
    return data.BankAccount(
        bank=cases.step_value(track, "bank_name"),
        account_number=cases.step_value(track, "bank_account"),
    )


def claimant(track: TrackView | None) -> data.Claimant | None:
    """Who claims for the insured, as the claim's steps record it (``claimant_name`` and
    the rest: the death claim's first step, a work injury's report once it says the
    worker died or disappeared; resources/workflows/); None when no one is named, or the
    track no longer asks (a work injury the worker survived, though a name was typed
    when it said otherwise): the insured claims for themselves. A choice the form does
    not offer (an older workflow's word) is left unticked rather than guessed."""
    name = cases.step_value(track, "claimant_name")
    if track is None or not name or not _asked(track, "claimant_name"):
        return None
    return data.Claimant(
        name=name,
        claims_as=cases.step_value(track, "claimant_is"),
        relationship=cases.step_value(track, "claimant_relationship"),
        id_number=cases.step_value(track, "claimant_id_number"),
        phone=cases.step_value(track, "claimant_phone"),
    )


def _asked(track: TrackView, field: str) -> bool:
    """Whether the track's workflow asks ``field`` for what its steps hold (a field with a
    ``when`` whose condition holds, or one without); a workflow not known asks nothing."""
    definition = workflow.load().get(track.workflow or "")
    if definition is None:
        return False
    values = steps.track_values(s.data for s in sorted(track.steps, key=lambda s: s.position))
    return any(
        workflow.holds(f.when, values)
        for step in definition.steps
        for f in step.fields
        if f.name == field
    )


def _section(case_file: CaseFile, job: EmploymentView | None) -> int | None:
    """The insured's section as recorded: the job's, else the latest contribution month's.

    None when neither says: the form leaves the box blank rather than assume s.33.
    """
    if job is not None and job.section:
        return job.section
    months = sorted((c for c in case_file.contributions if c.section), key=lambda c: c.month)
    return months[-1].section if months else None


def _office(track: TrackView | None) -> data.Office:
    """The SSO office the claim is filed at, when a step records it (``sso_office``).

    The case's own office code (e.g. ``TAK-01``) is the caseworkers' office, not an SSO
    office, and the app has no list of SSO offices with addresses and hours
    (domain.md §8.1: unverified), so nothing else is printed.
    """
    return data.Office(name=cases.step_value(track, "sso_office"))


# Which track a packet is about, best first (see _main_track): the claim, whose SSO 2-01
# prints the benefit's dates, then a work injury (its KT-16 reads only its own track).
_MAIN_KINDS = ("claim", "work_injury")
# Track states after which a packet is no longer about it, if an open one is there.
_ENDED = ("closed", "done", "cancelled")


def _rank(track: TrackView) -> tuple[bool, int]:
    """Open tracks first, then by kind (see :func:`_main_track`)."""
    kind = _MAIN_KINDS.index(track.kind) if track.kind in _MAIN_KINDS else len(_MAIN_KINDS)
    return track.state in _ENDED, kind


def open_claims(case_file: CaseFile) -> tuple[str, ...]:
    """The benefits of the case's open claims, once each, in track order: with two, the
    caseworker says which one a packet is about (``case_data(benefit=...)``)."""
    return tuple(
        dict.fromkeys(t.benefit for t in case_file.tracks if t.benefit and t.state not in _ENDED)
    )


def _main_track(case_file: CaseFile, benefit: str | None = None) -> TrackView | None:
    """The track the packet is about: its benefit, dates, checklist and bank account.

    With ``benefit``, the case's track for that benefit (a case may hold two claims);
    ``error.no_claim_for_benefit`` when it has none. Otherwise, and among several tracks
    for the benefit, an open track before a closed one; among those, a claim, then a
    work injury, before the enrollment, which is often still under way when the worker
    claims; otherwise the first.
    """
    if benefit is None:
        return min(case_file.tracks, key=_rank, default=None)
    found = min((t for t in case_file.tracks if t.benefit == benefit), key=_rank, default=None)
    if found is None:
        raise UserError("error.no_claim_for_benefit", case=case_file.number, benefit=benefit)
    return found


def _track_of(case_file: CaseFile, kind: str) -> TrackView | None:
    """The case's track of ``kind`` (an open one first), or None."""
    return min((t for t in case_file.tracks if t.kind == kind), key=_rank, default=None)


# The enforcement workflow's problems (resources/workflows/enforcement.yaml) as the
# complaint letter's kinds (resources/forms/complaint.yaml).
_COMPLAINTS: Mapping[str, str] = MappingProxyType(
    {"never_registered": "not_registered", "deducted_not_remitted": "not_remitted"}
)


def complaint(case_file: CaseFile, lang: str) -> data.Complaint | None:
    """The complaint letter's facts, from the case's enforcement track; None without one.

    Its kind is the problem the ``record_problem`` step records (the letter's default,
    an employer that never registered the worker, while none is); the evidence is the
    documents in hand on its checklist, named in Thai for the office with the worker's
    language and English beside it. The period is not recorded: those boxes stay blank.
    """
    track = _track_of(case_file, "enforcement")
    if track is None:
        return None
    evidence = tuple(
        data.Evidence(_in_languages(item.label, lang)) for item in _checklist(track) if item.present
    )
    kind = _COMPLAINTS.get(cases.step_value(track, "problem"), "not_registered")
    return data.Complaint(kind=kind, evidence=evidence)


def _in_languages(key: str, lang: str) -> str:
    """Catalogue ``key`` in Thai, ``lang`` and English, each once ("a / b / c")."""
    if not i18n.has(key):
        return key
    return " / ".join(dict.fromkeys(i18n.text(key, code) for code in ("th", lang, "en")))


def injury(case_file: CaseFile) -> data.Injury | None:
    """The facts of the case's work injury for กท.16, as its ``report_injury`` step records
    them (resources/workflows/work_injury.yaml); None without a work-injury track.

    The accident's day is the track's event date (the step's ``injury_date``); its hour,
    the nature of the injury, the day the employer learned of it and the witnesses are
    not recorded, so those boxes stay blank. A KT-44 referral was issued when its copy
    is in hand; otherwise it is not known (never printed as "no").
    """
    track = _track_of(case_file, "work_injury")
    if track is None:
        return None
    return data.Injury(
        occurred_at=track.event_date or dates.stored_date(cases.step_value(track, "injury_date")),
        place=cases.step_value(track, "injury_place"),
        description=cases.step_value(track, "injury_description"),
        treatment_facility=cases.step_value(track, "treatment_facility"),
        referral_kt44=any(
            item.doc_key == "kt44_copy" and steps.in_hand(item) for item in track.checklist
        )
        or None,
    )


def _with_sso_number(person: data.Person, case_file: CaseFile) -> data.Person:
    """``person`` with the SSO number the enrollment's SSO card step holds, where it is
    not recorded as one of the person's documents: that step is done weeks after the
    wizard, on the Tracks tab, which keeps it in the step (the 2-01's box stayed empty)."""
    if person.sso_number:
        return person
    given = next((n for t in case_file.tracks if (n := cases.step_value(t, SSO_NUMBER_FIELD))), "")
    return dataclasses.replace(person, sso_number=ids.digits_only(given)) if given else person


def filing_deadline(track: TrackView | None, today: dt.date) -> dt.date | None:
    """The worker's filing deadline for the track's event, from the deadline rules."""
    if track is None or track.event_date is None:
        return None
    claimed = "work_injury" if track.kind == "work_injury" else track.benefit
    found_after = cases.found_after_job(track)
    event = deadlines.claim_event(claimed, track.event_date, found_after_job=found_after)
    found = deadlines.tasks_for([event], today, in_force_only=True)
    tasks = [t for t in found if t.actor in _WORKER_ACTORS]
    return min((t.due for t in tasks), default=None)


def _checklist(track: TrackView | None) -> tuple[data.ChecklistItem, ...]:
    if track is None:
        return ()
    items = []
    for item in track.checklist:
        key = f"workflow.document.{item.doc_key}"
        label = key if i18n.has(key) else item.doc_key
        present = steps.in_hand(item)
        items.append(data.ChecklistItem(label, present, item.note or ""))
    return tuple(items)


def case_data(
    store: Store,
    number_or_id: str,
    *,
    forms: Sequence[str] | None = None,
    packet_version: int = 1,
    today: dt.date | None = None,
    benefit: str | None = None,
) -> data.CaseData:
    """Everything one packet or form needs for the case ``number_or_id``; with
    ``benefit``, about the case's claim for that benefit (see :func:`_main_track`)."""
    today = today or dt.date.today()
    case_file = cases.get_case_file(store, number_or_id)
    track = _main_track(case_file, benefit)
    job_view = case_file.employments[-1] if case_file.employments else None
    with store.read() as session:
        job = session.get(Employment, job_view.id) if job_view else None
        employer = session.get(Employer, job.employer_id) if job and job.employer_id else None
        employer_data = _employer(employer)
        answered = (
            cases.step_value(track, REASON_FIELD)
            if track and track.benefit == "unemployment"
            else ""
        )
        employment_data = _employment(job, answered)
    chosen = tuple(forms) if forms is not None else _forms_for(case_file)
    person = _with_sso_number(form_person(case_file.person), case_file)
    kind = "wcf" if track is not None and track.kind == "work_injury" else None
    return data.CaseData(
        case_id=uuid.UUID(case_file.id),
        case_number=case_file.number,
        person=person,
        packet_version=packet_version,
        employer=employer_data,
        employment=employment_data,
        benefit=data.Benefit(
            kind=kind or (track.benefit if track and track.benefit else ""),
            event_date=track.event_date if track else None,
            filing_deadline=filing_deadline(track, today),
            section=_section(case_file, job_view),
        ),
        office=_office(track),
        checklist=_checklist(track),
        bank=bank_account(track),
        claimant=claimant(track),
        injury=injury(case_file),
        complaint=complaint(case_file, person.language),
        forms=chosen,
        caseworker=case_file.owner or "",
        printed_on=today,
    )


def track_forms(kind: str | None, workflow_key: str | None) -> tuple[str, ...]:
    """The forms layer's ids a track prints: those its workflow's steps name, in step
    order (a section-39 application is SSO 1-20, not 1-03; an unemployment claim has the
    employer's 6-09 before 2-01); a track without a known workflow, those of its kind."""
    definition = workflow.load().get(workflow_key or "")
    if definition is None:
        return TRACK_FORMS.get(kind or "", ())
    return packet_form_ids([code for step in definition.steps for code in step.forms])


def _forms_for(case_file: CaseFile) -> tuple[str, ...]:
    chosen: list[str] = []
    for track in case_file.tracks:
        for form_id in track_forms(track.kind, track.workflow):
            if form_id not in chosen:
                chosen.append(form_id)
    return tuple(chosen)


def iter_case_data(
    store: Store, filters: CaseFilter | None = None, today: dt.date | None = None
) -> Iterator[data.CaseData]:
    """Case data for every matching case, read one case at a time (the print queue); a
    queue filtered by benefit prints each case's packet about its claim for it."""
    filters = filters or CaseFilter()
    for case_id in cases.list_case_ids(store, filters):
        yield case_data(store, case_id, today=today, benefit=filters.benefit)


# --- what was printed ---------------------------------------------------------------------


@dataclass(frozen=True)
class PrintRecord:
    """What :func:`record_printed` wrote: the workflow form codes and the steps touched."""

    case_id: str
    forms: tuple[str, ...]
    steps_updated: tuple[str, ...]  # step ids whose forms_printed list grew
    steps_ready: tuple[str, ...]  # step ids moved from in_progress to ready


def workflow_form_codes(codes: Sequence[str]) -> tuple[str, ...]:
    """Workflow form codes (``sso_2_01``) for form codes of either kind, in order, once each.

    Accepts the workflow's codes and the forms layer's ids (``sps2_01``); anything else
    is a :class:`UserError` ``printing.error.unknown_form``.
    """
    to_workflow = {form_id: code for code, form_id in WORKFLOW_FORMS.items()}
    chosen: list[str] = []
    for raw in codes:
        code = raw.strip().lower()
        code = code if code in WORKFLOW_FORMS else to_workflow.get(code, "")
        if not code:
            raise UserError("printing.error.unknown_form", form=raw)
        if code not in chosen:
            chosen.append(code)
    return tuple(chosen)


def packet_form_ids(workflow_codes: Sequence[str]) -> tuple[str, ...]:
    """The forms layer's ids for workflow form codes (unknown names are left out)."""
    chosen: list[str] = []
    for name in workflow_codes:
        form_id = WORKFLOW_FORMS.get(name, name)
        if form_id in WORKFLOW_FORMS.values() and form_id not in chosen:
            chosen.append(form_id)
    return tuple(chosen)


# What a step waits on that the wizard's editors cannot check as the person types.
_WAITING = frozenset({"workflow.form_not_printed", "workflow.document_missing"})


def gate_state(step: StepDef, proposed: str, progress: StepProgress) -> str:
    """``proposed``, or ``in_progress`` when it is ``ready`` but forms are still unprinted
    or papers still missing.

    A step whose ``advance_when`` includes ``forms_printed`` is ready only once every form
    it lists has been printed or saved, and one with ``documents_collected`` only once
    every document it lists is on file (what the engine's ``workflow.form_not_printed``
    and ``workflow.document_missing`` issues say); its fields are the wizard's to check
    as the person types.
    """
    if proposed != StepState.READY:
        return proposed
    waiting = [i for i in workflow.check(step, progress) if i.code in _WAITING]
    return StepState.IN_PROGRESS if waiting else proposed


def forms_to_print(track: TrackView) -> tuple[str, ...]:
    """Workflow form codes the track's open steps still wait on (``forms_printed`` steps)."""
    definition = workflow.load().get(track.workflow or "")
    if definition is None:
        return ()
    waiting: list[str] = []
    for view in track.steps:
        step = definition.find(view.key)
        if step is None or view.state not in (StepState.NOT_STARTED, StepState.IN_PROGRESS):
            continue
        if Condition.FORMS_PRINTED not in step.advance_when:
            continue
        printed = set(view.data.get("forms_printed") or ())
        waiting += [f for f in step.forms if f not in printed and f not in waiting]
    return tuple(waiting)


def record_printed(
    store: Store,
    case_id: str,
    form_codes: Sequence[str] | None,
    how: PrintedHow,
) -> PrintRecord:
    """Record that the case's packet or forms were printed or saved, in one transaction.

    Writes an audit event ``forms.printed`` on the case (it syncs like any row), adds the
    workflow form codes to ``data["forms_printed"]`` of every open step whose ``forms``
    list them, and moves such a step from ``in_progress`` to ``ready`` when the engine's
    :func:`desktop.domain.workflow.check` then finds nothing missing. ``form_codes`` None
    means the forms of the case's packet (as :func:`case_data` chooses them).
    Raises :class:`UserError` ``error.case_not_found`` for an unknown case,
    ``printing.error.unknown_form`` for an unknown form and ``printing.error.unknown_how``.
    """
    if how not in PRINTED_HOW:
        raise UserError("printing.error.unknown_how", how=how)
    with store.session() as session:
        case = cases.find_case(session, case_id)
        tracks = session.scalars(
            select(Track).where(Track.case_id == case.id, Track.deleted.is_(False))
        ).all()
        if form_codes is None:
            form_codes = [f for t in tracks for f in track_forms(t.kind, t.workflow)]
        codes = workflow_form_codes(form_codes)
        updated: list[str] = []
        ready: list[str] = []
        for track in tracks:
            for step_id, promoted in _mark_track(session, track, codes):
                updated.append(step_id)
                if promoted:
                    ready.append(step_id)
        record_action(
            session, "forms.printed", "case", case.id, case.office, forms=list(codes), how=how
        )
        return PrintRecord(case.id, codes, tuple(updated), tuple(ready))


# Whether the office prints combined packets on both sides of the paper (the print queue
# remembers the choice): each packet then starts on a sheet of its own.
DOUBLE_SIDED_SETTING = "print_double_sided"


def double_sided(store: Store) -> bool:
    return bool(store.setting(DOUBLE_SIDED_SETTING, False))


def set_double_sided(store: Store, on: bool) -> None:
    store.set_setting(DOUBLE_SIDED_SETTING, bool(on))


def record_packets_printed(
    store: Store, cases_: Sequence[str], how: PrintedHow
) -> list[PrintRecord]:
    """:func:`record_printed` for each packet of a batch (case numbers or ids), in order."""
    return [record_printed(store, case, None, how) for case in cases_]


def _mark_track(session: Any, track: Track, codes: Sequence[str]) -> list[tuple[str, bool]]:
    """Add ``codes`` to the track's steps that list them; (step id, moved to ready) each."""
    definition = workflow.load().get(track.workflow or "")
    if definition is None:
        return []  # a track made without a workflow definition has no forms to gate
    rows = session.scalars(
        select(Step).where(Step.track_id == track.id, Step.deleted.is_(False))
    ).all()
    documents: frozenset[str] | None = None
    touched: list[tuple[str, bool]] = []
    for row in rows:
        state = row.state or StepState.NOT_STARTED
        step = definition.find(row.key or "")
        if step is None or state not in workflow.UNFILED:  # printing counts until filed
            continue
        new = [c for c in codes if c in step.forms]
        printed = list((row.data or {}).get("forms_printed") or ())
        if not [c for c in new if c not in printed]:
            continue
        row.data = {**(row.data or {}), "forms_printed": sorted({*printed, *new})}
        promoted = False
        if state == StepState.IN_PROGRESS and Condition.FORMS_PRINTED in step.advance_when:
            if documents is None:
                documents = steps.documents_in_hand(session, track.id)
            every = steps.track_values(r.data or {} for r in rows)
            progress = steps.step_progress(step, state, row.data, documents, every)
            if not has_errors(workflow.check(step, progress)):
                _, event = workflow.advance(definition, progress, StepState.READY)
                row.state = event.to_state.value
                record_action(
                    session,
                    event.kind,
                    "step",
                    row.id,
                    row.office,
                    track=event.track,
                    step=event.step,
                    previous=event.from_state.value,
                    to=event.to_state.value,
                )
                promoted = True
        touched.append((row.id, promoted))
    for step_id, promoted in touched:
        if promoted:
            steps.follow_up(session, step_id)  # the next step opens, as a move opens it
            break
    return touched


def printed_since(session: Any, case_id: str, since: str) -> frozenset[str]:
    """Workflow form codes recorded as printed for the case at or after ``since`` (UTC ISO),
    inside the caller's transaction: what a wizard printed before its track existed."""
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "case",
            AuditEvent.row_id == case_id,
            AuditEvent.action == "forms.printed",
            AuditEvent.at >= since,
        )
    ).all()
    return frozenset(str(f) for e in events for f in (e.details or {}).get("forms", ()))


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
