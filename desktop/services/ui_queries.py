"""Queries and small use cases the desktop screens need, beyond the core services.

Kept apart from the core services so the UI's needs do not reshape them: the Tasks page
(deadlines due soon and overdue across the caseload), the overdue case filter, the
journey timeline of one case file, the eligibility panel, pasting contribution months
from a payslip table, the status bar's sync counts, and unlocking or creating the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from desktop.domain import dates, deadlines, eligibility, workflow
from desktop.domain.amounts import parse_amount
from desktop.domain.dates import YearMonth, be_to_ce_year
from desktop.domain.errors import UserError
from desktop.domain.ids import DocumentKind
from desktop.domain.validation import Issue, issue
from desktop.models import store as store_module
from desktop.models.entities import (
    Case,
    Employment,
    IdentityDocument,
    OutboxEntry,
    Person,
    PersonName,
    Step,
    Track,
)
from desktop.models.keys import check_passphrase_strength
from desktop.models.store import Store
from desktop.services import cases
from desktop.services.cases import CaseFile, CaseFilter, EmploymentView, SortKey, list_case_ids
from desktop.services.eligibility import case_facts, with_job_ended
from desktop.services.employers import ContributionInput
from desktop.services.people import IN_FORCE, gone_home, holds_pink_card

# --- store lifecycle (the UI may not import desktop.models) -------------------------------

# The store setting holding the sync server address typed before registering (the
# Settings page, the first run); registration keeps the one registered with.
SERVER_SETTING = "sync_server_url"


def default_data_dir() -> Path:
    return store_module.default_data_dir()


def store_exists(root: Path) -> bool:
    return store_module.store_exists(root)


def start_language(root: Path) -> str | None:
    """The language to ask for the store's passphrase in (see ``store.start_language``)."""
    return store_module.start_language(root)


def keep_start_language(root: Path, lang: str) -> None:
    store_module.keep_start_language(root, lang)


@dataclass(frozen=True)
class WipeNotice:
    """What the app says after a wipe: when (UTC ISO, empty if unknown) and how many
    changes made on the device never reached the server."""

    at: str
    unsent: int


def finish_wipe(root: Path) -> WipeNotice | None:
    """After a revoked device's wipe: delete what is left (the store must be closed) and
    say when; None when the store in ``root`` was never wiped."""
    record = store_module.finish_wipe(root)
    return None if record is None else WipeNotice(record.at, record.unsent)


def preview_folder(store: Store) -> tempfile.TemporaryDirectory[str]:
    """A new folder for a window's rendered packets, beside the store
    (:func:`desktop.models.store.preview_folder`)."""
    return store_module.preview_folder(store)


def sweep_previews(store: Store) -> int:
    """Remove the rendered packets an earlier run left, a crash or a power cut
    (:func:`desktop.models.store.sweep_previews`); returns how many folders."""
    return store_module.sweep_previews(store)


def create_store(root: Path, passphrase: str, repeated: str) -> Store:
    """Create the encrypted store after checking the passphrase was typed the same twice."""
    if passphrase != repeated:
        raise UserError("error.passphrase_mismatch")
    return store_module.create_store(root, passphrase)


def open_store(root: Path, passphrase: str | None) -> Store:
    """Open with the passphrase, or from the OS keyring when ``passphrase`` is None."""
    return store_module.open_store(root, passphrase)


def check_passphrase(store: Store, passphrase: str) -> None:
    """Raise ``error.wrong_passphrase`` unless ``passphrase`` unlocks ``store`` (idle lock)."""
    from desktop.models import keys

    keys.unwrap_key(keys.KeyFile.read(store.paths.keyfile), passphrase)


def passphrase_strength(passphrase: str) -> str:
    """``too_short``, ``weak``, ``fair`` or ``strong``: a hint, not a rule (length matters)."""
    try:
        check_passphrase_strength(passphrase)
    except UserError:
        return "too_short"
    kinds = sum(
        bool(re.search(p, passphrase)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^\w]", r"\s")
    )
    if len(passphrase) >= 20 or (len(passphrase) >= 14 and kinds >= 3):
        return "strong"
    if len(passphrase) >= 12 or kinds >= 3:
        return "fair"
    return "weak"


