"""Tests for desktop.domain.zawgyi: detection and conversion on real Burmese strings.

Each Zawgyi string is spelled the way Zawgyi keyboards store it (vowel E and medial RA
typed before the consonant, U+1039 as the visible asat, stacked forms as one code point).
"""

from __future__ import annotations

import pytest

from desktop.domain import zawgyi
from desktop.domain.zawgyi import ZawgyiResult

# (Zawgyi as typed, the same text in Unicode)
PAIRS = [
    ("ေမာင္ေမာင္", "မောင်မောင်"),  # Maung Maung
    ("ေဒၚေအးေအး", "ဒေါ်အေးအေး"),  # Daw Aye Aye
    ("ကုိကုိ", "ကိုကို"),  # Ko Ko, u-vowel typed before i-vowel
    ("ဦးေအာင္ဆန္းစုၾကည္", "ဦးအောင်ဆန်းစုကြည်"),
    ("ေက်ာ္ေဇာ", "ကျော်ဇော"),  # Kyaw Zaw: medial YA
    ("ျမန္မာ", "မြန်မာ"),  # Myanmar: medial RA typed first
    ("ၿမိဳ႕", "မြို့"),  # town: ligature forms
    ("ႏိုင္ငံ", "နိုင်ငံ"),  # country: short NA variant
    ("ေရႊ", "ရွှေ"),  # gold: WA + HA ligature
    ("ကၽြန္ေတာ္", "ကျွန်တော်"),  # YA + WA ligature
    ("လွ်င္", "လျှင်"),
    ("မဂၤလာပါ", "မင်္ဂလာပါ"),  # kinzi
    ("စႏၵာ", "စန္ဒာ"),  # stacked consonant
    ("ထြန္းထြန္း", "ထွန်းထွန်း"),
    ("ၿငိမ္းခ်မ္းေရး", "ငြိမ်းချမ်းရေး"),
    ("ဗိုလ္ခ်ဳပ္", "ဗိုလ်ချုပ်"),  # tall u-vowel after medial
    ("သင့္", "သင့်"),  # dot below must precede asat in Unicode
    ("ေႁမြ", "မြွေ"),
]


@pytest.mark.parametrize(("zg", "uni"), PAIRS)
def test_converts_to_exact_unicode(zg: str, uni: str) -> None:
    assert zawgyi.zawgyi_to_unicode(zg) == uni


def test_dot_below_precedes_asat() -> None:
    assert zawgyi.zawgyi_to_unicode("သင့္") == "\u101e\u1004\u1037\u103a"


def test_u_plus_ii_composes_to_uu_letter() -> None:
    # Zawgyi users type ဥ + ီ; the stored Unicode form is the single letter U+1026.
    assert zawgyi.zawgyi_to_unicode("\u1025\u102e\u1038\u1031\u1021\u102c\u1004\u1039") == (
        "\u1026\u1038\u1021\u1031\u102c\u1004\u103a"
    )


@pytest.mark.parametrize(
    "zg",
    ["ေမာင္ေမာင္", "ေဒၚေအးေအး", "ကုိကုိ", "ျမန္မာ", "ေက်ာ္ေဇာ", "ဦးေအာင္ဆန္းစုၾကည္", "ၿငိမ္းခ်မ္းေရး"],
)
def test_real_zawgyi_is_detected(zg: str) -> None:
    assert zawgyi.zawgyi_probability(zg) >= zawgyi.DEFAULT_THRESHOLD
    assert zawgyi.looks_like_zawgyi(zg)


@pytest.mark.parametrize("uni", [u for _, u in PAIRS])
def test_unicode_is_not_flagged(uni: str) -> None:
    assert not zawgyi.looks_like_zawgyi(uni)
    assert zawgyi.detect_and_convert(uni) == ZawgyiResult(uni, False, uni)


