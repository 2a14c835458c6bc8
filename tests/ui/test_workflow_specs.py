"""A wizard field's typed text read as its value (no Qt needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.ui.context import AppContext
from desktop.ui.step_fields import province_codes
from desktop.ui.workflow_specs import (
    FieldSpec,
    choice_text,
    unicode_form,
    validate_field,
)

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


@pytest.mark.parametrize(
    ("field", "typed", "code"),
    [
        (FieldSpec("bank_account", validator="bank_account"), "12-34", "bank.account_format"),
        (FieldSpec("employer_branch", validator="sso_branch"), "12", "id.length"),
        (FieldSpec("pink_card_number", validator="pink_card"), "0-0000-00000-00-0", None),
        (
            FieldSpec("s33_months", type="number", validator="section_39_months"),
            "8",
            "workflow.section_39_too_few_months",
        ),
        (
            FieldSpec("border_pass_number", type="id_number", validator="border_pass"),
            "B1",
            "id.length_range",
        ),
    ],
)
def test_every_named_validator_runs_when_a_field_is_typed(
    field: FieldSpec, typed: str, code: str | None
) -> None:
    """The wizard and the step editor check a value as the workflow engine will before the
    step is ready: a bank account the engine refuses is not taken and left to block later."""
    _value, found = validate_field(field, typed, TODAY)
    assert found, typed
    assert {i.field for i in found} == {field.name}
    if code is not None:
        assert code in {i.code for i in found}


def test_a_branch_is_kept_as_its_digits() -> None:
    branch = FieldSpec("employer_branch", validator="sso_branch")
    assert validate_field(branch, "00 0001", TODAY) == ("000001", [])


@pytest.mark.parametrize(
    ("field", "typed", "offered"),
    [
        (FieldSpec("hospital"), "ျမဝတီေဆး႐ုံ", "မြဝတီဆေးရုံ"),
        (FieldSpec("hospital"), "မြဝတီဆေးရုံ", None),  # Unicode already
        (FieldSpec("hospital"), "Mae Sot Hospital", None),
        (FieldSpec("submitted_on", type="date"), "ျမဝတီ", None),  # not free text
        (FieldSpec("bank_account", validator="bank_account"), "ျမဝတီ", None),
    ],
)
def test_only_free_text_typed_in_zawgyi_is_offered_in_unicode(
    field: FieldSpec, typed: str, offered: str | None
) -> None:
    assert unicode_form(field, typed) == (offered, [])


def test_zawgyi_that_cannot_be_converted_is_an_error() -> None:
    offered, found = unicode_form(FieldSpec("hospital"), "ေမာင္ေမာင္ ဃႉဳ")
    assert offered is None
    assert [(i.code, i.field) for i in found] == [("text.zawgyi_unconvertible", "hospital")]


@pytest.mark.parametrize(
    ("spec", "elsewhere"),
    [
        (FieldSpec("passport_number", maps="document.passport.number"), True),
        (FieldSpec("date_of_birth", type="date", maps="person.birth_date"), True),
        (FieldSpec("event_date", type="date", role="event_date"), True),
        (FieldSpec("full_name", maps="person.name.passport"), False),  # only started with it
        (FieldSpec("hospital"), False),
    ],
)
def test_a_value_that_became_a_person_fact_is_corrected_where_it_lives(
    spec: FieldSpec, elsewhere: bool
) -> None:
    """A step's editor leaves out what was written elsewhere, not a name the field only
    started with: the step holds that one."""
    assert spec.lives_elsewhere is elsewhere


def test_a_province_is_stored_as_its_code_and_read_as_its_name(ctx: AppContext) -> None:
    spec = FieldSpec("employer_province", "province")
    assert validate_field(spec, "63", TODAY) == ("63", [])
    value, found = validate_field(spec, "Tak", TODAY)  # a name is not a code
    assert (value, [i.code for i in found]) == (None, ["ui.wizard.not_a_choice"])
    ctx.language.set_language("th")
    assert choice_text(spec, "63") == "ตาก"
    in_thai = province_codes("th")  # dictionary order, not code points' (เ- last)
    assert in_thai.index("81") < in_thai.index("10") < in_thai.index("50") < in_thai.index("63")
    ctx.language.set_language("en")
    assert choice_text(spec, "63") == "Tak"
    assert choice_text(FieldSpec("reason", "choice"), "laid_off") == "Laid off"
