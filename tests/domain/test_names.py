"""Tests for desktop.domain.names: honorifics, titles, search variants, SSO name fields."""

from __future__ import annotations

import pytest

from desktop.domain import names
from desktop.domain.names import Honorific, Title
from desktop.domain.validation import Issue, Severity


def codes(issues: list[Issue]) -> list[tuple[str, str, Severity]]:
    return [(i.code, i.field, i.severity) for i in issues]


@pytest.mark.parametrize(
    ("name", "honorific", "rest"),
    [
        # romanised
        ("U Ba Thein", Honorific.U, "Ba Thein"),
        ("u ba thein", Honorific.U, "ba thein"),
        ("Oo Ba", Honorific.U, "Ba"),
        ("Daw Aung San Suu Kyi", Honorific.DAW, "Aung San Suu Kyi"),
        ("Maung Aung Kyaw", Honorific.MAUNG, "Aung Kyaw"),
        ("Mg. Aung Kyaw", Honorific.MAUNG, "Aung Kyaw"),
        ("Ko Zaw Min", Honorific.KO, "Zaw Min"),
        ("Ma Thida", Honorific.MA, "Thida"),
        ("  MA   Thida ", Honorific.MA, "Thida"),
        ("Maung Maung Thein", Honorific.MAUNG, "Maung Thein"),
        # a name that is only the honorific word, or contains it, stays whole
        ("Ma", None, "Ma"),
        ("Ko", None, "Ko"),
        ("Mala", None, "Mala"),
        ("Kosal Vann", None, "Kosal Vann"),
        ("Uma Devi", None, "Uma Devi"),
        # reduplicated names stay whole
        ("Ko Ko", None, "Ko Ko"),
        ("Ma Ma", None, "Ma Ma"),
        ("Maung Maung", None, "Maung Maung"),
        # Burmese script
        ("ဦးဘသိန်း", Honorific.U, "ဘသိန်း"),
        ("ဦး ဘသိန်း", Honorific.U, "ဘသိန်း"),
        ("\u1025\u102e\u1038ဘ", Honorific.U, "ဘ"),  # decomposed ဦ is composed first
        ("ဒေါ်အေးအေး", Honorific.DAW, "အေးအေး"),
        ("မောင်ကျော်ဇော", Honorific.MAUNG, "ကျော်ဇော"),
        ("ကိုကျော်", Honorific.KO, "ကျော်"),
        ("မအေးအေး", Honorific.MA, "အေးအေး"),
        ("မသီတာ", Honorific.MA, "သီတာ"),
        # syllable boundaries: these start with the same letters but are names
        ("မင်းထက်", None, "မင်းထက်"),
        ("မြင့်မြင့်", None, "မြင့်မြင့်"),
        ("မန္တလေး", None, "မန္တလေး"),
        ("ကိုယ်", None, "ကိုယ်"),
        ("မောင်း", None, "မောင်း"),
        ("ကိုကို", None, "ကိုကို"),
        ("မမ", None, "မမ"),
        ("မောင်မောင်", None, "မောင်မောင်"),
        ("မ", None, "မ"),
        ("ဦး", None, "ဦး"),
        ("", None, ""),
        ("สมชาย", None, "สมชาย"),
    ],
)
def test_split_honorific(name: str, honorific: Honorific | None, rest: str) -> None:
    assert names.split_honorific(name) == (honorific, rest)


