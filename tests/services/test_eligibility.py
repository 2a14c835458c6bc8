"""services.eligibility: a stored case's claim tracks judged from its own facts."""

from __future__ import annotations

import datetime as dt
import decimal

from desktop.domain.eligibility import Benefit, UnemploymentReason
from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.cases import TrackInput
from desktop.services.eligibility import eligibility_for_case, facts_for_case, reason_for_leaving
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
    # The wizard offers "resigned or contract ended"; the job says which one.
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
