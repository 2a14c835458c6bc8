"""Tests for desktop.domain.dates: BE years, Thai digits, input parsing, partial dates, months."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain import dates
from desktop.domain.dates import PartialDate, Precision, YearMonth
from desktop.domain.errors import UserError
from desktop.domain.validation import Issue, Severity

D = dt.date


def codes(issues: list[Issue]) -> list[str]:
    return [i.code for i in issues]


# --- Buddhist Era years ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ce", "month", "be"),
    [
        (2026, None, 2569),
        (2026, 3, 2569),
        (2024, 2, 2567),
        (1941, 1, 2484),  # first year whose BE year starts on 1 January
        (1941, None, 2484),
        (1940, 12, 2483),
        (1940, 4, 2483),  # BE 2483 began on 1 April 1940
        (1940, 3, 2482),  # January-March 1940 still belonged to BE 2482
        (1940, 1, 2482),
        (1939, 2, 2481),
        (1939, 6, 2482),
        (1940, None, 2483),  # without a month the modern rule applies
    ],
)
def test_be_year_conversion(ce: int, month: int | None, be: int) -> None:
    assert dates.ce_to_be_year(ce, month) == be
    assert dates.be_to_ce_year(be, month) == ce


def test_be_2483_january_to_march_never_existed() -> None:
    with pytest.raises(ValueError, match="April to December"):
        dates.be_to_ce_year(2483, 2)


@pytest.mark.parametrize("month", [0, 13, -1])
def test_bad_month_in_year_conversion(month: int) -> None:
    with pytest.raises(ValueError, match="month"):
        dates.ce_to_be_year(2026, month)
    with pytest.raises(ValueError, match="month"):
        dates.be_to_ce_year(2569, month)


@pytest.mark.parametrize(
    ("day", "sep", "thai", "text"),
    [
        (D(2026, 3, 15), "/", False, "15/03/2569"),
        (D(2024, 2, 29), "/", False, "29/02/2567"),
        (D(1940, 2, 1), "/", False, "01/02/2482"),
        (D(1940, 4, 1), "/", False, "01/04/2483"),
        (D(2026, 3, 15), "", False, "15032569"),
        (D(2026, 3, 15), "/", True, "๑๕/๐๓/๒๕๖๙"),
    ],
)
def test_format_be(day: dt.date, sep: str, thai: bool, text: str) -> None:
    assert dates.format_be(day, sep, thai=thai) == text


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15/03/2569", D(2026, 3, 15)),
        ("15-03-2569", D(2026, 3, 15)),
        ("15.03.2569", D(2026, 3, 15)),
        ("5/3/2569", D(2026, 3, 5)),
        (" ๑๕/๐๓/๒๕๖๙ ", D(2026, 3, 15)),
        ("29/02/2567", D(2024, 2, 29)),  # BE leap day: 2567 BE = 2024 CE
        ("29/02/2482", D(1940, 2, 29)),  # leap only under the pre-1941 rule (542)
        ("31/12/2483", D(1940, 12, 31)),
        ("01/01/2484", D(1941, 1, 1)),
    ],
)
def test_parse_be(text: str, day: dt.date) -> None:
    assert dates.parse_be(text) == day


def test_format_then_parse_round_trip() -> None:
    for day in (D(1930, 1, 31), D(1940, 3, 31), D(1940, 4, 1), D(1999, 12, 31), D(2026, 6, 1)):
        assert dates.parse_be(dates.format_be(day)) == day


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2569-03-15", "date.malformed"),
        ("15/03/69", "date.malformed"),
        ("", "date.malformed"),
        ("yesterday", "date.malformed"),
        ("29/02/2566", "date.no_such_day"),  # 2023 is not a leap year
        ("31/04/2569", "date.no_such_day"),
        ("15/13/2569", "date.no_such_day"),
        ("15/02/2483", "date.no_such_day"),  # BE 2483 started in April
    ],
)
def test_parse_be_rejects(text: str, code: str) -> None:
    with pytest.raises(UserError) as caught:
        dates.parse_be(text)
    assert caught.value.code == code
    assert codes(list(caught.value.issues)) == [code]


# --- typed input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "era", "day"),
    [
        ("2026-03-15", "ce", D(2026, 3, 15)),
        ("15/03/2026", "ce", D(2026, 3, 15)),
        ("15-3-2026", "ce", D(2026, 3, 15)),
        ("2026/3/5", "ce", D(2026, 3, 5)),
        ("๑๕/๐๓/๒๐๒๖", "ce", D(2026, 3, 15)),
        ("15/03/2569", "be", D(2026, 3, 15)),
        ("2569-03-15", "be", D(2026, 3, 15)),
        ("29/02/2567", "be", D(2024, 2, 29)),
        ("15/01/2482", "be", D(1940, 1, 15)),  # Jan 1940 was still BE 2482
        ("15/01/2484", "be", D(1941, 1, 15)),
    ],
)
def test_parse_date_input_accepts(text: str, era: dates.Era, day: dt.date) -> None:
    assert dates.parse_date_input(text, era) == (day, [])


def test_be_year_typed_into_ce_field_suggests_conversion() -> None:
    day, issues = dates.parse_date_input("15/03/2569", "ce", field="birth_date")
    assert day == D(2026, 3, 15)
    (found,) = issues
    assert (found.code, found.field, found.severity) == (
        "date.be_year_as_ce",
        "birth_date",
        Severity.ERROR,
    )
    assert dict(found.params) == {"be_year": 2569, "ce_year": 2026}


def test_be_year_as_ce_uses_the_pre_1941_rule() -> None:
    day, issues = dates.parse_date_input("10/02/2482", "ce")
    assert day == D(1940, 2, 10)
    assert dict(issues[0].params) == {"be_year": 2482, "ce_year": 1940}


def test_ce_year_typed_into_be_field_is_flagged() -> None:
    day, issues = dates.parse_date_input("15/03/2026", "be")
    assert day == D(2026, 3, 15)
    (found,) = issues
    assert found.code == "date.ce_year_as_be"
    assert dict(found.params) == {"ce_year": 2026, "be_year": 2569}


@pytest.mark.parametrize(
    ("text", "era", "code"),
    [
        ("", "ce", "date.required"),
        ("   ", "be", "date.required"),
        ("15/03/26", "ce", "date.malformed"),
        ("2026-03", "ce", "date.malformed"),
        ("March 15, 2026", "ce", "date.malformed"),
        ("15/03/2026/1", "ce", "date.malformed"),
        ("29/02/2023", "ce", "date.no_such_day"),
        ("29/02/2566", "be", "date.no_such_day"),
        ("31/06/2026", "ce", "date.no_such_day"),
        ("00/06/2026", "ce", "date.no_such_day"),
        ("15/13/2026", "ce", "date.no_such_day"),
        ("15/02/2483", "be", "date.no_such_day"),
    ],
)
def test_parse_date_input_rejects(text: str, era: dates.Era, code: str) -> None:
    day, issues = dates.parse_date_input(text, era, field="f")
    assert day is None
    assert codes(issues) == [code]
    assert issues[0].field == "f"
    assert issues[0].is_error


def test_no_such_day_reports_what_was_typed() -> None:
    _, issues = dates.parse_date_input("31/04/2569", "be")
    assert dict(issues[0].params) == {"day": 31, "month": 4, "year": 2569}


@pytest.mark.parametrize(
    ("text", "today", "bounds"),
    [
        ("01/01/1850", None, (1900, 2200)),
        ("01/01/2300", None, (1900, 2200)),
        ("01/01/1890", D(2026, 1, 1), (1896, 2076)),
        ("01/01/2080", D(2026, 1, 1), (1896, 2076)),
    ],
)
def test_implausible_years(text: str, today: dt.date | None, bounds: tuple[int, int]) -> None:
    day, issues = dates.parse_date_input(text, "ce", today=today)
    assert day is not None
    assert codes(issues) == ["date.year_out_of_range"]
    assert (issues[0].params["min"], issues[0].params["max"]) == bounds
    assert dates.year_bounds(today) == bounds


def test_not_in_future() -> None:
    today = D(2026, 3, 15)
    assert dates.not_in_future(today, today) == []
    assert dates.not_in_future(D(2026, 3, 14), today) == []
    (found,) = dates.not_in_future(D(2026, 3, 16), today, "birth_date")
    assert (found.code, found.field, found.severity) == (
        "date.in_future",
        "birth_date",
        Severity.ERROR,
    )


@pytest.mark.parametrize(
    ("ascii_text", "thai_text"),
    [("0123456789", "๐๑๒๓๔๕๖๗๘๙"), ("15/03/2569", "๑๕/๐๓/๒๕๖๙"), ("abc", "abc")],
)
def test_digit_conversion(ascii_text: str, thai_text: str) -> None:
    assert dates.thai_digits(ascii_text) == thai_text
    assert dates.arabic_digits(thai_text) == ascii_text


def test_burmese_khmer_and_lao_digits_are_read_as_ascii_digits() -> None:
    assert dates.arabic_digits("၁၅/၀၃/၂၅၃၈ ១៥ ໑໕") == "15/03/2538 15 15"


# --- PartialDate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "earliest", "latest"),
    [
        ("1990", Precision.YEAR, D(1990, 1, 1), D(1990, 12, 31)),
        ("1990-05", Precision.MONTH, D(1990, 5, 1), D(1990, 5, 31)),
        ("1992-02", Precision.MONTH, D(1992, 2, 1), D(1992, 2, 29)),
        ("1990-02", Precision.MONTH, D(1990, 2, 1), D(1990, 2, 28)),
        ("1990-05-17", Precision.DAY, D(1990, 5, 17), D(1990, 5, 17)),
        ("๑๙๙๐", Precision.YEAR, D(1990, 1, 1), D(1990, 12, 31)),
    ],
)
def test_partial_date(text: str, precision: Precision, earliest: dt.date, latest: dt.date) -> None:
    value = PartialDate.parse(text)
    assert value.precision is precision
    assert value.earliest() == earliest
    assert value.latest() == latest
    assert value.iso() == dates.arabic_digits(text)
    assert str(value) == value.iso()
    assert value.contains(earliest)
    assert value.contains(latest)
    assert not value.contains(latest + dt.timedelta(days=1))
    assert (value.as_date() is not None) is (precision is Precision.DAY)


@pytest.mark.parametrize(
    "text", ["", "90", "1990-5", "1990-13", "1990-02-30", "17/05/1990", "1990-05-17T00:00", "0000"]
)
def test_partial_date_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        PartialDate.parse(text)


def test_partial_date_day_needs_month() -> None:
    with pytest.raises(ValueError, match="needs a month"):
        PartialDate(1990, None, 5)


def test_partial_date_from_date() -> None:
    assert PartialDate.from_date(D(1990, 5, 17)) == PartialDate(1990, 5, 17)


@pytest.mark.parametrize(
    ("text", "expected", "code"),
    [
        ("1990", PartialDate(1990), None),
        (" 1990-05 ", PartialDate(1990, 5), None),
        ("05/1990", PartialDate(1990, 5), None),  # as the case file shows a month
        ("5.1990", PartialDate(1990, 5), None),
        ("1990/5", PartialDate(1990, 5), None),
        ("๑๙๙๐", PartialDate(1990), None),
        ("17/05/1990", PartialDate(1990, 5, 17), None),
        ("1990-05-17", PartialDate(1990, 5, 17), None),
        ("", None, "date.required"),
        ("May 1990", None, "date.partial_malformed"),
        ("90", None, "date.partial_malformed"),
        ("5/90", None, "date.partial_malformed"),
        ("13/1990", None, "date.no_such_month"),
        ("1990-00", None, "date.no_such_month"),
        ("1990-02-30", None, "date.no_such_day"),
        ("0000", None, "date.year_out_of_range"),
    ],
)
def test_parse_partial_date_input(
    text: str, expected: PartialDate | None, code: str | None
) -> None:
    value, issues = dates.parse_partial_date_input(text, field="dob")
    assert value == expected
    assert codes(issues) == ([code] if code else [])
    assert all(i.field == "dob" for i in issues)


@pytest.mark.parametrize(
    ("text", "converted", "be_year", "ce_year"),
    [
        ("2533", PartialDate(1990), 2533, 1990),
        ("05/2533", PartialDate(1990, 5), 2533, 1990),
        ("2482-02", PartialDate(1940, 2), 2482, 1940),  # before 1941 the year began in April
        ("17/05/2533", PartialDate(1990, 5, 17), 2533, 1990),
    ],
)
def test_a_be_year_in_a_partial_ce_date_is_caught_with_the_ce_year(
    text: str, converted: PartialDate, be_year: int, ce_year: int
) -> None:
    value, issues = dates.parse_partial_date_input(text, "ce")
    assert value == converted
    (found,) = issues
    assert (found.code, found.severity) == ("date.be_year_as_ce", Severity.ERROR)
    assert (found.params["be_year"], found.params["ce_year"]) == (be_year, ce_year)


def test_partial_dates_in_a_be_field() -> None:
    assert dates.parse_partial_date_input("05/2533", "be") == (PartialDate(1990, 5), [])
    value, issues = dates.parse_partial_date_input("1990", "be")
    assert value == PartialDate(1990)
    assert codes(issues) == ["date.ce_year_as_be"]
    assert issues[0].params["be_year"] == 2533
    # BE 2483 began on 1 April: it had no January
    assert codes(dates.parse_partial_date_input("01/2483", "be")[1]) == ["date.no_such_month"]


def test_a_partial_year_outside_the_plausible_range_gives_no_value() -> None:
    value, issues = dates.parse_partial_date_input("1880", today=D(2026, 3, 15))
    assert value is None
    assert codes(issues) == ["date.year_out_of_range"]
    assert (issues[0].params["min"], issues[0].params["max"]) == (1896, 2076)


def test_a_partial_date_is_in_the_future_only_when_its_first_day_is() -> None:
    today = D(2026, 3, 15)
    assert dates.not_in_future(PartialDate(2026), today) == []
    assert dates.not_in_future(PartialDate(2026, 3), today) == []
    assert codes(dates.not_in_future(PartialDate(2026, 4), today)) == ["date.in_future"]
    assert codes(dates.not_in_future(PartialDate(2027), today)) == ["date.in_future"]
    assert codes(dates.not_in_future(PartialDate(2026, 3, 16), today)) == ["date.in_future"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (PartialDate(1990), "1990"),
        (PartialDate(1990, 5), "05/1990"),
        (PartialDate(1990, 5, 17), "17/05/1990"),
        (D(2019, 1, 12), "12/01/2019"),
    ],
)
def test_format_ce_is_read_back_as_written(value: PartialDate | dt.date, written: str) -> None:
    assert dates.format_ce(value) == written
    if isinstance(value, PartialDate):
        assert dates.parse_partial_date_input(written) == (value, [])
    else:
        assert dates.parse_date_input(written) == (value, [])


# --- YearMonth ------------------------------------------------------------------------


def test_year_month_parse_and_str() -> None:
    value = YearMonth.parse("2026-03")
    assert value == YearMonth(2026, 3)
    assert str(value) == "2026-03"
    assert YearMonth.parse("๒๐๒๖-๐๓") == value


@pytest.mark.parametrize("text", ["2026-3", "2026-13", "2026-00", "03/2026", "2026", ""])
def test_year_month_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        YearMonth.parse(text)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 1), (10000, 1)])
def test_year_month_rejects_bad_parts(year: int, month: int) -> None:
    with pytest.raises(ValueError, match=r"range|month"):
        YearMonth(year, month)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (YearMonth(2026, 3), 1, YearMonth(2026, 4)),
        (YearMonth(2026, 12), 1, YearMonth(2027, 1)),
        (YearMonth(2026, 1), -1, YearMonth(2025, 12)),
        (YearMonth(2026, 3), 0, YearMonth(2026, 3)),
        (YearMonth(2026, 3), 24, YearMonth(2028, 3)),
        (YearMonth(2026, 3), -15, YearMonth(2024, 12)),
    ],
)
def test_year_month_arithmetic(start: YearMonth, months: int, end: YearMonth) -> None:
    assert start.add_months(months) == end
    assert start + months == end
    assert months + start == end
    assert end - months == start
    assert end - start == months
    assert start.months_between(end) == months
    assert end.months_between(start) == -months


def test_year_month_ordering() -> None:
    months = [YearMonth(2026, 1), YearMonth(2025, 12), YearMonth(2026, 11), YearMonth(2026, 2)]
    assert sorted(months) == [
        YearMonth(2025, 12),
        YearMonth(2026, 1),
        YearMonth(2026, 2),
        YearMonth(2026, 11),
    ]
    assert YearMonth(2025, 12) < YearMonth(2026, 1)


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        (YearMonth(2024, 2), D(2024, 2, 1), D(2024, 2, 29)),
        (YearMonth(2026, 2), D(2026, 2, 1), D(2026, 2, 28)),
        (YearMonth(2026, 4), D(2026, 4, 1), D(2026, 4, 30)),
        (YearMonth(2026, 12), D(2026, 12, 1), D(2026, 12, 31)),
    ],
)
def test_year_month_days(value: YearMonth, first: dt.date, last: dt.date) -> None:
    assert value.first_day() == first
    assert value.last_day() == last
    assert YearMonth.from_date(last) == value
    assert value.contains(first)
    assert not value.contains(last + dt.timedelta(days=1))


def test_iter_months() -> None:
    months = list(dates.iter_months(YearMonth(2025, 11), YearMonth(2026, 2)))
    assert [str(m) for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert list(dates.iter_months(YearMonth(2026, 2), YearMonth(2026, 2))) == [YearMonth(2026, 2)]
    assert list(dates.iter_months(YearMonth(2026, 3), YearMonth(2026, 2))) == []


def test_year_month_rejects_other_operands() -> None:
    with pytest.raises(TypeError):
        YearMonth(2026, 1) + 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        YearMonth(2026, 1) - "x"  # type: ignore[operator]


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)))
def test_be_round_trips_for_any_date(day: dt.date) -> None:
    assert dates.parse_be(dates.format_be(day)) == day
    assert dates.parse_be(dates.format_be(day, thai=True)) == day
    be_text = dates.format_be(day)
    assert dates.parse_date_input(be_text, "be") == (day, [])
    assert dates.parse_date_input(day.isoformat(), "ce") == (day, [])


@given(st.integers(200, 9000), st.integers(1, 12), st.integers(-2000, 2000))
def test_year_month_arithmetic_is_consistent(year: int, month: int, months: int) -> None:
    start = YearMonth(year, month)
    end = start + months
    assert end - start == months
    assert end - months == start
    assert (end > start) is (months > 0)
    assert end.first_day() <= end.last_day()


def test_year_month_arithmetic_outside_the_calendar_raises() -> None:
    with pytest.raises(ValueError, match="year out of range"):
        YearMonth(1, 1) - 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-10", dt.date(2026, 3, 10)),
        (dt.date(2026, 3, 10), dt.date(2026, 3, 10)),
        ("2026-02-30", None),  # not a real day
        ("20260310", None),  # another form of ISO text: not as the steps store a date
        ("10/03/2026", None),
        ("", None),
        (None, None),
        (20260310, None),
    ],
)
def test_a_stored_date_is_read_only_from_a_date_or_its_iso_text(
    value: object, expected: dt.date | None
) -> None:
    assert dates.stored_date(value) == expected
