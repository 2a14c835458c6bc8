"""The named field validators that workflow definitions refer to (``validator: thai_id``).

Workflow YAML names a validator; :func:`validators` returns the one mapping from those
names to functions, for the wizard UI, the services and the CLI alike. Each function
takes the field's value (text or a date) and returns coded issues.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from desktop.domain import dates, ids, rules
from desktop.domain.validation import Issue, Severity, issue
from desktop.domain.workflow import Validator

BANK_ACCOUNT_DIGITS = (10, 15)  # Thai bank accounts are 10 digits; allow longer formats


def _as_date(value: Any, today: dt.date) -> tuple[dt.date | None, list[Issue]]:
    if isinstance(value, dt.date):
        return value, []
    return dates.parse_date_input(str(value), today=today)


def _not_in_future(today: dt.date) -> Validator:
    def check(value: Any) -> Iterable[Issue]:
        day, found = _as_date(value, today)
        if day is not None:
            found = [*found, *dates.not_in_future(day, today)]
        return found

    return check


def _birth_date(today: dt.date) -> Validator:
    def check(value: Any) -> Iterable[Issue]:
        if isinstance(value, dt.date):
            return dates.not_in_future(value, today)
        text = str(value)
        if len(text.strip()) in (4, 7):  # year only, or year and month
            partial, found = dates.parse_partial_date_input(text)
            if partial is not None:
                found = [*found, *dates.not_in_future(partial, today, "birth_date")]
            return found
        return _not_in_future(today)(value)

    return check


def _document(kind: str) -> Validator:
    def check(value: Any) -> Iterable[Issue]:
        return ids.validate_document_number(kind, str(value))

    return check


def _bank_account(value: Any) -> Iterable[Issue]:
    digits = ids.digits_only(str(value))
    low, high = BANK_ACCOUNT_DIGITS
    if not digits.isdigit() or not low <= len(digits) <= high:
        return [issue("bank.account_format", "bank_account", min=low, max=high)]
    return []


def _section_39_months(today: dt.date) -> Validator:
    """s.39 is open only after enough months of s.33 contributions (rule ``s39_entry``,
    domain.md §1.1). A warning: the months are the caseworker's count, and the SSO's
    record decides."""

    def check(value: Any) -> Iterable[Issue]:
        try:
            months = int(str(value).strip())
        except ValueError:
            return []  # not a number: the field's type reports it
        minimum = int(rules.load().mapping("s39_entry", today)["min_s33_months"])
        if months >= minimum:
            return []
        return [
            issue(
                "workflow.section_39_too_few_months",
                "s33_months",
                Severity.WARNING,
                months=months,
                minimum=minimum,
            )
        ]

    return check


def validators(today: dt.date) -> Mapping[str, Validator]:
    """Every validator name used in ``resources/workflows`` mapped to its function."""
    return MappingProxyType(
        {
            "thai_id": lambda value: ids.validate_thai_id(str(value)),
            "passport": lambda value: ids.validate_passport_number(str(value)),
            "certificate_of_identity": _document("ci"),
            "work_permit": _document("work_permit"),
            "border_pass": _document("border_pass"),
            "pink_card": _document("pink_card"),
            "sso_account": lambda value: ids.validate_sso_employer_account(str(value)),
            "sso_branch": lambda value: ids.validate_sso_branch(str(value)),
            "bank_account": _bank_account,
            "not_in_future": _not_in_future(today),
            "birth_date": _birth_date(today),
            "section_39_months": _section_39_months(today),
        }
    )
