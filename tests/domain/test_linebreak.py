"""desktop.domain.linebreak: lines break at spaces/ZWSP, then at clusters, never in marks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain.linebreak import (
    ZWSP,
    break_lines,
    cluster_breaks,
    line_spans,
    paragraph_markup,
)


def length(text: str) -> float:
    return float(len(text))


def test_breaks_at_spaces_and_zwsp_and_drops_zwsp() -> None:
    lines = break_lines(f"กรุณานำ{ZWSP}เอกสาร ไปยัง", 8, length)
    assert lines == ["กรุณานำ", "เอกสาร", "ไปยัง"]


def test_zwsp_joins_words_on_one_line_without_a_space() -> None:
    assert break_lines(f"ไป{ZWSP}ยัง", 20, length) == ["ไปยัง"]


def test_keeps_short_text_on_one_line() -> None:
    assert break_lines("ชื่อ สกุล", 100, length) == ["ชื่อ สกุล"]


def test_keeps_paragraph_breaks() -> None:
    assert break_lines("a\nb", 10, length) == ["a", "b"]


def test_cluster_breaks_never_split_marks_or_leading_vowels() -> None:
    text = "เจ็บมือ"
    for index in cluster_breaks(text):
        assert text[index - 1] != "เ"
        assert text[index] not in "็่้"
    burmese = "ကျွန်တော်"
    for index in cluster_breaks(burmese):
        assert burmese[index + 1 : index + 2] != "\u103a"


def test_overlong_run_is_split_within_width_where_possible() -> None:
    text = "เจ็บมือขวาขณะยกกล่องสินค้าหนัก"
    lines = break_lines(text, 10, length)
    assert "".join(lines) == text
    assert all(len(line) <= 10 for line in lines)


def test_rejects_non_positive_width() -> None:
    with pytest.raises(ValueError, match="width"):
        break_lines("x", 0, length)


def test_markup_escapes_and_joins_with_br() -> None:
    assert paragraph_markup("a<b c", 3, length) == "a&lt;b<br/>c"


def test_burmese_breaks_between_syllables_never_before_a_final() -> None:
    # Finals carry an asat, sometimes after a dot below (သင့်): the consonant stays with
    # the syllable before it; a stacked consonant stays with the one it hangs from.
    text = "ဖြစ်သင့်သည်သက္ကရာဇ်"
    cuts = cluster_breaks(text)
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert pieces == ["ဖြစ်", "သင့်", "သည်", "သက္က", "ရာဇ်"]


def test_line_spans_point_into_the_paragraph_and_skip_the_spaces_they_break_at() -> None:
    paragraph = f"ab  cd{ZWSP}ef gh"
    spans = line_spans(paragraph, 5, lambda start, end: float(end - start))
    assert [paragraph[a:b] for a, b in spans] == ["ab", f"cd{ZWSP}ef", "gh"]


def test_line_spans_of_an_empty_paragraph_is_one_empty_line() -> None:
    assert line_spans("", 10, lambda start, end: 0.0) == [(0, 0)]


def test_a_measure_of_spans_lets_each_part_be_measured_in_its_own_font() -> None:
    # The first word is "bold" (twice as wide): it fills the line alone.
    paragraph = "aaa bbb"

    def width(start: int, end: int) -> float:
        return sum(2.0 if i < 3 else 1.0 for i in range(start, end))

    assert line_spans(paragraph, 7, width) == [(0, 3), (4, 7)]
    assert line_spans(paragraph, 10, width) == [(0, 7)]


def test_a_syllable_wider_than_the_line_stands_alone_and_whole() -> None:
    assert break_lines("ကျွန်တော်", 2, length) == ["ကျွန်", "တော်"]


def test_a_run_wider_than_the_line_begins_after_the_word_before_it() -> None:
    """Not on a line of its own, leaving one short word alone above it (a company's name
    typed without spaces after บริษัท)."""
    run = "ลูกจ้างได้รับบาดเจ็บที่มือขวา"
    lines = break_lines(f"บริษัท {run}", 14, length)
    assert lines[0].startswith("บริษัท ")
    assert len(lines[0]) > len("บริษัท ")
    assert all(len(line) <= 14 for line in lines)
    assert "".join(lines).replace(" ", "") == f"บริษัท{run}"


def test_a_run_goes_below_when_not_one_cluster_of_it_fits_after_the_word_before() -> None:
    assert break_lines("abc ขขขขขขขขขข", 4, length) == ["abc", "ขขขข", "ขขขข", "ขข"]


def _greedy(run: str, width: float) -> list[str]:
    """Rule 2 the plain way, a measure per cluster in turn: what the search must match."""
    bounds = [*cluster_breaks(run), len(run)]
    pieces, first, previous = [], 0, 0
    for bound in bounds:
        if bound - first > width:
            if previous > first:
                pieces.append(run[first:previous])
                first = previous
            if bound - first > width:
                pieces.append(run[first:bound])
                first = bound
        previous = bound
    if first < len(run):
        pieces.append(run[first:])
    return pieces


# syllables of the four scripts, some wider than a narrow line on their own
_SYLLABLES = ["ကျွန်", "တော်", "သင့်", "ပြီး", "က", "ลูก", "จ้าง", "เจ็บ", "ມື", "ខ្ញុំ", "ការ"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_SYLLABLES), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=40),
)
def test_a_long_run_is_split_where_trying_every_cluster_would_split_it(
    syllables: list[str], width: int
) -> None:
    run = "".join(syllables)
    assert break_lines(run, width, length) == _greedy(run, width)


def test_a_long_run_takes_a_few_measures_a_line_not_one_a_cluster() -> None:
    run = "ลูกจ้างได้รับบาดเจ็บที่มือขวาขณะยกกล่องสินค้าหนัก" * 40  # no space in 1,960
    calls: list[str] = []

    def counted(text: str) -> float:
        calls.append(text)
        return float(len(text))

    lines = break_lines(run, 60, counted)
    assert "".join(lines) == run
    assert len(calls) < 12 * len(lines) < len(cluster_breaks(run))
