"""desktop.forms.linebreak: lines break at spaces/ZWSP, then at clusters, never in marks."""

from __future__ import annotations

import pytest

from desktop.forms.linebreak import ZWSP, break_lines, cluster_breaks, paragraph_markup


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
