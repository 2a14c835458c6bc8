"""desktop.models.base: client-made row ids."""

from __future__ import annotations

import time
import uuid

from desktop.models.base import new_id


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