# --- tasks and the overdue filter ----------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    """One dated task of one case, for the Tasks page."""

    case_id: str
    case_number: str
    name: str
    action: str  # catalogue key, e.g. "deadline.file_claim"
    due: dt.date
    state: str  # due | due_soon | overdue
    actor: str = ""  # whose action: worker | heir | employer | caseworker | system
    province_code: str = ""  # the case's province ("" when not recorded)


# The Tasks page's filters: which states it shows, and whose actions (the heir's count as
# the worker's: the caseworker helps either the same way).
TASK_STATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"all": ("due_soon", "overdue"), "overdue": ("overdue",), "due_soon": ("due_soon",)}
)
TASK_ACTORS: tuple[str, ...] = ("all", "worker", "employer", "caseworker", "system")


def filter_tasks(
    rows: Iterable[TaskRow], states: str = "all", actor: str = "all", province: str = ""
) -> list[TaskRow]:
    """The tasks in ``TASK_STATES[states]`` whose action is ``actor``'s (``all``: anyone's),
    of cases in ``province`` (a code; "": every province)."""
    wanted = TASK_STATES[states]
    whose = {"worker", "heir"} if actor == "worker" else {actor}
    return [
        r
        for r in rows
        if r.state in wanted
        and (actor == "all" or r.actor in whose)
        and (not province or r.province_code == province)
    ]


# A track in one of these states is over: its filing deadlines are no task any more.
ENDED_TRACK_STATES = ("decided", "paid", "approved", "rejected", "closed")


@dataclass(frozen=True)
class StepClock:
    """A date field of a step that starts a deadline (``trigger``) while the step stands
    in one of ``states``."""

    field: str
    trigger: str
    states: frozenset[str]


# The dates steps record that start deadlines: the decision letter of an appeal still to
# be filed (D10, 30 days), and the SSO's notice of a claim's payment, approved and not yet
# marked paid (D9, two years to collect it before it reverts to the Fund).
STEP_CLOCKS = (
    StepClock("decision_received_on", "decision_received", frozenset(workflow.UNFILED)),
    StepClock(cases.PAYMENT_NOTIFIED, "payment_notified", frozenset({workflow.StepState.APPROVED})),
)


# A claim handed in (its filing step submitted, or decided since) has met its filing
# deadline: that deadline is no task any more, though the track is still open.
_FILED = tuple(sorted(workflow.FILED))


@functools.cache
def _filing_steps() -> frozenset[str]:
    """The keys of the steps that hand a track in to an authority (a claim's filing, an
    enrollment's registration): the steps with a decision that every case goes through."""
    return frozenset(
        step.key
        for track in workflow.load().values()
        for step in track.steps
        if workflow.is_filing(step)
    )


def _filed(track: Any) -> bool:
    """Whether a track view's filing step has been handed in."""
    return any(s.key in _filing_steps() and s.state in _FILED for s in track.steps)


@functools.cache
def _steps_with(*fields: str) -> frozenset[str]:
    """The keys of the workflows' steps with any of these fields."""
    return frozenset(
        step.key
        for track in workflow.load().values()
        for step in track.steps
        if any(f.name in fields for f in step.fields)
    )


def _clock_steps() -> frozenset[str]:
    """The keys of the workflows' steps with a date field that starts a deadline."""
    return _steps_with(*(clock.field for clock in STEP_CLOCKS))


# A step of a case (its track's workflow, its key and state, and the day its track is
# about: the event, else the day it was opened), as the Tasks page and the journey read it
# to find which of a job end's rules it has carried out.
_StepDone = tuple[str | None, str | None, str | None, dt.date | None]


# A claim for this benefit on a case says the worker has died (unless it was withdrawn:
# opened by mistake); so does a work injury's report that its outcome was one of these.
DEATH = "death"
LOST = ("died", "disappeared")


def _has_died(case: CaseFile) -> bool:
    """Whether the case says the worker has died: a death claim not withdrawn, or a work
    injury's report that they died or disappeared."""
    claimed = any(t.benefit == DEATH and t.outcome != cases.WITHDRAWN for t in case.tracks)
    reported = any(
        s.data.get(cases.INJURY_OUTCOME) in LOST
        for t in case.tracks
        if t.kind == "work_injury"
        for s in t.steps
    )
    return claimed or reported


