"""Eligibility engine: will a claim succeed, why, what it pays and by when to file it.

Input is :class:`Facts` (benefit, event date, contribution months, section, and the birth
date, end of employment and unemployment reason where they matter); output is an
:class:`Eligibility` made only of coded values with parameters, e.g. the rule
``Coded("rule.window", {"required": 5, "window": 15})``. The UI, CLI and PDFs translate
codes through the message catalogue (``resources/translations/rules.yaml``).

Every number comes from ``resources/rules/`` for the event date. Conventions, each also
recorded in the data with its confidence:

* "N in the W months before the event" counts the W calendar months ending with the
  month before the event month (rule ``window_anchor``). Months after that are accepted
  but never counted.
* Periods under s.33 and s.39 are added together (s.42); s.40 months never count for
  s.33/39 benefits. A month recorded twice (two employers) counts once at its highest wage.
  An s.39 month's wage is the deemed 4,800 THB it contributes on (rule ``s39_deemed_wage``).
* Continued cover: sickness, maternity, invalidity and death stay claimable for 6 months
  after insured status ends (the end of employment, or the last s.33 month of a later
  job or s.39 month paid after it).
* The daily wage is the best 3 wage bases of the last 9 months divided by 90, or the
  last 3 when fewer than 9 were paid (rule ``daily_wage_method``); the wage used for cash
  benefits is capped per the disputed setting ``benefit_wage_cap``.
* The filing deadline runs from the event date, or for a rule whose trigger is the end
  of employment (D7, unemployment) from ``employment_end`` when it is earlier.
* ``earliest_eligible``: when the only obstacle is too few months, the first day of the
  first month an event could happen and qualify, assuming contributions are paid every
  month from the event month on.
* Old age: ``employment_end`` is when insured status ended (s.33 job or s.39 membership).
  Its month count is every month paid up to and including the event month (the month
  status ended in counts towards the 180 a pension needs); so are the survivor tiers of a
  death (36 and 120 months).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from desktop.domain import deadlines
from desktop.domain.dates import YearMonth
from desktop.domain.errors import UserError
from desktop.domain.rules import Period, RuleBook, load

_CENT = Decimal("0.01")
_DAYS_PER_MONTH = 30


class Benefit(enum.StrEnum):
    """The seven Social Security Fund benefits and Workmen's Compensation."""

    SICKNESS = "sickness"
    MATERNITY = "maternity"
    INVALIDITY = "invalidity"
    DEATH = "death"
    CHILD_ALLOWANCE = "child_allowance"
    OLD_AGE = "old_age"
    UNEMPLOYMENT = "unemployment"
    WORK_INJURY = "work_injury"


class UnemploymentReason(enum.StrEnum):
    """Why the job ended: it sets the unemployment rate and duration."""

    LAID_OFF = "laid_off"
    RESIGNED = "resigned"  # or the contract ended
    DISMISSED_MISCONDUCT = "dismissed_misconduct"  # for serious misconduct: nothing paid


class Status(enum.StrEnum):
    """``undetermined`` when the sources do not give the conditions (s.40)."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class Coded:
    """A message-catalogue code and its parameters: what the engine says, untranslated."""

    code: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def coded(code: str, **params: Any) -> Coded:
    """Shorthand keeping ``params`` read-only."""
    return Coded(code, MappingProxyType(params))


@dataclass(frozen=True)
class ContributionMonth:
    """One month of contributions as known from a payslip, statement or employer."""

    month: YearMonth
    wage: Decimal
    section: int = 33


@dataclass(frozen=True)
class Facts:
    """What the engine needs to judge one claim."""

    benefit: Benefit
    event_date: dt.date
    contributions: tuple[ContributionMonth, ...] = ()
    section: int = 33
    birth_date: dt.date | None = None
    employment_end: dt.date | None = None
    reason: UnemploymentReason | None = None
    # a work injury that is an illness caused by the work, found after the job ended: its
    # filing deadline is its own (rule filing_deadline_by_benefit, work_injury_found_after_job)
    found_after_job: bool = False


@dataclass(frozen=True)
class Eligibility:
    """The engine's answer, all coded values; ``unconfirmed`` names disputed settings used."""

    benefit: Benefit
    section: int
    event_date: dt.date
    status: Status
    rule: Coded
    reasons: tuple[Coded, ...]
    counted_months: tuple[YearMonth, ...]
    earliest_eligible: dt.date | None
    daily_wage: Decimal | None
    amounts: tuple[Coded, ...]
    filing_deadline: dt.date | None
    unconfirmed: tuple[str, ...]
    sources: tuple[str, ...]
    filing_action: str = "deadline.file_claim"  # message key of what must be filed

    @property
    def eligible(self) -> bool:
        return self.status is Status.ELIGIBLE


