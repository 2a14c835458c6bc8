"""The case file's Consent box: what a person agreed to or refused (PDPA), and when.

On top, each scope's current state (its latest record, ``consent.current_consents``: given,
refused, withdrawn, or never asked); below, the whole history, latest first: what for,
the answer, how it was given, the day, who recorded it, the day it was withdrawn. Dates
are shown in the reader's calendar (Buddhist Era in Thai).

A consent is recorded with what it is for, the answer, how it was expressed and the day,
typed in CE as the other date fields take it (empty for today, never in the future). The
selected consent, if it is in force, is withdrawn after a confirmation, as of the day in
the date field (empty: today); its row stays in
the history. Writes go through the case file's write helper (``write(fn, done)``), which
reads the case file again once they succeeded and shows a refusal.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import i18n
from desktop.domain.validation import Issue, has_errors
from desktop.services import consent
from desktop.services.consent import METHODS, SCOPES, ConsentInput, ConsentView
from desktop.ui.context import AppContext
from desktop.ui.i18n import format_date, issue_text, tr
from desktop.ui.models import Column, RowTableModel
from desktop.ui.person_details import fill_choices, read_past_day, show_placeholder
from desktop.ui.wrap import WrapLabel

Write = Callable[[Callable[[], Any], Callable[[], None] | None], None]
ANSWERS = ("given", "refused")
_COLOURS = {"given": "#2e7d32", "refused": "#c62828", "withdrawn": "#6d4c41"}


def _named(prefix: str, value: str | None) -> str:
    """A stored scope or method in words; one not offered (from elsewhere) as stored."""
    key = f"{prefix}.{value}"
    return tr(key) if value and i18n.has(key) else value or ""


def consent_columns() -> list[Column]:
    return [
        Column("ui.consent.col.scope", lambda c: _named("ui.consent.scope", c.scope)),
        Column(
            "ui.consent.col.answer", lambda c: tr(f"ui.consent.{'given' if c.given else 'refused'}")
        ),
        Column("ui.consent.col.method", lambda c: _named("ui.consent.method", c.method)),
        Column("ui.consent.col.given_on", lambda c: format_date(c.given_on)),
        Column("ui.consent.col.recorded_by", lambda c: c.recorded_by or ""),
        Column("ui.consent.col.withdrawn_on", lambda c: format_date(c.withdrawn_on)),
    ]


def state_text(scope: str, latest: ConsentView | None) -> str:
    """One scope's current state, as the box shows it (rich text)."""
    name = html.escape(_named("ui.consent.scope", scope))
    if latest is None:
        return f"<b>{name}</b>: {tr('ui.consent.state.none')}"
    day = format_date(latest.withdrawn_on or latest.given_on)
    method = _named("ui.consent.method", latest.method)
    state = tr(f"ui.consent.state.{latest.status}", method=method, day=day)
    colour = _COLOURS[latest.status]
    return f"<b>{name}</b>: <span style='color:{colour}'>{html.escape(state)}</span>"


