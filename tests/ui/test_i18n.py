"""The UI's language helpers: dates in the Buddhist Era in Thai, partial dates, timestamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from desktop.ui.i18n import (
    LanguageSwitch,
    format_date,
    format_moment,
    format_partial_date,
    tr,
)


@pytest.fixture
def language() -> Iterator[LanguageSwitch]:
    switch = LanguageSwitch()
    yield switch
    switch.set_language("en")


@pytest.mark.parametrize(
    ("lang", "stored", "shown"),
    [
        ("th", "1990", "2533"),
        ("th", "1990-05", "05/2533"),
        ("th", "1990-05-17", "17/05/2533"),
        ("en", "1990", "1990"),
        ("my", "1990-05", "05/1990"),
        ("km", "1990-05-17", "17/05/1990"),
        ("th", "1940-02", "02/2482"),  # before 1941 the Thai year began on 1 April
        ("en", "", ""),
        ("en", None, ""),
        ("th", "around 1990", "around 1990"),  # not a date: shown as stored, not hidden
    ],
)
def test_partial_birth_dates_follow_the_language(
    language: LanguageSwitch, lang: str, stored: str | None, shown: str
) -> None:
    language.set_language(lang)
    assert format_partial_date(stored) == shown


def test_full_dates_are_buddhist_era_in_thai_only(language: LanguageSwitch) -> None:
    language.set_language("th")
    assert format_date(dt.date(2026, 3, 15)) == "15/03/2569"
    language.set_language("lo")
    assert format_date(dt.date(2026, 3, 15)) == "15/03/2026"
    assert format_date(None) == ""


def test_timestamps_are_local_date_and_time(language: LanguageSwitch) -> None:
    stamp = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)
    local = stamp.astimezone()
    language.set_language("th")
    assert format_moment(stamp.isoformat()) == f"{format_date(local.date())} {local:%H:%M}"
    assert str(local.year + 543) in format_moment(stamp.isoformat())
    assert format_moment(None) == ""
    assert format_moment("yesterday") == "yesterday"
    # an instant past the calendar's end (stored before the server refused it): as stored,
    # not a crash of the Notes tab
    assert format_moment("9999-12-31T23:59:59-23:59") == "9999-12-31T23:59:59-23:59"


def test_switching_language_changes_the_texts(language: LanguageSwitch) -> None:
    language.set_language("en")
    english = tr("ui.nav.cases")
    language.set_language("my")
    assert tr("ui.nav.cases") not in ("", english, "ui.nav.cases")