class _Trace:
    """Rule lookups for one event date that remember their sources."""

    def __init__(self, book: RuleBook, on: dt.date) -> None:
        self.book = book
        self.on = on
        self.sources: dict[str, None] = {}
        self.unconfirmed: dict[str, None] = {}

    def period(self, key: str, on: dt.date | None = None) -> Period:
        period = self.book.period(key, on or self.on)
        self.sources.update(dict.fromkeys(period.sources))
        return period

    def value(self, key: str, on: dt.date | None = None) -> Any:
        return self.period(key, on).value

    def decimal(self, key: str, on: dt.date | None = None) -> Decimal:
        self.period(key, on)
        return self.book.decimal(key, on or self.on)

    def setting(self, key: str) -> Any:
        self.unconfirmed[key] = None
        self.sources.update(dict.fromkeys(self.book.settings[key].sources))
        return self.book.setting(key)


def _months_by_wage(
    trace: _Trace, contributions: Iterable[ContributionMonth]
) -> dict[YearMonth, Decimal]:
    """s.33/s.39 months with the highest contribution wage recorded for each.

    An s.39 month's contribution wage is the deemed wage of that month (``s39_deemed_wage``),
    whatever wage was recorded with it.
    """
    months: dict[YearMonth, Decimal] = {}
    for item in contributions:
        if item.section in (33, 39):
            wage = item.wage
            if item.section == 39:
                wage = trace.decimal("s39_deemed_wage", item.month.first_day())
            months[item.month] = max(wage, months.get(item.month, wage))
    return months


def _window(anchor: YearMonth, size: int) -> tuple[YearMonth, YearMonth]:
    return anchor.add_months(1 - size), anchor


def _in(month: YearMonth, bounds: tuple[YearMonth, YearMonth]) -> bool:
    return bounds[0] <= month <= bounds[1]


def _benefit_base(trace: _Trace, month: YearMonth, wage: Decimal, option: str) -> Decimal:
    """The wage used for cash benefits in ``month`` under a ``benefit_wage_cap`` option."""
    first = month.first_day()
    cap_key = "wage_ceiling" if option == "contribution_ceiling" else "legacy_benefit_wage_cap"
    return min(max(wage, trace.decimal("wage_floor", first)), trace.decimal(cap_key, first))


def _under_disputed_cap(trace: _Trace, compute: Callable[[str], Decimal]) -> Decimal:
    """``compute`` under the chosen ``benefit_wage_cap`` option.

    The setting is flagged as unconfirmed only when its options give different results
    (before 2026 both caps are 15,000, so nothing is in doubt).
    """
    options = trace.book.settings["benefit_wage_cap"].options
    results = {str(option): compute(str(option)) for option in options}
    if len(set(results.values())) > 1:
        trace.setting("benefit_wage_cap")
    return results[str(trace.book.setting("benefit_wage_cap"))]


def _daily_wage(
    trace: _Trace, months: Mapping[YearMonth, Decimal], anchor: YearMonth
) -> Decimal | None:
    """Best 3 of the last 9 months (or the last 3 if fewer than 9 paid), per day."""
    method = trace.value("daily_wage_method")
    size, take = int(method["best_of_window"]), int(method["best_months"])
    paid = sorted(m for m in months if _in(m, _window(anchor, size)))
    if not paid:
        return None

    def compute(option: str) -> Decimal:
        bases = [_benefit_base(trace, m, months[m], option) for m in paid]
        chosen = sorted(bases, reverse=True)[:take] if len(paid) >= size else bases[-take:]
        return _money(sum(chosen, Decimal(0)) / (_DAYS_PER_MONTH * len(chosen)))

    return _under_disputed_cap(trace, compute)


