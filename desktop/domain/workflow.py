"""Workflow engine: enrollment, claim, work-injury and enforcement tracks as data.

Definitions live in ``resources/workflows/*.yaml`` (schema in ``docs/workflows.md``) and
load into the frozen dataclasses below, from which the UI generates its wizards:

* :class:`TrackDef` - a sequence of steps for one purpose (``claim_maternity``...).
* :class:`StepDef` - the fields it needs, the documents to collect, the forms to print,
  the conditions to move on, its outcome kind and an optional deadline rule.
* :class:`FieldDef` - name, type, required, validator name, choices.

Step states only move forward::

    not_started -> in_progress -> ready -> submitted -> approved -> paid
                                                     -> rejected -> appealed

A step whose outcome is ``none`` ends at ``ready``; ``decision`` stops at approved or
rejected (then appealed); ``payment`` adds ``paid``. Going back needs :func:`reopen` with
a reason. Every change returns a :class:`WorkflowEvent` for the audit trail; the
persistence layer records it. Labels are message keys: ``workflow.track.<key>``,
``workflow.step.<key>``, ``workflow.field.<name>``, ``workflow.document.<key>``,
``workflow.form.<code>``, ``workflow.choice.<value>``, ``workflow.state.<state>``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from desktop.domain import dates, i18n, places
from desktop.domain.errors import UserError
from desktop.domain.ids import DocumentKind
from desktop.domain.names import NAME_KINDS
from desktop.domain.resources import load_yaml, resource_path
from desktop.domain.validation import Issue, has_errors, issue

Validator = Callable[[Any], Iterable[Issue]]


class WorkflowDataError(ValueError):
    """A workflow file is malformed: a bug in the bundled data, caught by the tests."""


class FieldType(enum.StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    CHOICE = "choice"
    BOOL = "bool"
    ID_NUMBER = "id_number"
    MONTH = "month"
    NUMBER = "number"
    PHONE = "phone"
    PROVINCE = "province"  # a Thai province's two-digit code (desktop.domain.places)


class Outcome(enum.StrEnum):
    """How a step ends: at ``ready`` (none), with a decision, or with a payment."""

    NONE = "none"
    DECISION = "decision"
    PAYMENT = "payment"


class Condition(enum.StrEnum):
    """What must hold before a step may become ``ready``."""

    FIELDS_COMPLETE = "fields_complete"
    DOCUMENTS_COLLECTED = "documents_collected"
    FORMS_PRINTED = "forms_printed"


class StepState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    APPEALED = "appealed"


# Order of states: a transition or reopen compares ranks.
RANK: Mapping[StepState, int] = MappingProxyType(
    {
        StepState.NOT_STARTED: 0,
        StepState.IN_PROGRESS: 1,
        StepState.READY: 2,
        StepState.SUBMITTED: 3,
        StepState.APPROVED: 4,
        StepState.REJECTED: 4,
        StepState.PAID: 5,
        StepState.APPEALED: 5,
    }
)

# A step in one of these states has not been handed to the authority yet; in one of the
# others it has (submitted, and decided or paid since).
UNFILED: frozenset[StepState] = frozenset(
    {StepState.NOT_STARTED, StepState.IN_PROGRESS, StepState.READY}
)
FILED: frozenset[StepState] = frozenset(StepState) - UNFILED

# Forward moves for each outcome kind.
_FORWARD: Mapping[Outcome, Mapping[StepState, tuple[StepState, ...]]] = MappingProxyType(
    {
        Outcome.NONE: {
            StepState.NOT_STARTED: (StepState.IN_PROGRESS,),
            StepState.IN_PROGRESS: (StepState.READY,),
        },
        Outcome.DECISION: {
            StepState.NOT_STARTED: (StepState.IN_PROGRESS,),
            StepState.IN_PROGRESS: (StepState.READY,),
            StepState.READY: (StepState.SUBMITTED,),
            StepState.SUBMITTED: (StepState.APPROVED, StepState.REJECTED),
            StepState.REJECTED: (StepState.APPEALED,),
        },
        Outcome.PAYMENT: {
            StepState.NOT_STARTED: (StepState.IN_PROGRESS,),
            StepState.IN_PROGRESS: (StepState.READY,),
            StepState.READY: (StepState.SUBMITTED,),
            StepState.SUBMITTED: (StepState.APPROVED, StepState.REJECTED),
            StepState.APPROVED: (StepState.PAID,),
            StepState.REJECTED: (StepState.APPEALED,),
        },
    }
)

# States in which a step no longer holds up the track.
_DONE: Mapping[Outcome, frozenset[StepState]] = MappingProxyType(
    {
        Outcome.NONE: frozenset({StepState.READY}),
        Outcome.DECISION: frozenset({StepState.APPROVED, StepState.REJECTED, StepState.APPEALED}),
        Outcome.PAYMENT: frozenset({StepState.PAID, StepState.REJECTED, StepState.APPEALED}),
    }
)


@dataclass(frozen=True)
class FieldDef:
    """One input of a step. ``validator`` names a function the caller supplies.

    ``fact`` says what the value becomes when the track is committed: a fact about the
    person (``document.<kind>.<field>``, ``employer.<field>``, ``employment.<field>``,
    ``person.<field>``) or ``event_date``, the date of the event the track is about; or,
    for ``person.name.<kind>`` (:func:`name_kind`), only which of the person's names the
    field starts with.
    """

    name: str
    type: FieldType
    required: bool = True
    validator: str | None = None
    choices: tuple[str, ...] = ()
    fact: str | None = None
    # a date field of the same step this date may not be before (an appeal is filed after
    # its decision arrived)
    not_before: str | None = None
    # asked only when a choice field of the same track has one of the given values (who
    # claims, when the injury killed the worker): field name -> values; empty: always
    when: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )


@dataclass(frozen=True)
class StepWhen:
    """A step applies only when another step of the track is in one of ``states``."""

    step: str
    states: frozenset[StepState]


@dataclass(frozen=True)
class StepDef:
    """One step of a track: what to fill in, gather and print, and how it ends."""

    key: str
    fields: tuple[FieldDef, ...] = ()
    documents: tuple[str, ...] = ()
    # Gathered when there are any (a KT.44 referral the employer may never have issued):
    # on the checklist, but ``documents_collected`` does not wait for them.
    optional_documents: tuple[str, ...] = ()
    # Documents of either list gathered only when a choice field of the same track has one
    # of the given values (a marriage certificate when the father claims for his wife):
    # document key -> field name -> values. A document not named here is always gathered.
    document_when: Mapping[str, Mapping[str, tuple[str, ...]]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    forms: tuple[str, ...] = ()
    advance_when: tuple[Condition, ...] = ()
    outcome: Outcome = Outcome.NONE
    deadline: str | None = None  # a deadline rule id in resources/rules/deadlines.yaml
    when: StepWhen | None = None


@dataclass(frozen=True)
class TrackDef:
    """A whole workflow: enrollment by document path, a claim, work injury, enforcement."""

    key: str
    kind: str  # enrollment | claim | work_injury | enforcement
    steps: tuple[StepDef, ...]
    benefit: str | None = None
    document_path: str | None = None

    def find(self, key: str) -> StepDef | None:
        """The step named ``key``, or None (stored data may name a step no longer defined)."""
        return next((step for step in self.steps if step.key == key), None)

    def step(self, key: str) -> StepDef:
        """The step named ``key``; an unknown key is a caller bug."""
        found = self.find(key)
        if found is None:
            raise KeyError(f"{self.key} has no step {key!r}")
        return found


@dataclass(frozen=True)
class StepProgress:
    """What is known of one step of one case: its state and what has been gathered."""

    step: str
    state: StepState = StepState.NOT_STARTED
    values: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    documents: frozenset[str] = frozenset()
    forms_printed: frozenset[str] = frozenset()
    # The values of every step of the track (what a document's condition reads: the
    # claimant chosen on the first step decides the documents gathered on the second).
    track_values: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )


@dataclass(frozen=True)
class WorkflowEvent:
    """A state change for the audit trail (``step.advanced`` or ``step.reopened``)."""

    kind: str
    track: str
    step: str
    from_state: StepState
    to_state: StepState
    reason: str = ""


def label_key(kind: str, key: str) -> str:
    """The catalogue key naming a step, field, document (``doc``), form or choice: the
    engine's ``workflow.<kind>.<key>`` first, else the screens' ``ui.wf.<kind>.<key>``
    (which is also what is returned when neither is in the catalogue)."""
    engine_kind = "document" if kind == "doc" else kind
    for candidate in (f"workflow.{engine_kind}.{key}", f"ui.wf.{kind}.{key}"):
        if i18n.has(candidate):
            return candidate
    return f"ui.wf.{kind}.{key}"


def step_name(key: str) -> i18n.Label:
    """A step as a message names it: its label in the reader's language."""
    return i18n.Label(label_key("step", key))