@pytest.mark.parametrize(
    ("name", "title", "rest"),
    [
        ("นายสมชาย ใจดี", Title.MR, "สมชาย ใจดี"),
        ("นาย สมชาย ใจดี", Title.MR, "สมชาย ใจดี"),
        ("นางสาวสมศรี ใจดี", Title.MISS, "สมศรี ใจดี"),
        ("น.ส. สมศรี", Title.MISS, "สมศรี"),
        ("นางสมศรี", Title.MRS, "สมศรี"),
        ("เด็กชายต้น", Title.BOY, "ต้น"),
        ("ด.ญ.ฝน", Title.GIRL, "ฝน"),
        ("Mr. John Smith", Title.MR, "John Smith"),
        ("MRS Jane", Title.MRS, "Jane"),
        ("Miss Aye Aye", Title.MISS, "Aye Aye"),
        ("Ms Lin", Title.MS, "Lin"),
        ("Miss", None, "Miss"),
        ("นาย", None, "นาย"),
        ("Mister Lin", None, "Mister Lin"),
        ("Somchai", None, "Somchai"),
    ],
)
def test_split_title(name: str, title: Title | None, rest: str) -> None:
    assert names.split_title(name) == (title, rest)


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("นางสาวสมศรี ใจดี", ("นางสาว", "สมศรี ใจดี")),
        ("นาย สมชาย ใจดี", ("นาย", "สมชาย ใจดี")),
        ("นางมาลี ใจดี", ("นาง", "มาลี ใจดี")),
        ("น.ส.สมศรี ใจดี", ("น.ส.", "สมศรี ใจดี")),
        ("นางสาวิตรี ใจดี", ("นาง", "สาวิตรี ใจดี")),  # Mrs Sawitri, not Miss "ิตรี"
        ("Mrs. Aye Aye", ("Mrs", "Aye Aye")),
        ("Miss Mya", ("Miss", "Mya")),
        ("MR.Tun Tun", ("MR", "Tun Tun")),
        ("ms aye", ("ms", "aye")),
        # names, not titles
        ("นางรอง", None),  # one word: no family name after it
        ("นางสาวสมศรี", None),
        ("นายิกา ใจดี", None),  # นาย + a vowel sign is not a name
        ("นางา ใจดี", None),  # one letter left
        ("สมชาย ใจดี", None),
        ("Missy Lee", None),
        ("Mr", None),
        ("Mrs.", None),
        ("Aye Aye", None),
        ("", None),
    ],
)
def test_written_title(name: str, written: tuple[str, str] | None) -> None:
    assert names.written_title(name) == written


@pytest.mark.parametrize(
    ("title", "code"),
    [
        (Title.MR, "003"),
        ("miss", "004"),
        (Title.MRS, "005"),
        (Title.MS, None),  # SSO has not published a code: never guess
        (Title.BOY, None),
        ("sir", None),
        (None, None),
    ],
)
def test_sso_title_code(title: Title | str | None, code: str | None) -> None:
    assert names.sso_title_code(title) == code


def test_sso_title_codes_from_thai_titles() -> None:
    found = {names.sso_title_code(names.split_title(n)[0]) for n in ("นายก ข", "นางสาวค", "นางง")}
    assert found == {"003", "004", "005"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("U Ba Thein", {"u ba thein", "ubathein", "ba thein", "bathein"}),
        ("Oo Ba", {"oo ba", "ooba", "u ba", "uba", "ba"}),
        ("Nguyễn Văn Đức", {"nguyen van duc", "nguyenvanduc"}),
        ("ဒေါ်အေးအေး", {"ဒေါ်အေးအေး", "အေးအေး"}),
        ("นายสมชาย ใจดี", {"นายสมชาย ใจดี", "นายสมชายใจดี", "สมชาย ใจดี", "สมชายใจดี"}),
        (
            "Mg. Thein",
            {"mg. thein", "mg.thein", "mg thein", "mgthein", "thein", "maung thein", "maungthein"},
        ),
        ("", set()),
    ],
)
def test_name_variants(name: str, expected: set[str]) -> None:
    assert names.name_variants(name) == expected


def test_variants_of_spelling_differences_meet() -> None:
    assert names.name_variants("Oo Ba Thein") & names.name_variants("U BA THEIN")
    assert names.name_variants("Aung Aung") & names.name_variants("AungAung")


@pytest.mark.parametrize(
    ("value", "width", "expected", "cut"),
    [
        ("Short", 30, "Short", False),
        ("A" * 30, 30, "A" * 30, False),
        ("Aung Kyaw Min Naing Zaw Htet Oo Lwin", 30, "Aung Kyaw Min Naing Zaw Htet", True),
        ("A" * 40, 30, "A" * 30, True),
        ("Ab " + "C" * 40, 30, "Ab " + "C" * 27, True),  # space too early: hard cut
        ("กี่" * 12, 5, "กี่", True),  # never split a consonant from its marks
        ("กเก" + "x" * 10, 2, "ก", True),  # no dangling Thai leading vowel
        ("ក្ខ" * 5, 2, "", True),  # Khmer coeng stays with its subscript
        ("ဘသိန်း" * 6, 9, "ဘသိန်းဘ", True),  # န် closes the syllable သိန်း: not cut off
        ("မန္တလေး" * 3, 3, "", True),  # မန္တ is one unit: never cut around the virama
    ],
)
def test_fit_width(value: str, width: int, expected: str, cut: bool) -> None:
    assert names.fit_width(value, width) == (expected, cut)


