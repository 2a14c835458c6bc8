"""A person's sex, title, marital status, birth date, nationality, arrival date and the day
they left Thailand (gone home), as a caseworker types them.

The New case form and the case file's details editor take these the same way: the same
choices of sex, title and nationality, dates typed in CE (a Buddhist Era year is caught and
the CE year suggested), a birth date that may be a year, a month or a full day, and
no date in the future (:func:`read_birth_date`, :func:`read_arrival`,
:func:`read_past_day`). A title is chosen for a woman (Mrs or Miss: hers to choose,
whatever her marital status); a man's is Mr, shown and not chosen (:func:`title_choices`).

:class:`PersonDetailsEditor` is the case file's editor of these, hidden until the
caseworker asks to correct them. It is filled from the stored person and read back as the
details that changed (:meth:`PersonDetailsEditor.changes`); the case file writes those
through ``people.update_person``, so each changed detail is its own change for sync.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.domain import catalogue, dates, i18n
from desktop.domain.validation import Issue, has_errors
from desktop.services.people import PersonView
from desktop.ui.i18n import current, issue_text, tr
from desktop.ui.wrap import WrapLabel

SEXES = ("F", "M")
NATIONALITIES = ("MMR", "KHM", "LAO", "VNM")
# The editor's rows: detail -> label key
LABELS = {
    "sex": "ui.person.sex",
    "title": "ui.person.title",
    "marital_status": "ui.person.marital_status",
    "birth_date": "ui.person.birth",
    "nationality": "ui.person.nationality",
    "arrived_on": "ui.person.arrived",
    "left_on": "ui.person.left",
}


def read_birth_date(raw: str, today: dt.date) -> tuple[dates.PartialDate | None, list[Issue]]:
    """A typed birth date (``YYYY``, ``MM/YYYY`` or a full date, CE) and the issues that
    refuse it; an empty box is no date and no issue."""
    if not raw.strip():
        return None, []
    birth, found = dates.parse_partial_date_input(raw, "ce", field="birth_date", today=today)
    return birth, _and_not_in_future(birth, found, today, "birth_date")


def read_arrival(raw: str, today: dt.date) -> tuple[dt.date | None, list[Issue]]:
    """A typed arrival date (a full date, CE) and the issues that refuse it; empty is none."""
    return read_past_day(raw, today, "arrived_on")


def read_past_day(raw: str, today: dt.date, field: str) -> tuple[dt.date | None, list[Issue]]:
    """A typed day of ``field`` that is not in the future (a full date, CE) and the issues
    that refuse it; empty is none."""
    if not raw.strip():
        return None, []
    day, found = dates.parse_date_input(raw, "ce", field=field, today=today)
    return day, _and_not_in_future(day, found, today, field)


def _and_not_in_future(
    value: dt.date | dates.PartialDate | None, found: list[Issue], today: dt.date, field: str
) -> list[Issue]:
    return found if value is None else [*found, *dates.not_in_future(value, today, field)]


def sex_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """(stored value, shown text) of each sex offered ("" is not recorded), and ``keep``
    (a stored value) when it is none of them."""
    offered = [("", "—"), *((s, tr(f"ui.sex.{s}")) for s in SEXES)]
    return _keeping(offered, keep, keep or "")


def title_choices(sex: str | None, keep: str | None = None) -> list[tuple[str, str]]:
    """(stored value, shown text) of the titles offered to a person of ``sex``: Mrs and
    Miss for a woman, all three when the sex is not recorded ("" is no title), and ``keep``
    (a stored value) when it is a code this app does not know (a newer colleague's): a
    known title of the other sex, Mr once the person is corrected to a woman, is not kept.
    A man's title is Mr: the one item, whose value is what is stored ("mr", else none,
    printed as Mr all the same)."""
    if sex == "M":
        return [("mr" if keep == "mr" else "", tr("ui.title.mr"))]
    titles = [t for t in catalogue.PERSON_TITLES if sex != "F" or t != "mr"]
    offered = [("", "—"), *((t, tr(f"ui.title.{t}")) for t in titles)]
    if keep in catalogue.PERSON_TITLES:
        keep = None
    return _keeping(offered, keep, _coded_name("ui.title", keep))


def marital_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """The marital statuses offered ("" is not recorded), and ``keep`` when it is none."""
    offered = [("", "—"), *((m, tr(f"ui.marital.{m}")) for m in catalogue.MARITAL_STATUSES)]
    return _keeping(offered, keep, _coded_name("ui.marital", keep))


def title_name(title: str | None, sex: str | None) -> str:
    """A person's title as the case file shows it: the one recorded, else Mr for a man
    (as the forms print it), else "—"."""
    if title:
        return _coded_name("ui.title", title)
    return tr("ui.title.mr") if sex == "M" else "—"


def marital_name(status: str | None) -> str:
    """A marital status as the case file shows it ("—" when not recorded)."""
    return _coded_name("ui.marital", status) or "—"


def _coded_name(prefix: str, code: str | None) -> str:
    """A code's name in the reader's language; a code this app does not know as it is."""
    return i18n.coded_name(prefix, code, current())


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
    return _coded_name("ui.nationality", code) or "—"


# a line edit's frame and text margins, both sides, around its placeholder
PLACEHOLDER_MARGIN = 24


def show_placeholder(field: QLineEdit, text: str) -> None:
    """Give ``field`` the placeholder ``text`` (the format to type, said only there) and
    room to show all of it."""
    field.setPlaceholderText(text)
    field.setMinimumWidth(field.fontMetrics().horizontalAdvance(text) + PLACEHOLDER_MARGIN)


def fill_choices(box: QComboBox, items: list[tuple[str, str]]) -> None:
    """Replace ``box``'s items by (value, shown text) pairs, keeping the chosen value.

    The box follows its texts' width: refilled in another language, it is not left as
    wide as the first language's (Qt's default sizes it once, when first shown)."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    selected = box.currentData()
    box.blockSignals(True)
    box.clear()
    for value, shown in items:
        box.addItem(shown, value)
    box.setCurrentIndex(max(0, box.findData(selected)))
    box.blockSignals(False)


