"""Deadline engine: the rules D1-D15 of ``resources/rules/deadlines.yaml`` as dated tasks.

A case supplies facts as :class:`CaseEvent` values (a trigger such as
``employment_ended`` and its date). Every deadline rule whose trigger matches becomes a
:class:`Task` with its due date and a state relative to an injected ``today``:
``due`` (later), ``due_soon`` (within the rule's warning days) or ``overdue``.

The rule in force on the trigger date applies (a pink-card holder who lost the job in
2023 had 30 days, one in 2024 has 60). A rule whose offset comes from a disputed setting
(the claim filing limit, D8) names that setting in ``Task.unconfirmed``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.domain.dates import YearMonth
from desktop.domain.rules import Confidence, RuleBook, RuleDataError, load

#: The case facts that start a deadline clock.
TRIGGERS: frozenset[str] = frozenset(
    {
        "first_employee_hired",
        "employment_started",
        "wage_month_ended",
        "employment_ended",
        "entitlement",
        "payment_notified",
        "decision_received",
        "injury_known_by_employer",
        "work_injury",
        "illness_known_after_employment",
        "calendar_year",
        "pink_card_job_lost",
        "complaint_filed",
    }
)


# What a case may show, since a job ended, that settles some of what the end started (a
# rule's ``settled_by``): a later job (covered under s.33 again: no s.39 application to
# make, no end of cover to warn of, no DOE registration, no employer to find for a pink
# card); that the worker has died (a death claim, or a work injury's report of a death
# or a disappearance: none of those is anyone's to do); or
# that they have gone home (left Thailand, as recorded, and not come back).
SETTLING_FACTS: frozenset[str] = frozenset({"next_job", "died", "went_home"})

# The actor of a rule that is a milestone, not something anyone does (continued cover
# ends): a task while it is ahead, none once it has passed.
MILESTONE_ACTOR = "system"


class TaskState(enum.StrEnum):
    """Where a task stands on ``today``."""

    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class CaseEvent:
    """A dated fact of a case that may start deadlines.

    ``benefit`` names the benefit of an ``entitlement``; ``reason`` why a job ended, for
    ``employment_ended`` (``dismissed_misconduct``, ...), when it is known; ``settled``
    what the case has shown since that settles some of the rules the event starts, and
    ``done`` the rules whose action a workflow step has carried out since (the step that
    names the rule as its ``deadline``, done).
    """

    trigger: str
    date: dt.date
    benefit: str | None = None
    reason: str | None = None
    settled: frozenset[str] = frozenset()  # SETTLING_FACTS the case shows since the event
    done: frozenset[str] = frozenset()  # rules whose action a step has carried out since


@dataclass(frozen=True)
class DeadlineRule:
    """One deadline rule as in force on a given date."""

    rule_id: str
    trigger: str
    actor: str
    action: str
    offset: Mapping[str, Any]
    form: str | None
    warn_days: int
    benefits: tuple[str, ...]
    confidence: Confidence
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """A dated task derived from a rule and a case event."""

    rule_id: str
    action: str  # message key, e.g. "deadline.file_claim"
    actor: str
    trigger: str
    trigger_date: dt.date
    due: dt.date
    state: TaskState
    form: str | None
    unconfirmed: tuple[str, ...]  # disputed settings the due date depends on
    confidence: Confidence
    sources: tuple[str, ...]


def rule_ids(book: RuleBook | None = None) -> tuple[str, ...]:
    """Every deadline rule id in the data (``unit: deadline``), in file order."""
    book = book or load()
    return tuple(key for key, rule in book.rules.items() if rule.unit == "deadline")


def deadline_rule(rule_id: str, on: dt.date, book: RuleBook | None = None) -> DeadlineRule:
    """The rule ``rule_id`` in force on ``on``; malformed data raises :class:`RuleDataError`."""
    book = book or load()
    period = book.period(rule_id, on)
    raw = book.mapping(rule_id, on)
    if raw.get("trigger") not in TRIGGERS:
        raise RuleDataError(f"{rule_id}: unknown trigger {raw.get('trigger')!r}")
    default_warn = book.integer("deadline_due_soon_days", on)
    return DeadlineRule(
        rule_id=rule_id,
        trigger=str(raw["trigger"]),
        actor=str(raw["actor"]),
        action=str(raw["action"]),
        offset=raw["offset"],
        form=raw.get("form"),
        warn_days=int(raw.get("warn_days", default_warn)),
        benefits=tuple(raw.get("benefits", ())),
        confidence=period.confidence,
        sources=period.sources,
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    target = YearMonth.from_date(day).add_months(months)
    return dt.date(target.year, target.month, min(day.day, target.last_day().day))


def due_date(
    rule: DeadlineRule, trigger_date: dt.date, book: RuleBook | None = None
) -> tuple[dt.date, tuple[str, ...]]:
    """The due date of ``rule`` started on ``trigger_date``, and the settings it depends on."""
    book = book or load()
    offset = rule.offset
    if "days" in offset:
        return trigger_date + dt.timedelta(days=int(offset["days"])), ()
    if "months" in offset:
        return add_months(trigger_date, int(offset["months"])), ()
    if "next_month_day" in offset:
        next_month = YearMonth.from_date(trigger_date).add_months(1)
        return next_month.first_day().replace(day=int(offset["next_month_day"])), ()
    if "year_day" in offset:
        month, day = offset["year_day"]
        return dt.date(trigger_date.year, int(month), int(day)), ()
    if "setting" in offset:
        name = str(offset["setting"])
        return add_months(trigger_date, int(book.setting(name))), (name,)
    raise RuleDataError(f"{rule.rule_id}: unknown offset {dict(offset)!r}")


def state_on(due: dt.date, warn_days: int, today: dt.date) -> TaskState:
    """``overdue`` after the due date, ``due_soon`` within ``warn_days`` of it, else ``due``."""
    if today > due:
        return TaskState.OVERDUE
    if today >= due - dt.timedelta(days=warn_days):
        return TaskState.DUE_SOON
    return TaskState.DUE


def task_for(
    rule_id: str, trigger_date: dt.date, today: dt.date, book: RuleBook | None = None
) -> Task:
    """One task: the rule ``rule_id`` started on ``trigger_date``, seen on ``today``."""
    book = book or load()
    rule = deadline_rule(rule_id, trigger_date, book)
    due, unconfirmed = due_date(rule, trigger_date, book)
    return Task(
        rule_id=rule.rule_id,
        action=rule.action,
        actor=rule.actor,
        trigger=rule.trigger,
        trigger_date=trigger_date,
        due=due,
        state=state_on(due, rule.warn_days, today),
        form=rule.form,
        unconfirmed=unconfirmed,
        confidence=rule.confidence,
        sources=rule.sources,
    )


def claim_event(benefit: str | None, day: dt.date, *, found_after_job: bool = False) -> CaseEvent:
    """The event that starts a claim's filing clock on ``day``: a work injury's (D12: 180
    days), an illness caused by the work but found only after the job ended (D13: two
    years from the day it was found, domain.md §5.2), else the benefit's entitlement (of
    every benefit when none is named)."""
    if benefit != "work_injury":
        return CaseEvent("entitlement", day, benefit)
    return CaseEvent("illness_known_after_employment" if found_after_job else "work_injury", day)


def job_end_events(
    day: dt.date,
    reason: str | None = None,
    *,
    pink_card: bool = False,
    settled: Iterable[str] = (),
    done: Iterable[str] = (),
) -> list[CaseEvent]:
    """What a job's end on ``day`` starts: ``employment_ended`` (the employer's notice, the
    s.39 window, the end of continued cover, the DOE registration; ``reason`` why it
    ended), and for a worker whose permission to stay rests on a pink card,
    ``pink_card_job_lost`` (the days to find a new employer before it lapses, domain.md
    §6.2; no rule before 2017). ``settled``: the ``SETTLING_FACTS`` the case shows since;
    ``done``: the rules a step has carried out since (the unemployment claim's leaving
    notice and DOE registration, the s.39 application)."""
    facts, carried = frozenset(settled), frozenset(done)
    events = [CaseEvent("employment_ended", day, reason=reason, settled=facts, done=carried)]
    if pink_card:
        events.append(CaseEvent("pink_card_job_lost", day, settled=facts, done=carried))
    return events


def trigger_of(rule_id: str, book: RuleBook | None = None) -> str:
    """The case fact that starts deadline rule ``rule_id`` (the same in every period)."""
    return str((book or load()).rule(rule_id).periods[-1].value["trigger"])


def _settled_by(rule_id: str, value: Mapping[str, Any]) -> frozenset[str]:
    """The rule's ``settled_by`` facts; one not in ``SETTLING_FACTS`` is refused (a
    misspelt fact would otherwise never settle anything)."""
    facts = frozenset(value.get("settled_by", ()))
    if not facts <= SETTLING_FACTS:
        raise RuleDataError(f"{rule_id}: unknown settled_by {sorted(facts - SETTLING_FACTS)}")
    return facts


def tasks_for(
    events: Iterable[CaseEvent],
    today: dt.date,
    book: RuleBook | None = None,
    *,
    in_force_only: bool = False,
) -> list[Task]:
    """Every task the case events start, soonest due first.

    A rule matches an event with the same trigger; a rule limited to some ``benefits``
    matches an event naming one of them, or an event naming no benefit; a rule with
    ``unless_reasons`` does not match an event whose reason is one of them (a worker
    dismissed for serious misconduct has no unemployment benefit to register for), nor
    one with ``settled_by`` an event the case has settled so (``CaseEvent.settled``), nor
    one whose action a step has carried out (``CaseEvent.done``); a milestone
    (``MILESTONE_ACTOR``) that has passed is no task.
    An event outside every period of a matching rule (a job that ended in 1985, before
    the rule data) is ``error.rule_no_value``, or, with ``in_force_only`` (a screen
    listing a case's history), starts nothing from that rule.
    Raises :class:`ValueError` for an unknown trigger (a bug in the caller).
    """
    book = book or load()
    # Every period of a rule has the same trigger and benefits: match on the latest, so an
    # event before the rule's first period is an error, not a silent gap.
    by_trigger: dict[str, list[str]] = {}
    for rule_id in rule_ids(book):
        by_trigger.setdefault(trigger_of(rule_id, book), []).append(rule_id)
    tasks: list[Task] = []
    for event in events:
        if event.trigger not in TRIGGERS:
            raise ValueError(f"unknown deadline trigger: {event.trigger!r}")
        for rule_id in by_trigger.get(event.trigger, ()):
            periods = book.rule(rule_id).periods
            latest = periods[-1].value
            benefits = latest.get("benefits", ())
            matches_benefit = not benefits or event.benefit is None or event.benefit in benefits
            excluded = event.reason is not None and event.reason in latest.get("unless_reasons", ())
            settled = bool(_settled_by(rule_id, latest) & event.settled) or rule_id in event.done
            if not matches_benefit or excluded or settled:
                continue
            if in_force_only and not any(period.covers(event.date) for period in periods):
                continue
            task = task_for(rule_id, event.date, today, book)
            if task.actor != MILESTONE_ACTOR or task.state is not TaskState.OVERDUE:
                tasks.append(task)
    return sorted(tasks, key=lambda task: (task.due, task.rule_id))
