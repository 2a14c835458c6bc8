"""Every local write records its outbox entries and audit event in the same transaction.

A ``before_flush`` hook on the store's sessions looks at each new or changed synced row
and writes :class:`~desktop.models.entities.OutboxEntry` rows (base version, HLC stamp,
device, user) plus one :class:`~desktop.models.entities.AuditEvent` naming the fields
(never their values: audit details stay free of personal data). A new row is one entry
holding the whole row (field ``*``, protocol 2); a change to an existing row is one entry
per changed field, so the server can still merge concurrent edits field by field. A new
row's ``<entity>.created`` event is recorded here but never queued: every device derives
it from the insert (:func:`desktop.domain.catalogue.creation_event`, protocol 3).
Because it hooks the flush, no service can forget it. Sessions opened for applying
pulled changes carry no :class:`ChangeContext` and record nothing.

Nothing longer than the catalogue allows is queued: a new row's values and an edit's
changed fields are measured (:func:`desktop.domain.lengths.length_issues`) before
anything of them is recorded, and an over-long one raises
:class:`~desktop.domain.errors.ValueTooLong`, so the caller's transaction is not
committed. Services report such values to the caseworker before they get here; this is
the backstop. Pulled rows are never measured: they are not recorded.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from desktop.domain import catalogue, lengths
from desktop.domain.errors import ValueTooLong
from desktop.domain.hlc import HybridClock
from desktop.models.base import Synced, insert_rows, new_id, table_of, utcnow
from desktop.models.entities import AuditEvent, OutboxEntry, SyncState


@dataclass
class ChangeContext:
    device_id: str
    user: str
    clock: HybridClock


class HardDeleteError(RuntimeError):
    """Synced rows are tombstoned, never deleted: a bug if this is raised."""


def install_recorder(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _before_flush)


def record_action(
    session: Session, action: str, entity: str, row_id: str, office: str, **details: Any
) -> AuditEvent:
    """An explicit audit event for what field changes cannot say (e.g. a reopen reason)."""
    ctx: ChangeContext = session.info["changes"]
    event_row = AuditEvent(
        id=new_id(),
        office=office,
        at=utcnow(),
        user=ctx.user,
        device=ctx.device_id,
        action=action,
        entity=entity,
        row_id=row_id,
        details=details,
    )
    session.add(event_row)
    return event_row


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    ctx: ChangeContext | None = session.info.get("changes")
    if ctx is None:
        return
    for obj in session.deleted:
        if isinstance(obj, Synced):
            raise HardDeleteError(f"{obj.__entity__} rows are tombstoned, never deleted")
    audits: list[AuditEvent] = []
    for obj in list(session.new):
        if isinstance(obj, Synced):
            _record_insert(session, ctx, obj)
    for obj in list(session.dirty):
        if isinstance(obj, Synced) and session.is_modified(obj, include_collections=False):
            audit = _record_update(session, ctx, obj)
            if audit is not None:
                audits.append(audit)
    for audit in audits:
        # the event's id is derived from the stamp of its own insert (so the wire can
        # leave it out: catalogue.audit_event_id)
        stamp = str(ctx.clock.tick())
        audit.id = catalogue.audit_event_id(stamp)
        session.add(audit)
        _record_insert(session, ctx, audit, stamp)
    with session.no_autoflush:
        state = session.get(SyncState, "hlc")
        if state is None:
            session.add(SyncState(key="hlc", value=str(ctx.clock.last)))
        else:
            state.value = str(ctx.clock.last)


def insert_changes(spec: catalogue.EntitySpec, wire: dict[str, object]) -> list[tuple[str, object]]:
    """The (field, value) changes a new row records: one, the whole row.

    Append-only rows keep every field (a re-sent row must compare equal); other rows
    leave unset fields out, as the field-by-field form never sent them.
    """
    if spec.append_only:
        return [(catalogue.WHOLE_ROW, wire)]
    return [
        (catalogue.WHOLE_ROW, {name: value for name, value in wire.items() if value is not None})
    ]


def _record_insert(
    session: Session, ctx: ChangeContext, obj: Synced, stamp: str | None = None
) -> None:
    """The outbox entry of a new row (stamped ``stamp`` if given) and its creation event.

    The creation event (not for an audit event itself) is added to the session only: it
    is derived from the insert on every device, never queued.
    """
    spec = catalogue.entity(obj.__entity__)
    values = _wire_values(spec, obj)
    _refuse_overlong(spec.name, values)
    if obj.id is None:
        obj.id = new_id()
    stamp = stamp or str(ctx.clock.tick())
    for name, value in insert_changes(spec, values):
        _outbox(session, ctx, spec.name, obj.id, name, value, 0, stamp)
    if not isinstance(obj, AuditEvent):
        event_row = catalogue.creation_event(
            spec.name, obj.id, values.get("office"), stamp, ctx.user
        )
        session.add(AuditEvent(**event_row))


def _refuse_overlong(entity: str, values: dict[str, object]) -> None:
    """Raise :class:`ValueTooLong` if any of a row's ``values`` is longer than it may be."""
    found = lengths.length_issues(entity, values)
    if found:
        raise ValueTooLong(entity, found)


