"""Eligibility engine: every benefit at its boundaries, amounts, cover, settings, properties."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain import i18n, rules
from desktop.domain.dates import YearMonth
from desktop.domain.eligibility import (
    Benefit,
    ContributionMonth,
    Facts,
    Status,
    UnemploymentReason,
    evaluate,
)
from desktop.domain.errors import UserError

EVENT = dt.date(2026, 3, 10)  # window of 15 months before it: 2024-12 .. 2026-02


def months(start: str, count: int, wage: str = "12000", section: int = 33, step: int = 1):
    first = YearMonth.parse(start)
    return tuple(
        ContributionMonth(first.add_months(i * step), Decimal(wage), section) for i in range(count)
    )


def judge(benefit: Benefit, contributions: Any, event: dt.date = EVENT, **facts: Any):
    return evaluate(Facts(benefit, event, tuple(contributions), **facts))


def amount(result: Any, code: str) -> dict[str, Any]:
    found = [dict(a.params) for a in result.amounts if a.code == code]
    assert len(found) == 1, result.amounts
    return found[0]


WINDOW_CASES = [
    # benefit, event, contributions, eligible, counted
    (Benefit.SICKNESS, EVENT, months("2025-12", 3), True, 3),
    (Benefit.SICKNESS, EVENT, months("2026-01", 2), False, 2),
    # the window's first month counts (window crosses a year), the month before it does not
    (Benefit.SICKNESS, EVENT, months("2024-12", 3, step=7), True, 3),
    (Benefit.SICKNESS, EVENT, months("2024-11", 3, step=7), False, 2),
    # months in and after the event month are accepted but never counted
    (Benefit.SICKNESS, EVENT, months("2026-01", 5), False, 2),
    # gaps: every other month
    (Benefit.INVALIDITY, EVENT, months("2025-10", 3, step=2), True, 3),
    (Benefit.INVALIDITY, EVENT, months("2025-12", 2, step=2), False, 2),
    (Benefit.MATERNITY, EVENT, months("2025-10", 5), True, 5),
    (Benefit.MATERNITY, EVENT, months("2025-11", 4), False, 4),
    (Benefit.MATERNITY, EVENT, months("2024-12", 5, step=3), True, 5),
    # before October 2015 maternity needed 7 of 15
    (Benefit.MATERNITY, dt.date(2015, 9, 20), months("2015-02", 7), True, 7),
    (Benefit.MATERNITY, dt.date(2015, 9, 20), months("2015-03", 6), False, 6),
    (Benefit.MATERNITY, dt.date(2015, 10, 1), months("2015-04", 5), True, 5),
    (Benefit.DEATH, EVENT, months("2025-09", 1), True, 1),
    (Benefit.DEATH, EVENT, months("2025-08", 1), False, 0),
    (Benefit.CHILD_ALLOWANCE, EVENT, months("2023-03", 12, step=3), True, 12),
    (Benefit.CHILD_ALLOWANCE, EVENT, months("2025-04", 11), False, 11),
    # before October 2015: 12 in 30; the same months 31-36 months back no longer count
    (Benefit.CHILD_ALLOWANCE, dt.date(2015, 6, 1), months("2012-06", 12, step=3), False, 10),
    (Benefit.CHILD_ALLOWANCE, dt.date(2015, 12, 1), months("2012-12", 12, step=3), True, 12),
    (Benefit.UNEMPLOYMENT, EVENT, months("2025-09", 6), True, 6),
    (Benefit.UNEMPLOYMENT, EVENT, months("2025-10", 5), False, 5),
]


@pytest.mark.parametrize(("benefit", "event", "paid", "eligible", "counted"), WINDOW_CASES)
def test_window_boundaries(
    benefit: Benefit, event: dt.date, paid: Any, eligible: bool, counted: int
) -> None:
    result = judge(benefit, paid, event, reason=UnemploymentReason.LAID_OFF)
    assert result.eligible is eligible
    assert result.status is (Status.ELIGIBLE if eligible else Status.NOT_ELIGIBLE)
    assert len(result.counted_months) == counted
    assert all(m < YearMonth.from_date(event) for m in result.counted_months)
    assert result.rule.code == "rule.window"
    assert result.sources
    if not eligible:
        assert result.reasons[0].code == "rule.not_enough_months"
        assert result.reasons[0].params["have"] == counted
        assert result.amounts == ()


def test_rule_parameters_come_from_the_period_of_the_event() -> None:
    old = judge(Benefit.MATERNITY, (), dt.date(2015, 9, 30))
    new = judge(Benefit.MATERNITY, (), dt.date(2015, 10, 1))
    assert dict(old.rule.params) == {"required": 7, "window": 15}
    assert dict(new.rule.params) == {"required": 5, "window": 15}


@pytest.mark.parametrize(
    ("paid", "earliest"),
    [
        # 3 of 5: March and April would be paid, so a May delivery qualifies
        (months("2025-11", 3), dt.date(2026, 5, 1)),
        (months("2025-06", 1), dt.date(2026, 7, 1)),
        (months("2025-10", 4), dt.date(2026, 4, 1)),
        ((), dt.date(2026, 8, 1)),
        # old months drop out of the window while new ones come in
        (months("2024-12", 4), dt.date(2026, 8, 1)),
    ],
)
def test_earliest_eligible_assumes_contributions_from_the_event_month(
    paid: Any, earliest: dt.date
) -> None:
    result = judge(Benefit.MATERNITY, paid)
    assert not result.eligible
    assert result.earliest_eligible == earliest
    later = judge(Benefit.MATERNITY, (*paid, *months("2026-03", 12)), earliest)
    assert later.eligible


def test_eligible_result_has_no_earliest_date() -> None:
    assert judge(Benefit.SICKNESS, months("2025-12", 3)).earliest_eligible is None


@pytest.mark.parametrize(
    ("paid", "option", "daily", "flagged"),
    [
        # 2025: both readings of the benefit cap are 15,000
        (months("2025-01", 12, "30000"), None, "500.00", False),
        # below the floor: raised to 1,650
        (months("2025-01", 12, "1000"), None, "55.00", False),
        # 2026: the disputed cap matters; default 15,000, the other reading 17,500
        (months("2025-06", 9, "30000"), None, "500.00", True),
        # best 3 of 9: two months at 17,500 (2026) and one at 15,000 (2025)
        (months("2025-06", 9, "30000"), "contribution_ceiling", "555.56", True),
        # only January and February 2026 in the last 9 months
        (
            (*months("2024-12", 1), *months("2026-01", 2, "30000")),
            "contribution_ceiling",
            "583.33",
            True,
        ),
        # a wage under both caps: nothing in doubt
        (months("2025-06", 9, "9000"), None, "300.00", False),
    ],
)
def test_daily_wage_and_the_disputed_cap(
    paid: Any, option: str | None, daily: str, flagged: bool
) -> None:
    book = rules.load()
    if option:
        book = book.with_settings(benefit_wage_cap=option)
    result = evaluate(Facts(Benefit.SICKNESS, EVENT, paid), book)
    assert result.daily_wage == Decimal(daily)
    assert ("benefit_wage_cap" in result.unconfirmed) is flagged
    cash = amount(result, "amount.daily_cash")
    assert cash["percent"] == Decimal(50)
    assert cash["per_day"] == (Decimal(daily) / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_ceiling_of_each_period_applies_with_contribution_ceiling() -> None:
    book = rules.load().with_settings(benefit_wage_cap="contribution_ceiling")
    for year, ceiling in [(2029, 20000), (2032, 23000)]:
        paid = months(f"{year}-01", 9, "50000")
        result = evaluate(Facts(Benefit.SICKNESS, dt.date(year, 10, 5), paid), book)
        assert result.daily_wage == (Decimal(ceiling) / 30).quantize(Decimal("0.01"))


def test_best_three_of_nine_or_last_three() -> None:
    # nine months paid: the three best (20,000, 14,000, 13,000) count
    wages = ["13000", "1000", "1000", "20000", "1000", "1000", "14000", "1000", "1000"]
    nine = tuple(
        ContributionMonth(YearMonth(2025, 1).add_months(i), Decimal(w)) for i, w in enumerate(wages)
    )
    result = evaluate(Facts(Benefit.SICKNESS, dt.date(2025, 10, 1), nine))
    assert result.daily_wage == Decimal("466.67")  # (15,000 + 14,000 + 13,000) / 90
    # eight months paid: the last three (1,650 floor, 1,650, 14,000) count
    eight = nine[:6] + nine[7:] + (ContributionMonth(YearMonth(2025, 9), Decimal("1000")),)
    result = evaluate(Facts(Benefit.SICKNESS, dt.date(2025, 10, 1), eight[1:]))
    assert result.daily_wage == Decimal("55.00")
    # two months only: their average
    two = months("2025-08", 2, "9000")
    assert evaluate(Facts(Benefit.INVALIDITY, dt.date(2025, 10, 1), two)).daily_wage is None
    three = months("2025-07", 3, "9000")
    result = evaluate(Facts(Benefit.INVALIDITY, dt.date(2025, 10, 1), three))
    assert result.daily_wage == Decimal("300.00")
    assert amount(result, "amount.monthly_cash")["per_month"] == Decimal("4500.00")


def test_fewer_than_three_recent_months_average_what_there_is() -> None:
    paid = (*months("2024-12", 1), *months("2025-10", 1, "6000"), *months("2026-02", 1, "9000"))
    result = judge(Benefit.SICKNESS, paid)
    assert result.eligible
    assert result.daily_wage == Decimal("250.00")  # (6,000 + 9,000) / 60


def test_eligible_without_any_month_in_the_last_nine_has_no_cash_amount() -> None:
    paid = months("2024-12", 3)
    result = judge(Benefit.SICKNESS, paid)
    assert result.eligible
    assert result.daily_wage is None
    assert result.amounts == ()


def test_a_month_recorded_twice_counts_once_at_its_highest_wage() -> None:
    paid = (
        *months("2026-02", 1, "5000"),
        *months("2026-02", 1, "9000"),
        *months("2025-12", 2),
    )
    result = judge(Benefit.SICKNESS, paid)
    assert len(result.counted_months) == 3
    assert result.daily_wage == Decimal("366.67")  # (12,000 + 12,000 + 9,000) / 90


def test_section_39_months_aggregate_and_section_40_months_do_not() -> None:
    mixed = (*months("2025-12", 2), *months("2026-02", 1, "4800", section=39))
    assert judge(Benefit.SICKNESS, mixed).eligible
    other = (*months("2025-12", 2), *months("2026-02", 1, "4800", section=40))
    assert not judge(Benefit.SICKNESS, other).eligible


def test_section_39_months_pay_on_the_deemed_wage_whatever_was_earned() -> None:
    # s.39 contributes 9% of a deemed 4,800 THB (domain.md §1.1): that is its contribution
    # wage for cash benefits (§2.2, s.57), not a wage typed in for the month.
    paid = months("2025-12", 3, "9000", section=39)
    result = judge(Benefit.SICKNESS, paid, section=39)
    assert result.daily_wage == Decimal("160.00")  # 3 x 4,800 / 90
    assert amount(result, "amount.daily_cash")["per_day"] == Decimal("80.00")


@pytest.mark.parametrize(
    ("event", "lump_sum"), [(dt.date(2020, 12, 31), 13000), (dt.date(2021, 1, 1), 15000)]
)
def test_maternity_lump_sum_by_period(event: dt.date, lump_sum: int) -> None:
    paid = months(str(YearMonth.from_date(event).add_months(-6)), 6)
    result = judge(Benefit.MATERNITY, paid, event)
    assert amount(result, "amount.lump_sum")["amount"] == Decimal(lump_sum)


def test_maternity_leave_cash_days_is_an_unconfirmed_setting() -> None:
    paid = months("2025-06", 9)
    result = judge(Benefit.MATERNITY, paid)
    leave = amount(result, "amount.leave_cash")
    assert leave["days"] == 45
    assert leave["total"] == Decimal("9000.00")  # 50% x 400 x 45
    assert "maternity_leave_cash_days" in result.unconfirmed
    book = rules.load().with_settings(maternity_leave_cash_days=90)
    longer = evaluate(Facts(Benefit.MATERNITY, EVENT, paid), book)
    assert amount(longer, "amount.leave_cash")["total"] == Decimal("18000.00")


@pytest.mark.parametrize(
    ("count", "multiplier"), [(35, None), (36, 4), (119, 4), (120, 12), (150, 12)]
)
def test_death_survivor_allowance_tiers(count: int, multiplier: int | None) -> None:
    start = YearMonth(2026, 2).add_months(1 - count)
    result = judge(Benefit.DEATH, months(str(start), count, "9000"))
    assert amount(result, "amount.funeral_grant")["amount"] == Decimal(50000)
    survivors = [a for a in result.amounts if a.code == "amount.survivor_allowance"]
    if multiplier is None:
        assert survivors == []
    else:
        assert survivors[0].params["multiplier"] == multiplier
        assert survivors[0].params["total"] == Decimal(4500 * multiplier)


@pytest.mark.parametrize(("count", "multiplier"), [(36, 4), (120, 12)])
def test_survivor_tiers_count_the_month_of_death(count: int, multiplier: int) -> None:
    # The last month paid is March 2026, the month of the death (10 March): it was paid for
    # work before the death, so it is one of the 36 or 120 months of a tier (§3 row 4).
    start = YearMonth(2026, 3).add_months(1 - count)
    result = judge(Benefit.DEATH, months(str(start), count, "9000"))
    assert amount(result, "amount.survivor_allowance")["multiplier"] == multiplier


def test_child_allowance_amount() -> None:
    result = judge(Benefit.CHILD_ALLOWANCE, months("2025-02", 12))
    child = amount(result, "amount.child_allowance")
    assert child == {"amount": 800, "max_age_years": 6, "max_children": 3}
    assert result.daily_wage is None


@pytest.mark.parametrize(
    ("event", "reason", "percent", "days"),
    [
        (dt.date(2025, 6, 27), UnemploymentReason.LAID_OFF, 50, 180),
        (dt.date(2025, 6, 28), UnemploymentReason.LAID_OFF, 60, 180),
        (dt.date(2025, 6, 28), UnemploymentReason.RESIGNED, 30, 90),
    ],
)
def test_unemployment_rate_by_reason_and_date(
    event: dt.date, reason: UnemploymentReason, percent: int, days: int
) -> None:
    result = judge(Benefit.UNEMPLOYMENT, months("2024-06", 12, "9000"), event, reason=reason)
    paid = amount(result, "amount.unemployment")
    assert (paid["percent"], paid["max_days"]) == (Decimal(percent), days)
    assert paid["per_day"] == Decimal(300 * percent) / 100
    assert result.filing_deadline == event + dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("ended", "deadline"),
    [
        # 30 days from leaving (domain.md §9 D7), not from a later date the claim names
        (dt.date(2026, 2, 27), dt.date(2026, 3, 29)),
        # an end after the event date is a slip: the earlier date, the earlier deadline
        (dt.date(2026, 3, 20), EVENT + dt.timedelta(days=30)),
    ],
)
def test_unemployment_registration_runs_from_the_end_of_employment(
    ended: dt.date, deadline: dt.date
) -> None:
    result = judge(
        Benefit.UNEMPLOYMENT,
        months("2025-01", 12),
        reason=UnemploymentReason.LAID_OFF,
        employment_end=ended,
    )
    assert result.filing_deadline == deadline
    assert result.filing_action == "deadline.register_unemployment"


def test_unemployment_is_not_a_section_39_benefit() -> None:
    result = judge(
        Benefit.UNEMPLOYMENT, months("2025-01", 12), section=39, reason=UnemploymentReason.RESIGNED
    )
    assert result.status is Status.NOT_ELIGIBLE
    assert result.reasons[0].code == "rule.not_in_section"
    assert result.counted_months == ()
    assert result.earliest_eligible is None


def test_dismissed_for_serious_misconduct_gets_no_unemployment_benefit() -> None:
    # domain.md §3 row 7: no benefit if dismissed for misconduct, however many months
    result = judge(
        Benefit.UNEMPLOYMENT,
        months("2024-06", 12, "9000"),
        dt.date(2025, 6, 28),
        reason=UnemploymentReason.DISMISSED_MISCONDUCT,
    )
    assert result.status is Status.NOT_ELIGIBLE
    assert [r.code for r in result.reasons] == ["rule.unemployment_not_paid.dismissed_misconduct"]
    assert result.amounts == ()
    assert result.earliest_eligible is None


@pytest.mark.parametrize("reason", list(UnemploymentReason))
def test_every_reason_for_leaving_is_explained_in_words(reason: UnemploymentReason) -> None:
    result = judge(Benefit.UNEMPLOYMENT, months("2024-06", 12, "9000"), reason=reason)
    for said in (*result.reasons, *result.amounts):
        assert i18n.has(said.code), said.code


def test_unemployment_needs_a_reason() -> None:
    with pytest.raises(UserError) as caught:
        judge(Benefit.UNEMPLOYMENT, months("2025-01", 12))
    assert caught.value.code == "error.eligibility_missing"
    assert caught.value.params == {"field": "reason"}


@pytest.mark.parametrize(
    "benefit", [Benefit.SICKNESS, Benefit.DEATH, Benefit.OLD_AGE, Benefit.CHILD_ALLOWANCE]
)
def test_section_40_is_undetermined(benefit: Benefit) -> None:
    result = judge(benefit, months("2025-01", 12), section=40, birth_date=dt.date(1960, 1, 1))
    assert result.status is Status.UNDETERMINED
    assert not result.eligible
    assert result.reasons[0].code == "rule.section40_conditions_unknown"
    assert result.amounts == ()


def test_section_40_has_no_maternity() -> None:
    result = judge(Benefit.MATERNITY, months("2025-01", 12), section=40)
    assert result.status is Status.NOT_ELIGIBLE
    assert result.reasons[0].params == {"section": 40}


def test_unknown_section_is_refused() -> None:
    with pytest.raises(UserError) as caught:
        judge(Benefit.SICKNESS, (), section=34)
    assert caught.value.code == "error.eligibility_section"


@pytest.mark.parametrize(
    ("event", "eligible"),
    [(dt.date(2026, 2, 28), True), (dt.date(2026, 3, 1), False)],
)
def test_six_months_of_continued_cover(event: dt.date, eligible: bool) -> None:
    result = judge(
        Benefit.SICKNESS, months("2025-06", 3), event, employment_end=dt.date(2025, 8, 31)
    )
    assert result.eligible is eligible
    if not eligible:
        assert result.reasons[-1].code == "rule.cover_ended"
        assert result.reasons[-1].params["cover_until"] == dt.date(2026, 2, 28)
        assert result.earliest_eligible is None


def test_section_39_payments_after_leaving_extend_cover() -> None:
    paid = (*months("2024-01", 18), *months("2025-07", 6, "4800", section=39))
    result = judge(
        Benefit.SICKNESS, paid, dt.date(2026, 3, 10), employment_end=dt.date(2025, 6, 30)
    )
    assert result.eligible
    lapsed = judge(
        Benefit.SICKNESS, paid, dt.date(2026, 7, 10), employment_end=dt.date(2025, 6, 30)
    )
    assert lapsed.reasons[-1].params["insured_until"] == dt.date(2025, 12, 31)


def test_section_33_payments_after_leaving_a_job_mean_a_new_job_not_lapsed_cover() -> None:
    # Left one employer in May 2024 and has paid under s.33 with the next ever since:
    # insured status never ended (domain.md §3, continued protection), so no cover lapse.
    paid = months("2024-01", 26)  # 2024-01 .. 2026-02
    result = judge(Benefit.SICKNESS, paid, employment_end=dt.date(2024, 5, 1))
    assert result.eligible
    lapsed = judge(Benefit.SICKNESS, paid, dt.date(2026, 9, 10), employment_end=dt.date(2024, 5, 1))
    assert lapsed.reasons[-1].params["insured_until"] == dt.date(2026, 2, 28)


def test_continued_cover_does_not_apply_to_child_allowance() -> None:
    result = judge(
        Benefit.CHILD_ALLOWANCE, months("2024-01", 12), employment_end=dt.date(2024, 12, 31)
    )
    assert result.eligible


def test_cover_ended_and_too_few_months_gives_no_earliest_date() -> None:
    result = judge(Benefit.SICKNESS, months("2024-06", 2), employment_end=dt.date(2024, 7, 31))
    assert [r.code for r in result.reasons] == ["rule.not_enough_months", "rule.cover_ended"]
    assert result.earliest_eligible is None


BORN = dt.date(1970, 5, 20)


@pytest.mark.parametrize(
    ("event", "end", "paid", "codes", "earliest"),
    [
        (dt.date(2025, 5, 20), dt.date(2025, 4, 30), months("2020-01", 24), [], None),
        (
            dt.date(2025, 5, 19),
            dt.date(2025, 4, 30),
            months("2020-01", 24),
            ["rule.age_below"],
            dt.date(2025, 5, 20),
        ),
        (
            dt.date(2025, 6, 1),
            None,
            months("2020-01", 24),
            ["rule.insured_status_continues"],
            None,
        ),
        (
            dt.date(2025, 6, 1),
            dt.date(2025, 7, 1),
            (),
            ["rule.insured_status_continues", "rule.no_contributions"],
            None,
        ),
    ],
)
def test_old_age_conditions(
    event: dt.date, end: dt.date | None, paid: Any, codes: list[str], earliest: dt.date | None
) -> None:
    result = judge(Benefit.OLD_AGE, paid, event, birth_date=BORN, employment_end=end)
    assert [r.code for r in result.reasons] == codes
    assert result.eligible is (codes == [])
    assert result.earliest_eligible == earliest
    assert result.rule.code == "rule.old_age"


def test_old_age_birthday_on_29_february() -> None:
    result = judge(
        Benefit.OLD_AGE,
        months("2020-01", 12),
        dt.date(2027, 2, 28),
        birth_date=dt.date(1972, 2, 29),
        employment_end=dt.date(2026, 12, 31),
    )
    assert result.reasons[0].params["reached_on"] == dt.date(2027, 3, 1)


def test_old_age_needs_a_birth_date() -> None:
    with pytest.raises(UserError) as caught:
        judge(Benefit.OLD_AGE, months("2020-01", 12))
    assert caught.value.params == {"field": "birth_date"}


def old_age_claim(count: int, ended: dt.date) -> Any:
    """An old-age claim of 20 May 2025: ``count`` months at 10,000 up to the month ``ended``."""
    start = YearMonth.from_date(ended).add_months(1 - count)
    return judge(
        Benefit.OLD_AGE,
        months(str(start), count, "10000"),
        dt.date(2025, 5, 20),
        birth_date=BORN,
        employment_end=ended,
    )


@pytest.mark.parametrize(
    ("count", "percent"), [(180, Decimal(20)), (191, Decimal(20)), (192, Decimal("21.5"))]
)
def test_old_age_pension(count: int, percent: Decimal) -> None:
    result = old_age_claim(count, ended=dt.date(2025, 4, 30))
    pension = amount(result, "amount.pension")
    assert pension["percent"] == percent
    assert pension["average_wage"] == Decimal("10000.00")
    assert pension["per_month"] == percent * 100


@pytest.mark.parametrize(
    ("count", "code"), [(179, "amount.old_age_lump_sum"), (180, "amount.pension")]
)
def test_old_age_counts_the_month_insured_status_ended_in(count: int, code: str) -> None:
    # Job ended 15 May 2025 and the claim is dated 20 May: May's contribution was paid for
    # work before the claim, so it is one of the 180 months a pension needs (domain.md §3
    # row 6), though the "N in W before the event" windows leave the event month out.
    result = old_age_claim(count, ended=dt.date(2025, 5, 15))
    assert result.eligible
    assert len(result.counted_months) == count
    assert result.counted_months[-1] == YearMonth(2025, 5)
    amount(result, code)


@pytest.mark.parametrize(("count", "shares", "total"), [(11, "employee", 3300), (12, "both", 7200)])
def test_old_age_lump_sum(count: int, shares: str, total: int) -> None:
    result = judge(
        Benefit.OLD_AGE,
        months("2024-01", count, "10000"),
        dt.date(2025, 5, 20),
        birth_date=BORN,
        employment_end=dt.date(2024, 12, 31),
    )
    lump = amount(result, "amount.old_age_lump_sum")
    assert (lump["shares"], lump["amount"], lump["plus_returns"]) == (
        shares,
        Decimal(total),
        shares == "both",
    )


@pytest.mark.parametrize(
    ("event", "paid", "code", "percent"),
    [
        (dt.date(2018, 12, 8), (), "amount.wcf_rate", 60),
        (dt.date(2018, 12, 9), (), "amount.wcf_rate", 70),
        (EVENT, months("2025-12", 2, "9000"), "amount.wcf_monthly", 70),
    ],
)
def test_work_injury_needs_no_contributions(
    event: dt.date, paid: Any, code: str, percent: int
) -> None:
    result = judge(Benefit.WORK_INJURY, paid, event, section=40)
    assert result.eligible
    assert result.rule.code == "rule.none"
    assert amount(result, code)["percent"] == Decimal(percent)
    assert result.filing_deadline == event + dt.timedelta(days=180)
    if paid:
        assert amount(result, code)["per_month"] == Decimal("6300.00")


def test_an_illness_found_after_the_job_ended_has_two_years_to_claim() -> None:
    """domain.md §5.2: 180 days from an injury or illness, but two years from the day an
    illness the work caused was found after the job ended (D13)."""
    found = dt.date(2026, 3, 10)
    result = judge(Benefit.WORK_INJURY, (), found, found_after_job=True)
    assert result.eligible
    assert result.filing_deadline == dt.date(2028, 3, 10)
    assert result.filing_action == "deadline.claim_wcf_illness"
    # the answer means nothing for another benefit
    sick = judge(Benefit.SICKNESS, months("2025-12", 3), found, found_after_job=True)
    assert (
        sick.filing_deadline == judge(Benefit.SICKNESS, months("2025-12", 3), found).filing_deadline
    )


@pytest.mark.parametrize(
    ("benefit", "limit", "deadline", "flag"),
    [
        (Benefit.SICKNESS, None, dt.date(2027, 3, 10), True),
        (Benefit.SICKNESS, 24, dt.date(2028, 3, 10), True),
        (Benefit.DEATH, None, dt.date(2028, 3, 10), False),
        (Benefit.DEATH, 12, dt.date(2028, 3, 10), False),
    ],
)
def test_filing_deadline(
    benefit: Benefit, limit: int | None, deadline: dt.date, flag: bool
) -> None:
    book = rules.load()
    if limit:
        book = book.with_settings(claim_filing_limit_months=limit)
    result = evaluate(Facts(benefit, EVENT, months("2025-12", 3)), book)
    assert result.filing_deadline == deadline
    assert ("claim_filing_limit_months" in result.unconfirmed) is flag


def test_window_anchored_on_the_event_month() -> None:
    documents = rules.read_documents()
    anchor = documents["benefits.yaml"]["rules"]["window_anchor"]["periods"][0]
    anchor["value"] = "event_month"
    book = rules.parse(documents)
    paid = months("2026-01", 3)  # January, February, March
    result = evaluate(Facts(Benefit.SICKNESS, EVENT, paid), book)
    assert result.eligible
    assert result.counted_months[-1] == YearMonth(2026, 3)
    short = evaluate(Facts(Benefit.SICKNESS, EVENT, paid[1:]), book)
    assert short.earliest_eligible == dt.date(2026, 4, 1)


_BENEFITS = [b for b in Benefit if b is not Benefit.OLD_AGE]
_MONTH_INDEX = st.integers(min_value=0, max_value=40)


@settings(max_examples=60, deadline=None)
@given(
    benefit=st.sampled_from(_BENEFITS),
    paid=st.lists(_MONTH_INDEX, max_size=20),
    extra=_MONTH_INDEX,
    wage=st.integers(min_value=0, max_value=40000),
    end_offset=st.one_of(st.none(), st.integers(min_value=0, max_value=300)),
)
def test_adding_a_month_never_takes_eligibility_away(
    benefit: Benefit, paid: list[int], extra: int, wage: int, end_offset: int | None
) -> None:
    first = YearMonth(2023, 1)
    event = dt.date(2026, 5, 15)
    end = None if end_offset is None else event - dt.timedelta(days=end_offset)

    def facts(indexes: list[int]) -> Facts:
        items = tuple(ContributionMonth(first.add_months(i), Decimal(wage)) for i in indexes)
        return Facts(benefit, event, items, employment_end=end, reason=UnemploymentReason.LAID_OFF)

    before = evaluate(facts(paid))
    after = evaluate(facts([*paid, extra]))
    assert not (before.eligible and not after.eligible)
    assert len(after.counted_months) >= len(before.counted_months)