def _job_end_settled(case: CaseFile, job: EmploymentView) -> frozenset[str]:
    """What the case shows since ``job`` ended that settles some of what its end started
    (``deadlines.SETTLING_FACTS``): a later job; the worker's death; the worker gone
    home. The Tasks page asks the store the same in SQL (``_add_job_end_events``)."""
    end = job.end_date
    facts = set()
    starts = [j.start_date for j in case.employments if j.id != job.id and j.start_date]
    if end is not None and any(day >= end for day in starts):
        facts.add("next_job")
    if _has_died(case):
        facts.add("died")
    if gone_home(case.person):
        facts.add("went_home")
    return frozenset(facts)


@functools.cache
def _job_end_steps() -> dict[tuple[str, str], workflow.StepDef]:
    """The workflows' steps whose deadline is a rule a job's end starts, by (workflow,
    key): the unemployment claim's leaving notice (D4), its DOE registration and filing
    (D7), the s.39 enrollment's application (D5)."""
    ended = {"employment_ended", "pink_card_job_lost"}
    return {
        (key, step.key): step
        for key, track in workflow.load().items()
        for step in track.steps
        if step.deadline and deadlines.trigger_of(step.deadline) in ended
    }


def _rules_done(steps: Iterable[_StepDone], end: dt.date) -> frozenset[str]:
    """The rules of a job that ended on ``end`` that the case's steps have carried out: a
    step whose deadline is the rule, done (``workflow.carried_out``), in a track about a
    day on or after the end (a claim for that job's loss, not an earlier one)."""
    found = set()
    for workflow_key, key, state, day in steps:
        step = _job_end_steps().get((workflow_key or "", key or ""))
        if step is None or day is None or day < end or not workflow.carried_out(step, state):
            continue
        found.add(step.deadline or "")
    return frozenset(found)


def _step_events(key: str | None, state: str | None, data: Any) -> list[deadlines.CaseEvent]:
    """The events the step's recorded dates start in its state (``STEP_CLOCKS``)."""
    if key not in _clock_steps() or not isinstance(data, dict):
        return []
    found = []
    for clock in STEP_CLOCKS:
        if state not in clock.states:
            continue
        day = dates.stored_date(data.get(clock.field))
        if day is not None:
            found.append(deadlines.CaseEvent(clock.trigger, day))
    return found


@functools.cache
def _registered_from_the_job(workflow_key: str | None) -> bool:
    """Whether the track of ``workflow_key`` hands in a registration whose deadline runs
    from the day the job started (an enrollment through the employer: D2, 30 days), so
    that until it is handed in, the current job's start starts that deadline."""
    track = workflow.load().get(workflow_key or "")
    if track is None:
        return False
    return any(
        workflow.is_filing(step)
        and step.deadline is not None
        and deadlines.trigger_of(step.deadline) == "employment_started"
        for step in track.steps
    )


# A complaint about an unregistered worker or unremitted deductions (an enforcement
# track), handed in and waiting on the SSO: the caseworker follows it up 30 days after it
# was filed, and again 30 days after each follow-up (rule complaint_follow_up).
COMPLAINT_KIND = "enforcement"
_COMPLAINT_DAYS = ("submitted_on", "followed_up_on")


def _complaint_event(
    steps: Iterable[tuple[str | None, str | None, Any]],
) -> deadlines.CaseEvent | None:
    """The ``complaint_filed`` event of an enforcement track's steps (key, state, data):
    from the day the complaint was filed or, later, last followed up, while its filing step
    waits on a decision; else None."""
    waiting, days = False, []
    for key, state, data in steps:
        waiting |= key in _filing_steps() and state == workflow.StepState.SUBMITTED
        for name in _COMPLAINT_DAYS if isinstance(data, dict) else ():
            day = dates.stored_date(data.get(name))
            if day is not None:
                days.append(day)
    return deadlines.CaseEvent("complaint_filed", max(days)) if waiting and days else None


