"""Hybrid logical clock stamps: order, text form, and what is not a stamp."""

from __future__ import annotations

import pytest

from desktop.domain.hlc import MAX_OBSERVED_AHEAD_MS, MAX_WALL, HybridClock, Stamp


def test_stamps_round_trip_through_their_text_and_sort_by_time() -> None:
    stamp = Stamp(1763812345678, 3, "dev-7")
    assert str(stamp) == "0001763812345678-0003-dev-7"
    assert Stamp.parse(str(stamp)) == stamp  # a node may hold dashes
    assert Stamp(1, 9, "z") < Stamp(2, 0, "a") < Stamp(2, 1, "a")


@pytest.mark.parametrize(
    "text", ["", "yesterday", "0001763812345678-0003", "x-0003-dev", "0001763812345678-y-dev"]
)
def test_text_that_is_not_a_stamp_is_refused_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="not an HLC stamp"):
        Stamp.parse(text)


def test_a_clock_never_goes_back_and_sorts_after_what_it_observed() -> None:
    now = [1000]
    clock = HybridClock("dev", lambda: now[0])
    first = clock.tick()
    now[0] = 900  # the wall clock was set back
    second = clock.tick()
    assert first < second
    assert second.wall == 1000
    clock.observe("0000000000005000-0007-other")
    assert clock.tick() == Stamp(5000, 8, "dev")
    clock.restore(Stamp(100, 0, "dev"))  # an older stamp changes nothing
    assert clock.last == Stamp(5000, 8, "dev")


def test_a_clock_far_behind_keeps_stamps_of_one_width_in_order_past_10000_ticks() -> None:
    """A laptop whose clock reset to 2010 resumes from its own last stamp of today, then
    records an import: its stamps count within one millisecond. At 10,000 the text form
    would grow a digit and sort before 9,999 (and the server's pattern would refuse it)."""
    clock = HybridClock("dev", lambda: 1_262_304_000_000)  # 2010-01-01
    clock.restore("0001763812345678-0000-dev")
    stamps = [clock.tick() for _ in range(25_000)]
    texts = [str(stamp) for stamp in stamps]
    assert texts == sorted(texts)
    assert len(set(texts)) == len(texts)
    assert {len(text) for text in texts} == {len(texts[0])}
    assert stamps[-1].wall == 1763812345678 + 2  # 25,000 ticks: two more milliseconds
    assert all(Stamp.parse(text) == stamp for text, stamp in zip(texts, stamps, strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "٠٠٠١٧٩٥٤١٥٠٩٨٤٤٤-٠٠٠٠-dev",  # Arabic-Indic digits: \\d matches them, [0-9] not
        "０００１７９５４１５０９８４４４-0000-dev",  # fullwidth
        "9999999999999999-0000-dev",  # past the year 9999
        "0001763812345678-0000-a\x00b",  # NUL in the node
        "0001763812345678-0000-a b",
        "0001763812345678-0000-ノード",
        "0001763812345678-0000-" + "n" * 61,
    ],
)
def test_stamps_are_ascii_printable_and_end_with_the_year_9999(text: str) -> None:
    with pytest.raises(ValueError, match="not an HLC stamp"):
        Stamp.parse(text)


def test_the_last_stamp_of_9999_is_one() -> None:
    assert Stamp.parse(f"{MAX_WALL:016d}-9999-dev").wall == MAX_WALL


def test_a_stamp_far_ahead_of_this_clock_orders_its_edit_but_does_not_carry_the_clock() -> None:
    """A device with its clock years ahead must not drag every clock it syncs with (and the
    dates read from stamps) along; its own stamps, restored after a restart, still count."""
    now = 1_763_812_345_678
    clock = HybridClock("dev", lambda: now)
    clock.observe(Stamp(now + MAX_OBSERVED_AHEAD_MS, 0, "near"))
    assert clock.last.wall == now + MAX_OBSERVED_AHEAD_MS  # a day ahead: folded in
    clock.observe(Stamp(now + 10 * 365 * 86_400_000, 0, "far"))
    assert clock.last.wall == now + MAX_OBSERVED_AHEAD_MS  # ten years: left out
    clock.restore(Stamp(now + 10 * 365 * 86_400_000, 0, "dev"))
    assert clock.last.wall == now + 10 * 365 * 86_400_000
