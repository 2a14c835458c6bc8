"""Tests for desktop.domain.ids: Thai 13-digit IDs, passports, SSO accounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain import ids
from desktop.domain.validation import Issue, Severity

# Check digits worked out by hand (weights 13..2, check = (11 - sum % 11) % 10):
# 110170023070 -> 13+12+10+63+12+15+21 = 146, 146 % 11 = 3, check 8
VALID_THAI = "1101700230708"
# 000000000006 -> 6*2 = 12, 12 % 11 = 1, (11-1) % 10 = 0: the "10 wraps to 0" case
VALID_WRAP_TO_ZERO = "0000000000060"
# 000000000031 -> 3*3 + 1*2 = 11, 11 % 11 = 0, (11-0) % 10 = 1: the "11 wraps to 1" case
VALID_WRAP_TO_ONE = "0000000000311"


def codes(issues: list[Issue]) -> list[tuple[str, Severity]]:
    return [(i.code, i.severity) for i in issues]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-1017-00230-70-8", "1101700230708"),
        ("1 1017 00230 70 8", "1101700230708"),
        ("1.1017.00230.70.8", "1101700230708"),
        ("๑๑๐๑๗๐๐๒๓๐๗๐๘", "1101700230708"),
        ("๑-๑๐๑๗-๐๐๒๓๐-๗๐-๘", "1101700230708"),
        ("၁-၁၀၁၇-၀၀၂၃၀-၇၀-၈", "1101700230708"),  # Burmese digits, typed on a Myanmar phone
        ("១១០១៧០០២៣០៧០៨", "1101700230708"),  # Khmer
        ("໑໑໐໑໗໐໐໒໓໐໗໐໘", "1101700230708"),  # Lao
        ("ဝ၁", "ဝ1"),  # the Burmese letter wa is not the digit zero: kept, to be refused
        ("  12\u00a034 ", "1234"),
        ("12a4", "12a4"),
        ("", ""),
    ],
)
def test_digits_only(text: str, expected: str) -> None:
    assert ids.digits_only(text) == expected


@pytest.mark.parametrize(
    ("first12", "check"),
    [("110170023070", 8), ("000000000006", 0), ("000000000031", 1), ("000000000001", 9)],
)
def test_check_digit(first12: str, check: int) -> None:
    assert ids.thai_id_check_digit(first12) == check


@pytest.mark.parametrize("bad", ["", "12345678901", "1234567890123", "11017002307x"])
def test_check_digit_rejects_wrong_input(bad: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        ids.thai_id_check_digit(bad)


@pytest.mark.parametrize(
    "number",
    [
        VALID_THAI,
        "1-1017-00230-70-8",
        "๑๑๐๑๗๐๐๒๓๐๗๐๘",
        VALID_WRAP_TO_ZERO,
        VALID_WRAP_TO_ONE,
    ],
)
def test_valid_thai_ids_have_no_issues(number: str) -> None:
    assert ids.validate_thai_id(number) == []
    assert ids.is_valid_thai_id_checksum(number)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("", [("id.required", Severity.ERROR)]),
        ("  - ", [("id.required", Severity.ERROR)]),
        ("11017002307O8", [("id.not_digits", Severity.ERROR)]),
        ("110170023070", [("id.length", Severity.ERROR)]),
        ("11017002307088", [("id.length", Severity.ERROR)]),
        # Thai-registry categories 1-5 and 8: a bad check digit blocks
        ("1101700230707", [("id.check_digit", Severity.ERROR)]),
        ("3101700230708", [("id.check_digit", Severity.ERROR)]),
        ("8101700230708", [("id.check_digit", Severity.ERROR)]),
        # non-Thai categories 0, 6, 7: only a warning (pink cards, migrants)
        ("0000000000061", [("id.check_digit", Severity.WARNING)]),
        ("0012345678901", [("id.check_digit", Severity.WARNING)]),
        ("6101700230708", [("id.check_digit", Severity.WARNING)]),
        ("7101700230708", [("id.check_digit", Severity.WARNING)]),
    ],
)
def test_invalid_thai_ids(number: str, expected: list[tuple[str, Severity]]) -> None:
    issues = ids.validate_thai_id(number, field="nid")
    assert codes(issues) == expected
    assert all(i.field == "nid" for i in issues)


def test_length_issue_carries_params() -> None:
    (found,) = ids.validate_thai_id("12345")
    assert dict(found.params) == {"expected": 13, "actual": 5}


def test_first_digit_zero_is_never_rejected_when_checksum_holds() -> None:
    assert ids.validate_thai_id(VALID_WRAP_TO_ZERO) == []
    assert ids.thai_id_category(VALID_WRAP_TO_ZERO) == "non_thai_registry"


@pytest.mark.parametrize(
    ("number", "category"),
    [
        ("1101700230708", ids.ThaiIdCategory.THAI_REGISTRY),
        ("5101700230708", ids.ThaiIdCategory.THAI_REGISTRY),
        ("0012345678901", ids.ThaiIdCategory.NON_THAI_REGISTRY),
        ("6101700230708", ids.ThaiIdCategory.TEMPORARY_OR_IRREGULAR),
        ("7101700230708", ids.ThaiIdCategory.CHILD_OF_CATEGORY_6),
        ("8101700230708", ids.ThaiIdCategory.NATURALISED_OR_RESIDENT),
        ("9101700230708", ids.ThaiIdCategory.UNKNOWN),
        ("123", ids.ThaiIdCategory.UNKNOWN),
        ("", ids.ThaiIdCategory.UNKNOWN),
    ],
)
def test_category(number: str, category: ids.ThaiIdCategory) -> None:
    assert ids.thai_id_category(number) == category


@pytest.mark.parametrize(
    ("number", "formatted"),
    [
        ("1101700230708", "1-1017-00230-70-8"),
        ("๑๑๐๑๗๐๐๒๓๐๗๐๘", "1-1017-00230-70-8"),
        ("1 1017 00230 70 8", "1-1017-00230-70-8"),
        ("12345", "12345"),
    ],
)
def test_format(number: str, formatted: str) -> None:
    assert ids.format_thai_id(number) == formatted


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("MA123456", []),
        ("ma 123-456", []),
        ("AB123", []),
        ("A1234567890123Z", []),
        ("", [("id.required", Severity.ERROR)]),
        ("AB12", [("id.length_range", Severity.ERROR)]),
        ("A12345678901234Z", [("id.length_range", Severity.ERROR)]),
        ("MA/123456", [("id.invalid_characters", Severity.ERROR)]),
        ("MÄ123456", [("id.invalid_characters", Severity.ERROR)]),
    ],
)
def test_passport(number: str, expected: list[tuple[str, Severity]]) -> None:
    assert codes(ids.validate_passport_number(number)) == expected


def test_passport_normalised_form() -> None:
    assert ids.normalise_document_number(" ma-123 456 ") == "MA123456"
    assert ids.normalise_document_number("ma ၁၂၃၄၅၆") == "MA123456"


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("1234567890", []),
        ("12-3456789-0", []),
        ("", [("id.required", Severity.ERROR)]),
        ("123456789", [("id.length", Severity.ERROR)]),
        ("12345678901", [("id.length", Severity.ERROR)]),
        ("12345678X0", [("id.not_digits", Severity.ERROR)]),
    ],
)
def test_sso_employer_account(account: str, expected: list[tuple[str, Severity]]) -> None:
    issues = ids.validate_sso_employer_account(account)
    assert codes(issues) == expected
    assert all(i.field == "sso_account" for i in issues)


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("000000", []),
        ("000001", []),
        ("00000", [("id.length", Severity.ERROR)]),
        ("0000000", [("id.length", Severity.ERROR)]),
        ("HQ", [("id.not_digits", Severity.ERROR)]),
        ("", [("id.required", Severity.ERROR)]),
    ],
)
def test_sso_branch(branch: str, expected: list[tuple[str, Severity]]) -> None:
    issues = ids.validate_sso_branch(branch)
    assert codes(issues) == expected
    assert all(i.field == "sso_branch" for i in issues)


def test_head_office() -> None:
    assert ids.is_head_office("000000")
    assert ids.is_head_office("๐๐๐๐๐๐")
    assert not ids.is_head_office("000001")


@pytest.mark.parametrize(
    ("kind", "number", "expected"),
    [
        ("thai_id", VALID_THAI, []),
        ("thai_id", "1101700230707", [("id.check_digit", Severity.ERROR)]),
        ("pink_card", "0012345678901", [("id.check_digit", Severity.WARNING)]),
        ("pink_card", VALID_WRAP_TO_ZERO, []),
        ("sso_number", "12345", [("id.length", Severity.ERROR)]),
        ("passport", "MA123456", []),
        ("passport", "M1", [("id.length_range", Severity.ERROR)]),
        ("ci", "AB1234567", []),
        ("ci", "", [("id.required", Severity.ERROR)]),
        ("work_permit", "WP-0012345678", []),
        ("work_permit", "WP#1", [("id.invalid_characters", Severity.ERROR)]),
        ("border_pass", "BP1234", []),
        ("border_pass", "B1", [("id.length_range", Severity.ERROR)]),
        ("driving_licence", "123", [("id.unknown_kind", Severity.ERROR)]),
    ],
)
def test_validate_document_number(
    kind: str, number: str, expected: list[tuple[str, Severity]]
) -> None:
    assert codes(ids.validate_document_number(kind, number, field="doc")) == expected


def test_unknown_kind_names_the_kind() -> None:
    (found,) = ids.validate_document_number("visa", "X1")
    assert found.params["kind"] == "visa"


def test_every_kind_is_dispatched() -> None:
    for kind in ids.DocumentKind:
        assert codes(ids.validate_document_number(kind, "")) == [("id.required", Severity.ERROR)]


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_appending_the_check_digit_always_validates(first12: str) -> None:
    number = first12 + str(ids.thai_id_check_digit(first12))
    assert ids.validate_thai_id(number) == []
    wrong = first12 + str((int(number[-1]) + 1) % 10)
    (found,) = ids.validate_thai_id(wrong)
    assert found.code == "id.check_digit"
    assert found.is_error is (first12[0] in "123458")