def _handed_in() -> Any:
    """SQL: the track (``Track``) has its filing step handed in (submitted or decided)."""
    return (
        select(Step.id)
        .where(
            Step.track_id == Track.id,
            Step.deleted.is_(False),
            Step.key.in_(_filing_steps()),
            Step.state.in_(_FILED),
        )
        .exists()
    )


def _add_job_end_events(
    session: Session, since: dt.date, events: dict[str, list[deadlines.CaseEvent]]
) -> None:
    """Add to ``events`` what each job that ended since ``since`` started, with what the
    case shows that settles some of it (as ``_job_end_settled`` and ``_rules_done`` find
    it in a case file, for the journey)."""
    pink_card = (
        select(IdentityDocument.id)
        .where(
            IdentityDocument.person_id == Case.person_id,
            IdentityDocument.deleted.is_(False),
            IdentityDocument.kind == DocumentKind.PINK_CARD,
            or_(
                IdentityDocument.status.is_(None),
                IdentityDocument.status.in_([s for s in IN_FORCE if s]),
            ),
        )
        .exists()
    )
    # what settles some of a job end's tasks, as _job_end_settled finds it in a case file
    later = aliased(Employment)
    next_job = (
        select(later.id)
        .where(
            later.person_id == Employment.person_id,
            later.deleted.is_(False),
            later.id != Employment.id,
            later.start_date >= Employment.end_date,
        )
        .exists()
    )
    died = or_(
        select(Track.id)
        .where(
            Track.case_id == Case.id,
            Track.deleted.is_(False),
            Track.benefit == DEATH,
            func.coalesce(Track.outcome, "") != cases.WITHDRAWN,
        )
        .exists(),
        select(Step.id)
        .join(Track, Track.id == Step.track_id)
        .where(
            Track.case_id == Case.id,
            Track.deleted.is_(False),
            Track.kind == "work_injury",
            Step.deleted.is_(False),
            Step.data[cases.INJURY_OUTCOME].as_string().in_(LOST),
        )
        .exists(),
    )
    went_home = (
        select(Person.id)
        .where(
            Person.id == Case.person_id,
            Person.left_on.is_not(None),
            or_(Person.arrived_on.is_(None), Person.arrived_on <= Person.left_on),
        )
        .exists()
    )  # as people.gone_home reads a person
    carried: dict[str, list[_StepDone]] = {}
    for case_id, workflow_key, key, state, day in session.execute(
        select(
            Track.case_id,
            Track.workflow,
            Step.key,
            Step.state,
            func.coalesce(Track.event_date, Track.opened_on),
        )
        .select_from(Track)
        .join(Step, Step.track_id == Track.id)
        .where(
            Track.case_id.in_(  # the cases with a job that ended: found by their index
                select(Case.id)
                .join(Employment, Employment.person_id == Case.person_id)
                .where(Employment.end_date >= since, Employment.deleted.is_(False))
            ),
            Track.deleted.is_(False),
            Step.deleted.is_(False),
            or_(*(and_(Track.workflow == w, Step.key == k) for w, k in _job_end_steps())),
        )
    ):
        carried.setdefault(case_id, []).append((workflow_key, key, state, day))
    for case_id, end, reason, holds_card, found_job, dead, home in session.execute(
        select(
            Case.id,
            Employment.end_date,
            Employment.end_reason,
            pink_card,
            next_job,
            died,
            went_home,
        )
        .join(Employment, Employment.person_id == Case.person_id)
        .where(
            Case.deleted.is_(False),
            Employment.deleted.is_(False),
            Employment.end_date.is_not(None),
            Employment.end_date >= since,
        )
    ):
        if end is not None:
            ended = deadlines.job_end_events(
                end,
                reason,
                pink_card=bool(holds_card),
                settled=[
                    fact
                    for fact, shown in (
                        ("next_job", found_job),
                        ("died", dead),
                        ("went_home", home),
                    )
                    if shown
                ],
                done=_rules_done(carried.get(case_id, ()), end),
            )
            events.setdefault(case_id, []).extend(ended)