def _wire_values(spec: catalogue.EntitySpec, obj: Synced) -> dict[str, object]:
    return {
        name: catalogue.to_wire(field, getattr(obj, name)) for name, field in spec.fields.items()
    }


def value_now(obj: Synced, field: str) -> str | None:
    """The value (outbox JSON) a change of ``field`` records for ``obj`` as it is now: the
    whole row for ``*``, as a new row records it; None for a field the row has not."""
    spec = catalogue.entity(obj.__entity__)
    if field == catalogue.WHOLE_ROW:
        [(_whole, value)] = insert_changes(spec, _wire_values(spec, obj))
        return wire_json(value)
    if field == catalogue.TOMBSTONE_FIELD:
        return wire_json(obj.deleted)
    found = spec.fields.get(field)
    return None if found is None else wire_json(catalogue.to_wire(found, getattr(obj, field)))


def _record_update(session: Session, ctx: ChangeContext, obj: Synced) -> AuditEvent | None:
    spec = catalogue.entity(obj.__entity__)
    state = inspect(obj)
    base_version = obj.version or 0
    if spec.append_only:
        raise HardDeleteError(f"{spec.name} rows are append-only and cannot be edited")
    values = {
        name: catalogue.to_wire(field, getattr(obj, name))
        for name, field in spec.fields.items()
        if state.attrs[name].history.has_changes()
    }
    _refuse_overlong(spec.name, values)  # only what changed: a pulled value stays as it is
    changed = list(values)
    for name, value in values.items():
        _outbox(session, ctx, spec.name, obj.id, name, value, base_version)
    if state.attrs["deleted"].history.has_changes():
        _outbox(
            session, ctx, spec.name, obj.id, catalogue.TOMBSTONE_FIELD, obj.deleted, base_version
        )
        return _audit(ctx, obj, "deleted" if obj.deleted else "restored", [])
    if not changed:
        return None
    return _audit(ctx, obj, "updated", changed)


def _outbox(
    session: Session,
    ctx: ChangeContext,
    entity: str,
    row_id: str,
    field: str,
    value: object,
    base_version: int,
    stamp: str | None = None,
) -> None:
    session.add(
        OutboxEntry(
            change_id=str(uuid.uuid4()),
            entity=entity,
            row_id=row_id,
            field=field,
            value=wire_json(value),
            base_version=base_version,
            hlc=stamp or str(ctx.clock.tick()),
            device_id=ctx.device_id,
            user_id=ctx.user,
        )
    )


def wire_json(value: object) -> str:
    """A wire value as stored in the outbox: compact JSON, scripts kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _audit(ctx: ChangeContext, obj: Synced, verb: str, fields: list[str]) -> AuditEvent:
    """The audit event of a write; its id comes from its insert's stamp (see _before_flush)."""
    return AuditEvent(
        office=getattr(obj, "office", ""),
        at=utcnow(),
        user=ctx.user,
        device=ctx.device_id,
        action=f"{obj.__entity__}.{verb}",
        entity=obj.__entity__,
        row_id=obj.id,
        details={"fields": fields},
    )


