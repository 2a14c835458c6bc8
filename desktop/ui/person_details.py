"""A person's sex, birth date, nationality and arrival date, as a caseworker types them.

How the New case form takes these four: the choices of sex and nationality, dates typed
in CE (a Buddhist Era year is caught and the CE year suggested), a birth date that may be
a year, a month or a full day, and neither date in the future (:func:`read_birth_date`,
:func:`read_arrival`).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QComboBox

from desktop.domain import dates, i18n
from desktop.domain.validation import Issue
from desktop.ui.i18n import tr

SEXES = ("F", "M")
NATIONALITIES = ("MMR", "KHM", "LAO", "VNM")


def read_birth_date(raw: str, today: dt.date) -> tuple[dates.PartialDate | None, list[Issue]]:
    """A typed birth date (``YYYY``, ``MM/YYYY`` or a full date, CE) and the issues that
    refuse it; an empty box is no date and no issue."""
    if not raw.strip():
        return None, []
    birth, found = dates.parse_partial_date_input(raw, "ce", field="birth_date", today=today)
    return birth, _and_not_in_future(birth, found, today, "birth_date")


def read_arrival(raw: str, today: dt.date) -> tuple[dt.date | None, list[Issue]]:
    """A typed arrival date (a full date, CE) and the issues that refuse it; empty is none."""
    if not raw.strip():
        return None, []
    day, found = dates.parse_date_input(raw, "ce", field="arrived_on", today=today)
    return day, _and_not_in_future(day, found, today, "arrived_on")


def _and_not_in_future(
    value: dt.date | dates.PartialDate | None, found: list[Issue], today: dt.date, field: str
) -> list[Issue]:
    return found if value is None else [*found, *dates.not_in_future(value, today, field)]


def sex_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """(stored value, shown text) of each sex offered ("" is not recorded), and ``keep``
    (a stored value) when it is none of them."""
    offered = [("", "—"), *((s, tr(f"ui.sex.{s}")) for s in SEXES)]
    return _keeping(offered, keep, keep or "")


def nationality_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """The nationalities offered (as in the New case form, "none" is not one), and
    ``keep`` (a stored value; "" for none recorded) when it is none of them."""
    offered = [(n, nationality_name(n)) for n in NATIONALITIES]
    return _keeping(offered, keep, nationality_name(keep))


def _keeping(offered: list[tuple[str, str]], keep: str | None, shown: str) -> list[tuple[str, str]]:
    """``offered``, with ``keep`` first when it is not among them: the editor offers what
    is stored (an import's value, a colleague's, or none), so that opening it and saving
    changes nothing."""
    if keep is None or any(value == keep for value, _ in offered):
        return offered
    return [(keep, shown), *offered]


def nationality_name(code: str | None) -> str:
    """The country's name for a known code; any other code as it is stored."""
    if not code:
        return "—"
    key = f"ui.nationality.{code}"
    return tr(key) if i18n.has(key) else code


def fill_choices(box: QComboBox, items: list[tuple[str, str]]) -> None:
    """Replace ``box``'s items by (value, shown text) pairs, keeping the chosen value."""
    selected = box.currentData()
    box.blockSignals(True)
    box.clear()
    for value, shown in items:
        box.addItem(shown, value)
    box.setCurrentIndex(max(0, box.findData(selected)))
    box.blockSignals(False)