def _case_events(store: Store, since: dt.date) -> dict[str, list[deadlines.CaseEvent]]:
    """The dated facts of open cases that start deadlines, by case id."""
    events: dict[str, list[deadlines.CaseEvent]] = {}
    with store.read() as session:
        found_after_job = (
            select(Step.id)
            .where(
                Step.track_id == Track.id,
                Step.deleted.is_(False),
                Step.data[cases.FOUND_AFTER_JOB].as_boolean().is_(True),
            )
            .exists()
        )
        for case_id, kind, benefit, event_date, found_after in session.execute(
            select(
                Track.case_id, Track.kind, Track.benefit, Track.event_date, found_after_job
            ).where(
                Track.deleted.is_(False),
                Track.event_date.is_not(None),
                Track.event_date >= since,
                Track.state.not_in(ENDED_TRACK_STATES),
                ~_handed_in(),
            )
        ):
            if event_date is None:
                continue
            claimed = "work_injury" if kind == "work_injury" else benefit
            if claimed:
                events.setdefault(case_id, []).append(
                    deadlines.claim_event(claimed, event_date, found_after_job=bool(found_after))
                )
        _add_job_end_events(session, since, events)
        # an enrollment not handed in yet: the employer's 30 days from the current job's start
        for case_id, workflow_key, started in session.execute(
            select(Case.id, Track.workflow, Employment.start_date)
            .join(Track, Track.case_id == Case.id)
            .join(Employment, Employment.person_id == Case.person_id)
            .where(
                Case.deleted.is_(False),
                Track.deleted.is_(False),
                func.coalesce(Track.state, "").not_in(ENDED_TRACK_STATES),
                ~_handed_in(),
                Employment.deleted.is_(False),
                Employment.end_date.is_(None),
                Employment.start_date >= since,
            )
        ):
            if started is not None and _registered_from_the_job(workflow_key):
                started_job = deadlines.CaseEvent("employment_started", started)
                events.setdefault(case_id, []).append(started_job)
        complaints: dict[tuple[str, str], list[tuple[str | None, str | None, Any]]] = {}
        for case_id, track_id, key, state, data in session.execute(
            select(Track.case_id, Track.id, Step.key, Step.state, Step.data)
            .join(Step, Step.track_id == Track.id)
            .where(
                Track.deleted.is_(False),
                Track.kind == COMPLAINT_KIND,
                func.coalesce(Track.state, "").not_in(ENDED_TRACK_STATES),
                Step.deleted.is_(False),
            )
        ):
            complaints.setdefault((case_id, track_id), []).append((key, state, data))
        for (case_id, _track), steps in complaints.items():
            followed = _complaint_event(steps)
            if followed is not None and followed.date >= since:
                events.setdefault(case_id, []).append(followed)
        clocked = or_(
            *(
                and_(
                    Step.key.in_(_steps_with(clock.field)),
                    Step.state.in_(sorted(clock.states)),
                    Step.data[clock.field].as_string().is_not(None),
                )
                for clock in STEP_CLOCKS
            )
        )
        for case_id, key, state, data in session.execute(
            select(Track.case_id, Step.key, Step.state, Step.data)
            .join(Track, Track.id == Step.track_id)
            .where(
                Step.deleted.is_(False),
                Track.deleted.is_(False),
                func.coalesce(Track.state, "") != "closed",  # an appeal of one withdrawn: not due
                clocked,
            )
        ):
            for found in _step_events(key, state, data):
                if found.date >= since:
                    events.setdefault(case_id, []).append(found)
    return events


def open_tasks(
    store: Store, today: dt.date, *, states: Iterable[str] = ("due_soon", "overdue")
) -> list[TaskRow]:
    """Tasks due soon or overdue across the caseload, most urgent first."""
    wanted = set(states)
    since = today - dt.timedelta(days=3 * 366)
    by_case = _case_events(store, since)
    found: list[tuple[str, deadlines.Task]] = []
    for case_id, events in by_case.items():
        for task in deadlines.tasks_for(events, today, in_force_only=True):
            if task.state in wanted:
                found.append((case_id, task))
    if not found:
        return []
    case_ids = sorted({cid for cid, _ in found})
    with store.read() as session:
        labels = {
            cid: (number or "", name or "", province or "")
            for cid, number, name, province in session.execute(
                select(
                    Case.id,
                    Case.number,
                    select(PersonName.full_name)
                    .where(PersonName.person_id == Case.person_id)
                    .order_by(PersonName.kind != "native")
                    .limit(1)
                    .scalar_subquery(),
                    Case.province_code,
                ).where(Case.id.in_(case_ids))
            )
        }
    rows = []
    for cid, t in found:
        number, name, province = labels.get(cid, ("", "", ""))
        rows.append(TaskRow(cid, number, name, t.action, t.due, t.state, t.actor, province))
    return sorted(rows, key=lambda r: (r.due, r.case_number, r.action))


