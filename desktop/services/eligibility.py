"""Eligibility of a stored case: every claim track judged from the case's own facts.

Reads the case file (person, employments, contribution months, tracks) through
:func:`desktop.services.cases.get_case_file` and runs the pure eligibility engine on
each claim or work-injury track that has a benefit and an event date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from desktop.domain.dates import PartialDate, YearMonth
from desktop.domain.eligibility import (
    Benefit,
    ContributionMonth,
    Eligibility,
    Facts,
    UnemploymentReason,
    evaluate,
)
from desktop.domain.rules import RuleBook
from desktop.models.store import Store
from desktop.services.cases import (
    CaseFile,
    EmploymentView,
    found_after_job,
    get_case_file,
    step_value,
)
from desktop.services.employers import current_job

# How the stored reason for leaving maps onto the unemployment rule (domain.md §3 row 7:
# "resigned / contract ended" share the lower rate; dismissed for misconduct gets nothing).
_REASONS = {
    "laid_off": UnemploymentReason.LAID_OFF,
    "resigned": UnemploymentReason.RESIGNED,
    "contract_ended": UnemploymentReason.RESIGNED,
    "dismissed_misconduct": UnemploymentReason.DISMISSED_MISCONDUCT,
}


def unemployment_reason(end_reason: str | None) -> UnemploymentReason | None:
    """The unemployment rule's reason for a stored reason for leaving; None when unknown."""
    return _REASONS.get(end_reason or "")


# The unemployment claim's question "why did the job end?" (resources/workflows/claims.yaml,
# claim_unemployment's check_eligibility step); its choices are stored reasons for leaving.
REASON_FIELD = "unemployment_reason"


def reason_given(stored: str | None, answered: str | None) -> str | None:
    """The reason for leaving to go by, from a job's ``stored`` reason and the one
    ``answered`` in an unemployment claim; None when neither says.

    The claim's answer wins when it puts the worker under another unemployment rule: it
    was asked for that claim, and the job's reason may have been recorded earlier, by
    someone else. When both lead to the same rule the job's is kept, being the more
    precise word (a claim answered "resigned" before the wizard offered "contract ended").
    """
    if answered and unemployment_reason(answered) is not unemployment_reason(stored):
        return answered
    return stored or answered or None


def reason_for_leaving(case: CaseFile) -> str | None:
    """Why the worker's last job ended (see :func:`reason_given`): the job that ended last,
    and the answer of the latest unemployment claim that has one; None when unknown."""
    answered = next(
        (
            answer
            for track in reversed(case.tracks)
            if track.benefit == "unemployment" and (answer := step_value(track, REASON_FIELD))
        ),
        None,
    )
    last = last_ended_job(case)
    return reason_given(last.end_reason if last else None, answered)


def last_ended_job(case: CaseFile) -> EmploymentView | None:
    """The job that ended last (its end and reason for leaving), or None."""
    ended = [e for e in case.employments if e.end_date is not None]
    return max(ended, key=lambda e: e.end_date or dt.date.min) if ended else None


def insured_status_end(case: CaseFile) -> dt.date | None:
    """When insured status ended: the last job's end, or None while a job is still open
    (a worker who changed employers is insured still, whatever the old job's end)."""
    last = last_ended_job(case)
    if last is None or any(e.end_date is None for e in case.employments):
        return None
    return last.end_date


def with_job_ended(case: CaseFile, day: dt.date) -> CaseFile:
    """``case`` as it will be once its current job (:func:`employers.current_job`) ended
    on ``day``: a claim wizard's answer, judged before it is saved."""
    job = current_job(case.employments)
    if job is None:
        return case
    jobs = tuple(replace(e, end_date=day) if e is job else e for e in case.employments)
    return replace(case, employments=jobs)


def _birth_date(case: CaseFile) -> dt.date | None:
    """The person's birth date; a partial one counts as its latest day (later 55th birthday)."""
    raw = case.person.birth_date
    if not raw:
        return None
    try:
        return PartialDate.parse(raw).latest()
    except ValueError:
        return None


def case_facts(
    case: CaseFile, benefit: Benefit, event_date: dt.date, reason: str | None = None
) -> Facts:
    """The engine's facts for a claim of ``benefit`` for an event on ``event_date``.

    Every recorded contribution month counts; one whose wage was not recorded counts at
    no wage, which the engine raises to the wage floor, so the amounts shown are never
    more than the worker is owed. The section is that of the last month recorded up to
    the event (a worker who left the job and went on under s.39 is judged under s.39),
    else the last job's, else 33. The reason for leaving (unemployment) is ``reason``
    when given (a claim wizard's answer not saved yet), else the case's
    (:func:`reason_for_leaving`); never assumed.
    """
    contributions = tuple(
        ContributionMonth(YearMonth.parse(c.month), c.wage or Decimal(0), c.section or 33)
        for c in case.contributions
        if c.month
    )
    event_month = YearMonth.from_date(event_date)
    sections = [c.section for c in contributions if c.month <= event_month]
    last_job = case.employments[-1] if case.employments else None
    return Facts(
        benefit=benefit,
        event_date=event_date,
        contributions=contributions,
        section=sections[-1] if sections else (last_job.section if last_job else None) or 33,
        birth_date=_birth_date(case),
        employment_end=insured_status_end(case),
        reason=unemployment_reason(reason or reason_for_leaving(case)),
        found_after_job=any(
            found_after_job(t)
            for t in case.tracks
            if t.benefit == benefit and t.event_date == event_date
        ),
    )


def facts_for_case(case: CaseFile) -> list[Facts]:
    """The engine's facts for each claim track of ``case`` with a benefit and event date."""
    return [
        case_facts(case, Benefit(track.benefit), track.event_date)
        for track in case.tracks
        if track.benefit and track.event_date is not None
    ]


def eligibility_for_case(
    store: Store, case_number: str, book: RuleBook | None = None
) -> list[Eligibility]:
    """Judge every claim track of the case ``case_number`` (or case id)."""
    case = get_case_file(store, case_number)
    return [evaluate(facts, book) for facts in facts_for_case(case)]