def state_name(state: str) -> i18n.Label:
    """A step's state as a message names it (``ui.step_state.<state>``, as the screens)."""
    return i18n.Label(f"ui.step_state.{state}")


def allowed_next(step: StepDef, state: StepState) -> tuple[StepState, ...]:
    """The states ``step`` may move forward to from ``state``."""
    return _FORWARD[step.outcome].get(state, ())


def reopen_targets(step: StepDef, state: StepState) -> tuple[StepState, ...]:
    """The states ``step`` may be reopened to from ``state``: those its outcome's path
    passes through before it (``paid`` goes back to ``approved``, never to ``rejected``),
    latest first, ``not_started`` left out."""
    forward = _FORWARD[step.outcome]
    found: list[StepState] = []
    frontier = [state]
    while frontier:
        later = frontier.pop()
        for earlier, nexts in forward.items():
            if later in nexts and earlier not in found and earlier is not StepState.NOT_STARTED:
                found.append(earlier)
                frontier.append(earlier)
    return tuple(sorted(found, key=lambda s: RANK[s], reverse=True))


def is_filing(step: StepDef) -> bool:
    """Whether ``step`` hands its track in to an authority: a step with a decision that
    every case goes through (a claim's filing, an enrollment's registration), not one that
    follows another outcome (an appeal)."""
    return step.outcome is not Outcome.NONE and step.when is None