def _percent(rate: Decimal) -> Decimal:
    """A rate as a percentage for display: 0.5 -> 50, 0.215 -> 21.5."""
    value = rate * 100
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _amounts(
    facts: Facts,
    trace: _Trace,
    months: Mapping[YearMonth, Decimal],
    counted: tuple[YearMonth, ...],
    anchor: YearMonth,
) -> tuple[Decimal | None, list[Coded]]:
    """The daily wage and the amounts or rates the data defines for this benefit."""
    benefit = facts.benefit
    if benefit is Benefit.CHILD_ALLOWANCE:
        child = trace.value("child_allowance_monthly")
        return None, [coded("amount.child_allowance", **dict(child))]
    if benefit is Benefit.WORK_INJURY:
        rate = trace.decimal("wcf_compensation_rate")
        earlier = [m for m in months if m <= anchor]
        if not earlier:
            return None, [coded("amount.wcf_rate", rate=rate, percent=_percent(rate))]
        wage = months[max(earlier)]
        return None, [
            coded(
                "amount.wcf_monthly",
                rate=rate,
                percent=_percent(rate),
                wage=wage,
                per_month=_money(rate * wage),
            )
        ]
    if benefit is Benefit.OLD_AGE:
        return None, [_old_age_amount(trace, months, counted)]
    daily = _daily_wage(trace, months, anchor)
    if daily is None:
        return None, []
    if benefit is Benefit.SICKNESS:
        rate = trace.decimal("sickness_cash_rate")
        return daily, [
            coded(
                "amount.daily_cash",
                rate=rate,
                percent=_percent(rate),
                daily_wage=daily,
                per_day=_money(rate * daily),
            )
        ]
    if benefit is Benefit.MATERNITY:
        lump = trace.decimal("maternity_lump_sum")
        rate = trace.decimal("maternity_leave_cash_rate")
        days = int(trace.setting("maternity_leave_cash_days"))
        leave = coded(
            "amount.leave_cash",
            rate=rate,
            percent=_percent(rate),
            days=days,
            daily_wage=daily,
            total=_money(rate * daily * days),
        )
        return daily, [coded("amount.lump_sum", amount=lump), leave]
    if benefit is Benefit.INVALIDITY:
        rate = trace.decimal("invalidity_cash_rate")
        monthly = daily * _DAYS_PER_MONTH
        return daily, [
            coded(
                "amount.monthly_cash",
                rate=rate,
                percent=_percent(rate),
                monthly_wage=monthly,
                per_month=_money(rate * monthly),
            )
        ]
    if benefit is Benefit.DEATH:
        found = [coded("amount.funeral_grant", amount=trace.decimal("death_funeral_grant"))]
        survivor = trace.value("death_survivor_allowance")
        # The tiers count every month paid, not just the 6-month window; the month of the
        # death was paid for work before it, so it counts (as for old age).
        event_month = YearMonth.from_date(facts.event_date)
        paid = len([m for m in months if m <= event_month])
        tiers = [t for t in survivor["tiers"] if paid >= int(t["min_months"])]
        if tiers:
            rate = Decimal(str(survivor["rate"]))
            multiplier = int(tiers[-1]["multiplier"])
            monthly = daily * _DAYS_PER_MONTH
            found.append(
                coded(
                    "amount.survivor_allowance",
                    rate=rate,
                    percent=_percent(rate),
                    monthly_wage=monthly,
                    multiplier=multiplier,
                    total=_money(rate * monthly * multiplier),
                )
            )
        return daily, found
    # Unemployment: the reason decides the rate and the number of days.
    terms = trace.value(f"unemployment_{facts.reason}")
    rate = Decimal(str(terms["rate"]))
    per_day = _money(rate * daily)
    days = int(terms["max_days"])
    return daily, [
        coded(
            "amount.unemployment",
            rate=rate,
            percent=_percent(rate),
            max_days=days,
            daily_wage=daily,
            per_day=per_day,
            total=per_day * days,
        )
    ]


