"""A track's steps as the workflow engine sees them, and the moves a caseworker makes.

The engine (:mod:`desktop.domain.workflow`) says where a step may move and what must hold
before it is ``ready``; this module reads the stored rows in its terms and writes the
moves. :func:`move_step` moves a step forward (a claim filed, approved, paid), opens the
next step once one is done (putting the documents it gathers on the checklist: an
appeal's decision letter) and closes the track when nothing is left; :func:`reopen_step`
moves one back on purpose with a reason, reopening a closed track. Each move is an audit
event (``step.advanced``, ``step.reopened``, ``track.closed``, ``track.reopened``) beside
the field changes the sync layer carries: a step's ``state`` merges ``forward``, so a step
back made on one laptop while another moved it on reaches a coordinator as a conflict.

:func:`step_choices` is what the case file offers for each step of a track it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import catalogue, field_validators, workflow
from desktop.domain.catalogue import FORWARD_ORDER
from desktop.domain.errors import UserError
from desktop.domain.text import clean
from desktop.domain.validation import Issue
from desktop.domain.workflow import StepDef, StepProgress, StepState, TrackDef
from desktop.models.base import live_row
from desktop.models.entities import ChecklistItem, Step, Track
from desktop.models.recorder import record_action
from desktop.models.store import Store
from desktop.services import cases
from desktop.services.cases import TrackView
from sync.protocol import MAX_LIST_ITEMS

_STATES = frozenset(s.value for s in StepState)
# Checklist statuses that mean the document is in hand.
IN_HAND = frozenset({"received", "present", "verified", "attached", "done", "submitted"})
# The longest note a checklist item keeps (folded twins' notes join within it).
NOTE_LENGTH = catalogue.entity("checklist_item").fields["note"].max_length or 500


class _ChecklistLike(Protocol):
    @property
    def status(self) -> str | None: ...

    @property
    def attachment_ids(self) -> Any: ...


def in_hand(item: _ChecklistLike) -> bool:
    """Whether a checklist item (row or view) counts as collected."""
    return (item.status or "") in IN_HAND or bool(item.attachment_ids)


def _typed_values(step: StepDef, values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored step data (JSON: dates and amounts as text) typed as the engine checks it."""
    typed = dict(values)
    for field in step.fields:
        value = typed.get(field.name)
        if not isinstance(value, str) or not value:
            continue
        try:
            if field.type is workflow.FieldType.DATE:
                typed[field.name] = dt.date.fromisoformat(value)
            elif field.type in (workflow.FieldType.MONEY, workflow.FieldType.NUMBER):
                typed[field.name] = Decimal(value.replace(",", ""))
        except (ValueError, InvalidOperation):
            pass  # left as text: check() reports it as workflow.field_invalid
    return typed


def step_progress(
    step: StepDef,
    state: str,
    values: Mapping[str, Any],
    documents: frozenset[str],
    track_values: Mapping[str, Any] | None = None,
) -> StepProgress:
    """A stored step as the workflow engine sees it (``forms_printed`` read from its data);
    ``track_values``, the values of every step of its track, decide which of its documents
    are needed (:func:`track_values`)."""
    printed = values.get("forms_printed") or ()
    return StepProgress(
        step=step.key,
        state=StepState(state or StepState.NOT_STARTED),
        values=MappingProxyType(_typed_values(step, values)),
        documents=documents,
        forms_printed=frozenset(str(f) for f in printed),
        track_values=MappingProxyType(dict(track_values or {})),
    )


