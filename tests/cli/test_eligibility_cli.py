"""``sapan eligibility``: the calculator from a JSON file and from a stored case."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.models.store import Store
from desktop.services import cases, employers, people
from desktop.services.cases import TrackInput
from desktop.services.people import NameInput, PersonInput
from tests.conftest import PASSPHRASE

GOOD: dict[str, Any] = {
    "as_of": "2026-03-15",
    "section": 33,
    "event": {"benefit": "maternity", "date": "2026-03-10"},
    "contributions": [
        {"month": "2025-10", "wage": 12000},
        {"month": "2025-11", "wage": 30000},
        {"month": "2025-12", "wage": 1000},
        {"month": "2026-01", "wage": "12000"},
        {"month": "2026-02", "wage": 12000, "section": 33},
        {"month": "2026-04", "wage": 12000},
    ],
    "birth_date": "1995-01-01",
}


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eligibility", "--input", write(tmp_path, GOOD), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["eligible"] is True
    assert out["rule"]["code"] == "rule.window"
    assert out["rule"]["params"] == {"required": 5, "window": 15}
    # April 2026 is after the event: accepted, never counted
    assert out["counted_months"] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert out["earliest_eligible_date"] is None
    assert out["daily_wage"] == "285.00"  # (1,650 + 12,000 + 12,000) / 90
    assert [a["code"] for a in out["amounts"]] == ["amount.lump_sum", "amount.leave_cash"]
    assert out["amounts"][0]["params"]["amount"] == "15000"
    assert out["filing_deadline"] == {
        "date": "2027-03-10",
        "state": "due",
        "action": "deadline.file_claim",
    }
    settings = {u["setting"] for u in out["unconfirmed"]}
    assert settings == {"claim_filing_limit_months", "maternity_leave_cash_days"}
    assert any("Claim filing limit (1 or 2 years)" in u["text"] for u in out["unconfirmed"])
    assert all(s.startswith("http") for s in out["sources"])


def test_not_eligible_gives_the_earliest_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {**GOOD, "contributions": GOOD["contributions"][3:]}
    assert main(["eligibility", "--input", write(tmp_path, data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["eligible"] is False
    assert out["reasons"][0]["params"] == {"have": 2, "required": 5, "window": 15}
    assert out["earliest_eligible_date"] == "2026-06-01"


def test_text_output_in_thai(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = {
        "event": {"benefit": "unemployment", "date": "2026-03-01", "reason": "laid_off"},
        "contributions": [{"month": f"2025-{m:02d}", "wage": 9000} for m in range(1, 13)],
        "employment_end": "2026-02-28",
        "as_of": "2026-03-25",
    }
    assert main(["--lang", "th", "eligibility", "--input", write(tmp_path, data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ว่างงาน: มีสิทธิ")
    assert "ร้อยละ 60" in out
    assert "2026-03-30" in out  # 30 days from leaving the job on 28 February (D7)
    assert "ใกล้ครบกำหนด" in out


def test_text_output_when_not_eligible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = {"event": {"benefit": "sickness", "date": "2026-03-10"}, "contributions": []}
    assert main(["eligibility", "--input", write(tmp_path, data)]) == 0
    out = capsys.readouterr().out
    assert "only 0 of the 3 needed" in out
    assert "-> 2026-06-01" in out


def _event(**change: Any) -> dict[str, Any]:
    return {**GOOD, "event": {**GOOD["event"], **change}}


def _month(value: Any) -> dict[str, Any]:
    return {**GOOD, "contributions": [{"month": value, "wage": 100}]}


BAD = [
    (_event(benefit="lottery"), "Unknown benefit lottery"),
    (_event(date="2026-02-30"), "event.date must be a date"),
    (_event(date="10/03/2026"), "event.date must be a date"),
    (_event(date="2569-01-01"), "Buddhist Era year 2569-01-01: write the year in CE (2026)"),
    (_event(reason="fired"), "Unknown unemployment reason fired"),
    (_event(benefit=None), "missing: event.benefit"),
    (_event(date=None), "missing: event.date"),
    ({**GOOD, "event": "maternity"}, "missing: event.benefit"),
    ({k: v for k, v in GOOD.items() if k != "event"}, "missing: event"),
    ({k: v for k, v in GOOD.items() if k != "contributions"}, "missing: contributions"),
    ({**GOOD, "contributions": {"month": "2026-01"}}, "missing: contributions"),
    ({**GOOD, "contributions": ["2026-01"]}, "missing: contributions[0].month"),
    ({**GOOD, "contributions": [{"month": "2026-01"}]}, "missing: contributions[0].wage"),
    (_month("2026-13"), "contributions[0].month must be a month"),
    (_month("2026/01"), "contributions[0].month must be a month"),
    (_month("2569-01"), "Buddhist Era year 2569-01"),
    ({**GOOD, "contributions": [{"month": "2026-01", "wage": "lots"}]}, "must be a number"),
    ({**GOOD, "contributions": [{"month": "2026-01", "wage": True}]}, "must be a number"),
    ({**GOOD, "birth_date": "2538-01-01"}, "birth_date has the Buddhist Era year"),
    ({**GOOD, "as_of": "yesterday"}, "as_of must be a date"),
    ({**GOOD, "section": 34}, "Section 34 is not a social security section"),
    ({**_event(benefit="old_age"), "birth_date": None}, "missing: birth_date"),
    (["not", "an", "object"], "missing: event"),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_input_is_a_clear_error_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, message: str
) -> None:
    assert main(["eligibility", "--input", write(tmp_path, data), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_unreadable_or_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eligibility", "--input", str(tmp_path / "none.json")]) == 2
    assert "Cannot read the input file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["eligibility", "--input", str(broken)]) == 2
    assert "Cannot read the input file" in capsys.readouterr().err


def test_no_input_at_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eligibility"]) == 2
    assert "case number or --input" in capsys.readouterr().err


def _case(store: Store) -> str:
    pid = people.create_person(
        store,
        PersonInput(names=[NameInput("Aung Aung", "passport")], birth_date="1990-05-01"),
    ).person_id
    employer = employers.create_employer(store, employers.EmployerInput("Mae Sot Garments"))
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2025, 1, 6), None, decimal.Decimal(9000)),
    )
    employers.record_contributions(
        store,
        pid,
        [
            employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000), employer)
            for m in range(1, 13)
        ],
    )
    number = cases.open_case(store, pid)
    cases.start_track(
        store,
        number,
        TrackInput(
            "claim", ["check_eligibility"], benefit="maternity", event_date=dt.date(2026, 1, 20)
        ),
    )
    cases.start_track(store, number, TrackInput("enrollment", ["identity"], path="pink_card"))
    return number


def test_stored_case(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _case(store)
    monkeypatch.setenv("SAPAN_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(tmp_path / "store"), "eligibility", number, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["benefit"] == "maternity"
    assert result["eligible"] is True
    assert len(result["counted_months"]) == 12


def test_text_output_names_the_right_filing_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    injury = {
        "as_of": "2026-03-20",
        "section": 33,
        "event": {"benefit": "work_injury", "date": "2026-03-10"},
        "contributions": [],
        "birth_date": "1995-01-01",
    }
    assert main(["eligibility", "--input", write(tmp_path, injury)]) == 0
    printed = capsys.readouterr().out
    assert "2-01" not in printed
