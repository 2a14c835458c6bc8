"""Employers and employment: what is saved is measured against what the server accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.employers import EmployerInput, EmploymentInput


def test_an_employer_with_a_name_too_long_is_refused_with_its_other_issues(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        employers.create_employer(
            store, EmployerInput(name="  " + "x" * 201, contact_name="y" * 121)
        )
    assert [(i.code, i.field, i.params.get("limit")) for i in caught.value.issues] == [
        ("value.too_long", "name", 200),
        ("value.too_long", "contact_name", 120),
    ]
    employer_id = employers.create_employer(store, EmployerInput(name="  " + "x" * 200 + "  "))
    assert employer_id


def test_a_job_with_an_occupation_too_long_is_refused_and_nothing_written(store: Store) -> None:
    person_id = people.create_person(
        store, people.PersonInput(names=[people.NameInput("Sok Dara")])
    ).person_id
    number = cases.open_case(store, person_id)
    job = EmploymentInput(None, dt.date(2024, 1, 1), occupation="ช่าง" * 31)  # 124
    with pytest.raises(UserError) as caught:
        employers.add_employment(store, person_id, job)
    (found,) = caught.value.issues
    assert (found.code, found.field, found.params["length"]) == (
        "value.too_long",
        "occupation",
        124,
    )
    assert cases.get_case_file(store, number).employments == ()
