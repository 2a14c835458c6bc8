"""desktop.forms.sso_export: golden fixed-width files and every kind of bad row."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from desktop.domain import contributions, names
from desktop.domain.errors import UserError
from desktop.forms import samples, sso_export
from desktop.forms.data import (
    ContributionMonth,
    ContributionRow,
    Name,
    Person,
    RegistrationRecord,
)

GOLDEN = Path(__file__).parent / "golden"
CASES = samples.demo_cases()


def _registrations(kind: str = "103") -> list[RegistrationRecord]:
    return [RegistrationRecord(kind, c.person, c.employer, c.employment) for c in CASES]


def _statement(
    rows: list[ContributionRow], month: dt.date = dt.date(2026, 2, 1)
) -> ContributionMonth:
    return ContributionMonth(samples.EMPLOYER, month, dt.date(2026, 3, 15), tuple(rows))


def _rows() -> list[ContributionRow]:
    return [ContributionRow(c.person, c.employment.monthly_wage or Decimal(0)) for c in CASES]


def _golden(name: str) -> list[str]:
    return (GOLDEN / name).read_text(encoding="utf-8").splitlines()


def test_registration_file_matches_golden() -> None:
    result = sso_export.export_registrations(_registrations())
    assert list(result.lines) == _golden("registrations_103.txt")
    assert all(len(line) == 240 for line in result.lines)


def test_leaving_file_matches_golden() -> None:
    records = [r for r in _registrations("609") if r.employment.end_date]
    result = sso_export.export_registrations(records)
    assert list(result.lines) == _golden("registrations_609.txt")


def test_contribution_file_matches_golden() -> None:
    result = sso_export.export_contributions(_statement(_rows()))
    assert list(result.lines) == _golden("contributions_2569_02.txt")
    assert all(len(line) == 135 for line in result.lines)


def test_encoded_file_is_tis620_one_byte_per_character() -> None:
    result = sso_export.export_contributions(_statement(_rows()))
    data = result.encode()
    assert data.count(b"\r\n") == len(result.lines)
    assert all(len(line) == 135 for line in data.split(b"\r\n")[:-1])
    assert data.decode("cp874").splitlines() == list(result.lines)


def test_missing_employer_account_is_a_row_error_and_no_line() -> None:
    khmer = next(r for r in _registrations() if r.person.language == "km")
    result = sso_export.export_registrations([khmer])
    assert result.lines == ()
    # The unregistered employer has neither an account nor a branch; neither is assumed.
    assert [(e.row, e.issue.code, e.issue.field) for e in result.errors] == [
        (1, "id.required", "employer_account"),
        (1, "id.required", "employer_branch"),
    ]


def test_contribution_file_without_employer_account_is_refused() -> None:
    statement = dataclasses.replace(
        _statement(_rows()), employer=dataclasses.replace(samples.EMPLOYER, account="12")
    )
    with pytest.raises(UserError) as caught:
        sso_export.export_contributions(statement)
    assert caught.value.code == "form.sso.employer_invalid"
    assert caught.value.issues[0].field == "employer_account"


def test_long_name_is_cut_with_a_warning_and_the_line_keeps_its_width() -> None:
    long_family = "ศรีสุวรรณวงศ์ไพบูลย์ชัยมงคลรัตนากรณ์ทวีทรัพย์"
    person = dataclasses.replace(CASES[3].person, names=(Name("th", "สมหญิงพรรณราย", long_family),))
    result = sso_export.export_registrations(
        [RegistrationRecord("103", person, samples.EMPLOYER, CASES[3].employment)]
    )
    [line] = result.lines
    assert len(line) == 240
    assert [w.issue.code for w in result.warnings] == ["name.truncated"]
    # Cut at 35 characters, stepping back so ณ keeps its mark (the cut drops both).
    assert line[74:109].rstrip() == names.fit_width(long_family, 35)[0]
    assert len(line[74:109].rstrip()) < 35


def _first_name_written(given: str, family: str) -> tuple[str, list[str]]:
    person = dataclasses.replace(CASES[3].person, names=(Name("th", given, family),))
    result = sso_export.export_registrations(
        [RegistrationRecord("103", person, samples.EMPLOYER, CASES[3].employment)]
    )
    [line] = result.lines
    return line[44:74].rstrip(), [w.issue.code for w in result.warnings]


def test_a_given_name_that_begins_like_a_title_is_written_whole() -> None:
    """นายิกา is a name, not นาย + ิกา: the file once held a first name starting with a
    vowel sign. A title written in the name is left out, with a warning to check it."""
    assert _first_name_written("นายิกา", "สุขใจ") == ("นายิกา", [])
    assert _first_name_written("นายสมชาย", "ใจดี") == ("สมชาย", ["name.title_dropped"])


def test_burmese_name_without_family_name_gets_a_dash() -> None:
    result = sso_export.export_registrations(_registrations()[:1])
    assert result.lines[0][74:109].rstrip() == "-"


def test_name_only_in_burmese_script_cannot_be_written() -> None:
    person = dataclasses.replace(CASES[0].person, names=(Name("my", "မောင်ကျော်"),))
    line, found = sso_export.registration_line(
        RegistrationRecord("103", person, samples.EMPLOYER, CASES[0].employment)
    )
    assert line is None
    assert "form.sso.not_encodable" in [i.code for i in found]


def test_thai_id_failing_its_check_digit_is_an_error() -> None:
    thai = CASES[3].person
    bad = thai.national_id[:12] + str((int(thai.national_id[12]) + 1) % 10)
    person = dataclasses.replace(thai, national_id=bad)
    result = sso_export.export_contributions(_statement([ContributionRow(person, Decimal(9000))]))
    assert len(result.lines) == 1  # header only
    assert [e.issue.code for e in result.errors] == ["id.check_digit"]
    assert result.lines[0][76:82] == "000000"  # insured count


def test_an_employer_without_a_province_is_exported_with_a_warning() -> None:
    """The line still goes (the rest of it is right) with 00 where the province goes, and
    the clerk is told where to record it."""
    case = CASES[0]
    employer = dataclasses.replace(case.employer, sso_province_code="")
    record = RegistrationRecord("103", case.person, employer, case.employment)
    result = sso_export.export_registrations([record])
    with_province = sso_export.export_registrations(_registrations()[:1])
    found = [w.issue.code for w in result.warnings]
    assert found == [*(w.issue.code for w in with_province.warnings), "form.sso.province_missing"]
    assert result.lines[0][3:5] == "00"
    assert with_province.lines[0][3:5] == case.employer.sso_province_code


def test_pink_card_failing_its_check_digit_is_only_a_warning() -> None:
    burmese = CASES[0].person
    bad = burmese.national_id[:12] + str((int(burmese.national_id[12]) + 1) % 10)
    person = dataclasses.replace(burmese, national_id=bad)
    result = sso_export.export_contributions(_statement([ContributionRow(person, Decimal(9000))]))
    assert len(result.lines) == 2
    assert "id.check_digit" in [w.issue.code for w in result.warnings]


@pytest.mark.parametrize(
    ("month", "base_satang", "share_satang"),
    [(dt.date(2025, 12, 1), "1500000", "75000"), (dt.date(2026, 1, 1), "1750000", "87500")],
)
def test_wage_above_ceiling_is_capped_per_the_month(
    month: dt.date, base_satang: str, share_satang: str
) -> None:
    row = ContributionRow(CASES[3].person, Decimal(40000))
    result = sso_export.export_contributions(_statement([row], month))
    detail = result.lines[1]
    assert detail[82:96] == base_satang.rjust(14, "0")
    assert detail[96:108] == share_satang.rjust(12, "0")
    assert [w.issue.code for w in result.warnings if w.row == 1] == ["form.sso.wage_capped"]


def test_contribution_function_can_be_injected() -> None:
    calls: list[tuple[dt.date, Decimal, int]] = []

    def fake(month: dt.date, wage: Decimal, section: int) -> contributions.Contribution:
        calls.append((month, wage, section))
        return contributions.contribution_for(month, wage, section)

    sso_export.export_contributions(_statement(_rows()[:1]), contribution_for=fake)
    assert calls == [(dt.date(2026, 2, 1), Decimal(9600), 33)]


def test_negative_wage_is_a_row_error() -> None:
    row = ContributionRow(CASES[3].person, Decimal(-5))
    result = sso_export.export_contributions(_statement([row]))
    assert [e.issue.code for e in result.errors] == ["error.contribution_negative_wage"]


def test_unknown_record_type_is_a_bug() -> None:
    with pytest.raises(ValueError, match="record type"):
        sso_export.registration_line(
            RegistrationRecord("999", CASES[3].person, samples.EMPLOYER, CASES[3].employment)
        )


def test_layout_refuses_values_that_do_not_fit() -> None:
    layout = sso_export.layout("contribution_detail")
    with pytest.raises(ValueError, match="wider"):
        layout.format({"nid": "1" * 14})
    with pytest.raises(ValueError, match="digits"):
        layout.format({"wage": "12a"})


def test_value_helpers() -> None:
    assert sso_export.be_ddmmyyyy(dt.date(1994, 7, 2)) == "02072537"
    assert sso_export.be_ddmmyy(dt.date(2026, 3, 15)) == "150369"
    assert sso_export.be_mmyy(dt.date(2026, 2, 1)) == "0269"
    assert sso_export.satang(Decimal("875.5")) == "87550"


def test_person_with_no_name_is_an_error() -> None:
    person = Person(names=(), national_id=CASES[3].person.national_id, title="mr")
    line, found = sso_export.registration_line(
        RegistrationRecord("103", person, samples.EMPLOYER, CASES[3].employment)
    )
    assert line is None
    assert "name.required" in [i.code for i in found]
