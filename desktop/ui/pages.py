"""The smaller pages of the main window: Tasks and Settings.

The Print queue and Sync pages live in ``print_queue.py`` and ``sync_page.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.i18n import LANGUAGE_NAMES, LANGUAGES
from desktop.domain.places import province_name
from desktop.services import backup, ui_queries
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import current, format_date, tr
from desktop.ui.models import Column, RowTableModel, fit_columns
from desktop.ui.wrap import WrapLabel

__all__ = ["SettingsPage", "TasksPage", "task_columns"]


def task_columns() -> list[Column]:
    return [
        Column("ui.tasks.col.due", lambda t: format_date(t.due)),
        Column("ui.tasks.col.state", lambda t: tr(f"deadline.state.{t.state}")),
        Column("ui.tasks.col.case", lambda t: t.case_number),
        Column("ui.tasks.col.name", lambda t: t.name),
        Column("ui.tasks.col.action", lambda t: tr(t.action)),
    ]


class TasksPage(Retranslating):
    """Deadlines due soon and overdue across the caseload, narrowed to the overdue or the
    due soon and to whose action they are (the worker's, the employer's...), with how many
    are shown of how many; a double-click or Enter opens the case."""

    case_opened = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.all_rows: list[ui_queries.TaskRow] = []
        self.model = RowTableModel(task_columns())
        self.view = QTableView()
        self.view.setModel(self.model)
        fit_columns(self.view)
        self.view.activated.connect(self._open)  # a double-click, or Enter
        self.heading = QLabel()
        self.state_filter = QComboBox()
        self.state_filter.setObjectName("task_states")
        self.actor_filter = QComboBox()
        self.actor_filter.setObjectName("task_actor")
        for combo, keys in (
            (self.state_filter, ui_queries.TASK_STATES),
            (self.actor_filter, ui_queries.TASK_ACTORS),
        ):
            for key in keys:
                combo.addItem("", key)
            # as wide as its longest choice in the reader's language (Burmese runs long)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._show)
        # the provinces of the cases listed (a coordinator's store holds many)
        self.province_filter = QComboBox()
        self.province_filter.setObjectName("task_province")
        self.province_filter.currentIndexChanged.connect(self._show)
        self.state_label, self.actor_label, self.province_label = QLabel(), QLabel(), QLabel()
        self.count = QLabel()
        self.count.setObjectName("task_count")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.count)
        filters = QHBoxLayout()
        for widget in (
            self.state_label,
            self.state_filter,
            self.actor_label,
            self.actor_filter,
            self.province_label,
            self.province_filter,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.refresh_button)
        self.retranslate()

    def refresh(self) -> None:
        store, today = self.ctx.store, self.ctx.today()
        self.ctx.ops.run(
            lambda: ui_queries.open_tasks(store, today), on_success=self.set_tasks, key="tasks"
        )

    def set_tasks(self, rows: list[ui_queries.TaskRow]) -> None:
        """Hold the caseload's tasks and show those the filters let through."""
        self.all_rows = list(rows)
        self._fill_provinces()
        self._show()

    def _fill_provinces(self) -> None:
        """Every province of the tasks' cases by name in the reader's language, after "All"
        (the one chosen kept while it still has tasks)."""
        # here, not at the top: this module is read at start-up, the editors' is not
        from desktop.ui.person_details import fill_choices
        from desktop.ui.step_fields import province_codes

        held = {r.province_code for r in self.all_rows}
        lang = current()
        ordered = [code for code in province_codes(lang) if code in held]  # dictionary order
        items = [("", tr("ui.cases.filter.all"))]
        items += [(code, province_name(code, lang)) for code in ordered]
        fill_choices(self.province_filter, items)

    def _show(self) -> None:
        states = self.state_filter.currentData() or "all"
        actor = self.actor_filter.currentData() or "all"
        province = self.province_filter.currentData() or ""
        shown = ui_queries.filter_tasks(self.all_rows, states, actor, province)
        # the task selected stays selected while it is listed (a refresh after a sync)
        current = self.view.currentIndex()
        selected = self.model.row_at(current.row()) if current.isValid() else None
        self.model.set_rows(shown)
        if selected in shown:
            self.view.selectRow(shown.index(selected))
        overdue = sum(r.state == "overdue" for r in shown)
        self.count.setText(
            tr("ui.tasks.count", shown=len(shown), total=len(self.all_rows), overdue=overdue)
        )

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.case_opened.emit(self.model.row_at(index.row()).case_id)

    def retranslate(self) -> None:
        self.heading.setText(tr("ui.tasks.heading"))
        self.state_label.setText(tr("ui.tasks.filter.states"))
        self.actor_label.setText(tr("ui.tasks.filter.actor"))
        self.province_label.setText(tr("ui.cases.filter.province"))
        self._fill_provinces()
        for n, key in enumerate(ui_queries.TASK_STATES):
            self.state_filter.setItemText(
                n, tr("ui.tasks.states.all" if key == "all" else f"deadline.state.{key}")
            )
        for n, key in enumerate(ui_queries.TASK_ACTORS):
            self.actor_filter.setItemText(n, tr(f"ui.tasks.actor.{key}"))
        self.refresh_button.setText(tr("ui.refresh"))
        self.model.retranslate()
        self._show()


