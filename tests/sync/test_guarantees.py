"""One test per sync guarantee of design.md §4, end to end: stores, service, server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from desktop.models.entities import OutboxEntry, Person
from desktop.models.sync_records import SyncConflict
from tests.sync.conftest import Device, Server


def _person(device: Device, **values: Any) -> str:
    with device.store.session() as session:
        person = Person(office=device.store.office, **values)
        session.add(person)
        session.flush()
        return person.id


def _edit(device: Device, cls: Any, row_id: str, **values: Any) -> None:
    with device.store.session() as session:
        obj = session.get(cls, row_id)
        for key, value in values.items():
            setattr(obj, key, value)


def _get(device: Device, cls: Any, row_id: str) -> Any:
    with device.store.read() as session:
        return session.get(cls, row_id)


def _outbox(device: Device) -> int:
    with device.store.read() as session:
        return len(list(session.scalars(select(OutboxEntry))))


def test_edits_travel_and_outbox_empties_only_after_ack(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = _person(a, phone="0812345678", nationality="MMR")
    assert _outbox(a) > 0
    summary = a.sync()
    assert summary.ok
    assert summary.pushed > 0
    assert summary.waiting == 0
    assert _outbox(a) == 0
    b.sync()
    assert _get(b, Person, pid).phone == "0812345678"
    assert _get(b, Person, pid).version > 0


def test_concurrent_same_field_review_leaves_conflict(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = _person(a, nationality="MMR", phone="1")
    a.sync()
    b.sync()
    _edit(a, Person, pid, nationality="KHM", phone="2")
    _edit(b, Person, pid, nationality="LAO", sex="f")
    a.sync()
    summary = b.sync()
    assert summary.conflicts == 1
    a.sync()
    pa, pb = _get(a, Person, pid), _get(b, Person, pid)
    assert pa.nationality == pb.nationality == "LAO"  # b's stamp is later
    assert pa.phone == pb.phone == "2"
    assert pa.sex == pb.sex == "f"
    with a.store.read() as session:
        conflict = session.scalars(select(SyncConflict)).one()
    assert {conflict.applied["value"], conflict.other["value"]} == {"KHM", "LAO"}