def is_done(step: StepDef, state: StepState) -> bool:
    """True when the step no longer holds up the rest of its track."""
    return state in _DONE[step.outcome]


def carried_out(step: StepDef, state: str | None) -> bool:
    """Whether the step's own work, what its ``deadline`` asks, has been done in ``state``:
    a step without a decision ready, one with a decision handed in (whatever came of it)."""
    if step.outcome is Outcome.NONE:
        return state == StepState.READY
    return state in FILED


def _value_ok(field: FieldDef, value: Any) -> bool:
    """Whether ``value`` has the shape the field type needs."""
    if field.type is FieldType.DATE:
        return isinstance(value, dt.date)
    if field.type is FieldType.MONEY:
        return isinstance(value, Decimal | int) and not isinstance(value, bool) and value >= 0
    if field.type is FieldType.NUMBER:
        return isinstance(value, Decimal | int) and not isinstance(value, bool)
    if field.type is FieldType.BOOL:
        return isinstance(value, bool)
    if field.type is FieldType.CHOICE:
        return value in field.choices
    if field.type is FieldType.PROVINCE:
        return value in places.provinces()
    return isinstance(value, str) and bool(value.strip())


def holds(when: Mapping[str, tuple[str, ...]], values: Mapping[str, Any]) -> bool:
    """Whether a document's or a field's condition holds for a track's ``values``: every
    field it names has one of its values (a field with no value yet does not)."""
    return all(values.get(name) in wanted for name, wanted in when.items())


def needed_documents(
    step: StepDef, values: Mapping[str, Any], optional: bool = False
) -> tuple[str, ...]:
    """The required (or, with ``optional``, the optional) documents of ``step`` to gather
    for a track with ``values``: those without a condition, and those whose condition
    holds (:func:`holds`)."""
    keys = step.optional_documents if optional else step.documents
    return tuple(key for key in keys if holds(step.document_when.get(key, {}), values))


def dates_out_of_order(pairs: Iterable[tuple[str, str]], values: Mapping[str, Any]) -> list[Issue]:
    """``workflow.date_before`` for each (field, not_before) pair of ``values`` whose date
    comes before the other's (an appeal filed before its decision arrived). A value is a
    date or its ISO text, as the editors give it; one missing or not a date is not compared."""
    found = []
    for name, earlier in pairs:
        value = dates.stored_date(values.get(name))
        earliest = dates.stored_date(values.get(earlier))
        if value is not None and earliest is not None and value < earliest:
            other = i18n.Label(label_key("field", earlier))
            found.append(issue("workflow.date_before", name, other=other))
    return found


