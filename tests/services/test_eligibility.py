"""services.eligibility: a stored case's claim tracks judged from its own facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

import pytest

from desktop.domain.eligibility import Benefit, UnemploymentReason
from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.cases import TrackInput
from desktop.services.eligibility import (
    case_facts,
    eligibility_for_case,
    facts_for_case,
    insured_status_end,
    reason_for_leaving,
    with_job_ended,
)
from desktop.services.people import NameInput, PersonInput
from tests.conftest import unemployment_claim


def _person(store: Store, birth_date: str | None) -> tuple[str, str]:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Sok Dara", "passport")], birth_date=birth_date)
    ).person_id
    employer = employers.create_employer(store, employers.EmployerInput("Sa Kaeo Farm Co"))
    return pid, employer


def _track(store: Store, number: str, benefit: str, day: dt.date, kind: str = "claim") -> None:
    step = "report_injury" if kind == "work_injury" else "check_eligibility"
    cases.start_track(store, number, TrackInput(kind, [step], benefit=benefit, event_date=day))


def test_unemployment_and_old_age_from_the_case(store: Store) -> None:
    pid, employer = _person(store, "1971")
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(
            employer,
            dt.date(2024, 1, 1),
            dt.date(2025, 12, 31),
            decimal.Decimal(9000),
            end_reason="contract_ended",
        ),
    )
    employers.record_contributions(
        store,
        pid,
        [
            employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000), employer)
            for m in range(1, 13)
        ],
    )
    number = cases.open_case(store, pid)
    for benefit in ("unemployment", "old_age"):
        _track(store, number, benefit, dt.date(2026, 1, 5))
    cases.start_track(store, number, TrackInput("claim", ["check_eligibility"], benefit="death"))
    facts = facts_for_case(cases.get_case_file(store, number))
    assert [f.benefit for f in facts] == [Benefit.UNEMPLOYMENT, Benefit.OLD_AGE]
    assert facts[0].reason is UnemploymentReason.RESIGNED
    assert facts[0].employment_end == dt.date(2025, 12, 31)
    # a birth year only counts as its last day: the later 55th birthday
    assert facts[1].birth_date == dt.date(1971, 12, 31)
    unemployment, old_age = eligibility_for_case(store, number)
    assert unemployment.eligible
    assert not old_age.eligible
    assert old_age.earliest_eligible == dt.date(2026, 12, 31)


def test_a_job_still_open_means_insured_status_has_not_ended(store: Store) -> None:
    # Left one employer in 2024 and works for another now: no end of insured status, so no
    # lapse of the 6 months of continued cover (domain.md §3), even before the new job's
    # contribution months are on file.
    pid, employer = _person(store, None)
    for start, end in ((dt.date(2023, 1, 1), dt.date(2024, 5, 1)), (dt.date(2024, 6, 1), None)):
        employers.add_employment(
            store, pid, employers.EmploymentInput(employer, start, end, end_reason="resigned")
        )
    employers.record_contributions(
        store,
        pid,
        [employers.ContributionInput(f"2024-0{m}", decimal.Decimal(9000)) for m in range(1, 6)],
    )
    number = cases.open_case(store, pid)
    _track(store, number, "sickness", dt.date(2025, 6, 2))
    [facts] = facts_for_case(cases.get_case_file(store, number))
    assert facts.employment_end is None
    [result] = eligibility_for_case(store, number)
    assert result.eligible


def test_case_without_dates_or_contributions(store: Store) -> None:
    pid, _ = _person(store, None)
    number = cases.open_case(store, pid)
    _track(store, number, "work_injury", dt.date(2026, 2, 1), kind="work_injury")
    [result] = eligibility_for_case(store, number)
    assert result.eligible
    assert result.section == 33
    facts = facts_for_case(cases.get_case_file(store, number))
    assert facts[0].birth_date is None
    assert facts[0].reason is None


def _claim_with_answer(store: Store, end_reason: str | None, answer: str | None) -> str:
    """A case whose last job ended for ``end_reason`` and whose unemployment claim's
    wizard recorded ``answer`` to "why did the job end?" (None: not asked)."""
    pid, employer = _person(store, None)
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(
            employer, dt.date(2024, 1, 1), dt.date(2025, 12, 31), end_reason=end_reason
        ),
    )
    number = cases.open_case(store, pid)
    values = {"event_date": "2026-01-05"}
    if answer is not None:
        values["unemployment_reason"] = answer
    unemployment_claim(store, number, values, dt.date(2026, 1, 5))
    return number


def test_the_claim_wizard_s_answer_to_why_the_job_ended_decides_the_rate(store: Store) -> None:
    # Recorded "laid off" on the job, but the worker told the claim wizard they resigned:
    # the claim's own answer is what the eligibility is judged on (domain.md §3 row 7).
    number = _claim_with_answer(store, "laid_off", "resigned")
    case = cases.get_case_file(store, number)
    assert reason_for_leaving(case) == "resigned"
    [facts] = facts_for_case(case)
    assert facts.reason is UnemploymentReason.RESIGNED


def test_an_answer_that_agrees_keeps_the_job_s_more_precise_reason(store: Store) -> None:
    # Claims answered before the wizard offered "contract ended" said "resigned" for both:
    # an answer under the same rule keeps the job's word.
    case = cases.get_case_file(store, _claim_with_answer(store, "contract_ended", "resigned"))
    assert reason_for_leaving(case) == "contract_ended"
    assert facts_for_case(case)[0].reason is UnemploymentReason.RESIGNED


def test_without_an_answer_the_job_s_stored_reason_is_used(store: Store) -> None:
    case = cases.get_case_file(store, _claim_with_answer(store, "contract_ended", None))
    assert reason_for_leaving(case) == "contract_ended"
    assert facts_for_case(case)[0].reason is UnemploymentReason.RESIGNED
    bare = cases.get_case_file(store, _claim_with_answer(store, None, None))
    assert reason_for_leaving(bare) is None
    assert facts_for_case(bare)[0].reason is None


def test_a_worker_dismissed_for_misconduct_is_told_there_is_no_benefit(store: Store) -> None:
    # The claim wizard offers it; the case is judged not eligible rather than promised 60%.
    number = _claim_with_answer(store, "laid_off", "dismissed_misconduct")
    case = cases.get_case_file(store, number)
    assert facts_for_case(case)[0].reason is UnemploymentReason.DISMISSED_MISCONDUCT
    [result] = eligibility_for_case(store, number)
    assert not result.eligible
    assert result.amounts == ()


def _job(
    end: dt.date | None, section: int | None = 33, why: str | None = None
) -> cases.EmploymentView:
    return cases.EmploymentView(
        "j", None, None, None, None, None, None, end, None, None, section, why
    )


def _month(month: str, wage: int | None, section: int) -> cases.ContributionView:
    pay = None if wage is None else decimal.Decimal(wage)
    return cases.ContributionView(month, month, pay, section, None, None, None)


def _bare_case(store: Store) -> cases.CaseFile:
    pid, _ = _person(store, "1968-07-02")
    return cases.get_case_file(store, cases.open_case(store, pid))


def test_case_facts_count_every_month_and_take_the_section_at_the_event(store: Store) -> None:
    months = (_month("2025-01", 9000, 33), _month("2025-02", None, 33), _month("2025-03", 4800, 39))
    jobs = (_job(dt.date(2024, 5, 1)), _job(dt.date(2025, 2, 28)), _job(None))
    case = dataclasses.replace(_bare_case(store), contributions=months, employments=jobs)
    facts = case_facts(case, Benefit.SICKNESS, dt.date(2025, 6, 2))
    # a month recorded without its wage still counts (the engine raises it to the floor)
    assert [(str(c.month), c.wage) for c in facts.contributions] == [
        ("2025-01", 9000),
        ("2025-02", 0),
        ("2025-03", 4800),
    ]
    assert facts.section == 39  # went on under s.39 after the job
    assert case_facts(case, Benefit.SICKNESS, dt.date(2025, 2, 10)).section == 33
    assert facts.employment_end is None  # a job still open: insured status has not ended
    assert facts.birth_date == dt.date(1968, 7, 2)
    left = dataclasses.replace(case, employments=jobs[:2])
    assert case_facts(left, Benefit.SICKNESS, dt.date(2025, 6, 2)).employment_end == dt.date(
        2025, 2, 28
    )


def test_case_facts_without_months_take_the_last_job_s_section(store: Store) -> None:
    bare = _bare_case(store)
    assert case_facts(bare, Benefit.SICKNESS, dt.date(2026, 1, 5)).section == 33
    voluntary = dataclasses.replace(bare, employments=(_job(None, 39),))
    assert case_facts(voluntary, Benefit.SICKNESS, dt.date(2026, 1, 5)).section == 39
    unknown = dataclasses.replace(bare, employments=(_job(None, None),))
    assert case_facts(unknown, Benefit.SICKNESS, dt.date(2026, 1, 5)).section == 33


@pytest.mark.parametrize(
    ("end_reason", "reason"),
    [
        ("resigned", UnemploymentReason.RESIGNED),
        ("contract_ended", UnemploymentReason.RESIGNED),
        ("laid_off", UnemploymentReason.LAID_OFF),
        (None, None),  # not recorded: never assumed
    ],
)
def test_unemployment_is_judged_on_the_reason_the_last_job_ended(
    store: Store, end_reason: str | None, reason: UnemploymentReason | None
) -> None:
    # domain.md §3 row 7: resigned or contract ended pays 30% for 90 days, not 60% for 180
    jobs = (_job(dt.date(2024, 5, 1), why="laid_off"), _job(dt.date(2025, 4, 30), why=end_reason))
    case = dataclasses.replace(_bare_case(store), employments=jobs)
    assert case_facts(case, Benefit.UNEMPLOYMENT, dt.date(2025, 5, 2)).reason is reason


def test_the_reason_the_wizard_was_just_given_wins(store: Store) -> None:
    # The claim wizard judges eligibility before its answers are saved: it passes them.
    job = _job(dt.date(2025, 4, 30), why="laid_off")
    case = dataclasses.replace(_bare_case(store), employments=(job,))
    facts = case_facts(case, Benefit.UNEMPLOYMENT, dt.date(2025, 5, 2), reason="resigned")
    assert facts.reason is UnemploymentReason.RESIGNED


def test_a_claim_s_job_end_goes_on_the_latest_job_still_open(store: Store) -> None:
    old = _job(dt.date(2023, 4, 30))
    newer, older = _job(None), _job(None)
    newer = dataclasses.replace(newer, id="newer", start_date=dt.date(2024, 6, 1))
    older = dataclasses.replace(older, id="older", start_date=dt.date(2021, 1, 1))
    case = dataclasses.replace(_bare_case(store), employments=(old, newer, older))
    assert employers.current_job(case.employments) is newer
    ended = with_job_ended(case, dt.date(2026, 1, 31))
    assert [j.end_date for j in ended.employments] == [
        dt.date(2023, 4, 30),
        dt.date(2026, 1, 31),
        None,
    ]
    assert insured_status_end(ended) is None  # the older job is open still
    left = dataclasses.replace(case, employments=(old,))
    assert employers.current_job(left.employments) is None
    assert with_job_ended(left, dt.date(2026, 1, 31)) is left  # nothing open: nothing ended