def _choose(box: QComboBox, value: str | None) -> None:
    box.setCurrentIndex(max(0, box.findData(value or "")))


class PersonDetailsEditor(QGroupBox):
    """Sex, title, marital status, birth date, nationality and arrival date of one person,
    to be corrected.

    :meth:`open_for` fills it from the stored person and shows it; :meth:`changes` reads
    it back. ``save_button`` is the owner's to connect; Cancel hides the editor.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("person_details")
        self.person: PersonView | None = None
        self.found: list[Issue] = []
        self._filled: dict[str, str] = {}
        self.sex = QComboBox()
        self.sex.setObjectName("details_sex")
        self.person_title = QComboBox()
        self.person_title.setObjectName("details_title")
        self.marital_status = QComboBox()
        self.marital_status.setObjectName("details_marital_status")
        self.birth_date = QLineEdit()
        self.birth_date.setObjectName("details_birth_date")
        self.nationality = QComboBox()
        self.nationality.setObjectName("details_nationality")
        self.arrived_on = QLineEdit()
        self.arrived_on.setObjectName("details_arrived_on")
        self.left_on = QLineEdit()  # the day they last left Thailand: gone home
        self.left_on.setObjectName("details_left_on")
        self.labels = {name: QLabel() for name in LABELS}
        form = QFormLayout(self)
        for name, editor in (
            ("sex", self.sex),
            ("title", self.person_title),
            ("marital_status", self.marital_status),
            ("birth_date", self.birth_date),
            ("nationality", self.nationality),
            ("arrived_on", self.arrived_on),
            ("left_on", self.left_on),
        ):
            form.addRow(self.labels[name], editor)
        self.issues = WrapLabel()
        self.issues.setObjectName("details_issues")
        self.issues.setStyleSheet("color: #c62828")
        form.addRow(self.issues)
        self.save_button = QPushButton()
        self.save_button.setObjectName("save_details")
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.close_editor)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.retranslate()
        self.sex.currentIndexChanged.connect(lambda _index: self._fill_titles())
        self.hide()

    def open_for(self, person: PersonView) -> None:
        """Show the stored details as a CE field takes them (a BE year only for display)."""
        self.person = person
        self._fill_choices()
        _choose(self.sex, person.sex)
        self._fill_titles()
        _choose(self.person_title, person.title)
        _choose(self.marital_status, person.marital_status)
        _choose(self.nationality, person.nationality)
        self._filled = {"birth_date": birth_text(person.birth_date)}
        for name, day in (("arrived_on", person.arrived_on), ("left_on", person.left_on)):
            self._filled[name] = dates.format_ce(day) if day is not None else ""
        self.birth_date.setText(self._filled["birth_date"])
        self.arrived_on.setText(self._filled["arrived_on"])
        self.left_on.setText(self._filled["left_on"])
        self.show_issues([])
        self.show()

    def _fill_choices(self) -> None:
        """The choices in the current language, with what the person has stored."""
        sex = nationality = marital = None
        if self.person is not None:  # "" for a detail not recorded
            sex, nationality = self.person.sex or "", self.person.nationality or ""
            marital = self.person.marital_status or ""
        fill_choices(self.sex, sex_choices(sex))
        fill_choices(self.marital_status, marital_choices(marital))
        fill_choices(self.nationality, nationality_choices(nationality))
        self._fill_titles()

    def _fill_titles(self) -> None:
        """The titles for the sex chosen: a woman's to choose, a man's shown (Mr)."""
        sex = self.sex.currentData() or None
        stored = self.person.title if self.person is not None else None
        fill_choices(self.person_title, title_choices(sex, stored))  # a choice that fits stays
        self.person_title.setEnabled(sex != "M")

    def close_editor(self) -> None:
        self.person = None
        self.show_issues([])
        self.hide()

    def changes(self, person: PersonView, today: dt.date) -> dict[str, object] | None:
        """The details that differ from ``person``'s, as ``people.update_person`` takes
        them (an emptied date clears it); None when a typed date is refused, its issues
        shown. A date box left as it was filled is not read again."""
        changed: dict[str, object] = {}
        found: list[Issue] = []
        for name, box in (
            ("sex", self.sex),
            ("title", self.person_title),
            ("marital_status", self.marital_status),
            ("nationality", self.nationality),
        ):
            value = box.currentData() or None
            if value != getattr(person, name):
                changed[name] = value
        if self.birth_date.text().strip() != self._filled.get("birth_date"):
            birth, issues = read_birth_date(self.birth_date.text(), today)
            found += issues
            stored = birth.iso() if birth else None
            if stored != person.birth_date:
                changed["birth_date"] = stored
        for name, line in (("arrived_on", self.arrived_on), ("left_on", self.left_on)):
            if line.text().strip() != self._filled.get(name):
                day, issues = read_past_day(line.text(), today, name)
                found += issues
                if day != getattr(person, name):
                    changed[name] = day
        self.show_issues(found)
        return None if has_errors(found) else changed

    def show_issues(self, found: list[Issue]) -> None:
        """Each issue after the label of the detail it is about."""
        self.found = found
        lines = []
        for item in found:
            where = self.labels[item.field].text() + ": " if item.field in self.labels else ""
            lines.append(where + issue_text(item))
        self.issues.setText("\n".join(lines))

    def retranslate(self) -> None:
        self.setTitle(tr("ui.person.details"))
        for name, key in LABELS.items():
            self.labels[name].setText(tr(key))
        show_placeholder(self.birth_date, tr("ui.person.birth_hint"))
        show_placeholder(self.arrived_on, tr("ui.wizard.date_hint"))
        show_placeholder(self.left_on, tr("ui.wizard.date_hint"))
        self._fill_choices()
        self.save_button.setText(tr("ui.person.save_details"))
        self.cancel_button.setText(tr("ui.cancel"))
        self.show_issues(self.found)


def birth_text(stored: str | None) -> str:
    """A stored birth date as a CE field takes it (DD/MM/YYYY, or the month or year alone,
    as recorded); one that does not parse as stored (an older version's, a colleague's)."""
    if not stored:
        return ""
    try:
        return dates.format_ce(dates.PartialDate.parse(stored))
    except ValueError:
        return stored
