"""The Duplicates page: people who are probably one person, and the merges made.

Anyone registered sees the list; a coordinator merges the second person of a pair into
the first (or the other way round) and can undo a merge. A merge is made on the server
(``desktop.services.coordination``), so it needs the link; what it moves reaches this
laptop with the sync the page starts right after.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services import coordination, sync_view
from desktop.ui.case_list import tracks_text
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import format_date, format_partial_date, tr
from desktop.ui.models import Column, RowTableModel, list_view, selected_row
from desktop.ui.sync_worker import SyncWorker
from desktop.ui.wrap import WrapLabel

__all__ = ["DuplicatesPage", "case_pair_columns", "merge_columns", "pair_columns"]


def _person(summary: Any) -> str:
    """A person as a list shows them: name, birth date, documents, cases."""
    parts = [summary.display_name or "?"]
    if summary.birth_date:
        parts.append(format_partial_date(summary.birth_date))
    parts.extend(coordination.document_text(doc, tr) for doc in summary.documents)
    parts.extend(summary.case_numbers)
    return " · ".join(parts)


def pair_columns() -> list[Column]:
    return [
        Column("ui.duplicates.col.first", lambda d: _person(d.first)),
        Column("ui.duplicates.col.second", lambda d: _person(d.second)),
        Column(
            "ui.duplicates.col.why",
            lambda d: coordination.reason_text(d, tr, format_partial_date),
        ),
    ]


def _case(row: Any) -> str:
    """A case as a list shows it: number, opened on, its tracks."""
    parts = [row.number, format_date(row.opened_on), tracks_text(row.tracks)]
    return " · ".join(part for part in parts if part)


def case_pair_columns() -> list[Column]:
    return [
        Column("ui.duplicates.col.person", lambda d: d.first.name),
        Column("ui.duplicates.col.first_case", lambda d: _case(d.first)),
        Column("ui.duplicates.col.second_case", lambda d: _case(d.second)),
    ]


def merge_columns() -> list[Column]:
    return [
        # once a merge has synced, B's names hang from A and B is named by the names the
        # merge moved; a merge from a server that does not list them leaves B its id only
        Column(
            "ui.duplicates.col.merged",
            lambda m: m.source_name or tr("ui.duplicates.moved_away", id=m.source_id[:8]),
        ),
        Column("ui.duplicates.col.into", lambda m: m.target_name or m.target_id),
        Column("ui.duplicates.col.by", lambda m: m.merged_by),
        Column(
            "ui.duplicates.col.state",
            lambda m: tr("ui.duplicates.undone" if m.undone else "ui.duplicates.in_force"),
        ),
    ]


class DuplicatesPage(Retranslating):
    """Likely duplicate people with Merge buttons, and the merges with Undo.
    ``case_opened`` carries the first case of a double-clicked pair of cases."""

    case_opened = Signal(str)

    def __init__(
        self, ctx: AppContext, worker: SyncWorker | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.worker = worker or SyncWorker(ctx, parent=self)
        self.coordinator = False

        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 14pt; font-weight: bold")
        self.hint = WrapLabel()
        self.role_label = WrapLabel()
        self.role_label.setObjectName("role_note")

        self.pair_box = QGroupBox()
        self.pair_model = RowTableModel(pair_columns())
        self.pair_view = list_view(self.pair_model)
        # the two open cases a person often has once merged: merged like people
        self.case_model = RowTableModel(case_pair_columns())
        self.case_view = list_view(self.case_model)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.pair_view, "")
        self.tabs.addTab(self.case_view, "")
        self.tabs.currentChanged.connect(lambda _i: self._enable())
        self.case_view.activated.connect(self._open_case)  # a double-click, or Enter
        self.merge_into_first = QPushButton()
        self.merge_into_first.setObjectName("merge_into_first")
        self.merge_into_first.clicked.connect(lambda: self.merge(into_first=True))
        self.merge_into_second = QPushButton()
        self.merge_into_second.setObjectName("merge_into_second")
        self.merge_into_second.clicked.connect(lambda: self.merge(into_first=False))
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        pair_buttons = QHBoxLayout()
        pair_buttons.addWidget(self.merge_into_first)
        pair_buttons.addWidget(self.merge_into_second)
        pair_buttons.addStretch(1)
        pair_buttons.addWidget(self.refresh_button)
        pair_layout = QVBoxLayout(self.pair_box)
        pair_layout.addWidget(self.tabs)
        pair_layout.addLayout(pair_buttons)

        self.merge_box = QGroupBox()
        self.merge_model = RowTableModel(merge_columns())
        self.merge_view = list_view(self.merge_model)
        self.undo_button = QPushButton()
        self.undo_button.setObjectName("undo_merge")
        self.undo_button.clicked.connect(self.undo)
        merge_layout = QVBoxLayout(self.merge_box)
        merge_layout.addWidget(self.merge_view)
        merge_buttons = QHBoxLayout()
        merge_buttons.addStretch(1)
        merge_buttons.addWidget(self.undo_button)
        merge_layout.addLayout(merge_buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.hint)
        layout.addWidget(self.role_label)
        layout.addWidget(self.pair_box, 2)
        layout.addWidget(self.merge_box, 1)

        for view in (self.pair_view, self.case_view, self.merge_view):
            view.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        # after a sync the pairs may have changed; a hidden page reads when shown again
        self.worker.synced.connect(self._synced)
        self.loading = False
        self.retranslate()

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the pairs and merges off the GUI thread; then ask the server for the
        account's role (an admin may have changed it), which needs no answer offline."""
        store = self.ctx.store

        def read() -> tuple[list[Any], list[Any], list[Any], bool]:
            return (
                coordination.duplicate_people(store),
                coordination.duplicate_cases(store),
                coordination.merges(store),
                coordination.may_coordinate(store),
            )

        self.loading = True
        self._pair_title()
        self.ctx.ops.run(read, on_success=self._loaded, key="duplicates", owner=self)
        factory = self.worker.http_factory or sync_view.quick_http
        self.ctx.ops.run(
            lambda: coordination.ask_role(store, factory),
            on_success=self._heard_role,
            key="duplicates_role",
            owner=self,
        )

    def _heard_role(self, role: str | None) -> None:
        """Keep the role the server told (nothing to do when it did not answer)."""
        if role is None:
            return
        store = self.ctx.store
        self.ctx.ops.run(
            lambda: coordination.keep_role(store, role),
            write=True,
            on_success=lambda _r: self._role(role in coordination.COORDINATING_ROLES),
            owner=self,
        )

    def _open_case(self, index: QModelIndex) -> None:
        if index.isValid():
            self.case_opened.emit(self.case_model.row_at(index.row()).first.id)

    def _synced(self, _summary: object) -> None:
        if self.isVisible():
            self.refresh()

    def _loaded(self, result: tuple[list[Any], list[Any], list[Any], bool]) -> None:
        pairs, case_pairs, merges, coordinator = result
        self.loading = False
        self.pair_model.set_rows(pairs)
        self.case_model.set_rows(case_pairs)
        self._pair_title()
        self.merge_model.set_rows(merges)
        self._role(coordinator)

    def _role(self, coordinator: bool) -> None:
        self.coordinator = bool(coordinator)
        self.role_label.setVisible(not self.coordinator)
        self._enable()

    def _chosen(self) -> tuple[str, Any]:
        """The kind of the tab shown (``person`` or ``case``) and its selected pair."""
        if self.tabs.currentWidget() is self.case_view:
            return "case", selected_row(self.case_view, self.case_model)
        return "person", selected_row(self.pair_view, self.pair_model)

    def _enable(self) -> None:
        pair = self._chosen()[1] is not None
        merge = selected_row(self.merge_view, self.merge_model)
        for button in (self.merge_into_first, self.merge_into_second):
            button.setEnabled(self.coordinator and pair)
        self.undo_button.setEnabled(self.coordinator and merge is not None and not merge.undone)

    # -- actions ---------------------------------------------------------------------------

    def merge(self, *, into_first: bool) -> None:
        """Merge the selected pair's other person into the one chosen, after asking."""
        entity, pair = self._chosen()
        if pair is None or not self.coordinator:
            return
        target, source = (pair.first, pair.second) if into_first else (pair.second, pair.first)
        label = _person if entity == "person" else _case
        question = tr(
            f"ui.duplicates.confirm_merge_{entity}", source=label(source), target=label(target)
        )
        if entity == "person" and source.office and target.office != source.office:
            # the other office's laptops keep their case files, not the person kept
            question += " " + tr(
                "ui.duplicates.other_office", source=source.office, target=target.office
            )
        if not self.ctx.dialogs.confirm(question):
            return
        store, factory = self.ctx.store, self.worker.http_factory or sync_view.default_http
        source_id = source.person_id if entity == "person" else source.id
        target_id = target.person_id if entity == "person" else target.id
        self.ctx.ops.run(
            lambda: coordination.merge(store, entity, source_id, target_id, factory),
            write=True,
            on_success=lambda _m: self._done("ui.duplicates.merged"),
            owner=self,
        )

    def undo(self) -> None:
        """Undo the selected merge, after asking."""
        merge = selected_row(self.merge_view, self.merge_model)
        if merge is None or merge.undone or not self.coordinator:
            return
        question = tr(
            "ui.duplicates.confirm_undo",
            source=merge.source_name or tr("ui.duplicates.moved_away", id=merge.source_id[:8]),
            target=merge.target_name or merge.target_id,
        )
        if not self.ctx.dialogs.confirm(question):
            return
        store, factory = self.ctx.store, self.worker.http_factory or sync_view.default_http
        self.ctx.ops.run(
            lambda: coordination.undo_merge(store, merge.id, factory),
            write=True,
            on_success=lambda _m: self._done("ui.duplicates.undone_ok"),
            owner=self,
        )

    def _done(self, message: str) -> None:
        """The server took it: say so, and sync, which brings the rows it moved."""
        self.ctx.dialogs.info(tr(message))
        self.refresh()
        self.worker.sync_now()

    # -- texts -----------------------------------------------------------------------------

    def _pair_title(self) -> None:
        count = self.pair_model.rowCount()
        if self.loading:
            title = f"{tr('ui.duplicates.pair_box')} · {tr('ui.loading')}"
        elif count >= coordination.MAX_PAIRS:
            title = tr("ui.duplicates.pair_box_capped", count=count)
        else:
            title = tr("ui.duplicates.pair_box")
        self.pair_box.setTitle(title)
        self.tabs.setTabText(0, tr("ui.duplicates.people_tab", count=count))
        self.tabs.setTabText(1, tr("ui.duplicates.cases_tab", count=self.case_model.rowCount()))

    def retranslate(self) -> None:
        self.heading.setText(tr("ui.duplicates.heading"))
        self.hint.setText(tr("ui.duplicates.hint"))
        self.role_label.setText(tr("ui.duplicates.not_coordinator"))
        self._pair_title()
        self.merge_box.setTitle(tr("ui.duplicates.merge_box"))
        self.merge_into_first.setText(tr("ui.duplicates.merge_into_first"))
        self.merge_into_second.setText(tr("ui.duplicates.merge_into_second"))
        self.refresh_button.setText(tr("ui.refresh"))
        self.case_model.retranslate()
        self.undo_button.setText(tr("ui.duplicates.undo"))
        self.pair_model.retranslate()
        self.merge_model.retranslate()