def overdue_case_ids(store: Store, today: dt.date) -> set[str]:
    """Cases with at least one overdue task."""
    return {row.case_id for row in open_tasks(store, today, states=("overdue",))}


def case_ids(
    store: Store,
    filters: CaseFilter,
    sort: SortKey = "number",
    descending: bool = False,
    *,
    overdue_on: dt.date | None = None,
    limit: int | None = None,
) -> list[str]:
    """Case ids for the list, optionally only those with an overdue task on ``overdue_on``;
    the first ``limit`` of them when given (the list's first page, read before the rest)."""
    if overdue_on is None:
        return list_case_ids(store, filters, sort, descending, limit)
    overdue = overdue_case_ids(store, overdue_on)
    found = [cid for cid in list_case_ids(store, filters, sort, descending) if cid in overdue]
    return found if limit is None else found[:limit]


@dataclass(frozen=True)
class FilterChoices:
    """What the case list's filter boxes offer."""

    track_kinds: tuple[str, ...]
    step_keys: tuple[str, ...]
    provinces: tuple[str, ...]
    employers: tuple[tuple[str, str], ...]  # (id, name)


def filter_choices(store: Store, max_employers: int = 500) -> FilterChoices:
    from desktop.models.entities import Employer

    # Track kinds and step keys come from the workflow data: a DISTINCT over every step of
    # 100,000 cases took seconds. Kinds seen in the store (e.g. from an older workflow
    # version) are cheap to add: the track-kind index answers that DISTINCT.
    tracks = workflow.load().values()
    with store.read() as session:
        stored_kinds = session.scalars(select(Track.kind).distinct()).all()
        kinds = sorted({t.kind for t in tracks} | {k for k in stored_kinds if k})
        steps = sorted({step.key for t in tracks for step in t.steps})
        provinces = session.scalars(
            select(Case.province_code).distinct().order_by(Case.province_code)
        ).all()
        employers = session.execute(
            select(Employer.id, Employer.name)
            .where(Employer.deleted.is_(False))
            .order_by(Employer.name)
            .limit(max_employers)
        ).all()
    return FilterChoices(
        tuple(k for k in kinds if k),
        tuple(s for s in steps if s),
        tuple(p for p in provinces if p),
        tuple((i, n or "") for i, n in employers),
    )


# --- journey timeline ------------------------------------------------------------------------


@dataclass(frozen=True)
class JourneyEvent:
    """One point on a person's journey: when, what kind, and a catalogue key to label it."""

    day: dt.date
    kind: (
        str  # arrival | departure | document | job | job_end | registration | contributions
        # | claim | claim_end | deadline
    )
    label_key: str
    params: dict[str, Any] = field(default_factory=dict)
    state: str = ""  # for deadlines: due | due_soon | overdue


