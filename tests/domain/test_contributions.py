"""Contributions: wage base clamped per month, each side's share, rounding half-up to baht."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from desktop.domain import contributions
from desktop.domain.contributions import contribution_for, wage_base
from desktop.domain.errors import UserError


class _Month:
    """A stand-in year-month object: anything with ``first_day()`` is accepted."""

    def __init__(self, year: int, month: int) -> None:
        self.year, self.month = year, month

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)


@pytest.mark.parametrize(
    ("month", "wage", "base", "side", "government", "capped", "floored"),
    [
        # below the floor: raised to 1,650; 82.5 rounds half-up to 83
        (dt.date(2025, 5, 1), "1000", "1650", "83", "45", False, True),
        (dt.date(2025, 5, 1), "1650", "1650", "83", "45", False, False),
        (dt.date(2025, 5, 1), "12000", "12000", "600", "330", False, False),
        # the last month of the 15,000 ceiling
        (dt.date(2025, 12, 31), "15000", "15000", "750", "413", False, False),
        (dt.date(2025, 12, 1), "30000", "15000", "750", "413", True, False),
        # 2026-2028: 17,500
        (dt.date(2026, 1, 1), "30000", "17500", "875", "481", True, False),
        (dt.date(2028, 12, 1), "17500", "17500", "875", "481", False, False),
        (dt.date(2026, 3, 20), "16000", "16000", "800", "440", False, False),
        # 2029-2031: 20,000; from 2032: 23,000
        (dt.date(2029, 1, 1), "30000", "20000", "1000", "550", True, False),
        (dt.date(2032, 1, 1), "30000", "23000", "1150", "633", True, False),
        (dt.date(2040, 6, 1), "22999", "22999", "1150", "632", False, False),
    ],
)
def test_section_33_by_period(
    month: dt.date,
    wage: str,
    base: str,
    side: str,
    government: str,
    capped: bool,
    floored: bool,
) -> None:
    result = contribution_for(month, Decimal(wage))
    assert result.wage_base == Decimal(base)
    assert result.employee == result.employer == Decimal(side)
    assert result.government == Decimal(government)
    assert (result.capped, result.floored) == (capped, floored)
    assert result.month == month.replace(day=1)
    assert result.total == 2 * Decimal(side) + Decimal(government)


def test_accepts_a_year_month_object() -> None:
    result = contribution_for(_Month(2026, 2), Decimal("20000"))
    assert result.month == dt.date(2026, 2, 1)
    assert result.wage_base == Decimal("17500")


def test_wage_base_alone() -> None:
    assert wage_base(dt.date(2024, 1, 1), Decimal("100")) == Decimal("1650")
    assert wage_base(dt.date(2024, 1, 1), Decimal("99999")) == Decimal("15000")


def test_section_39_pays_nine_percent_of_the_deemed_wage() -> None:
    result = contribution_for(dt.date(2026, 3, 1), Decimal("30000"), section=39)
    assert result.wage_base == Decimal("4800")
    assert result.employee == Decimal("432")
    assert result.employer == Decimal("0")
    assert not result.capped
    assert not result.floored


def test_rounding_follows_the_rule_data() -> None:
    book = contributions.load()
    assert str(book.value("contribution_rounding", dt.date(2026, 1, 1))) == "baht"
    period = book.period("contribution_rounding", dt.date(2026, 1, 1))
    assert period.confidence.value == "unverified"


@pytest.mark.parametrize("section", [40, 0, 34])
def test_other_sections_are_refused(section: int) -> None:
    with pytest.raises(UserError) as caught:
        contribution_for(dt.date(2026, 1, 1), Decimal("9000"), section=section)
    assert caught.value.code == "error.contribution_section"


def test_negative_wage_is_refused() -> None:
    with pytest.raises(UserError) as caught:
        contribution_for(dt.date(2026, 1, 1), Decimal("-1"))
    assert caught.value.code == "error.contribution_negative_wage"


def test_month_before_the_rule_data_is_a_clear_error() -> None:
    with pytest.raises(UserError) as caught:
        contribution_for(dt.date(1990, 1, 1), Decimal("9000"))
    assert caught.value.code == "error.rule_no_value"
    assert caught.value.params["rule"] == "wage_floor"