def track_values(steps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The values of a track's steps as one mapping, later steps over earlier ones (what a
    document's condition reads: the claimant chosen on the first step)."""
    found: dict[str, Any] = {}
    for values in steps:
        found.update(values)
    return found


def _progress(
    definition: TrackDef,
    steps: Iterable[tuple[str, str, Mapping[str, Any]]],
    documents: frozenset[str],
) -> dict[str, StepProgress]:
    """The engine's view of a track's stored ``(key, state, data)`` steps."""
    stored = list(steps)
    every = track_values(data or {} for _, _, data in stored)
    found: dict[str, StepProgress] = {}
    for key, state, data in stored:
        step = definition.find(key)
        # a state the engine has no move for (a track state such as "closed" set on a step
        # by another tool) leaves the step out: it is shown, never moved
        if step is not None and (state or StepState.NOT_STARTED) in _STATES:
            found[key] = step_progress(step, state, data or {}, documents, every)
    return found


@dataclass(frozen=True)
class StepChoice:
    """One step of a track as the case file offers it."""

    step_id: str
    key: str
    state: str
    applies: bool  # False: a step for another outcome (an appeal while nothing was rejected)
    current: bool  # the step to work on now
    moves: tuple[str, ...]  # the states it may move forward to now
    blockers: tuple[Issue, ...]  # what stands between it and ``ready`` (when that is a move)
    reopen_to: tuple[str, ...]  # the states it may be moved back to, latest first


def step_choices(track: TrackView, today: dt.date | None = None) -> tuple[StepChoice, ...]:
    """What each step of ``track`` may do next; empty for a track without a workflow."""
    definition = workflow.load().get(track.workflow or "")
    if definition is None:
        return ()
    documents = frozenset(i.doc_key for i in track.checklist if in_hand(i))
    progress = _progress(definition, ((s.key, s.state, s.data) for s in track.steps), documents)
    current = (
        None if finished(definition, progress) else workflow.current_step(definition, progress)
    )
    checks = field_validators.validators(today or dt.date.today())
    choices: list[StepChoice] = []
    for view in track.steps:
        step = definition.find(view.key)
        mine = progress.get(view.key)
        if step is None or mine is None:
            continue
        applies = workflow.applies(step, progress)
        moves = workflow.allowed_next(step, mine.state) if applies else ()
        blockers = workflow.check(step, mine, checks) if StepState.READY in moves else ()
        choices.append(
            StepChoice(
                step_id=view.id,
                key=view.key,
                state=mine.state.value,
                applies=applies,
                current=current is not None and current.key == view.key,
                moves=tuple(m.value for m in moves),
                blockers=tuple(i for i in blockers if i.is_error),
                reopen_to=tuple(s.value for s in workflow.reopen_targets(step, mine.state)),
            )
        )
    return tuple(choices)


def find_step(store: Store, case: str, key: str, track: str | None = None) -> str:
    """The id of step ``key`` of a case (its number or id), for a command line that names
    steps: ``track`` (a workflow key, a benefit or a track kind) picks the track when two
    of the case's tracks have that step. Raises :class:`UserError`
    ``error.case_not_found``, ``error.step_unknown`` and ``error.step_ambiguous``."""
    with store.read() as session:
        found = cases.find_case(session, case)
        rows = session.execute(
            select(Step.id, Track.workflow, Track.benefit, Track.kind)
            .join(Track, Track.id == Step.track_id)
            .where(
                Track.case_id == found.id,
                Track.deleted.is_(False),
                Step.deleted.is_(False),
                Step.key == key,
            )
            .order_by(Track.opened_on, Track.id)
        ).all()
    if track:
        rows = [r for r in rows if track in (r.workflow, r.benefit, r.kind)]
    if not rows:
        raise UserError("error.step_unknown", step=key, case=case)
    if len(rows) > 1:
        names = ", ".join(str(r.workflow or r.benefit or r.kind) for r in rows)
        raise UserError("error.step_ambiguous", step=key, tracks=names)
    return str(rows[0].id)


@dataclass(frozen=True)
class StepMove:
    """What a move changed: the step, the step opened after it, the track's state."""

    step_id: str
    from_state: str
    to_state: str
    opened: str | None  # the id of the next step, now in progress
    track_state: str


@dataclass
class _Loaded:
    track: Track
    definition: TrackDef
    rows: dict[str, Step]  # by step key
    progress: dict[str, StepProgress]


def _load(session: Session, step_id: str) -> tuple[Step, _Loaded | None]:
    """The step and, when its track has a workflow definition naming it, the whole track."""
    step = live_row(session, Step, step_id)
    track = live_row(session, Track, step.track_id or "")
    definition = workflow.load().get(track.workflow or "")
    if definition is None or definition.find(step.key or "") is None:
        return step, None
    rows = {
        r.key or "": r
        for r in session.scalars(
            select(Step).where(Step.track_id == track.id, Step.deleted.is_(False))
        )
    }
    return step, _Loaded(track, definition, rows, _progress_of(session, track, definition, rows))


def _known(loaded: _Loaded, key: str) -> StepProgress:
    """The engine's view of step ``key``; a stored state it has no move for is refused."""
    found = loaded.progress.get(key)
    if found is None:
        state = loaded.rows[key].state or ""
        raise UserError("error.bad_step_state", state=state, states=", ".join(_STATES))
    return found


def documents_in_hand(session: Session, track_id: str) -> frozenset[str]:
    """The document keys of a track's checklist that are collected, inside the caller's
    transaction (what the engine's ``documents_collected`` checks)."""
    items = session.scalars(
        select(ChecklistItem).where(
            ChecklistItem.track_id == track_id, ChecklistItem.deleted.is_(False)
        )
    )
    return frozenset(i.doc_key or "" for i in items if in_hand(i))


def _progress_of(
    session: Session, track: Track, definition: TrackDef, rows: Mapping[str, Step]
) -> dict[str, StepProgress]:
    return _progress(
        definition,
        ((k, r.state or "not_started", r.data or {}) for k, r in rows.items()),
        documents_in_hand(session, track.id),
    )


def _event(session: Session, row: Step, event: workflow.WorkflowEvent) -> None:
    details: dict[str, Any] = {
        "track": event.track,
        "step": event.step,
        "previous": event.from_state.value,
        "to": event.to_state.value,
    }
    if event.reason:
        details["reason"] = event.reason
    record_action(session, event.kind, "step", row.id, row.office or "", **details)


def move_step(store: Store, step_id: str, to: str, today: dt.date | None = None) -> StepMove:
    """Move a step forward to ``to`` by its workflow's rules, in one transaction.

    Raises :class:`UserError`: ``error.not_found``; ``error.workflow_unknown_track`` for a
    track without a workflow definition; ``error.step_not_applicable`` for a step of
    another outcome (an appeal of a claim not rejected); ``error.workflow_transition`` for
    a move that is not one step forward; ``error.workflow_not_ready`` with the issues when
    a field, document or printed form that ``ready`` needs is missing.
    """
    try:
        target = StepState(to)
    except ValueError:
        raise UserError("error.bad_step_state", state=to, states=", ".join(StepState)) from None
    with store.session() as session:
        row, loaded = _load(session, step_id)
        if loaded is None:
            track = session.get(Track, row.track_id)
            workflow_key = (track.workflow or track.kind or "") if track is not None else ""
            raise UserError("error.workflow_unknown_track", track=workflow_key)
        key = row.key or ""
        step = loaded.definition.step(key)
        if not workflow.applies(step, loaded.progress):
            raise UserError("error.step_not_applicable", step=workflow.step_name(key))
        checks = field_validators.validators(today or dt.date.today())
        moved, event = workflow.advance(loaded.definition, _known(loaded, key), target, checks)
        row.state = moved.state.value
        loaded.progress[key] = moved
        _event(session, row, event)
        if moved.state is StepState.IN_PROGRESS:  # a step started by hand
            _list_documents(session, loaded, step)
        opened = _open_next(session, loaded, key)
        _settle_track(session, loaded, today)
        return StepMove(
            row.id, event.from_state.value, event.to_state.value, opened, loaded.track.state or ""
        )


def follow_up(session: Session, step_id: str, today: dt.date | None = None) -> None:
    """After a step of a track moved forward inside the caller's transaction (as printing
    its forms does): open the step to work on next and close the track when none is left."""
    row, loaded = _load(session, step_id)
    if loaded is not None:
        _open_next(session, loaded, row.key or "")
        _settle_track(session, loaded, today)


def _open_next(session: Session, loaded: _Loaded, after: str) -> str | None:
    """Once step ``after`` is done, put the next step that applies in progress if it has
    not started (a claim rejected opens its appeal though an earlier step was never marked
    done); its id, if so."""
    definition, progress = loaded.definition, loaded.progress
    keys = [s.key for s in definition.steps]
    if not workflow.is_done(definition.step(after), progress[after].state):
        return None
    nxt = next(
        (
            s
            for s in definition.steps[keys.index(after) + 1 :]
            if s.key in loaded.rows and workflow.applies(s, progress)
        ),
        None,
    )
    if nxt is None or progress[nxt.key].state is not StepState.NOT_STARTED:
        return None
    moved, event = workflow.advance(definition, progress[nxt.key], StepState.IN_PROGRESS)
    row = loaded.rows[nxt.key]
    row.state = moved.state.value
    progress[nxt.key] = moved
    _event(session, row, event)
    _list_documents(session, loaded, nxt)
    return row.id


def _list_documents(session: Session, loaded: _Loaded, step: StepDef) -> None:
    """Put the documents ``step`` gathers on its track's checklist where they are not yet
    (an appeal's decision letter: a wizard lists only the documents of the steps every case
    goes through), so they can be attached and the step made ready. A document whose
    condition does not hold for the track's values is left off."""
    values = track_values(p.values for p in loaded.progress.values())
    wanted = [(d, True) for d in workflow.needed_documents(step, values)] + [
        (d, False) for d in workflow.needed_documents(step, values, optional=True)
    ]
    if not wanted:
        return
    track = loaded.track
    listed = set(
        session.scalars(
            select(ChecklistItem.doc_key).where(
                ChecklistItem.track_id == track.id, ChecklistItem.deleted.is_(False)
            )
        )
    )
    for doc_key, required in wanted:
        if doc_key not in listed:
            session.add(cases.missing_item(track, doc_key, required))


def save_fields(store: Store, step_id: str, data: Mapping[str, Any]) -> None:
    """Fill in or correct a step's fields (the case file's Fill in…), merged over what it
    holds. A choice another step's documents depend on (the maternity claim's claimant)
    brings the checklist up to date: a document now needed is listed, or required again;
    one no longer needed stays, with its scans, as not required."""
    with store.session() as session:  # the fields and the checklist: one transaction
        cases.merge_step_data(live_row(session, Step, step_id), data)
        _row, loaded = _load(session, step_id)  # the track as the fields now make it
        if loaded is None:
            return
        values = track_values(p.values for p in loaded.progress.values())
        conditional = [s for s in loaded.definition.steps if s.document_when]
        for step in conditional:
            if step.key in loaded.progress:
                _list_documents(session, loaded, step)
        required = {doc for step in conditional for doc in workflow.needed_documents(step, values)}
        depending = {doc for step in conditional for doc in step.document_when}
        for item in session.scalars(
            select(ChecklistItem).where(
                ChecklistItem.track_id == loaded.track.id,
                ChecklistItem.deleted.is_(False),
                ChecklistItem.doc_key.in_(sorted(depending)),
            )
        ):
            wanted = item.doc_key in required
            if item.required != wanted:
                item.required = wanted


def merge_twin_items(store: Store) -> int:
    """Fold checklist items that list one document twice for one track into one; returns
    how many items were folded away.

    Two laptops that open the same later step while offline (both record a rejection, so
    both open the appeal) each list its documents, and a sync brings both lists together.
    Every device folds them alike, from the rows alone, so their edits agree when they
    meet on the server: the item with the lowest id stays, holding the files, notes and
    status of all of them, and the others are tombstoned (audited as any deletion).
    Twins tombstoned earlier, here or on another device, still give their files to the
    one that stays: a scan added to a twin while another laptop was folding it is kept.
    Run after each pull; a store without twins costs one grouped query.
    """
    with store.session() as session:
        twins = session.execute(
            select(ChecklistItem.track_id, ChecklistItem.doc_key)
            .group_by(ChecklistItem.track_id, ChecklistItem.doc_key)
            .having(func.count() > 1)
        ).all()
        folded = 0
        for track_id, doc_key in twins:
            rows = session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.track_id == track_id, ChecklistItem.doc_key == doc_key)
                .order_by(ChecklistItem.id)
            ).all()
            folded += _fold(rows)
        return folded


