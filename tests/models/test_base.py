"""desktop.models.base: client-made row ids, and rows written in bulk."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from desktop.models import base
from desktop.models.base import new_id
from desktop.models.store import Store


def test_new_ids_are_version_7_uuids_in_canonical_text() -> None:
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)


def test_new_ids_carry_the_time_they_were_made_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    after = time.time_ns() // 1_000_000
    for made in (first, second):
        assert before <= uuid.UUID(made).int >> 80 <= after
    assert first < second  # text order is time order (a later millisecond)


def test_new_ids_made_in_the_same_millisecond_still_differ_and_increase() -> None:
    made = [new_id() for _ in range(10_000)]  # several in each millisecond
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    # one process: the same 62-bit node, so ids made together share their last 17 characters
    assert len({made_id[-17:] for made_id in made}) == 1


def test_new_ids_keep_increasing_when_the_clock_steps_back_or_a_millisecond_fills(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "_ID_CLOCK", base._IdClock())  # this test's clock state only
    start = time.time_ns() // 1_000_000 + 86_400_000
    now = [start * 1_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: now[0])
    made = [new_id() for _ in range(5_000)]  # more than the 4,096 a millisecond can count
    now[0] -= 60_000_000_000  # the wall clock is set a minute back
    made += [new_id() for _ in range(10)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert {uuid.UUID(m).version for m in made} == {7}
    # the 4,097th id borrowed the next millisecond; after the step back the count went on
    assert uuid.UUID(made[4_096]).int >> 80 == start + 1


def test_a_forked_child_makes_ids_with_another_node() -> None:
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, new_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    theirs = os.read(reader, 64).decode()
    os.close(reader)
    assert theirs[-17:] != new_id()[-17:]


def test_a_listed_subquery_takes_any_number_of_values_and_keeps_the_index(store: Store) -> None:
    from sqlalchemy import select, text

    from desktop.models.base import listed
    from desktop.models.entities import Person

    with store.session() as session:
        session.add_all(Person(id=f"p-{n}", office="TAK-01") for n in range(3))
    wanted = ["p-2", "p-0", "ไม่มี", *(f"missing-{n}" for n in range(40_000))]  # > SQLite's 32,766
    with store.read() as session:
        found = session.scalars(select(Person.id).where(Person.id.in_(listed(wanted)))).all()
        assert sorted(found) == ["p-0", "p-2"]
        assert session.scalars(select(Person.id).where(Person.id.in_(listed([])))).all() == []
        query = select(Person.id).where(Person.id.in_(listed(["p-1"])))
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " ".join(
            str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "SEARCH person USING" in plan  # looked up through its index, not scanned


def test_update_rows_sets_the_given_columns_and_only_ever_raises_the_version(
    store: Store,
) -> None:
    from desktop.models.entities import Person

    with store.session() as session:
        people = [Person(office="TAK-01", sex="f", phone="081") for _ in range(3)]
        session.add_all(people)
        session.flush()
        ids = [person.id for person in people]
    with store.remote_session() as session:
        before = {p.id: p.updated_at for p in session.query(Person)}
        base.update_rows(
            session.connection(),
            base.table_of(Person),
            [
                {"id": ids[0], "version": 9, "phone": "089", "languages": ["my", "th"]},
                {"id": ids[1], "version": 5, "phone": None},
                {"id": ids[2], "version": 4, "deleted": True},  # another set of columns
            ],
            "2026-11-23T02:00:00+00:00",
        )
        # an older version than the one stored: the values are set, the version stays
        base.update_rows(
            session.connection(),
            base.table_of(Person),
            [{"id": ids[1], "version": 3, "phone": "082"}],
            "2026-11-23T02:00:00+00:00",
        )
    with store.read() as session:
        first, second, third = (session.get(Person, person_id) for person_id in ids)
        assert (first.version, first.phone, first.languages) == (9, "089", ["my", "th"])
        assert (second.version, second.phone) == (5, "082")
        assert (third.version, third.deleted, third.phone) == (4, True, "081")
        assert {p.sex for p in (first, second, third)} == {"f"}  # columns not given stay
        for person in (first, second, third):
            assert person.updated_at == "2026-11-23T02:00:00+00:00" != before[person.id]