def journey(case: CaseFile, today: dt.date) -> list[JourneyEvent]:
    """The case's events on one line, oldest first: arrival to the next deadline."""
    found: list[JourneyEvent] = []
    person = case.person
    if person.arrived_on:
        found.append(JourneyEvent(person.arrived_on, "arrival", "ui.journey.arrival"))
    if person.left_on:
        found.append(JourneyEvent(person.left_on, "departure", "ui.journey.departure"))
    for doc in person.documents:
        if doc.issued_on:
            found.append(
                JourneyEvent(doc.issued_on, "document", "ui.journey.document", {"kind": doc.kind})
            )
    for job in case.employments:
        name = job.employer_name or ""
        if job.start_date:
            found.append(JourneyEvent(job.start_date, "job", "ui.journey.job", {"employer": name}))
        if job.end_date:
            found.append(
                JourneyEvent(job.end_date, "job_end", "ui.journey.job_end", {"employer": name})
            )
    months = [c.month for c in case.contributions if c.month]
    if months:
        first = YearMonth.parse(min(months)).first_day()
        found.append(
            JourneyEvent(first, "contributions", "ui.journey.contributions", {"count": len(months)})
        )
    events: list[deadlines.CaseEvent] = []
    for track in case.tracks:
        if track.kind == "enrollment":
            when = track.decided_on or track.opened_on
            if when:
                found.append(JourneyEvent(when, "registration", "ui.journey.registration"))
        elif track.event_date:
            benefit = track.benefit or track.kind
            found.append(
                JourneyEvent(track.event_date, "claim", "ui.journey.claim", {"benefit": benefit})
            )
            if track.state in ENDED_TRACK_STATES:  # decided: its deadlines are behind it
                if track.decided_on:
                    outcome = {"benefit": benefit, "outcome": track.outcome or track.state}
                    found.append(
                        JourneyEvent(track.decided_on, "claim_end", "ui.journey.claim_end", outcome)
                    )
                continue
            if not _filed(track):  # once handed in, its filing deadline is met
                found_after = cases.found_after_job(track)
                events.append(
                    deadlines.claim_event(benefit, track.event_date, found_after_job=found_after)
                )
        for step in track.steps:  # an appeal to file, a payment to collect
            events += _step_events(step.key, step.state, step.data)
        open_ = track.state not in ENDED_TRACK_STATES
        if open_ and not _filed(track) and _registered_from_the_job(track.workflow):
            events += [
                deadlines.CaseEvent("employment_started", job.start_date)
                for job in case.employments
                if job.start_date and not job.end_date
            ]
        if track.kind == COMPLAINT_KIND and open_:
            followed = _complaint_event((s.key, s.state, s.data) for s in track.steps)
            if followed is not None:
                events.append(followed)
    pink_card = holds_pink_card(case.person.documents)
    steps_done = [
        (t.workflow, s.key, s.state, t.event_date or t.opened_on)
        for t in case.tracks
        for s in t.steps
    ]
    for job in case.employments:
        if job.end_date:
            events += deadlines.job_end_events(
                job.end_date,
                job.end_reason,
                pink_card=pink_card,
                settled=_job_end_settled(case, job),
                done=_rules_done(steps_done, job.end_date),
            )
    for task in deadlines.tasks_for(events, today, in_force_only=True):
        if task.state != "due" or task.due <= today + dt.timedelta(days=400):
            found.append(JourneyEvent(task.due, "deadline", task.action, {}, state=str(task.state)))
    return sorted(found, key=lambda e: (e.day, e.kind))


# --- eligibility panel -----------------------------------------------------------------------

PANEL_BENEFITS: tuple[eligibility.Benefit, ...] = (
    eligibility.Benefit.SICKNESS,
    eligibility.Benefit.MATERNITY,
    eligibility.Benefit.INVALIDITY,
    eligibility.Benefit.DEATH,
    eligibility.Benefit.CHILD_ALLOWANCE,
    eligibility.Benefit.UNEMPLOYMENT,
    eligibility.Benefit.WORK_INJURY,
)


@dataclass(frozen=True)
class EligibilityLine:
    """The engine's answer for one benefit, or the coded reason it could not answer."""

    benefit: str
    result: eligibility.Eligibility | None
    error_code: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)


def eligibility_panel(
    case: CaseFile, on: dt.date, benefits: Sequence[eligibility.Benefit] = PANEL_BENEFITS
) -> list[EligibilityLine]:
    """Each benefit judged as if its event happened on ``on`` (or on a claim's own date)."""
    claimed = {t.benefit: t.event_date for t in case.tracks if t.benefit and t.event_date}
    return [eligibility_line(case, b, claimed.get(str(b)) or on) for b in benefits]


