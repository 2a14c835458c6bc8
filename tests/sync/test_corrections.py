"""Corrections made on one device reach the others: a job's end and why, a month and a
document removed as entered by mistake (the Work and Documents tabs)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from desktop.services import cases, employers, people
from tests.sync.conftest import Server


def test_a_job_ended_and_rows_removed_on_one_device_reach_the_other(
    server: Server, make_device: Any
) -> None:
    server.user("ann")
    server.user("bee")
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    person_id = people.create_person(
        ann.store,
        people.PersonInput(
            names=[people.NameInput("Sok Dara", "passport")],
            documents=[people.DocumentInput("passport", "AB1234567")],
        ),
    ).person_id
    number = cases.case_id_for(ann.store, cases.open_case(ann.store, person_id))
    start = employers.EmploymentInput(None, dt.date(2024, 1, 1))
    job = employers.add_employment(ann.store, person_id, start)
    months = [employers.ContributionInput(f"2025-0{m}", decimal.Decimal(9000)) for m in (1, 2)]
    employers.record_contributions(ann.store, person_id, months)
    assert ann.sync().ok
    assert bee.sync().ok
    held = cases.get_case_file(ann.store, number)
    employers.end_employment(ann.store, job, dt.date(2025, 12, 31), "laid_off")
    employers.remove_contributions(ann.store, person_id, [held.contributions[1].id])
    people.remove_document(ann.store, held.person.documents[0].id)
    assert ann.sync().ok
    assert bee.sync().ok
    seen = cases.get_case_file(bee.store, number)
    assert [(j.end_date, j.end_reason) for j in seen.employments] == [
        (dt.date(2025, 12, 31), "laid_off")
    ]
    assert [c.month for c in seen.contributions] == ["2025-01"]
    assert seen.person.documents == ()
