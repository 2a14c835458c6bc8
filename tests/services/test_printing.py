"""desktop.services.printing: stored cases become form data, packets and SSO files."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from desktop.domain.errors import UserError
from desktop.forms import packet, sso_export
from desktop.forms.samples import with_check_digit
from desktop.models.store import Store
from desktop.services import cases, employers, people, printing
from desktop.services.cases import TrackInput
from desktop.services.people import DocumentInput, NameInput, PersonInput

PINK = with_check_digit("000163123456")


def _setup(store: Store) -> str:
    pid = people.create_person(
        store,
        PersonInput(
            names=[
                NameInput("မောင်ကျော်ဇင်", "native"),
                NameInput("Maung Kyaw Zin", "passport"),
                NameInput("หม่อง จ่อ ซิน", "thai"),
            ],
            sex="male",
            birth_date="1994-07-02",
            nationality="MMR",
            preferred_language="my",
            documents=[DocumentInput("pink_card", PINK)],
        ),
    ).person_id
    employer = employers.create_employer(
        store, employers.EmployerInput("Mae Sot Garment Co.", sso_account="6300012345")
    )
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2026, 2, 2), None, decimal.Decimal(20000)),
    )
    employers.record_contributions(
        store, pid, [employers.ContributionInput("2026-02", decimal.Decimal(20000), employer)]
    )
    number = cases.open_case(store, pid)
    cases.start_track(
        store,
        number,
        TrackInput(
            "claim",
            ["file"],
            [("medical_certificate", True), ("bank_passbook", True)],
            benefit="sickness",
            event_date=dt.date(2026, 3, 1),
        ),
    )
    return number


def test_case_data_from_a_stored_case(store: Store) -> None:
    number = _setup(store)
    data = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert data.case_number == number
    assert data.case_id == uuid.UUID(cases.case_id_for(store, number))
    assert data.person.language == "my"
    assert data.person.name_native == "မောင်ကျော်ဇင်"
    assert data.person.name_latin == "Maung Kyaw Zin"
    assert data.person.national_id == PINK
    assert data.person.sex == "M"
    assert data.person.birth_date == dt.date(1994, 7, 2)
    assert data.employer.account == "6300012345"
    assert data.forms == ("sps2_01",)
    assert data.benefit.kind == "sickness"
    assert data.benefit.filing_deadline is not None
    assert data.benefit.filing_deadline > dt.date(2026, 3, 1)
    assert [item.present for item in data.checklist] == [False, False]
    assert packet.render_packet_bytes(data).startswith(b"%PDF")


def test_queue_yields_every_case(store: Store) -> None:
    number = _setup(store)
    assert [c.case_number for c in printing.iter_case_data(store)] == [number]


def test_registration_and_contribution_exports_from_the_store(store: Store) -> None:
    _setup(store)
    records = printing.registration_records(store, "2026-02")
    assert [r.kind for r in records] == ["103"]
    result = sso_export.export_registrations(records)
    assert len(result.lines) == 1
    [statement] = printing.contribution_statements(store, "2026-02")
    assert statement.payment_date == dt.date(2026, 3, 15)
    exported = sso_export.export_contributions(statement)
    assert len(exported.lines) == 2
    assert "form.sso.wage_capped" in [w.issue.code for w in exported.warnings]


def test_bad_month_is_a_user_error(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        printing.registration_records(store, "February")
    assert caught.value.code == "form.error.bad_month"