@pytest.mark.parametrize(
    "text",
    [
        "ၵႂၢမ်းတႆး",  # Shan: "Shan language"
        "လိၵ်ႈတႆး",  # Shan script
        "မိူင်းတႆး",  # Shan State
        "ဘာသာမန်",  # Mon language
        "ကၠောန်",  # Mon
        "\uaa61\uaa62",  # Myanmar Extended-A letters: Zawgyi never had them
    ],
)
def test_shan_and_mon_are_not_flagged(text: str) -> None:
    assert not zawgyi.looks_like_zawgyi(text)
    assert zawgyi.detect_and_convert(text).was_zawgyi is False


@pytest.mark.parametrize("text", ["", "Maung Maung", "สมชาย", "ខ្មែរ", "12345"])
def test_non_myanmar_text_has_zero_probability(text: str) -> None:
    assert zawgyi.zawgyi_probability(text) == 0.0
    assert zawgyi.zawgyi_to_unicode(text) == text
    assert not zawgyi.has_myanmar(text)


@pytest.mark.parametrize("short", ["မ", "ကို", "ဦး", "ဦးဘ", "မမ", "သီဟ"])
def test_short_strings_valid_in_both_encodings_stay_below_threshold(short: str) -> None:
    probability = zawgyi.zawgyi_probability(short)
    assert 0.0 < probability < zawgyi.DEFAULT_THRESHOLD
    assert zawgyi.detect_and_convert(short).was_zawgyi is False


def test_threshold_is_adjustable() -> None:
    assert zawgyi.looks_like_zawgyi("ဦးဘ", threshold=0.5)
    assert not zawgyi.looks_like_zawgyi("ေမာင္ေမာင္", threshold=1.1)


def test_detect_and_convert_keeps_raw() -> None:
    result = zawgyi.detect_and_convert("ေမာင္ေမာင္")
    assert result == ZawgyiResult("မောင်မောင်", True, "ေမာင္ေမာင္")
    text, was_zawgyi, raw = result
    assert (text, was_zawgyi, raw) == ("မောင်မောင်", True, "ေမာင္ေမာင္")


def test_mixed_text_keeps_latin_and_digits() -> None:
    result = zawgyi.detect_and_convert("Maung ေမာင္ေမာင္ (ေက်ာ္) 1990")
    assert result.text == "Maung မောင်မောင် (ကျော်) 1990"
    assert result.was_zawgyi


def test_unconvertible_combination_raises_instead_of_dropping() -> None:
    # HA + UU + U on one consonant: the converter has no mapping and would drop a mark.
    with pytest.raises(zawgyi.ZawgyiConversionError, match="losing"):
        zawgyi.zawgyi_to_unicode("ဃႉဳ")


def test_unconvertible_zawgyi_is_returned_raw_and_flagged() -> None:
    raw = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"
    assert zawgyi.looks_like_zawgyi(raw)
    assert zawgyi.detect_and_convert(raw) == ZawgyiResult(raw, True, raw)


SAMPLES = (
    "ေက်ာ္ေက်ာ္",
    "ေဒၚေအးေအး",
    "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္",
    "Maung ေမာင္ေမာင္ (ေက်ာ္) 1990",
    "ကျော်ကျော် ဦး",
    "မောင်အောင်ဝင်း",
    "ဒေါ်အေးအေး",
    "abc",
    "",
)


def test_the_quicker_walk_gives_the_detectors_own_probability_to_the_last_bit() -> None:
    detector = zawgyi._detector()
    for sample in SAMPLES:
        assert zawgyi._probability(sample) == detector.get_zawgyi_probability(sample), sample


def test_a_detector_that_keeps_its_chain_otherwise_is_asked_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A later myanmartools may keep its model under other names: then its own method."""
    real = zawgyi._detector()

    class Other:
        def get_zawgyi_probability(self, text: str) -> float:
            return float(real.get_zawgyi_probability(text))

    monkeypatch.setattr(zawgyi, "_detector", Other)
    assert zawgyi._chain.__wrapped__() is None
    monkeypatch.setattr(zawgyi, "_chain", lambda: None)
    assert zawgyi.looks_like_zawgyi("ေက်ာ္ေက်ာ္")
    assert not zawgyi.looks_like_zawgyi("ကျော်ကျော်")


def test_text_of_foreign_characters_alone_has_no_probability() -> None:
    assert zawgyi._probability("abc") == float("-inf")
