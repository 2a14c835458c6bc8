"""Amounts as people type them: one reading for wizards, pasted payslips and imports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from desktop.domain.amounts import MAX_AMOUNT, parse_amount


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("15000", "15000"),
        ("15,000.50", "15000.50"),
        ("฿ 15 000", "15000"),
        ("๑๕๐๐๐ บาท", "15000"),
        ("12000 THB", "12000"),
        ("1e5", "100000"),  # written out in full, as a person reads it
        ("0", "0"),
        (str(MAX_AMOUNT), str(MAX_AMOUNT)),
    ],
)
def test_an_amount_is_read_as_written(typed: str, amount: str) -> None:
    found = parse_amount(typed)
    assert found == Decimal(amount)
    assert str(found) == amount


@pytest.mark.parametrize(
    "typed",
    ["", "nine thousand", "NaN", "nan", "sNaN", "Infinity", "-inf", "-5", "1e13", "1,2,3.4.5"],
)
def test_what_is_no_amount_is_none(typed: str) -> None:
    assert parse_amount(typed) is None
