"""Identity-document numbers: Thai 13-digit IDs, passports, CIs, work permits, SSO accounts.

Rules come from domain.md §1.3-§1.4 and the SSO file layouts in §4.2:

* A Thai 13-digit number is shown as ``X-XXXX-XXXXX-XX-X``. Its first digit is the
  person category; the last digit is a check digit (weights 13..2 over the first 12
  digits, ``check = (11 - sum mod 11) mod 10``).
* Categories 0, 6 and 7 are non-Thai registry groups (pink-card holders, migrants,
  their children). Whether every one of their numbers satisfies the checksum is
  unverified, so a failed check there is only a warning; a first digit of 0 is never
  rejected (many off-the-shelf validators wrongly do).
* Passport, CI, work-permit and border-pass numbers have no published checksum; they get
  loose "letters and digits of a plausible length" rules.

Validators return :class:`~desktop.domain.validation.Issue` lists and never raise for
bad input.
"""

from __future__ import annotations

import enum
import re

from desktop.domain.dates import arabic_digits
from desktop.domain.validation import Issue, Severity, issue

THAI_ID_LENGTH = 13
SSO_ACCOUNT_LENGTH = 10
SSO_BRANCH_LENGTH = 6
SSO_HEAD_OFFICE_BRANCH = "000000"
PASSPORT_MIN_LENGTH = 5
PASSPORT_MAX_LENGTH = 15

# Separators people type inside numbers: spaces (incl. no-break and thin), dashes, dots.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.·]+")
_ALNUM = re.compile(r"[A-Z0-9]+")


class ThaiIdCategory(enum.StrEnum):
    """Person category encoded by the first digit of a Thai 13-digit number (domain.md §1.4)."""

    #: 1-5: Thai nationals in the civil registry
    THAI_REGISTRY = "thai_registry"
    #: 6: foreigners admitted temporarily, or irregular entrants
    TEMPORARY_OR_IRREGULAR = "temporary_or_irregular"
    #: 7: children of category 6
    CHILD_OF_CATEGORY_6 = "child_of_category_6"
    #: 8: naturalised aliens, permanent residents
    NATURALISED_OR_RESIDENT = "naturalised_or_resident"
    #: 0: persons without Thai registration status (pink-card holders, many migrants)
    NON_THAI_REGISTRY = "non_thai_registry"
    #: 9, or not a 13-digit number at all
    UNKNOWN = "unknown"


class DocumentKind(enum.StrEnum):
    """Kinds of identity document a worker may hold (several over time)."""

    THAI_ID = "thai_id"
    PINK_CARD = "pink_card"
    SSO_NUMBER = "sso_number"
    PASSPORT = "passport"
    CI = "ci"
    WORK_PERMIT = "work_permit"
    BORDER_PASS = "border_pass"


#: Document kinds whose number is a Thai 13-digit identification number.
THIRTEEN_DIGIT_KINDS = frozenset(
    {DocumentKind.THAI_ID, DocumentKind.PINK_CARD, DocumentKind.SSO_NUMBER}
)

# First digits whose holders are in the Thai civil registry: a bad check digit is an error.
_STRICT_CHECK_CATEGORIES = frozenset("123458")

# Loose limits for documents without a published format; wide enough for every origin
# country's passports/CIs and Thai work permits seen so far, narrow enough to catch typos
# such as a pasted sentence or a single stray digit.
_LOOSE_LIMITS: dict[DocumentKind, tuple[int, int]] = {
    DocumentKind.PASSPORT: (PASSPORT_MIN_LENGTH, PASSPORT_MAX_LENGTH),
    DocumentKind.CI: (5, 15),
    DocumentKind.WORK_PERMIT: (5, 20),
    DocumentKind.BORDER_PASS: (4, 20),
}


def digits_only(text: str) -> str:
    """``text`` with separators removed and Thai (Burmese, Khmer, Lao) digits made ASCII.

    Only spaces, dashes and dots are stripped; any other character is kept so that a
    validator can still report "not digits" instead of silently accepting garbage.
    """
    return _SEPARATORS.sub("", arabic_digits(text))


def thai_id_check_digit(first12: str) -> int:
    """The check digit for the first 12 digits of a Thai ID.

    Raises ``ValueError`` unless ``first12`` is exactly 12 ASCII digits (after
    :func:`digits_only`); callers validating user input should use
    :func:`validate_thai_id`, which never raises.
    """
    digits = digits_only(first12)
    if len(digits) != THAI_ID_LENGTH - 1 or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"expected 12 digits, got {first12!r}")
    total = sum(int(d) * weight for d, weight in zip(digits, range(13, 1, -1), strict=True))
    return (11 - total % 11) % 10


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def is_valid_thai_id_checksum(number: str) -> bool:
    """True when ``number`` is 13 digits whose last digit matches the checksum."""
    digits = digits_only(number)
    if len(digits) != THAI_ID_LENGTH or not _is_ascii_digits(digits):
        return False
    return thai_id_check_digit(digits[:12]) == int(digits[12])