def _fold(rows: Sequence[ChecklistItem]) -> int:
    """Fold ``rows`` (one track's items for one document, in id order) into the first live one."""
    live = [r for r in rows if not r.deleted]
    if not live:
        return 0
    keeper = live[0]
    files = sorted({a for r in rows for a in r.attachment_ids or ()})
    if len(files) > MAX_LIST_ITEMS:
        return 0  # more than the server takes in one list: both stay listed
    held = next((r.status for r in rows if (r.status or "") in IN_HAND), None)
    note = keeper.note or ""
    for twin in rows:
        if twin.note and twin.note not in note:
            note = f"{note}\n{twin.note}" if note else twin.note
    if len(note) > NOTE_LENGTH:
        note = keeper.note or ""
    wanted = {
        "attachment_ids": files,
        "status": held or ("present" if files else keeper.status),
        "required": any(r.required for r in rows),
        "note": note or None,
    }
    for name, value in wanted.items():
        if getattr(keeper, name) != value:
            setattr(keeper, name, value)
    for twin in live[1:]:
        twin.deleted = True
    return len(live) - 1


def _settle_track(session: Session, loaded: _Loaded, today: dt.date | None) -> None:
    """Close the track when no step is left to work on; reopen it when one is again."""
    track, definition = loaded.track, loaded.definition
    done = finished(definition, loaded.progress)
    if done and track.state != "closed":
        ended = outcome(definition, loaded.progress)
        track.state = "closed"
        track.outcome = ended
        track.decided_on = today or dt.date.today()
        record_action(session, "track.closed", "track", track.id, track.office or "", outcome=ended)
    elif not done and track.state == "closed":
        track.state = "in_progress"
        track.outcome = None
        track.decided_on = None
        record_action(session, "track.reopened", "track", track.id, track.office or "")
    else:
        return
    cases.settle_case(session, track.case_id or "", today)


