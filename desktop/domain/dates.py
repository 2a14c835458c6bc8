"""Dates as Thai offices write them: Buddhist Era years, Thai digits, partial birth dates.

Facts (domain.md §7.3):

* BE year = CE year + 543 for dates from 1 January 1941. Before that the Thai year began
  on 1 April, so January-March dates of CE 1940 and earlier belong to the BE year that
  started the previous April: BE = CE + 542. BE 2483 was cut short (1 April -
  31 December 1940), so "January-March 2483" does not exist.
* Official documents may print Thai digits (๐-๙).
* Everything is stored in CE (``datetime.date``); BE is only for display, parsing and the
  SSO file layouts.

Input parsing never raises on bad text: :func:`parse_date_input` (a full date) and
:func:`parse_partial_date_input` (a year, a month or a full date) return coded
:class:`~desktop.domain.validation.Issue` results, including a "did you mean" hint when a
BE year was typed into a CE field (or the other way round). :func:`format_ce` writes a
date back the way a CE field takes it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, overload

from desktop.domain.errors import UserError
from desktop.domain.validation import Issue, issue

BE_OFFSET = 543
#: Offset for January-March dates before 1941, when the Thai year began on 1 April.
BE_OFFSET_BEFORE_1941_JAN_MAR = 542
#: First CE year whose BE year begins on 1 January.
FIRST_JANUARY_NEW_YEAR_CE = 1941
#: A four-digit year at or above this is taken to be a BE year (2400 BE = 1857 CE, and no
#: CE date we handle is after 2399).
BE_YEAR_THRESHOLD = 2400

#: Without a reference day, accept CE years in this range (inclusive).
DEFAULT_MIN_YEAR = 1900
DEFAULT_MAX_YEAR = 2200
#: With a reference day: how far back (oldest living person, old documents) and forward
#: (document expiry dates, planned events) a year may plausibly be.
YEARS_BACK = 130
YEARS_AHEAD = 50

Era = Literal["ce", "be"]

# The digits of the scripts Sapan's people write in: Thai on printed documents, Burmese,
# Khmer and Lao as their phones type them.
_TO_ARABIC = str.maketrans(
    "".join(("๐๑๒๓๔๕๖๗๘๙", "၀၁၂၃၄၅၆၇၈၉", "០១២៣៤៥៦៧៨៩", "໐໑໒໓໔໕໖໗໘໙")), "0123456789" * 4
)
_ARABIC_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

_SEP = r"\s*[-/.]\s*"
_YMD = re.compile(rf"(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})")
_DMY = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}})")
_YM = re.compile(rf"(\d{{4}}){_SEP}(\d{{1,2}})")
_MY = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{4}})")
_YEAR_ONLY = re.compile(r"\d{4}")
_ISO_YM = re.compile(r"(\d{4})-(\d{2})")
_ISO_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def thai_digits(text: str) -> str:
    """``text`` with ASCII digits 0-9 replaced by Thai digits ๐-๙."""
    return text.translate(_ARABIC_TO_THAI)


def arabic_digits(text: str) -> str:
    """``text`` with Thai digits ๐-๙ (and Burmese, Khmer and Lao digits) replaced by ASCII
    digits 0-9."""
    return text.translate(_TO_ARABIC)


def _check_month(month: int | None) -> None:
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")


def ce_to_be_year(year: int, month: int | None = None) -> int:
    """The BE year of CE ``year`` (and ``month``, which matters only before 1941).

    Without a month the modern rule (+543) is used.
    """
    _check_month(month)
    if year < FIRST_JANUARY_NEW_YEAR_CE and month is not None and month <= 3:
        return year + BE_OFFSET_BEFORE_1941_JAN_MAR
    return year + BE_OFFSET


def be_to_ce_year(year: int, month: int | None = None) -> int:
    """The CE year of BE ``year`` (and ``month``, which matters only before BE 2484).

    Raises ``ValueError`` for January-March of BE 2483, which never existed.
    """
    _check_month(month)
    last_short_year = FIRST_JANUARY_NEW_YEAR_CE - 1 + BE_OFFSET  # BE 2483, April-December
    if month is not None and month <= 3:
        if year == last_short_year:
            raise ValueError(f"BE {year} had no month {month}: it ran from April to December")
        if year < last_short_year:
            return year - BE_OFFSET_BEFORE_1941_JAN_MAR
    return year - BE_OFFSET


def format_be(day: dt.date, sep: str = "/", *, thai: bool = False) -> str:
    """``"15/03/2569"``: day, month and BE year; ``sep=""`` gives SSO's ``DDMMYYYY``.

    ``thai=True`` writes Thai digits, as printed official documents do.
    """
    text = f"{day.day:02d}{sep}{day.month:02d}{sep}{ce_to_be_year(day.year, day.month):04d}"
    return thai_digits(text) if thai else text


def _date_from_be(be_year: int, month: int, day: int) -> dt.date:
    return dt.date(be_to_ce_year(be_year, month), month, day)


def parse_be(text: str) -> dt.date:
    """Parse ``"15/03/2569"`` (also Thai digits and ``-``/``.`` separators) into a CE date.

    Raises :class:`UserError` ``date.malformed`` for text that is not DD/MM/YYYY and
    ``date.no_such_day`` for a day that does not exist (``29/02/2566``).
    """
    value = arabic_digits(text.strip())
    match = _DMY.fullmatch(value)
    if match is None:
        raise UserError("date.malformed", issues=[issue("date.malformed", "date")])
    d, m, y = (int(g) for g in match.groups())
    try:
        return _date_from_be(y, m, d)
    except ValueError:
        raise UserError("date.no_such_day", issues=[issue("date.no_such_day", "date")]) from None


def year_bounds(today: dt.date | None = None) -> tuple[int, int]:
    """The plausible CE year range for input, relative to ``today`` when given."""
    if today is None:
        return DEFAULT_MIN_YEAR, DEFAULT_MAX_YEAR
    return today.year - YEARS_BACK, today.year + YEARS_AHEAD


def stored_date(value: object) -> dt.date | None:
    """A date as JSON data holds it (a step's ``YYYY-MM-DD`` text) or a date already; None
    for anything else (empty, another form, not a real day)."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _split_date_text(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) as written, or None when the text has neither accepted shape."""
    match = _YMD.fullmatch(value)
    if match is not None:
        y, m, d = (int(g) for g in match.groups())
        return y, m, d
    match = _DMY.fullmatch(value)
    if match is not None:
        d, m, y = (int(g) for g in match.groups())
        return y, m, d
    return None


def parse_date_input(
    text: str,
    era: Era = "ce",
    *,
    field: str = "date",
    today: dt.date | None = None,
) -> tuple[dt.date | None, list[Issue]]:
    """Parse a typed date: ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (``-``, ``/``, ``.``; Thai digits).

    ``era`` says which calendar the field expects. Results:

    * a CE field given a year >= 2400 returns the date converted from BE **plus** an
      ERROR ``date.be_year_as_ce`` (params ``be_year``, ``ce_year``) so the UI can ask
      "did you mean ...?" before accepting the converted date;
    * a BE field given a year < 2400 returns the date read as CE plus an ERROR
      ``date.ce_year_as_be`` (params ``ce_year``, ``be_year``);
    * ``date.required`` (empty), ``date.malformed`` (other shapes, two-digit years),
      ``date.no_such_day`` (31/04, 29/02 of a common year; params ``day``, ``month``,
      ``year`` as typed) return no date;
    * a year outside :func:`year_bounds` (relative to ``today`` when given) returns the
      date with ERROR ``date.year_out_of_range`` (params ``min``, ``max``, ``year``).

    Whether a date may lie in the future is the field's business: see :func:`not_in_future`.
    """
    value = arabic_digits(text.strip())
    if not value:
        return None, [issue("date.required", field)]
    parts = _split_date_text(value)
    if parts is None:
        return None, [issue("date.malformed", field)]
    year, month, day = parts
    if not 1 <= month <= 12:
        return None, [issue("date.no_such_day", field, day=day, month=month, year=year)]

    try:
        ce_year, issues = _ce_year(year, month, era, field)
        result = dt.date(ce_year, month, day)
    except ValueError:
        return None, [issue("date.no_such_day", field, day=day, month=month, year=year)]
    return result, issues + _year_in_bounds(result.year, today, field)


def _ce_year(year: int, month: int | None, era: Era, field: str) -> tuple[int, list[Issue]]:
    """The CE year of ``year`` typed into a field of ``era``, with the "did you mean" ERROR
    when it reads as a year of the other era; ``ValueError`` for a BE month that never was."""
    if era == "ce" and year >= BE_YEAR_THRESHOLD:
        ce_year = be_to_ce_year(year, month)
        return ce_year, [issue("date.be_year_as_ce", field, be_year=year, ce_year=ce_year)]
    if era == "be" and year < BE_YEAR_THRESHOLD:
        be_year = ce_to_be_year(year, month)
        return year, [issue("date.ce_year_as_be", field, ce_year=year, be_year=be_year)]
    if era == "be":
        return be_to_ce_year(year, month), []
    return year, []


def _year_in_bounds(ce_year: int, today: dt.date | None, field: str) -> list[Issue]:
    low, high = year_bounds(today)
    if not low <= ce_year <= high:
        return [issue("date.year_out_of_range", field, min=low, max=high, year=ce_year)]
    return []


def not_in_future(day: dt.date | PartialDate, today: dt.date, field: str = "date") -> list[Issue]:
    """ERROR ``date.in_future`` when ``day`` is after ``today`` (birth dates, event dates);
    a partial date only when even its first possible day is."""
    first = day.earliest() if isinstance(day, PartialDate) else day
    if first > today:
        return [issue("date.in_future", field)]
    return []


class Precision(enum.StrEnum):
    """How much of a :class:`PartialDate` is known."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


@dataclass(frozen=True)
class PartialDate:
    """A date of which only the year, or the year and month, may be known.

    Birth dates of migrant workers are often year-only on documents. ``earliest()`` and
    ``latest()`` give the range the date lies in, for age rules and record matching.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        _check_month(self.month)
        if self.day is not None:
            if self.month is None:
                raise ValueError("a day needs a month")
            dt.date(self.year, self.month, self.day)  # raises ValueError for 30 February

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse ``"1990"``, ``"1990-05"`` or ``"1990-05-17"`` (CE); ``ValueError`` otherwise."""
        value = arabic_digits(text.strip())
        if _YEAR_ONLY.fullmatch(value):
            return cls(int(value))
        match = _ISO_YM.fullmatch(value)
        if match is not None:
            return cls(int(match[1]), int(match[2]))
        match = _ISO_YMD.fullmatch(value)
        if match is not None:
            return cls(int(match[1]), int(match[2]), int(match[3]))
        raise ValueError(f"not a partial date: {text!r}")

    @classmethod
    def from_date(cls, day: dt.date) -> PartialDate:
        """A fully known date."""
        return cls(day.year, day.month, day.day)

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    def iso(self) -> str:
        """``"1990"``, ``"1990-05"`` or ``"1990-05-17"``: the stored form."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.iso()

    def earliest(self) -> dt.date:
        """The first day the date could be."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last day the date could be."""
        if self.month is None:
            return dt.date(self.year, 12, 31)
        if self.day is None:
            return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return dt.date(self.year, self.month, self.day)

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` is compatible with what is known."""
        return self.earliest() <= day <= self.latest()

    def as_date(self) -> dt.date | None:
        """The exact date when fully known, else None."""
        return self.earliest() if self.precision is Precision.DAY else None


def parse_partial_date_input(
    text: str,
    era: Era = "ce",
    *,
    field: str = "birth_date",
    today: dt.date | None = None,
) -> tuple[PartialDate | None, list[Issue]]:
    """Parse a typed date of which only the year, or the year and month, may be known.

    Takes ``YYYY``; ``MM/YYYY`` or ``YYYY-MM`` (``-``, ``/``, ``.``); or a full date as
    :func:`parse_date_input` does (whose issues it returns, the date as a
    :class:`PartialDate`). Thai digits are read. For a year or a month, as for a full date:

    * a year of the other era returns the value converted to CE **plus** the ERROR
      ``date.be_year_as_ce`` (``date.ce_year_as_be`` in a BE field);
    * ``date.required`` (empty), ``date.partial_malformed`` (other shapes),
      ``date.no_such_month`` (month 13; January-March of BE 2483) return no value;
    * a year outside :func:`year_bounds` is ``date.year_out_of_range``, with no value.

    Whether it may lie in the future is the field's business: see :func:`not_in_future`.
    """
    value = arabic_digits(text.strip())
    if not value:
        return None, [issue("date.required", field)]
    if _split_date_text(value) is not None:
        day, found = parse_date_input(value, era, field=field, today=today)
        return (PartialDate.from_date(day) if day is not None else None), found
    parts = _split_partial_text(value)
    if parts is None:
        return None, [issue("date.partial_malformed", field)]
    year, month = parts
    if month is not None and not 1 <= month <= 12:
        return None, [issue("date.no_such_month", field)]
    try:
        ce_year, found = _ce_year(year, month, era, field)
    except ValueError:
        return None, [issue("date.no_such_month", field)]
    out_of_bounds = _year_in_bounds(ce_year, today, field)
    if out_of_bounds:
        return None, found + out_of_bounds
    return PartialDate(ce_year, month), found


def _split_partial_text(value: str) -> tuple[int, int | None] | None:
    """(year, month or None) as written, or None when the text is no year or month."""
    if _YEAR_ONLY.fullmatch(value):
        return int(value), None
    match = _YM.fullmatch(value)
    if match is not None:
        return int(match[1]), int(match[2])
    match = _MY.fullmatch(value)
    if match is not None:
        return int(match[2]), int(match[1])
    return None


def format_ce(value: dt.date | PartialDate) -> str:
    """``"17/05/1990"``, ``"05/1990"`` or ``"1990"``: a date as a CE field takes it back
    (:func:`parse_date_input`, :func:`parse_partial_date_input`)."""
    if isinstance(value, PartialDate):
        exact = value.as_date()
        if exact is None:
            year = f"{value.year:04d}"
            return year if value.month is None else f"{value.month:02d}/{year}"
        value = exact
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


@dataclass(frozen=True, order=True)
class YearMonth:
    """A calendar month, e.g. a contribution month; ordered, and arithmetic in months.

    ``YearMonth(2026, 3) + 1 == YearMonth(2026, 4)``; ``b - a`` is the number of months
    from ``a`` to ``b``.
    """

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        _check_month(self.month)

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Parse ``"2026-03"``; ``ValueError`` otherwise."""
        match = _ISO_YM.fullmatch(arabic_digits(text.strip()))
        if match is None:
            raise ValueError(f"not a year-month: {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def from_date(cls, day: dt.date) -> YearMonth:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def _index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def _from_index(cls, index: int) -> YearMonth:
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    def add_months(self, months: int) -> YearMonth:
        """The month ``months`` later (earlier when negative)."""
        return self._from_index(self._index() + months)

    def __add__(self, months: int) -> YearMonth:
        if not isinstance(months, int):
            return NotImplemented
        return self.add_months(months)

    def __radd__(self, months: int) -> YearMonth:
        return self.__add__(months)

    @overload
    def __sub__(self, other: YearMonth) -> int: ...

    @overload
    def __sub__(self, other: int) -> YearMonth: ...

    def __sub__(self, other: int | YearMonth) -> YearMonth | int:
        if isinstance(other, YearMonth):
            return self._index() - other._index()
        if isinstance(other, int):
            return self.add_months(-other)
        return NotImplemented

    def months_between(self, other: YearMonth) -> int:
        """Months from ``self`` to ``other``: positive when ``other`` is later."""
        return other._index() - self._index()

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def contains(self, day: dt.date) -> bool:
        return day.year == self.year and day.month == self.month


def iter_months(start: YearMonth, end: YearMonth) -> Iterator[YearMonth]:
    """Every month from ``start`` to ``end`` inclusive (nothing when ``end < start``)."""
    current = start
    while current <= end:
        yield current
        current = current.add_months(1)


__all__ = [
    "BE_OFFSET",
    "Era",
    "PartialDate",
    "Precision",
    "YearMonth",
    "arabic_digits",
    "be_to_ce_year",
    "ce_to_be_year",
    "format_be",
    "format_ce",
    "iter_months",
    "not_in_future",
    "parse_be",
    "parse_date_input",
    "parse_partial_date_input",
    "thai_digits",
    "year_bounds",
]