def validate_thai_id(number: str, field: str = "number") -> list[Issue]:
    """Check a Thai 13-digit number (national ID, pink card, SSO number).

    Errors: ``id.required`` (empty), ``id.not_digits``, ``id.length`` (params
    ``expected``, ``actual``), and ``id.check_digit`` for Thai-registry categories.
    For categories 0, 6 and 7 a failed check digit is only a WARNING (domain.md §1.4).
    """
    digits = digits_only(number)
    if not digits:
        return [issue("id.required", field)]
    if not _is_ascii_digits(digits):
        return [issue("id.not_digits", field)]
    if len(digits) != THAI_ID_LENGTH:
        return [issue("id.length", field, expected=THAI_ID_LENGTH, actual=len(digits))]
    expected = thai_id_check_digit(digits[:12])
    if expected == int(digits[12]):
        return []
    severity = Severity.ERROR if digits[0] in _STRICT_CHECK_CATEGORIES else Severity.WARNING
    return [issue("id.check_digit", field, severity)]


def thai_id_category(number: str) -> ThaiIdCategory:
    """The person category of a Thai 13-digit number, or ``UNKNOWN`` when it is not one."""
    digits = digits_only(number)
    if len(digits) != THAI_ID_LENGTH or not _is_ascii_digits(digits):
        return ThaiIdCategory.UNKNOWN
    first = digits[0]
    if first in "12345":
        return ThaiIdCategory.THAI_REGISTRY
    return {
        "0": ThaiIdCategory.NON_THAI_REGISTRY,
        "6": ThaiIdCategory.TEMPORARY_OR_IRREGULAR,
        "7": ThaiIdCategory.CHILD_OF_CATEGORY_6,
        "8": ThaiIdCategory.NATURALISED_OR_RESIDENT,
    }.get(first, ThaiIdCategory.UNKNOWN)


def format_thai_id(number: str) -> str:
    """``"X-XXXX-XXXXX-XX-X"`` for a 13-digit number; anything else comes back cleaned only."""
    digits = digits_only(number)
    if len(digits) != THAI_ID_LENGTH or not _is_ascii_digits(digits):
        return digits
    return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"


def normalise_document_number(number: str) -> str:
    """Upper-case letters and digits only: the stored and searched form of a passport/CI number."""
    return _SEPARATORS.sub("", arabic_digits(number)).upper()


def _validate_loose(number: str, field: str, min_len: int, max_len: int) -> list[Issue]:
    value = normalise_document_number(number)
    if not value:
        return [issue("id.required", field)]
    if _ALNUM.fullmatch(value) is None:
        return [issue("id.invalid_characters", field)]
    if not min_len <= len(value) <= max_len:
        return [
            issue("id.length_range", field, min=min_len, max=max_len, actual=len(value)),
        ]
    return []


def validate_passport_number(number: str, field: str = "number") -> list[Issue]:
    """Loose passport check: 5-15 Latin letters or digits once separators are removed.

    Passport formats differ by issuing country and change over time, so only obvious
    mistakes are caught. Store :func:`normalise_document_number` of the value.
    """
    return _validate_loose(number, field, PASSPORT_MIN_LENGTH, PASSPORT_MAX_LENGTH)


def _validate_fixed_digits(value: str, field: str, length: int) -> list[Issue]:
    digits = digits_only(value)
    if not digits:
        return [issue("id.required", field)]
    if not _is_ascii_digits(digits):
        return [issue("id.not_digits", field)]
    if len(digits) != length:
        return [issue("id.length", field, expected=length, actual=len(digits))]
    return []


def validate_sso_employer_account(account: str, field: str = "sso_account") -> list[Issue]:
    """An SSO employer account number: exactly 10 digits (SSO file layouts, domain.md §4.2)."""
    return _validate_fixed_digits(account, field, SSO_ACCOUNT_LENGTH)


def validate_sso_branch(branch: str, field: str = "sso_branch") -> list[Issue]:
    """An SSO employer branch: exactly 6 digits; ``"000000"`` is the head office."""
    return _validate_fixed_digits(branch, field, SSO_BRANCH_LENGTH)


def is_head_office(branch: str) -> bool:
    """True for the head-office branch code ``000000``."""
    return digits_only(branch) == SSO_HEAD_OFFICE_BRANCH


def validate_document_number(kind: str, number: str, field: str = "number") -> list[Issue]:
    """Validate ``number`` by the rules of document ``kind`` (a :class:`DocumentKind` value).

    An unknown kind is reported as ``id.unknown_kind`` (param ``kind``) rather than raised,
    so imported data with a bad kind shows up as a validation finding.
    """
    try:
        document = DocumentKind(kind)
    except ValueError:
        return [issue("id.unknown_kind", field, kind=kind)]
    if document in THIRTEEN_DIGIT_KINDS:
        return validate_thai_id(number, field)
    low, high = _LOOSE_LIMITS[document]
    return _validate_loose(number, field, low, high)


__all__ = [
    "SSO_HEAD_OFFICE_BRANCH",
    "THIRTEEN_DIGIT_KINDS",
    "DocumentKind",
    "ThaiIdCategory",
    "digits_only",
    "format_thai_id",
    "is_head_office",
    "is_valid_thai_id_checksum",
    "normalise_document_number",
    "thai_id_category",
    "thai_id_check_digit",
    "validate_document_number",
    "validate_passport_number",
    "validate_sso_branch",
    "validate_sso_employer_account",
    "validate_thai_id",
]
