"""Employers and employment: what is saved is measured against what the server accepts."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.models.entities import Employer, OutboxEntry
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


# --- the same employer named again ---------------------------------------------------------

ACCOUNT = "1000000001"


def _employer(store: Store, name: str, account: str | None = None, **more: str) -> str:
    return employers.create_employer(store, EmployerInput(name, sso_account=account, **more))


def _find(store: Store, name: str | None, account: str | None = None, **kw: str) -> str | None:
    with store.read() as session:
        found = employers.find_employer(session, store.office, name=name, sso_account=account, **kw)
        return found.id if found is not None else None


def test_an_account_finds_its_employer_and_branch_whatever_the_name(store: Store) -> None:
    head = _employer(store, "Tak Farm", ACCOUNT)
    branch = _employer(store, "Tak Farm", ACCOUNT, sso_branch="000001")
    assert _find(store, "ไร่ตาก", "10-0000-0001") == head  # the head office, 000000
    assert _find(store, "Tak Farm", ACCOUNT, sso_branch="000001") == branch
    assert _find(store, "Tak Farm", "1000000002") is None  # the name never finds another


def test_a_name_alone_finds_it_cleaned_and_whatever_its_latin_case(store: Store) -> None:
    farm = _employer(store, "Tak Farm")
    thai = _employer(store, "ไร่ส้ม ตาก")
    assert _find(store, "  tak\u200b   FARM ") == farm
    assert _find(store, "ไร่ส้ม  ตาก") == thai
    assert _find(store, "Tak Farms") is None
    assert _find(store, "  ") is None


def test_a_name_alone_finds_the_one_account_of_that_name_but_never_picks_between_two(
    store: Store,
) -> None:
    first = _employer(store, "Tak Farm", ACCOUNT)
    assert _find(store, "Tak Farm") == first  # one business of that name
    _employer(store, "Tak Farm", "1000000002")
    assert _find(store, "Tak Farm") is None  # two: the name says not which
    without = _employer(store, "TAK FARM")
    assert _find(store, "Tak Farm") == without  # the one never given an account


def test_a_deleted_employer_or_another_offices_is_not_found(store: Store) -> None:
    gone = _employer(store, "Tak Farm", ACCOUNT)
    elsewhere = employers.create_employer(
        store, EmployerInput("Tak Farm", sso_account=ACCOUNT), office="MSO-01"
    )
    with store.session() as session:
        row = session.get(Employer, gone)
        assert row is not None
        row.deleted = True
    assert _find(store, "Tak Farm", ACCOUNT) is None
    assert _find(store, "Tak Farm") is None
    with store.read() as session:
        found = employers.find_employer(session, "MSO-01", name="Tak Farm", sso_account=ACCOUNT)
        assert found is not None
        assert found.id == elsewhere


def test_the_employer_found_keeps_what_it_holds_and_gets_only_what_it_lacks(
    store: Store,
) -> None:
    """Its province stays; the phone it lacked is filled in; a name found by the name
    alone is not given the account or branch it was named without."""
    farm = _employer(store, "Tak Farm", ACCOUNT, province_code="63")
    plain = employers.create_employer(store, EmployerInput("Mae Sot Garments", sso_branch=None))
    with store.session() as session:
        named = {
            "name": "TAK FARM CO",
            "sso_account": ACCOUNT,
            "sso_branch": "000000",
            "province_code": "10",
            "phone": "055 111 111",
        }
        assert employers.employer_for(session, store.office, named) == farm
        assert (
            employers.employer_for(
                session, store.office, {"name": "mae sot garments", "sso_branch": "000000"}
            )
            == plain
        )
    with store.read() as session:
        row = session.get(Employer, farm)
        assert row is not None
        assert (row.name, row.province_code, row.phone) == ("Tak Farm", "63", "055 111 111")
        again = session.get(Employer, plain)
        assert again is not None
        assert (again.name, again.sso_account, again.sso_branch) == ("Mae Sot Garments", None, None)


def test_an_employer_not_found_is_added(store: Store) -> None:
    with store.session() as session:
        new = employers.employer_for(
            session,
            store.office,
            {"name": "Tak Farm", "sso_account": ACCOUNT, "sso_branch": "000000"},
        )
    with store.read() as session:
        row = session.get(Employer, new)
        assert row is not None
        assert (row.office, row.name, row.sso_account) == (store.office, "Tak Farm", ACCOUNT)


def test_known_employers_each_name_and_account_once_without_the_deleted(store: Store) -> None:
    _employer(store, "Tak Farm", ACCOUNT)
    _employer(store, "Tak Farm", ACCOUNT)  # a duplicate row: one choice
    _employer(store, "Tak Farm", "1000000002", sso_branch="000001")
    _employer(store, "Mae Sot Garments")
    gone = _employer(store, "Old Mill")
    with store.session() as session:
        row = session.get(Employer, gone)
        assert row is not None
        row.deleted = True
    assert employers.known_employers(store) == [
        employers.KnownEmployer("Mae Sot Garments", None, None),
        employers.KnownEmployer("Tak Farm", ACCOUNT, "000000"),
        employers.KnownEmployer("Tak Farm", "1000000002", "000001"),
    ]


# --- when and why a job ended ----------------------------------------------------------------


def _job(store: Store) -> tuple[str, str]:
    """A person's job since January 2024 (their case number, the job's id)."""
    person_id = people.create_person(
        store, people.PersonInput(names=[people.NameInput("Sok Dara")])
    ).person_id
    number = cases.open_case(store, person_id)
    job = employers.add_employment(store, person_id, EmploymentInput(None, dt.date(2024, 1, 1)))
    return number, job


def _queued(store: Store, row_id: str) -> list[str]:
    with store.read() as session:
        rows = session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == row_id))
        return sorted(entry.field for entry in rows)


def test_a_job_ended_is_recorded_field_by_field(store: Store) -> None:
    number, job = _job(store)
    assert employers.end_employment(store, job, dt.date(2025, 6, 30), "contract_ended")
    (row,) = cases.get_case_file(store, number).employments
    assert (row.end_date, row.end_reason) == (dt.date(2025, 6, 30), "contract_ended")
    assert _queued(store, job) == ["*", "end_date", "end_reason"]
    # the same answer again writes nothing; a corrected reason travels alone
    assert not employers.end_employment(store, job, dt.date(2025, 6, 30), "contract_ended")
    assert employers.end_employment(store, job, dt.date(2025, 6, 30), "laid_off")
    assert _queued(store, job) == ["*", "end_date", "end_reason", "end_reason"]
    # an end recorded by mistake: the job goes on, and its reason goes with the end
    assert employers.end_employment(store, job, None, None)
    (row,) = cases.get_case_file(store, number).employments
    assert (row.end_date, row.end_reason) == (None, None)


@pytest.mark.parametrize(
    ("end", "reason", "codes"),
    [
        (dt.date(2023, 12, 31), "laid_off", ["employment.end_before_start"]),
        (dt.date(2025, 6, 30), "ran_away", ["employment.end_reason_unknown"]),
        (None, "resigned", ["employment.reason_without_end"]),
    ],
)
def test_a_job_end_that_cannot_be_is_refused_and_nothing_written(
    store: Store, end: dt.date | None, reason: str, codes: list[str]
) -> None:
    number, job = _job(store)
    with pytest.raises(UserError) as caught:
        employers.end_employment(store, job, end, reason)
    assert caught.value.code == "error.invalid_input"
    assert [i.code for i in caught.value.issues] == codes
    (row,) = cases.get_case_file(store, number).employments
    assert (row.end_date, row.end_reason) == (None, None)
    assert _queued(store, job) == ["*"]


def test_a_job_not_on_file_is_said_as_such(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        employers.end_employment(store, "no-such-job", dt.date(2025, 6, 30), None)
    assert caught.value.code == "error.not_found"
    assert caught.value.params == {"entity": "employment", "row_id": "no-such-job"}


def test_every_reason_a_job_ends_for_has_an_unemployment_rule_and_a_name() -> None:
    # the Work tab offers END_REASONS; the claim wizard offers some of them
    from desktop.domain import i18n, workflow
    from desktop.services.eligibility import unemployment_reason

    assert all(unemployment_reason(code) is not None for code in employers.END_REASONS)
    assert all(i18n.has(workflow.label_key("choice", code)) for code in employers.END_REASONS)
    claim = workflow.load()["claim_unemployment"].steps[0]
    (asked,) = (f for f in claim.fields if f.name == "unemployment_reason")
    assert set(asked.choices) == set(employers.END_REASONS)


def test_months_entered_by_mistake_are_removed_and_no_longer_count(store: Store) -> None:
    number, _job_id = _job(store)
    person_id = cases.get_case_file(store, number).person.id
    typed = [employers.ContributionInput(f"2025-0{m}", decimal.Decimal(9000)) for m in range(1, 5)]
    employers.record_contributions(store, person_id, typed)
    held = {c.month: c.id for c in cases.get_case_file(store, number).contributions}
    wrong = [held["2025-03"], held["2025-04"]]
    assert employers.remove_contributions(store, person_id, wrong) == 2
    months = cases.get_case_file(store, number).contributions
    assert [c.month for c in months] == ["2025-01", "2025-02"]
    assert _queued(store, wrong[0]) == ["*", "deleted"]
    # typed again, the month is a new row: the removed one stays removed
    employers.record_contributions(store, person_id, typed[2:3])
    months = cases.get_case_file(store, number).contributions
    assert [c.month for c in months] == ["2025-01", "2025-02", "2025-03"]


def test_a_month_not_the_person_s_is_refused_and_nothing_removed(store: Store) -> None:
    number, _job_id = _job(store)
    person_id = cases.get_case_file(store, number).person.id
    other, _ = _job(store)
    other_person = cases.get_case_file(store, other).person.id
    month = employers.ContributionInput("2025-01", decimal.Decimal(9000))
    employers.record_contributions(store, person_id, [month])
    employers.record_contributions(store, other_person, [month])
    (mine,) = cases.get_case_file(store, number).contributions
    (theirs,) = cases.get_case_file(store, other).contributions
    with pytest.raises(UserError) as caught:
        employers.remove_contributions(store, person_id, [mine.id, theirs.id])
    assert caught.value.code == "error.not_found"
    assert caught.value.params["row_id"] == theirs.id
    assert len(cases.get_case_file(store, number).contributions) == 1
    assert len(cases.get_case_file(store, other).contributions) == 1


# --- an employer's details corrected ---------------------------------------------------------


def test_a_mistyped_account_is_corrected_for_every_worker_of_the_employer(store: Store) -> None:
    employer = _employer(store, "Tak Farm", "1000000002", address="Mae Sot")
    numbers = []
    for name in ("Sok Dara", "Aung Kyaw"):
        person = people.create_person(store, people.PersonInput(names=[people.NameInput(name)]))
        job = EmploymentInput(employer, dt.date(2024, 1, 1))
        employers.add_employment(store, person.person_id, job)
        numbers.append(cases.open_case(store, person.person_id))
    assert employers.update_employer(store, employer, sso_account="10-0000-0001", address="")
    for number in numbers:
        (job,) = cases.get_case_file(store, number).employments
        assert job.employer_sso_account == ACCOUNT  # digits only, as stored at creation
    details = employers.employer_details(store, employer)
    assert (details["address"], details["name"], details["sso_branch"]) == (
        None,
        "Tak Farm",
        "000000",
    )
    assert _queued(store, employer) == ["*", "address", "sso_account"]
    assert not employers.update_employer(store, employer, sso_account=ACCOUNT)  # the same


def test_an_employer_s_province_and_district_are_recorded(store: Store) -> None:
    """The SPS 1-03 and the complaint letter print them, the SSO file its province code;
    only the importer could set them before."""
    employer = _employer(store, "Tak Farm", ACCOUNT)
    assert employers.update_employer(store, employer, province_code="63", district="แม่สอด")
    details = employers.employer_details(store, employer)
    assert (details["province_code"], details["district"]) == ("63", "แม่สอด")
    assert _queued(store, employer) == ["*", "district", "province_code"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"sso_account": "12345"}, "id.length"),
        ({"name": "  "}, "employer.name_required"),
        ({"name": "ก" * 201}, "value.too_long"),
        ({"province_code": "99"}, "employer.unknown_province"),
        ({"district": "ก" * 121}, "value.too_long"),
    ],
)
def test_a_correction_that_cannot_be_is_refused_and_nothing_written(
    store: Store, changes: dict[str, str], code: str
) -> None:
    employer = _employer(store, "Tak Farm", ACCOUNT)
    with pytest.raises(UserError) as caught:
        employers.update_employer(store, employer, **changes)
    assert code in [i.code for i in caught.value.issues]
    assert employers.employer_details(store, employer)["name"] == "Tak Farm"
    assert _queued(store, employer) == ["*"]


def test_a_job_entered_by_mistake_is_removed_and_the_months_stay(store: Store) -> None:
    number, job = _job(store)
    person_id = cases.get_case_file(store, number).person.id
    month = employers.ContributionInput("2025-01", decimal.Decimal(9000))
    employers.record_contributions(store, person_id, [month])
    employers.remove_employment(store, job)
    held = cases.get_case_file(store, number)
    assert held.employments == ()
    assert [c.month for c in held.contributions] == ["2025-01"]
    assert _queued(store, job) == ["*", "deleted"]
    with pytest.raises(UserError) as caught:  # removed already
        employers.remove_employment(store, job)
    assert caught.value.code == "error.not_found"