class ConsentBox(QGroupBox):
    """One person's consents in the case file; :meth:`show_consents` fills it."""

    def __init__(self, ctx: AppContext, write: Write, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consent_box")
        self.ctx = ctx
        self.write = write
        self.person_id: str | None = None
        self.consents: tuple[ConsentView, ...] = ()
        self.found: list[Issue] = []
        self.current = WrapLabel()
        self.current.setObjectName("consent_current")
        self.model = RowTableModel(consent_columns())
        self.table = QTableView()
        self.table.setObjectName("consent_history")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(90)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.scope = QComboBox()
        self.scope.setObjectName("consent_scope")
        self.answer = QComboBox()
        self.answer.setObjectName("consent_answer")
        self.method = QComboBox()
        self.method.setObjectName("consent_method")
        self.given_on = QLineEdit()
        self.given_on.setObjectName("consent_given_on")
        self.record_button = QPushButton()
        self.record_button.setObjectName("record_consent")
        self.record_button.clicked.connect(self.record)
        self.withdraw_button = QPushButton()
        self.withdraw_button.setObjectName("withdraw_consent")
        self.withdraw_button.clicked.connect(self.withdraw)
        self.withdraw_button.setEnabled(False)
        self.issues = WrapLabel()
        self.issues.setObjectName("consent_issues")
        self.issues.setStyleSheet("color: #c62828")
        # what is recorded, then when and the buttons: in one row they were wider than the
        # case file in a 1024-pixel window (in Burmese), which then scrolled sideways
        row = QHBoxLayout()
        row.addWidget(self.scope, 1)
        row.addWidget(self.answer)
        row.addWidget(self.method)
        when_row = QHBoxLayout()
        when_row.addWidget(self.given_on)
        when_row.addStretch(1)
        when_row.addWidget(self.record_button)
        when_row.addWidget(self.withdraw_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addLayout(when_row)
        layout.addWidget(self.issues)
        self.retranslate()

    def show_consents(self, person_id: str, consents: Sequence[ConsentView]) -> None:
        """The person's consents as read with the case file, latest first."""
        if person_id != self.person_id:  # another case file: what was typed was for another
            self.given_on.clear()
            self.show_issues([])
        self.person_id = person_id
        self.consents = tuple(consents)
        self.model.set_rows(self.consents)
        self._selection_changed()
        self._show_current()

    def selected(self) -> ConsentView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _selection_changed(self, *_args: object) -> None:
        chosen = self.selected()
        self.withdraw_button.setEnabled(chosen is not None and chosen.status == "given")

    def record(self) -> None:
        """Record the consent described by the controls; a refused day is shown below them
        and nothing is written."""
        if self.person_id is None:
            return
        today = self.ctx.today()
        day, found = read_past_day(self.given_on.text(), today, "given_on")
        self.show_issues(found)
        if has_errors(found):
            return
        data = ConsentInput(
            scope=str(self.scope.currentData()),
            given=self.answer.currentData() == "given",
            method=str(self.method.currentData()),
            given_on=day,
        )
        store, person_id = self.ctx.store, self.person_id
        self.write(
            lambda: consent.record_consent(store, person_id, data, today=today), self._recorded
        )

    def _recorded(self) -> None:
        self.given_on.clear()
        self.show_issues([])

    def withdraw(self) -> None:
        """Withdraw the selected consent as of the day in the date field (empty: today),
        once the caseworker confirmed it; a refused day is shown below the controls."""
        chosen = self.selected()
        if chosen is None or chosen.status != "given":
            return
        today = self.ctx.today()
        day, found = read_past_day(self.given_on.text(), today, "withdrawn_on")
        self.show_issues(found)
        if has_errors(found):
            return
        question = tr(
            "ui.consent.withdraw_confirm",
            scope=_named("ui.consent.scope", chosen.scope),
            day=format_date(chosen.given_on),
            on=format_date(day or today),
        )
        if not self.ctx.dialogs.confirm(question):
            return
        store, consent_id = self.ctx.store, chosen.id
        self.write(
            lambda: consent.withdraw_consent(store, consent_id, on=day, today=today),
            self._recorded,
        )

    def show_issues(self, found: list[Issue]) -> None:
        self.found = found
        where = tr("ui.consent.col.given_on")
        self.issues.setText("\n".join(f"{where}: {issue_text(i)}" for i in found))

    def _show_current(self) -> None:
        latest = consent.current_consents(self.consents)
        scopes = [*SCOPES, *(s for s in latest if s not in SCOPES)]
        self.current.setText("<br>".join(state_text(s, latest.get(s)) for s in scopes))

    def retranslate(self) -> None:
        self.setTitle(tr("ui.consent.title"))
        fill_choices(self.scope, [(s, tr(f"ui.consent.scope.{s}")) for s in SCOPES])
        fill_choices(self.answer, [(a, tr(f"ui.consent.{a}")) for a in ANSWERS])
        fill_choices(self.method, [(m, tr(f"ui.consent.method.{m}")) for m in METHODS])
        show_placeholder(self.given_on, tr("ui.consent.date_hint"))
        self.record_button.setText(tr("ui.consent.record"))
        self.withdraw_button.setText(tr("ui.consent.withdraw"))
        self.model.retranslate()
        self.show_issues(self.found)
        self._show_current()