def eligibility_line(
    case: CaseFile,
    benefit: eligibility.Benefit,
    on: dt.date,
    reason: str | None = None,
    left: dt.date | None = None,
    found_after_job: bool = False,
) -> EligibilityLine:
    """One benefit judged for an event on ``on`` exactly: a new claim's own date, even when
    the case already holds a claim of that benefit for another event. ``reason`` and
    ``left``: a claim wizard's answers to why and when the job ended, ``found_after_job``
    that an illness the work caused was found after it ended, before they are saved.

    Unemployment without a known reason for leaving is ``ui.eligibility.reason_unknown``:
    the rate and duration depend on it, and none is assumed."""
    facts = case_facts(with_job_ended(case, left) if left else case, benefit, on, reason)
    if found_after_job:
        facts = dataclasses.replace(facts, found_after_job=True)
    if benefit is eligibility.Benefit.UNEMPLOYMENT and facts.reason is None:
        return EligibilityLine(str(benefit), None, "ui.eligibility.reason_unknown")
    try:
        result = eligibility.evaluate(facts)
    except UserError as exc:
        return EligibilityLine(str(benefit), None, exc.code, dict(exc.params))
    return EligibilityLine(str(benefit), result)


# --- contribution months pasted from a payslip table ----------------------------------------

_MONTH_YM = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_MY = re.compile(r"^(\d{1,2})[-/.](\d{4})$")


def parse_payslip_table(
    pasted: str,
    employer_id: str | None = None,
    today: dt.date | None = None,
    section: int = 33,
) -> tuple[list[ContributionInput], list[Issue]]:
    """Rows of ``month <tab> wage`` (as copied from a spreadsheet) into contribution months
    of ``section``: s.33 months are the employer's (``employer_id``), s.39 and s.40 months
    the worker's own (no employer).

    Months may be ``YYYY-MM`` or ``MM/YYYY``; a Buddhist Era year (2400 or later) is
    converted and reported as a warning-free conversion since payslips in Thailand use it.
    Wages may carry thousands separators. A header row is skipped; other bad lines are
    reported as ``ui.paste.bad_line`` with the line number and nothing of them is kept.
    Given ``today``, a month after its own (2031 typed for 2021) is ``ui.work.future_month``
    and left out too.
    """
    this_month = f"{today.year:04d}-{today.month:02d}" if today is not None else None
    rows: list[ContributionInput] = []
    found: list[Issue] = []
    for number, line in enumerate(pasted.splitlines(), start=1):
        cells = [c.strip() for c in re.split(r"\t|;|\s{2,}", line.strip()) if c.strip()]
        if not cells:
            continue
        month = _month(cells[0])
        wage = parse_amount(cells[1]) if len(cells) > 1 else None
        if month is None or wage is None:
            if number == 1 and month is None:
                continue  # a header row
            found.append(issue("ui.paste.bad_line", "contributions", line=number))
            continue
        if this_month is not None and month > this_month:
            found.append(issue("ui.work.future_month", "contributions", month=month))
            continue
        rows.append(ContributionInput(month, wage, employer_id if section == 33 else None, section))
    return rows, found


def _month(cell: str) -> str | None:
    match = _MONTH_YM.match(cell)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _MONTH_MY.match(cell)
        if not match:
            return None
        month, year = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    if year >= 2400:
        year = be_to_ce_year(year, month)
    return f"{year:04d}-{month:02d}"


# --- status bar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows until a sync has run, and after."""

    server_url: str | None
    waiting: int
    failed: int
    last_sync: str | None


def sync_status(store: Store) -> SyncStatus:
    with store.read() as session:
        waiting = int(session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)
        failed = int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.last_error.is_not(None))
            )
            or 0
        )
    url = store.setting(SERVER_SETTING, None)
    last = store.setting("last_sync_at", None)
    return SyncStatus(str(url) if url else None, waiting, failed, str(last) if last else None)


def check_attachment(store: Store, path: Path) -> int:
    """The file's size if it can be attached; ``error.attachment_too_large`` or
    ``error.attachment_unreadable`` otherwise (checked before any byte is copied)."""
    max_mb = int(store.setting("attachment_max_mb", 50))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UserError("error.attachment_unreadable", path=str(path)) from exc
    if size > max_mb * 1_048_576:
        raise UserError(
            "error.attachment_too_large", size_mb=round(size / 1_048_576, 1), max_mb=max_mb
        )
    return size
