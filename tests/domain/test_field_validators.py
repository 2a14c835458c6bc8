"""Every validator a workflow names exists and returns coded issues for bad values."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.domain import workflow
from desktop.domain.field_validators import validators
from desktop.domain.ids import thai_id_check_digit
from desktop.domain.validation import Severity

TODAY = dt.date(2026, 3, 15)
GOOD_PINK = "001234567890" + str(thai_id_check_digit("001234567890"))


def test_every_named_validator_in_the_workflows_exists() -> None:
    named = {
        field.validator
        for track in workflow.load().values()
        for step in track.steps
        for field in step.fields
        if field.validator
    }
    assert named <= set(validators(TODAY))


@pytest.mark.parametrize(
    ("name", "value", "codes"),
    [
        ("thai_id", GOOD_PINK, []),
        ("thai_id", "12345", ["id.length"]),
        ("passport", "MC123456", []),
        ("passport", "??", ["id.invalid_characters"]),
        ("sso_account", "1234567890", []),
        ("sso_account", "12345", ["id.length"]),
        ("bank_account", "123-4-56789-0", []),
        ("bank_account", "12ab", ["bank.account_format"]),
        ("not_in_future", dt.date(2026, 3, 15), []),
        ("not_in_future", dt.date(2026, 3, 16), ["date.in_future"]),
        ("not_in_future", "2026-01-02", []),
        ("not_in_future", "15/03/2569", ["date.be_year_as_ce"]),
        ("birth_date", "1990", []),
        ("birth_date", "2027", ["date.in_future"]),
        ("birth_date", "05/1990", []),
        ("birth_date", "04/2026", ["date.in_future"]),
        ("birth_date", "2533", ["date.be_year_as_ce"]),
        ("birth_date", "1990-05-17", []),
        ("birth_date", dt.date(2030, 1, 1), ["date.in_future"]),
        ("work_permit", "WP1234567", []),
        ("section_39_months", 12, []),
        ("section_39_months", "36", []),
        ("section_39_months", 11, ["workflow.section_39_too_few_months"]),
        ("section_39_months", "8", ["workflow.section_39_too_few_months"]),
        ("section_39_months", "many", []),  # not a number: the field's type says so
    ],
)
def test_validator_results(name: str, value: object, codes: list[str]) -> None:
    assert [i.code for i in validators(TODAY)[name](value)] == codes


def test_workflow_check_reports_the_step_field_name() -> None:
    track = next(t for t in workflow.load().values() if any(s.fields for s in t.steps))
    step = next(s for s in track.steps if any(f.validator == "not_in_future" for f in s.fields))
    field = next(f for f in step.fields if f.validator == "not_in_future")
    progress = workflow.StepProgress(step.key, values={field.name: dt.date(2030, 1, 1)})
    found = workflow.check(step, progress, validators(TODAY))
    assert any(i.code == "date.in_future" and i.field == field.name for i in found)


def test_too_few_months_for_section_39_warns_with_the_rule_s_minimum() -> None:
    """s.39 is open only after 12 months of s.33 contributions (domain.md §1.1, rule
    s39_entry): the 1-20 was printed for a worker with fewer, who is refused at the SSO.
    A warning, since the months counted here are the caseworker's and the SSO's record
    decides."""
    (found,) = validators(TODAY)["section_39_months"](6)
    assert found.severity is Severity.WARNING
    assert (found.field, dict(found.params)) == ("s33_months", {"months": 6, "minimum": 12})
    step = workflow.track("section_39").step("check_section_39")
    assert next(f for f in step.fields if f.name == "s33_months").validator == "section_39_months"