def check(
    step: StepDef, progress: StepProgress, validators: Mapping[str, Validator] | None = None
) -> tuple[Issue, ...]:
    """What stands between ``progress`` and ``ready``, as coded issues.

    Given values are always type-checked and run through their named validator when the
    caller supplies it in ``validators``; the step's ``advance_when`` conditions add
    ``workflow.field_required``, ``workflow.document_missing`` and
    ``workflow.form_not_printed``. A document whose condition does not hold for the
    track's values (``progress.track_values`` with the step's own) is not waited for.
    """
    validators = validators or {}
    found: list[Issue] = []
    track_values = {**progress.track_values, **progress.values}
    for field in step.fields:
        if not holds(field.when, track_values):
            continue  # not asked for this track (who claims, when no one died)
        value = progress.values.get(field.name)
        if value is None or value == "":
            if field.required and Condition.FIELDS_COMPLETE in step.advance_when:
                found.append(issue("workflow.field_required", field.name))
            continue
        if not _value_ok(field, value):
            found.append(issue("workflow.field_invalid", field.name, type=str(field.type)))
            continue
        validate = validators.get(field.validator or "")
        if validate is not None:
            # Validators name their own field generically; report it as this step's field.
            found.extend(dataclasses.replace(i, field=field.name) for i in validate(value))
        if field.not_before is not None:
            found.extend(dates_out_of_order([(field.name, field.not_before)], progress.values))
    if Condition.DOCUMENTS_COLLECTED in step.advance_when:
        needed = needed_documents(step, track_values)
        missing = [d for d in needed if d not in progress.documents]
        found.extend(issue("workflow.document_missing", d) for d in missing)
    if Condition.FORMS_PRINTED in step.advance_when:
        unprinted = [f for f in step.forms if f not in progress.forms_printed]
        found.extend(issue("workflow.form_not_printed", f) for f in unprinted)
    return tuple(found)


def advance(
    track: TrackDef,
    progress: StepProgress,
    to: StepState,
    validators: Mapping[str, Validator] | None = None,
) -> tuple[StepProgress, WorkflowEvent]:
    """Move a step forward to ``to``.

    Raises :class:`UserError` ``error.workflow_transition`` for a move that is not
    forward along the step's outcome, and ``error.workflow_not_ready`` (with the issues)
    when moving to ``ready`` while a condition is unmet.
    """
    step = track.step(progress.step)
    if to not in allowed_next(step, progress.state):
        raise UserError(
            "error.workflow_transition",
            step=step_name(step.key),
            from_state=state_name(progress.state),
            to_state=state_name(to),
        )
    if to is StepState.READY:
        found = check(step, progress, validators)
        if has_errors(found):
            raise UserError("error.workflow_not_ready", issues=found, step=step_name(step.key))
    event = WorkflowEvent("step.advanced", track.key, step.key, progress.state, to)
    return dataclasses.replace(progress, state=to), event


def reopen(
    track: TrackDef,
    progress: StepProgress,
    reason: str,
    to: StepState = StepState.IN_PROGRESS,
) -> tuple[StepProgress, WorkflowEvent]:
    """Move a step back on purpose; the reason goes into the audit event.

    Raises :class:`UserError` ``error.workflow_reopen_reason`` without a reason and
    ``error.workflow_reopen_backward`` unless ``to`` is earlier than the current state.
    """
    step = track.step(progress.step)
    if not reason.strip():
        raise UserError("error.workflow_reopen_reason", step=step_name(step.key))
    if RANK[to] >= RANK[progress.state]:
        raise UserError(
            "error.workflow_reopen_backward",
            step=step_name(step.key),
            from_state=state_name(progress.state),
            to_state=state_name(to),
        )
    event = WorkflowEvent("step.reopened", track.key, step.key, progress.state, to, reason.strip())
    return dataclasses.replace(progress, state=to), event


def applies(step: StepDef, progress: Mapping[str, StepProgress]) -> bool:
    """Whether a conditional step (e.g. an appeal after a rejection) is part of the case."""
    if step.when is None:
        return True
    other = progress.get(step.when.step)
    return other is not None and other.state in step.when.states


def current_step(track: TrackDef, progress: Mapping[str, StepProgress]) -> StepDef | None:
    """The step to work on now, or None when the track is finished.

    The first applicable step that is not done, skipping steps that are ``submitted``
    (waiting for the authority, e.g. while a complaint is followed up); when only
    waiting steps remain, the first of them.
    """
    waiting: list[StepDef] = []
    for step in track.steps:
        state = progress.get(step.key, StepProgress(step.key)).state
        if not applies(step, progress) or is_done(step, state):
            continue
        if state is not StepState.SUBMITTED:
            return step
        waiting.append(step)
    return waiting[0] if waiting else None