@pytest.mark.parametrize(
    ("full", "family", "first", "last"),
    [
        ("Maung Maung", None, "Maung Maung", "-"),  # mononymous: last name "-"
        ("U Ba Thein", None, "U Ba Thein", "-"),  # honorific kept as on documents
        ("Aung Aung", "", "Aung Aung", "-"),
        ("Somchai Jaidee", "Jaidee", "Somchai", "Jaidee"),
        ("Nguyen Van Duc", "Nguyen", "Van Duc", "Nguyen"),  # family name first
        ("Sok Dara", "Sok", "Dara", "Sok"),
        ("Dara", "Sok", "Dara", "Sok"),
        ("Sok", "Sok", "Sok", "Sok"),
        # names that begin like a title, kept whole
        ("นายิกา สุขใจ", "สุขใจ", "นายิกา", "สุขใจ"),  # นาย + a vowel sign is no title
        ("นางรอง", None, "นางรอง", "-"),  # a single word: a name
        ("Missy Lee", "Lee", "Missy", "Lee"),
    ],
)
def test_split_for_sso(full: str, family: str | None, first: str, last: str) -> None:
    assert names.split_for_sso(full, family) == (first, last, [])


@pytest.mark.parametrize(
    ("full", "family", "title", "first"),
    [
        ("Mr Somchai Jaidee", "Jaidee", "Mr", "Somchai"),
        ("นายสมชาย ใจดี", "ใจดี", "นาย", "สมชาย"),
        ("นางสาว สมศรี ใจดี", "ใจดี", "นางสาว", "สมศรี"),
        # a given name that begins like a title still reads as one: the warning says so
        ("นางนวล ใจดี", "ใจดี", "นาง", "นวล"),
    ],
)
def test_a_title_written_in_the_name_is_left_out_with_a_warning(
    full: str, family: str, title: str, first: str
) -> None:
    """The SSO title code comes from the person's title; a title written in the name is
    left out of the name fields, and the export says what was left, to check it."""
    got_first, last, issues = names.split_for_sso(full, family)
    assert (got_first, last) == (first, family)
    assert codes(issues) == [("name.title_dropped", "first_name", Severity.WARNING)]
    assert dict(issues[0].params) == {"title": title, "name": f"{first} {family}"}


def test_long_mononymous_name_spills_into_last_name() -> None:
    first, last, issues = names.split_for_sso("Aung Kyaw Min Naing Zaw Htet Oo Lwin Thant")
    assert (first, last) == ("Aung Kyaw Min Naing Zaw Htet", "Oo Lwin Thant")
    assert codes(issues) == [("name.split_for_length", "first_name", Severity.WARNING)]
    assert dict(issues[0].params) == {"first": first, "last": last}


def test_long_name_without_spaces_is_truncated() -> None:
    first, last, issues = names.split_for_sso("X" * 45)
    assert (first, last) == ("X" * 30, "-")
    assert codes(issues) == [("name.truncated", "first_name", Severity.WARNING)]
    assert dict(issues[0].params) == {"width": 30, "original": "X" * 45}


def test_long_family_name_is_truncated_at_a_word() -> None:
    family = "Phommachanh Souvannavong Keomanivong Lao"
    first, last, issues = names.split_for_sso("Bounmy", family)
    assert first == "Bounmy"
    assert last == "Phommachanh Souvannavong"
    assert len(last) <= names.SSO_LAST_NAME_WIDTH
    assert codes(issues) == [("name.truncated", "last_name", Severity.WARNING)]


def test_given_names_longer_than_field_are_truncated() -> None:
    first, _, issues = names.split_for_sso("Bounmy Chanthavong Phetsamone Xay", "Vong")
    assert first == "Bounmy Chanthavong Phetsamone"
    assert codes(issues) == [("name.truncated", "first_name", Severity.WARNING)]


@pytest.mark.parametrize("full", ["", "   ", "Mr"])
def test_empty_name_is_an_error(full: str) -> None:
    first, last, issues = names.split_for_sso(full, "Jaidee" if full == "Mr" else None)
    if full == "Mr":
        # "Mr" alone is not a title followed by a name: it is kept as the name
        assert (first, last, issues) == ("Mr", "Jaidee", [])
    else:
        assert (first, last) == ("", "")
        assert codes(issues) == [("name.required", "first_name", Severity.ERROR)]