class SettingsPage(Retranslating):
    """Language, idle lock minutes, the sync server address, and a backup of the whole
    store to a folder (a USB stick) with progress."""

    language_chosen = Signal(str)
    idle_changed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES[code], code)
        self.language.setCurrentIndex(self.language.findData(current()))
        self.language.currentIndexChanged.connect(self._language)
        self.idle = QSpinBox()
        self.idle.setRange(1, 240)
        self.idle.setValue(10)
        self.server = QLineEdit()
        self.save_button = QPushButton()
        self.save_button.clicked.connect(self.save)
        self.labels = [QLabel(), QLabel(), QLabel()]
        form = QFormLayout()
        form.addRow(self.labels[0], self.language)
        form.addRow(self.labels[1], self.idle)
        form.addRow(self.labels[2], self.server)
        self.last_backup: tuple[dt.datetime, str] | None = None
        self.backup_box = QGroupBox()
        self.backup_text = WrapLabel()
        self.backup_text.setObjectName("backup_text")
        self.backup_button = QPushButton()
        self.backup_button.setObjectName("back_up")
        self.backup_button.clicked.connect(self.back_up)
        self.backup_progress = QProgressBar()
        self.backup_progress.setVisible(False)
        box = QVBoxLayout(self.backup_box)
        box.addWidget(self.backup_text)
        box.addWidget(self.backup_progress)
        box.addWidget(self.backup_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.save_button)
        layout.addWidget(self.backup_box)
        layout.addStretch(1)
        self.retranslate()

    def load(self) -> None:
        store = self.ctx.store

        def read() -> tuple[Any, Any, tuple[dt.datetime, str] | None]:
            return (
                store.setting("idle_lock_minutes", 10),
                store.setting(ui_queries.SERVER_SETTING, ""),
                backup.last_backup(store),
            )

        self.ctx.ops.run(read, on_success=self._loaded)

    def _loaded(self, values: tuple[Any, Any, tuple[dt.datetime, str] | None]) -> None:
        self.idle.setValue(int(values[0] or 10))
        self.server.setText(str(values[1] or ""))
        self.last_backup = values[2]
        self._show_backup()

    def back_up(self) -> None:
        """Copy the whole store into a new folder inside the one chosen, with progress."""
        chosen = self.ctx.dialogs.choose_folder(tr("ui.settings.backup_choose"))
        if chosen is None:
            return
        target = Path(chosen) / backup.backup_name(dt.datetime.now())
        store = self.ctx.store
        self.backup_button.setEnabled(False)
        self.backup_progress.setRange(0, 0)  # busy until the first figures come
        self.backup_progress.setVisible(True)
        self.ctx.ops.run(
            lambda progress: backup.backup_store(store, target, progress.report),
            progress=True,
            on_progress=self._backup_progressed,
            on_success=self._backed_up,
            on_failure=self._backup_failed,
            owner=self,
        )

    def _backup_progressed(self, done: int, total: int) -> None:
        # a progress bar counts in int: whole kilobytes keep a large store in range
        self.backup_progress.setRange(0, max(1, total // 1024))
        self.backup_progress.setValue(done // 1024)

    def _backed_up(self, made: backup.Backup) -> None:
        self._backup_done()
        self.last_backup = (dt.datetime.now(dt.UTC), str(made.path))
        self._show_backup()
        self.ctx.dialogs.info(tr("db.backup_done", path=str(made.path), count=made.files))

    def _backup_failed(self, exc: BaseException) -> None:
        self._backup_done()
        if isinstance(exc, UserError):  # a bug has been reported as one
            self.ctx.dialogs.error(exc.translated(current()))

    def _backup_done(self) -> None:
        self.backup_button.setEnabled(True)
        self.backup_progress.setVisible(False)

    def _show_backup(self) -> None:
        if self.last_backup is None:
            last = tr("ui.settings.backup_never")
        else:
            at, path = self.last_backup
            last = tr("ui.settings.backup_last", day=format_date(at.astimezone().date()), path=path)
        self.backup_text.setText(f"{tr('ui.settings.backup_explain')}\n{last}")

    def _language(self) -> None:
        code = self.language.currentData()
        if code and code != current():
            self.language_chosen.emit(str(code))

    def save(self) -> None:
        """Save the settings; a server address that registration would refuse (malformed,
        or plain http beyond the local network) is said so, and nothing is saved."""
        store, minutes, typed = self.ctx.store, self.idle.value(), self.server.text().strip()
        lang = str(self.language.currentData())
        from desktop.services import sync_view  # httpx: loaded when first needed

        try:
            url = sync_view.checked_server_url(typed) if typed else None
        except UserError as exc:
            self.ctx.dialogs.error(exc.translated(current()))
            return

        def write() -> None:
            store.set_setting("idle_lock_minutes", minutes)
            store.set_setting(ui_queries.SERVER_SETTING, url)
            store.set_setting("language", lang)

        self.ctx.ops.run(write, write=True, on_success=lambda _r: self.idle_changed.emit(minutes))

    def retranslate(self) -> None:
        for widget, key in zip(
            self.labels,
            ("ui.settings.language", "ui.settings.idle", "ui.settings.server"),
            strict=True,
        ):
            widget.setText(tr(key))
        self.idle.setSuffix(" " + tr("ui.settings.minutes"))
        self.server.setPlaceholderText("https://sync.example.org")
        self.save_button.setText(tr("ui.settings.save"))
        self.backup_box.setTitle(tr("ui.settings.backup_title"))
        self.backup_button.setText(tr("ui.settings.backup_button"))
        self._show_backup()
        self.language.blockSignals(True)
        self.language.setCurrentIndex(self.language.findData(current()))
        self.language.blockSignals(False)