# --- loading -------------------------------------------------------------------------


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise WorkflowDataError(f"{where}: expected a list of names")
    return tuple(raw)


EVENT_DATE_FACT = "event_date"
# What a field's value may become when the track is committed (docs/workflows.md): a new
# identity document's, employer's or job's attribute, or the event date.
FACT_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "document": frozenset({"number", "issued_on", "expires_on"}),
        "employer": frozenset({"name", "sso_account", "sso_branch", "province_code"}),
        # end_date alone: the day the person's current job ended, on that job
        "employment": frozenset(
            {"start_date", "monthly_wage", "occupation", "section", "end_date"}
        ),
        # filled in on the person when what is on file says less (a birth year alone, no
        # nationality)
        "person": frozenset({"birth_date", "nationality"}),
    }
)
# A field's fact that names a kind of the person's name ("person.name.passport": the name as
# in the passport): a new wizard's field starts with the person's name of that kind, and
# the commit writes no name (the Person tab records names).
NAME_FACT = "person.name."


def name_kind(fact: str | None) -> str | None:
    """The kind of name a field's fact asks for (``passport`` for ``person.name.passport``),
    or None for a fact that names none."""
    if not fact or not fact.startswith(NAME_FACT):
        return None
    kind = fact.removeprefix(NAME_FACT)
    return kind if kind in NAME_KINDS else None


def _fact(raw: Any, where: str) -> str | None:
    """A field's ``fact``, refused at load when it names nothing the commit knows.

    A misspelt fact would otherwise be dropped silently when the wizard commits.
    """
    if raw is None:
        return None
    if raw == EVENT_DATE_FACT:
        return EVENT_DATE_FACT
    if name_kind(str(raw)) is not None:
        return str(raw)
    parts = str(raw).split(".")
    known = FACT_ATTRIBUTES.get(parts[0], frozenset())
    if parts[0] == "document" and len(parts) == 3:
        kind_ok = parts[1] in {kind.value for kind in DocumentKind}
        if kind_ok and parts[2] in known:
            return str(raw)
    elif parts[0] != "document" and len(parts) == 2 and parts[1] in known:
        return str(raw)
    raise WorkflowDataError(f"{where}: unknown fact {raw!r}")


def _field(raw: Any, where: str) -> FieldDef:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise WorkflowDataError(f"{where}: a field needs a name")
    try:
        kind = FieldType(str(raw.get("type")))
    except ValueError:
        raise WorkflowDataError(f"{where}: unknown field type {raw.get('type')!r}") from None
    choices = _strings(raw.get("choices", []), where)
    if (kind is FieldType.CHOICE) != bool(choices):
        raise WorkflowDataError(f"{where}: choices go with type choice, and only with it")
    return FieldDef(
        name=raw["name"],
        type=kind,
        required=bool(raw.get("required", True)),
        validator=raw.get("validator"),
        choices=choices,
        fact=_fact(raw.get("fact"), where),
        not_before=raw.get("not_before"),
        when=_when(raw.get("when"), where),
    )


def _when(raw: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    """A condition ``{field: value or [values]}`` (its fields are checked by :func:`_track`)."""
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, Mapping) or not raw:
        raise WorkflowDataError(f"{where}: a when names fields and their values")
    return MappingProxyType(
        {
            str(name): _strings(wanted if isinstance(wanted, list) else [wanted], where)
            for name, wanted in raw.items()
        }
    )


def _documents(
    raw: Any, conditions: dict[str, Mapping[str, tuple[str, ...]]], where: str
) -> tuple[str, ...]:
    """A step's document keys; an entry ``{key: ..., when: {field: value or [values]}}``
    adds its condition to ``conditions`` (its fields are checked by :func:`_track`)."""
    if not isinstance(raw, list):
        raise WorkflowDataError(f"{where}: expected a list of names")
    keys: list[str] = []
    for entry in raw:
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str):
            when = entry.get("when")
            if not isinstance(when, Mapping) or not when or set(entry) != {"key", "when"}:
                raise WorkflowDataError(f"{where}: a document needs a key and a when")
            conditions[entry["key"]] = _when(when, where)
            entry = entry["key"]
        if not isinstance(entry, str):
            raise WorkflowDataError(f"{where}: expected a list of names")
        keys.append(entry)
    return tuple(keys)


