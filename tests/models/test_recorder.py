"""Every write leaves outbox entries and an audit event in the same transaction."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from desktop.domain.catalogue import (
    TOMBSTONE_FIELD,
    WHOLE_ROW,
    audit_event_id,
    creation_event_id,
)
from desktop.domain.hlc import Stamp
from desktop.models.entities import AuditEvent, Note, OutboxEntry, Person, SyncState
from desktop.models.recorder import HardDeleteError, value_now
from desktop.models.store import Store


def _outbox(store: Store) -> list[OutboxEntry]:
    with store.read() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))


def test_the_value_a_change_would_record_now_is_the_one_the_recorder_writes(
    store: Store,
) -> None:
    """What Retry sends for a change refused for its value (the row as it is now)."""
    with store.session() as session:
        person = Person(office="TAK-01", sex="m", birth_date="1990-01")
        session.add(person)
    (entry,) = [e for e in _outbox(store) if e.entity == "person"]
    with store.read() as session:
        row = session.get(Person, person.id)
        assert row is not None
        assert value_now(row, WHOLE_ROW) == entry.value
        assert value_now(row, "birth_date") == '"1990-01"'
        assert value_now(row, TOMBSTONE_FIELD) == "false"
        assert value_now(row, "nickname") is None


def test_insert_writes_the_whole_row_once_and_an_audit_event(store: Store) -> None:
    with store.session() as session:
        person = Person(office="TAK-01", sex="m", nationality="MMR")
        session.add(person)
    (entry,) = [e for e in _outbox(store) if e.entity == "person"]
    assert entry.field == WHOLE_ROW
    # set fields only: unset ones stay out of the row, as they never travelled before
    assert json.loads(entry.value) == {"office": "TAK-01", "sex": "m", "nationality": "MMR"}
    assert (entry.base_version, entry.device_id, entry.row_id) == (0, store.device_id, person.id)
    assert [e.entity for e in _outbox(store)] == ["person"]  # the creation event stays home
    with store.read() as session:
        audit = session.scalars(select(AuditEvent)).one()
    # ...derived from the insert, as every other device derives it when it pulls the row
    assert audit.action == "person.created"
    stamp = Stamp.parse(entry.hlc)
    assert (audit.id, audit.row_id, audit.device, audit.user, audit.office) == (
        creation_event_id(person.id),
        person.id,
        store.device_id,
        store.user,
        "TAK-01",
    )
    assert audit.at == dt.datetime.fromtimestamp(stamp.wall / 1000, dt.UTC).isoformat(
        timespec="seconds"
    )


def test_update_writes_only_changed_fields_with_the_base_version(store: Store) -> None:
    with store.session() as session:
        person = Person(office="TAK-01", sex="m")
        session.add(person)
    with store.remote_session() as session:  # as if the server had acknowledged it as seq 7
        session.get(Person, person.id).version = 7  # type: ignore[union-attr]
    with store.session() as session:
        row = session.get(Person, person.id)
        assert row is not None
        row.phone = "0812345678"
        row.sex = "m"  # unchanged value: no entry
    last = _outbox(store)[-2]
    assert (last.field, json.loads(last.value), last.base_version) == ("phone", "0812345678", 7)


def test_stamps_increase_and_survive_a_restart(store: Store, tmp_path: object) -> None:
    for sex in ("m", "f"):
        with store.session() as session:
            session.add(Person(office="TAK-01", sex=sex))
    stamps = [Stamp.parse(e.hlc) for e in _outbox(store)]
    assert stamps == sorted(stamps)
    with store.read() as session:
        saved = session.get(SyncState, "hlc")
    assert saved is not None
    assert Stamp.parse(saved.value) == max(stamps)


def test_tombstone_not_delete(store: Store) -> None:
    with store.session() as session:
        person = Person(office="TAK-01")
        session.add(person)
    with store.session() as session:
        row = session.get(Person, person.id)
        assert row is not None
        row.deleted = True
    assert _outbox(store)[-2].field == TOMBSTONE_FIELD
    with store.session() as session:
        session.delete(session.get(Person, person.id))
        with pytest.raises(HardDeleteError):
            session.flush()
        session.rollback()


def test_append_only_rows_travel_whole_and_cannot_be_edited(store: Store) -> None:
    with store.session() as session:
        note = Note(office="TAK-01", body="Met the worker at the clinic", author="k")
        session.add(note)
    entry = next(e for e in _outbox(store) if e.entity == "note")
    assert entry.field == WHOLE_ROW
    assert json.loads(entry.value)["body"] == "Met the worker at the clinic"
    with store.session() as session:
        row = session.get(Note, note.id)
        assert row is not None
        row.body = "rewritten"
        with pytest.raises(HardDeleteError):
            session.flush()
        session.rollback()


def _write_then_fail(store: Store) -> None:
    with store.session() as session:
        session.add(Person(office="TAK-01", sex="f"))
        session.flush()
        raise RuntimeError("power cut")


def test_failed_transaction_leaves_neither_row_nor_outbox(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(store)
    assert _outbox(store) == []


def test_remote_session_records_nothing(store: Store) -> None:
    with store.remote_session() as session:
        session.add(Person(office="TAK-01", sex="f"))
    assert _outbox(store) == []


def test_creation_events_match_between_flush_hook_and_bulk_writer(store: Store) -> None:
    """Both record one ``*`` entry and a local creation event derived from its stamp."""
    from desktop.domain.catalogue import creation_event
    from desktop.models.recorder import BulkWriter

    with store.session() as session:
        session.add(Person(office="TAK-01", sex="f"))
    with store.session() as session:
        writer = BulkWriter(store.change_context())
        writer.add(Person, office="TAK-01", sex="m")
        writer.flush(session)
    entries = _outbox(store)
    assert [e.entity for e in entries] == ["person", "person"]
    with store.read() as session:
        events = {e.row_id: e for e in session.scalars(select(AuditEvent))}
    for entry in entries:
        expected = creation_event("person", entry.row_id, "TAK-01", entry.hlc, store.user)
        event_row = events[entry.row_id]
        assert {name: getattr(event_row, name) for name in expected} == expected
    assert len({e.hlc for e in entries}) == len(entries)  # no stamp used twice


def test_an_edit_queues_its_audit_event_under_an_id_derived_from_its_stamp(store: Store) -> None:
    """The wire may leave such an id out (protocol batch 3)."""
    with store.session() as session:
        person = Person(office="TAK-01", sex="f")
        session.add(person)
    with store.session() as session:
        row = session.get(Person, person.id)
        assert row is not None
        row.phone = "0812345678"
    entry = _outbox(store)[-1]
    assert entry.entity == "audit_event"
    assert entry.row_id == audit_event_id(entry.hlc)
    assert json.loads(entry.value)["action"] == "person.updated"


def _counts(store: Store) -> tuple[int, int, int]:
    """Persons, outbox entries and audit events in the store."""
    from sqlalchemy import func

    with store.read() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(cls)) or 0
            for cls in (Person, OutboxEntry, AuditEvent)
        )


def test_a_new_row_with_a_value_past_its_limit_is_refused_and_nothing_of_the_transaction_is_kept(
    store: Store,
) -> None:
    """The backstop: whatever did not check, nothing over-long reaches the outbox (the
    server would refuse it at sync, errno 105), and the rows written before it in the same
    transaction go with it."""
    from desktop.domain.errors import UserError, ValueTooLong

    def save() -> None:
        with store.session() as session:
            session.add(Person(office="TAK-01", sex="f"))
            session.flush()  # an earlier row of the same transaction, already flushed
            session.add(Person(office="TAK-01", phone="9" * 41, address_th="ก" * 501))

    with pytest.raises(ValueTooLong) as refused:
        save()

    error = refused.value
    assert (error.entity, error.field, error.limit, error.length) == ("person", "phone", 40, 41)
    assert "person.phone: 41 characters, at most 40" in str(error)
    assert "person.address_th: 501 characters, at most 500" in str(error)
    assert isinstance(error, UserError)  # shown as the other refusals of a form are
    assert [i.code for i in error.issues] == ["value.too_long", "value.too_long"]
    assert error.translated("en").startswith("Some fields are not valid; nothing was saved.")
    assert _counts(store) == (0, 0, 0)


def test_a_value_exactly_at_its_limit_is_queued(store: Store) -> None:
    with store.session() as session:
        session.add(Person(office="TAK-01", phone="9" * 40, languages=["x" * 16]))
    (entry,) = _outbox(store)
    assert json.loads(entry.value)["phone"] == "9" * 40


def test_an_edit_past_the_limit_is_refused_and_the_row_keeps_its_value(store: Store) -> None:
    from desktop.domain.errors import ValueTooLong

    with store.session() as session:
        person = Person(office="TAK-01", phone="0812345678")
        session.add(person)
    before = _counts(store)

    def edit() -> None:
        with store.session() as session:
            row = session.get(Person, person.id)
            assert row is not None
            row.sex = "f"
            row.phone = "0812345678" * 5

    with pytest.raises(ValueTooLong) as refused:
        edit()

    assert (refused.value.field, refused.value.length) == ("phone", 50)
    assert _counts(store) == before
    with store.read() as session:
        kept = session.get(Person, person.id)
        assert kept is not None
        assert (kept.phone, kept.sex) == ("0812345678", None)


def test_rows_as_pulled_are_never_measured(store: Store) -> None:
    """The server checked them (perhaps against a newer catalogue with longer limits)."""
    from desktop.models.recorder import BulkWriter

    with store.remote_session() as session:
        session.add(Person(office="TAK-01", phone="9" * 60))
    with store.session() as session:
        writer = BulkWriter(store.change_context(), record=False)
        writer.add(Person, office="TAK-01", phone="9" * 61)
        writer.flush(session)
    assert _counts(store) == (2, 0, 0)


def test_the_bulk_writer_refuses_an_over_long_row_and_its_transaction_writes_nothing(
    store: Store,
) -> None:
    from desktop.domain.errors import ValueTooLong
    from desktop.models.recorder import BulkWriter

    writer = BulkWriter(store.change_context())

    def load() -> None:
        with store.session() as session:
            writer.add(Person, office="TAK-01", sex="f")
            writer.add(Person, office="TAK-01", line_id="x" * 81)
            writer.flush(session)

    with pytest.raises(ValueTooLong) as refused:
        load()

    assert (refused.value.entity, refused.value.field, refused.value.limit) == (
        "person",
        "line_id",
        80,
    )
    assert len(writer.outbox) == 1, "nothing of the refused row was queued"
    assert sum(len(rows) for rows in writer.rows.values()) == 1
    assert _counts(store) == (0, 0, 0)
