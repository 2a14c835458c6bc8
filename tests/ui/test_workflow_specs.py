"""A wizard field's typed text read as its value (no Qt needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.ui.workflow_specs import FieldSpec, validate_field

WAGE = FieldSpec("monthly_wage", type="money")
TODAY = dt.date(2026, 11, 23)


def test_a_typed_wage_is_kept_as_the_amount_it_says() -> None:
    assert validate_field(WAGE, " ๑๕,๐๐๐ บาท ", TODAY) == ("15000", [])


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "-300", "fifteen thousand"])
def test_what_is_no_amount_is_refused_as_one(typed: str) -> None:
    """ "NaN" once escaped as an uncaught error; "Infinity" was kept, and the sync server
    refused the employment it went into."""
    value, found = validate_field(WAGE, typed, TODAY)
    assert value is None
    assert [(i.code, i.field) for i in found] == [("ui.wizard.bad_amount", "monthly_wage")]