def _old_age_amount(
    trace: _Trace, months: Mapping[YearMonth, Decimal], counted: tuple[YearMonth, ...]
) -> Coded:
    """Pension from 180 months, otherwise a refund of old-age contributions."""
    pension = trace.value("old_age_pension")
    total = len(counted)
    if total >= int(pension["min_months"]):
        recent = counted[-int(pension["average_of_months"]) :]

        def compute(option: str) -> Decimal:
            bases = [_benefit_base(trace, m, months[m], option) for m in recent]
            return _money(sum(bases, Decimal(0)) / len(bases))

        average = _under_disputed_cap(trace, compute)
        steps = (total - int(pension["min_months"])) // int(pension["step_months"])
        rate = Decimal(str(pension["base_rate"])) + steps * Decimal(str(pension["step_rate"]))
        return coded(
            "amount.pension",
            rate=rate,
            percent=_percent(rate),
            average_wage=average,
            per_month=_money(rate * average),
        )
    lump = trace.value("old_age_lump_sum")
    both = total >= int(lump["both_shares_from_months"])
    amount = Decimal(0)
    for month in counted:
        first = month.first_day()
        base = min(
            max(months[month], trace.decimal("wage_floor", first)),
            trace.decimal("wage_ceiling", first),
        )
        rate = trace.decimal("rate_old_age_employee_s33", first)
        if both:
            rate += trace.decimal("rate_old_age_employer_s33", first)
        amount += base * rate
    shares = "both" if both else "employee"
    return coded("amount.old_age_lump_sum", amount=_money(amount), shares=shares, plus_returns=both)


