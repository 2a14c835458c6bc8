"""Monthly Social Security contributions from a wage, per the rules in force that month.

Section 33: the wage is clamped to the floor and ceiling of the month
(``resources/rules/contributions.yaml``: 1,650 and 15,000 → 17,500 from 2026 → ...),
then each side pays its rate of that wage base. Section 39: the insured person pays 9%
of a deemed 4,800 THB whatever the wage.

Rounding rule (marked *unverified* in the data as ``contribution_rounding``): each side's
amount is rounded **half-up to the whole baht**, independently. This reproduces the only
published example, 1,650 × 5% = 82.5 → 83 THB; whether SSO rounds per side, per worker
or per payroll has not been confirmed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from desktop.domain.errors import UserError
from desktop.domain.rules import RuleBook, load

# Quantum for each value of the ``contribution_rounding`` rule.
_ROUNDING_QUANTUM = {"baht": Decimal("1"), "satang": Decimal("0.01")}


class MonthLike(Protocol):
    """Anything that names a calendar month by its first day (e.g. ``dates.YearMonth``)."""

    def first_day(self) -> dt.date: ...


@dataclass(frozen=True)
class Contribution:
    """One month's contribution: the wage base used and each side's amount in baht."""

    month: dt.date  # first day of the contribution month
    section: int
    wage: Decimal
    wage_base: Decimal
    employee: Decimal
    employer: Decimal
    government: Decimal
    capped: bool  # the wage was above the ceiling and was cut down to it
    floored: bool  # the wage was below the floor and was raised to it

    @property
    def total(self) -> Decimal:
        """All three shares together."""
        return self.employee + self.employer + self.government


def month_start(month: MonthLike | dt.date) -> dt.date:
    """The first day of the month given as a date or a year-month object."""
    if isinstance(month, dt.date):
        return month.replace(day=1)
    return month.first_day()


def round_amount(amount: Decimal, on: dt.date, book: RuleBook) -> Decimal:
    """Round one side's contribution as the ``contribution_rounding`` rule says."""
    quantum = _ROUNDING_QUANTUM[str(book.value("contribution_rounding", on))]
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def wage_base(month: MonthLike | dt.date, wage: Decimal, book: RuleBook | None = None) -> Decimal:
    """The s.33 wage base: ``wage`` clamped to the floor and ceiling in force that month."""
    book = book or load()
    first = month_start(month)
    floor = book.decimal("wage_floor", first)
    ceiling = book.decimal("wage_ceiling", first)
    return min(max(wage, floor), ceiling)


def contribution_for(
    month: MonthLike | dt.date,
    wage: Decimal,
    section: int = 33,
    book: RuleBook | None = None,
) -> Contribution:
    """The contribution for one month's ``wage`` under ``section`` (33 or 39).

    Raises :class:`UserError` for a negative wage (``error.contribution_negative_wage``)
    or a section without a wage-based contribution (``error.contribution_section``;
    s.40 pays a fixed amount per option, see ``s40_monthly_contribution``).
    """
    book = book or load()
    first = month_start(month)
    if wage < 0:
        raise UserError("error.contribution_negative_wage", wage=str(wage))
    if section == 33:
        base = wage_base(first, wage, book)
        employee = base * book.decimal("rate_employee_s33", first)
        employer = base * book.decimal("rate_employer_s33", first)
        government = base * book.decimal("rate_government_s33", first)
        capped, floored = wage > base, wage < base
    elif section == 39:
        # s.39 pays on a deemed wage, so the actual wage is neither capped nor floored.
        base = book.decimal("s39_deemed_wage", first)
        employee = base * book.decimal("rate_employee_s39", first)
        employer = Decimal(0)
        government = base * book.decimal("rate_government_s39", first)
        capped = floored = False
    else:
        raise UserError("error.contribution_section", section=section)
    return Contribution(
        month=first,
        section=section,
        wage=wage,
        wage_base=base,
        employee=round_amount(employee, first, book),
        employer=round_amount(employer, first, book),
        government=round_amount(government, first, book),
        capped=capped,
        floored=floored,
    )