def _step(raw: Any, library: Mapping[str, Any], where: str) -> StepDef:
    if isinstance(raw, Mapping) and "use" in raw:
        if raw["use"] not in library:
            raise WorkflowDataError(f"{where}: no shared step {raw['use']!r}")
        raw = {**library[raw["use"]], **{k: v for k, v in raw.items() if k != "use"}}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
        raise WorkflowDataError(f"{where}: a step needs a key")
    try:
        outcome = Outcome(raw.get("outcome", "none"))
        conditions = tuple(Condition(c) for c in _strings(raw.get("advance_when", []), where))
        when = raw.get("when")
        step_when = (
            None
            if when is None
            else StepWhen(str(when["step"]), frozenset(StepState(s) for s in when["states"]))
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WorkflowDataError(f"{where}: {exc}") from None
    fields = tuple(_field(f, f"{where}.fields") for f in raw.get("fields", []))
    date_fields = {f.name for f in fields if f.type is FieldType.DATE}
    for field in fields:
        if field.not_before is not None and (
            field.type is not FieldType.DATE or field.not_before not in date_fields
        ):
            raise WorkflowDataError(
                f"{where}.{field.name}: not_before names a date field of the same step"
            )
    document_when: dict[str, Mapping[str, tuple[str, ...]]] = {}
    documents = _documents(raw.get("documents", []), document_when, where)
    optional = _documents(raw.get("optional_documents", []), document_when, where)
    if set(documents) & set(optional):
        raise WorkflowDataError(f"{where}: a document is both required and optional")
    return StepDef(
        key=raw["key"],
        fields=fields,
        documents=documents,
        optional_documents=optional,
        document_when=MappingProxyType(document_when),
        forms=_strings(raw.get("forms", []), where),
        advance_when=conditions,
        outcome=outcome,
        deadline=raw.get("deadline"),
        when=step_when,
    )


def _track(key: str, raw: Any, library: Mapping[str, Any], where: str) -> TrackDef:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("steps"), list) or not raw["steps"]:
        raise WorkflowDataError(f"{where}: a track needs a list of steps")
    steps = tuple(_step(s, library, f"{where}.steps[{i}]") for i, s in enumerate(raw["steps"]))
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise WorkflowDataError(f"{where}: step keys must be unique")
    for step in steps:
        if step.when is not None and step.when.step not in keys:
            raise WorkflowDataError(f"{where}: {step.key} depends on unknown step")
    choices = {f.name: f.choices for s in steps for f in s.fields}
    for step in steps:
        conditional = [
            *step.document_when.items(),
            *((f.name, f.when) for f in step.fields if f.when),
        ]
        for what, when in conditional:
            for name, wanted in when.items():
                if not choices.get(name):
                    raise WorkflowDataError(
                        f"{where}: {step.key}.{what} depends on {name!r}, no choice field"
                    )
                if set(wanted) - set(choices[name]):
                    raise WorkflowDataError(
                        f"{where}: {step.key}.{what} waits for a value {name!r} cannot have"
                    )
    return TrackDef(
        key=key,
        kind=str(raw.get("kind", "")),
        steps=steps,
        benefit=raw.get("benefit"),
        document_path=raw.get("document_path"),
    )


def parse(documents: Mapping[str, Any]) -> Mapping[str, TrackDef]:
    """Track definitions from parsed YAML documents keyed by file name.

    Shared steps (top-level ``steps:`` of any file) are referenced from tracks with
    ``{use: <key>}``; keys given beside ``use`` override the shared definition.
    """
    library: dict[str, Any] = {}
    for name, document in documents.items():
        if not isinstance(document, Mapping):
            raise WorkflowDataError(f"{name}: top level must be a mapping")
        library.update(document.get("steps") or {})
    tracks: dict[str, TrackDef] = {}
    for name, document in documents.items():
        for key, raw in (document.get("tracks") or {}).items():
            if key in tracks:
                raise WorkflowDataError(f"{name}: track {key!r} is defined twice")
            tracks[key] = _track(key, raw, library, f"{name}:{key}")
    return MappingProxyType(tracks)


@functools.cache
def load() -> Mapping[str, TrackDef]:
    """The bundled track definitions, loaded once."""
    folder = resource_path("workflows")
    return parse({path.name: load_yaml(path) for path in sorted(folder.glob("*.yaml"))})


def track(key: str) -> TrackDef:
    """One bundled track; an unknown key is a UserError ``error.workflow_unknown_track``."""
    try:
        return load()[key]
    except KeyError:
        raise UserError("error.workflow_unknown_track", track=key) from None
