"""Tests for desktop.domain.text: cleaning, search folding, scripts, encoding checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain import text
from desktop.domain.text import Script
from desktop.domain.validation import Severity


def test_nfc_composes() -> None:
    assert text.nfc("Nguye\u0302\u0303n") == "Nguyễn"
    assert text.nfc("\u1025\u102e") == "\u1026"  # Myanmar ဥ + ီ is ဦ


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Maung   Maung ", "Maung Maung"),
        ("Maung\tMaung\n", "Maung Maung"),
        ("Maung\u00a0Maung", "Maung Maung"),
        ("Ma\u200bung", "Maung"),
        ("\ufeffสมชาย", "สมชาย"),
        ("soft\u00adhyphen", "softhyphen"),
        ("\u200eleft\u200f", "left"),
        # ZWNJ/ZWJ inside a word change how scripts join: kept; at word edges: dropped
        ("a\u200cb", "a\u200cb"),
        ("ក\u200dខ", "ក\u200dខ"),
        ("\u200c abc \u200d", "abc"),
        ("x\u200c y", "x y"),
        ("Nguye\u0302\u0303n", "Nguyễn"),
        ("Ma\x00ung\x07", "Maung"),
        ("Maung\x85Maung", "Maung Maung"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert text.clean(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Nguyễn", "nguyen"),
        ("NGUYỄN VĂN ĐỨC", "nguyen van duc"),
        ("Trần Thị Hương", "tran thi huong"),
        ("Nguye\u0302\u0303n", "nguyen"),
        ("  Maung  MAUNG ", "maung maung"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        # Thai, Myanmar, Khmer, Lao marks are part of the letters: unchanged
        ("สมชาย ใจดี", "สมชาย ใจดี"),
        ("น้ำ", "น้ำ"),
        ("မောင်မောင်", "မောင်မောင်"),
        ("ខ្មែរ", "ខ្មែរ"),
        ("ນ້ຳ", "ນ້ຳ"),
        # every digit system folds to ASCII so ID numbers match
        ("๑๒๓", "123"),
        ("၁၂၃", "123"),
        ("១២៣", "123"),
        ("໑໒໓", "123"),
    ],
)
def test_search_fold(raw: str, folded: str) -> None:
    assert text.search_fold(raw) == folded


def test_search_fold_makes_variants_meet() -> None:
    assert text.search_fold("Nguyễn") == text.search_fold("nguyen") == text.search_fold("NGUYEN")


@pytest.mark.parametrize(
    ("value", "scripts", "dominant"),
    [
        ("สมชาย", {Script.THAI}, Script.THAI),
        ("မောင်မောင်", {Script.MYANMAR}, Script.MYANMAR),
        ("ខ្មែរ", {Script.KHMER}, Script.KHMER),
        ("ພາສາລາວ", {Script.LAO}, Script.LAO),
        ("Nguyễn Văn", {Script.LATIN}, Script.LATIN),
        ("Иван", {Script.OTHER}, Script.OTHER),
        ("Maung (မောင်မောင်)", {Script.LATIN, Script.MYANMAR}, Script.MYANMAR),
        ("Somchai สมชาย", {Script.LATIN, Script.THAI}, Script.LATIN),
        ("๑๒", {Script.THAI}, Script.THAI),
        ("12 - ()", set(), Script.OTHER),
        ("", set(), Script.OTHER),
        ("ab กข", {Script.THAI, Script.LATIN}, Script.THAI),  # a tie goes to Script order
    ],
)
def test_scripts(value: str, scripts: set[Script], dominant: Script) -> None:
    assert text.scripts_in(value) == scripts
    assert text.dominant_script(value) is dominant


@pytest.mark.parametrize(
    ("char", "script"),
    [("a", Script.LATIN), ("ễ", Script.LATIN), ("×", None), ("1", None), (" ", None)],
)
def test_script_of(char: str, script: Script | None) -> None:
    assert text.script_of(char) == script


def test_check_encoding_unicode_passes() -> None:
    result, issues = text.check_encoding("မောင်မောင်")
    assert (result.text, result.was_zawgyi, issues) == ("မောင်မောင်", False, [])


def test_check_encoding_warns_on_conversion() -> None:
    result, issues = text.check_encoding("ေဒၚေအးေအး", field="name_my")
    assert result.text == "ဒေါ်အေးအေး"
    (found,) = issues
    assert (found.code, found.field, found.severity) == (
        "text.zawgyi_converted",
        "name_my",
        Severity.WARNING,
    )
    assert dict(found.params) == {"original": "ေဒၚေအးေအး", "converted": "ဒေါ်အေးအေး"}


def test_a_name_kept_in_zawgyi_is_compared_in_unicode_too() -> None:
    assert text.name_forms("ေက်ာ္ေက်ာ္") == ["ေက်ာ္ေက်ာ္", "ကျော်ကျော်"]
    assert text.name_forms("ကျော်ကျော်") == ["ကျော်ကျော်"]  # Unicode: as it is
    assert text.name_forms("Kyaw  KYAW") == ["kyaw kyaw"]
    unconvertible = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"
    assert text.name_forms(unconvertible) == [text.search_fold(unconvertible)]


def test_check_encoding_errors_when_unconvertible() -> None:
    raw = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"
    result, issues = text.check_encoding(raw)
    assert result.text == raw
    assert [(i.code, i.severity) for i in issues] == [("text.zawgyi_unconvertible", Severity.ERROR)]


def test_zawgyi_helpers_are_reexported() -> None:
    assert text.looks_like_zawgyi("ေမာင္ေမာင္")
    assert text.zawgyi_to_unicode("ေမာင္") == "မောင်"
    assert text.zawgyi_probability("abc") == 0.0


@given(st.text(max_size=40))
def test_clean_and_fold_are_idempotent(value: str) -> None:
    cleaned = text.clean(value)
    assert text.clean(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    folded = text.search_fold(value)
    assert text.search_fold(folded) == folded
