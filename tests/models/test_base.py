"""desktop.models.base: client-made row ids."""

from __future__ import annotations

import time
import uuid

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


def test_new_ids_made_in_the_same_millisecond_still_differ() -> None:
    made = [new_id() for _ in range(10_000)]
    assert len(set(made)) == len(made)


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