def _birthday(birth: dt.date, age: int) -> dt.date:
    """The day ``age`` is reached (a 29 February birthday falls on 1 March)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def _require(value: Any, name: str) -> Any:
    if value is None:
        raise UserError("error.eligibility_missing", field=name)
    return value


def evaluate(facts: Facts, book: RuleBook | None = None) -> Eligibility:
    """Judge one claim from ``facts`` with the rules in force on the event date.

    Raises :class:`UserError` ``error.eligibility_missing`` when a fact the benefit needs
    is absent (``birth_date`` for old age, ``reason`` for unemployment) and
    ``error.eligibility_section`` for a section other than 33, 39 or 40.
    """
    book = book or load()
    trace = _Trace(book, facts.event_date)
    benefit = facts.benefit
    anchor_offset = 1 if trace.value("window_anchor") == "previous_month" else 0
    anchor = YearMonth.from_date(facts.event_date).add_months(-anchor_offset)
    months = _months_by_wage(trace, facts.contributions)
    qualifying = trace.value(f"qualifying_{benefit}")
    rule = coded(
        f"rule.{qualifying['kind']}", **{k: v for k, v in qualifying.items() if k != "kind"}
    )
    reasons: list[Coded] = []
    counted: tuple[YearMonth, ...] = ()
    earliest: dt.date | None = None
    status = Status.ELIGIBLE

    if benefit is not Benefit.WORK_INJURY:
        by_section = trace.value("benefits_by_section")
        if str(facts.section) not in by_section:
            raise UserError("error.eligibility_section", section=facts.section)
        if benefit not in by_section[str(facts.section)]:
            reasons.append(coded("rule.not_in_section", section=facts.section))
        elif facts.section == 40:
            status = Status.UNDETERMINED
            reasons.append(coded("rule.section40_conditions_unknown"))

    if benefit is Benefit.UNEMPLOYMENT:
        _require(facts.reason, "reason")
        # A reason the rules give a rate of nothing (dismissed for serious misconduct): SSO
        # pays no benefit, however many months were paid.
        if not Decimal(str(trace.value(f"unemployment_{facts.reason}")["rate"])):
            reasons.append(coded(f"rule.unemployment_not_paid.{facts.reason}"))
    if benefit is Benefit.OLD_AGE:
        _require(facts.birth_date, "birth_date")

    if not reasons:
        counted, earliest = _qualify(facts, trace, qualifying, months, anchor, reasons)
    if reasons and status is Status.ELIGIBLE:
        status = Status.NOT_ELIGIBLE

    daily: Decimal | None = None
    amounts: list[Coded] = []
    if status is Status.ELIGIBLE:
        try:
            daily, amounts = _amounts(facts, trace, months, counted, anchor)
        except UserError as exc:
            # The only expected failure: an amount whose history the data does not reach
            # back to (e.g. the child allowance before 2018). Eligibility still stands.
            amounts = [coded("amount.not_recorded", **exc.params)]

    found_after_job = facts.found_after_job and benefit is Benefit.WORK_INJURY
    by_benefit = trace.value("filing_deadline_by_benefit")
    filing = by_benefit[f"{benefit}_found_after_job" if found_after_job else str(benefit)]
    deadline_rule = deadlines.deadline_rule(filing, facts.event_date, book)
    trace.period(filing)
    started = facts.event_date
    if deadline_rule.trigger == "employment_ended" and facts.employment_end is not None:
        # The clock of a rule started by leaving the job (D7, unemployment) runs from the
        # end of employment, which may be before the date the claim names.
        started = min(started, facts.employment_end)
    filing_deadline, unconfirmed = deadlines.due_date(deadline_rule, started, book)
    for name in unconfirmed:
        trace.setting(name)

    return Eligibility(
        benefit=benefit,
        section=facts.section,
        event_date=facts.event_date,
        status=status,
        rule=rule,
        reasons=tuple(reasons),
        counted_months=counted,
        earliest_eligible=earliest,
        daily_wage=daily,
        amounts=tuple(amounts),
        filing_deadline=filing_deadline,
        unconfirmed=tuple(sorted(trace.unconfirmed)),
        sources=tuple(trace.sources),
        filing_action=deadline_rule.action,
    )


def _qualify(
    facts: Facts,
    trace: _Trace,
    qualifying: Mapping[str, Any],
    months: Mapping[YearMonth, Decimal],
    anchor: YearMonth,
    reasons: list[Coded],
) -> tuple[tuple[YearMonth, ...], dt.date | None]:
    """Check the qualifying rule and continued cover; append failures to ``reasons``.

    Returns the counted months and the earliest date the claim could qualify.
    """
    event_month = YearMonth.from_date(facts.event_date)
    anchor_offset = event_month - anchor
    counted: tuple[YearMonth, ...] = ()
    earliest: dt.date | None = None
    kind = qualifying["kind"]
    if kind == "window":
        required, size = int(qualifying["required"]), int(qualifying["window"])
        counted = tuple(sorted(m for m in months if _in(m, _window(anchor, size))))
        if len(counted) < required:
            reasons.append(
                coded("rule.not_enough_months", have=len(counted), required=required, window=size)
            )
            candidate = event_month
            while (
                _hypothetical_count(months, event_month, _window(candidate - anchor_offset, size))
                < required
            ):
                candidate = candidate.add_months(1)
            earliest = candidate.first_day()
    elif kind == "old_age":
        min_age = int(qualifying["min_age"])
        assert facts.birth_date is not None  # checked by evaluate()
        reached = _birthday(facts.birth_date, min_age)
        # A total, not a window: insured status has ended by the event date, so every
        # month up to and including the event month was paid for work before the claim.
        counted = tuple(sorted(m for m in months if m <= event_month))
        if facts.event_date < reached:
            reasons.append(coded("rule.age_below", min_age=min_age, reached_on=reached))
        if facts.employment_end is None or facts.employment_end > facts.event_date:
            reasons.append(coded("rule.insured_status_continues"))
        if not counted:
            reasons.append(coded("rule.no_contributions"))
        earliest = reached if [r.code for r in reasons] == ["rule.age_below"] else None

    cover = trace.value("continued_cover")
    if facts.employment_end is not None and facts.benefit in cover["benefits"]:
        # Insured status runs on through every s.33 month (a later job) or s.39 month paid
        # after the end of employment.
        later = [
            m.last_day() for m in months if m.first_day() > facts.employment_end and m <= anchor
        ]
        insured_until = max([facts.employment_end, *later])
        cover_until = deadlines.add_months(insured_until, int(cover["months"]))
        if facts.event_date > cover_until:
            reasons.append(
                coded("rule.cover_ended", insured_until=insured_until, cover_until=cover_until)
            )
            earliest = None
    return counted, earliest


def _hypothetical_count(
    months: Mapping[YearMonth, Decimal], event_month: YearMonth, bounds: tuple[YearMonth, YearMonth]
) -> int:
    """Months counted in ``bounds`` if contributions were paid every month from ``event_month``."""
    recorded = {m for m in months if _in(m, bounds)}
    start = max(bounds[0], event_month)
    future = set()
    current = start
    while current <= bounds[1]:
        future.add(current)
        current = current.add_months(1)
    return len(recorded | future)
