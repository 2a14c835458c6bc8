"""services.eligibility: a stored case's claim tracks judged from its own facts."""

from __future__ import annotations

import datetime as dt
import decimal

from desktop.domain.eligibility import Benefit, UnemploymentReason
from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.cases import TrackInput
from desktop.services.eligibility import eligibility_for_case, facts_for_case
from desktop.services.people import NameInput, PersonInput


def _person(store: Store, birth_date: str | None) -> tuple[str, str]:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Sok Dara", "passport")], birth_date=birth_date)
    ).person_id
    employer = employers.create_employer(store, employers.EmployerInput("Sa Kaeo Farm Co"))
    return pid, employer


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
        cases.start_track(
            store,
            number,
            TrackInput(
                "claim", ["check_eligibility"], benefit=benefit, event_date=dt.date(2026, 1, 5)
            ),
        )
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


def test_case_without_dates_or_contributions(store: Store) -> None:
    pid, _ = _person(store, None)
    number = cases.open_case(store, pid)
    cases.start_track(
        store,
        number,
        TrackInput(
            "work_injury", ["report_injury"], benefit="work_injury", event_date=dt.date(2026, 2, 1)
        ),
    )
    [result] = eligibility_for_case(store, number)
    assert result.eligible
    assert result.section == 33
    facts = facts_for_case(cases.get_case_file(store, number))
    assert facts[0].birth_date is None
    assert facts[0].reason is None