def finished(definition: TrackDef, progress: Mapping[str, StepProgress]) -> bool:
    """Whether the track's last step that applies is done: a claim paid is finished though
    an earlier step was never marked done, and one rejected waits for its appeal."""
    last = [s for s in definition.steps if s.key in progress and workflow.applies(s, progress)]
    return bool(last) and workflow.is_done(last[-1], progress[last[-1].key].state)


def outcome(definition: TrackDef, progress: Mapping[str, StepProgress]) -> str | None:
    """How a finished track ended: the state of its last step that has a decision or a
    payment (``paid``, ``approved``, ``rejected``), or None for a track without one."""
    found: str | None = None
    for step in definition.steps:
        mine = progress.get(step.key)
        if mine is None or step.outcome is workflow.Outcome.NONE:
            continue
        if workflow.applies(step, progress) and mine.state is not StepState.NOT_STARTED:
            found = mine.state.value
    return found


def reopen_step(store: Store, step_id: str, reason: str, to: str = "in_progress") -> StepMove:
    """Move a step back on purpose; the reason goes to the audit trail (``step.reopened``).

    ``to`` must be a state the step passed through on its way (``workflow.reopen_targets``);
    a closed track is reopened with it. A track without a workflow definition moves back
    to any earlier state. Raises :class:`UserError` ``error.reason_required`` without a
    reason and ``error.workflow_reopen_backward`` for a ``to`` that is not behind it.
    """
    why = clean(reason)
    if not why:
        raise UserError("error.reason_required")
    with store.session() as session:
        row, loaded = _load(session, step_id)
        if loaded is None:
            return _reopen_plain(session, row, why, to)
        key = row.key or ""
        progress = _known(loaded, key)
        targets = workflow.reopen_targets(loaded.definition.step(key), progress.state)
        if to not in {s.value for s in targets}:
            raise UserError(
                "error.workflow_reopen_backward", step=key, from_state=progress.state, to_state=to
            )
        moved, event = workflow.reopen(loaded.definition, progress, why, StepState(to))
        row.state = moved.state.value
        loaded.progress[key] = moved
        _event(session, row, event)
        _settle_track(session, loaded, None)
        return StepMove(row.id, event.from_state.value, to, None, loaded.track.state or "")


def _reopen_plain(session: Session, row: Step, why: str, to: str) -> StepMove:
    """A step of a track made without a workflow definition, moved back to ``to``."""
    previous = row.state or "not_started"
    if FORWARD_ORDER.get(to, len(FORWARD_ORDER)) >= FORWARD_ORDER.get(previous, 0):
        raise UserError(
            "error.workflow_reopen_backward", step=row.key or "", from_state=previous, to_state=to
        )
    row.state = to
    details = {"step": row.key or "", "previous": previous, "to": to, "reason": why}
    record_action(session, "step.reopened", "step", row.id, row.office or "", **details)
    return StepMove(row.id, previous, to, None, "")