class BulkWriter:
    """Inserts many new synced rows at once, recording exactly what the flush hook records.

    For imports, demo data and benchmarks: ORM flushes cost about 1 ms a row, one
    ``executemany`` (:func:`~desktop.models.base.insert_rows`) a small part of that. Each
    queued row gets the same outbox entry (:func:`insert_changes`) and local
    ``<entity>.created`` audit event as an ORM insert in :meth:`Store.session`;
    :meth:`flush` writes them inside the caller's transaction and saves the HLC state.
    """

    def __init__(self, ctx: ChangeContext, *, record: bool = True) -> None:
        """``record=False`` writes rows only, as if applied from the server (no outbox, no audit;
        ``version`` 1): how a coordinator's device receives cases it did not create."""
        self.ctx = ctx
        self.record = record
        self.rows: dict[type[Synced], list[dict[str, Any]]] = defaultdict(list)
        self.outbox: list[tuple[object, ...]] = []
        self.audits: list[dict[str, Any]] = []

    def add(self, cls: type[Synced], **values: Any) -> str:
        """Queue one new row of ``cls``; returns its id.

        A value longer than the catalogue allows raises :class:`ValueTooLong` and queues
        nothing of the row (with ``record=False``, rows as pulled, nothing is measured).
        """
        spec = catalogue.entity(cls.__entity__)
        now = utcnow()
        row: dict[str, Any] = {name: values.get(name) for name in spec.fields}
        row.update(id=values.get("id") or new_id(), version=0, deleted=False, updated_at=now)
        if not self.record:
            row["version"] = 1
            self.rows[cls].append(row)
            return str(row["id"])
        wire = {name: catalogue.to_wire(f, row[name]) for name, f in spec.fields.items()}
        _refuse_overlong(spec.name, wire)
        self.rows[cls].append(row)
        stamp = str(self.ctx.clock.tick())
        for name, value in insert_changes(spec, wire):
            self._queue(spec.name, row["id"], name, value, now, stamp)
        audit = catalogue.creation_event(
            spec.name, row["id"], wire.get("office"), stamp, self.ctx.user
        )
        audit.update(version=0, deleted=False, updated_at=now)
        self.audits.append(audit)
        return str(row["id"])

    def _queue(
        self,
        entity: str,
        row_id: str,
        field: str,
        value: object,
        now: str,
        stamp: str | None = None,
    ) -> None:
        self.outbox.append(
            (
                str(uuid.uuid4()),
                entity,
                row_id,
                field,
                wire_json(value),
                0,
                stamp or str(self.ctx.clock.tick()),
                self.ctx.device_id,
                self.ctx.user,
                now,
                0,
            )
        )

    def flush(self, session: Session) -> None:
        """Insert everything queued (inside the caller's transaction) and clear the queue."""
        connection = session.connection()
        for cls, rows in self.rows.items():
            if rows:
                insert_rows(connection, table_of(cls), rows)
        if self.audits:
            insert_rows(connection, table_of(AuditEvent), self.audits)
        if not self.record:
            self.rows.clear()
            return
        if self.outbox:
            # The outbox is plain text and numbers: skip SQLAlchemy's per-row processing.
            connection.exec_driver_sql(_OUTBOX_INSERT, self.outbox)
        with session.no_autoflush:
            state = session.get(SyncState, "hlc")
            if state is None:
                session.add(SyncState(key="hlc", value=str(self.ctx.clock.last)))
            else:
                state.value = str(self.ctx.clock.last)
        self.rows.clear()
        self.audits = []
        self.outbox = []


_OUTBOX_INSERT = (
    "INSERT INTO outbox (change_id, entity, row_id, field, value, base_version, hlc, "
    "device_id, user_id, created_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
