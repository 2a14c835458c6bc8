"""Starting the desktop app: fonts, language, the store (first run or unlock), the main
window, and the idle lock.

``run(args)`` is what plain ``sapan`` calls. ``args.data_dir``, ``args.passphrase_file``
and ``args.lang`` are honoured. With ``SAPAN_SMOKE_MS`` set the app quits that many
milliseconds after the main window is shown (packaging smoke tests, screenshots).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import PySide6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, qVersion
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QDialog, QProgressDialog, QWidget
from shiboken6 import Shiboken

from desktop.domain.errors import UserError
from desktop.domain.gc_tuning import tune_gc
from desktop.domain.i18n import LANGUAGES
from desktop.domain.resources import resource_path
from desktop.services import crash, ui_queries
from desktop.ui.collector import collect_on_gui_thread
from desktop.ui.context import AppContext
from desktop.ui.dialogs import Dialogs
from desktop.ui.first_run import FirstRunDialog, UnlockDialog
from desktop.ui.i18n import LanguageSwitch, current, tr
from desktop.ui.main_window import MainWindow
from desktop.ui.operations import Handle, Operations

log = logging.getLogger(__name__)
FONT_FAMILY = "Sapan Sans"
# how long opening the store may take before a window says it is under way
OPENING_SHOWN_AFTER_MS = 700


def install_fonts(app: QApplication, point_size: int = 10) -> str:
    """Load the bundled merged font (every script, shaped) and make it the app font."""
    family = FONT_FAMILY
    for style in ("Regular", "Bold"):
        font_id = QFontDatabase.addApplicationFont(
            str(resource_path("fonts", f"SapanSans-{style}.ttf"))
        )
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if families:
            family = families[0]
    font = QFont(family, point_size)
    app.setFont(font)
    return family


class IdleLock(QObject):
    """Watches keyboard and mouse input; after ``minutes`` without any, calls ``on_lock``."""

    INPUT_EVENTS = frozenset(
        {
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
        }
    )

    def __init__(self, minutes: int, on_lock: Callable[[], None]) -> None:
        super().__init__()
        self.on_lock = on_lock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._fire)
        self.locked = False
        self.stopped = False
        self.set_minutes(minutes)

    def set_minutes(self, minutes: int) -> None:
        self.timer.setInterval(max(1, minutes) * 60_000)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.INPUT_EVENTS and not self.locked and not self.stopped:
            self.timer.start()
        return False

    def stop(self) -> None:
        """Lock no more: the app's event loop has ended. Left running, the timer could hide
        every window shown minutes later in the same process (the suite's next tests)."""
        self.stopped = True
        self.timer.stop()

    def _fire(self) -> None:
        if not self.locked:
            self.locked = True
            self.on_lock()

    def unlocked(self) -> None:
        self.locked = False
        self.timer.start()


class App:
    """The running app: owns the context, the window and the lock."""

    def __init__(
        self,
        qapp: QApplication,
        args: argparse.Namespace,
        on_shown: Callable[[], object] | None = None,
    ) -> None:
        self.qapp = qapp
        self.args = args
        # called once the main window is shown (``run`` passes ``tune_gc``; tests, which
        # start many apps in one process, pass nothing)
        self.on_shown = on_shown
        self.language = LanguageSwitch()
        self.dialogs = Dialogs()
        self.ops = Operations(on_user_error=self._user_error, on_bug=self._bug)
        self.window: MainWindow | None = None
        self.ctx: AppContext | None = None
        self.wiped = False  # the server revoked this device and its store was wiped
        self.idle: IdleLock | None = None
        self.lock_dialog: UnlockDialog | None = None
        self.hidden: list[QWidget] = []  # the windows the lock hid, shown again on unlock
        self.bugs_shown: set[str] = set()  # reports shown, without their time (see _bug)

    @property
    def data_dir(self) -> Path:
        given = getattr(self.args, "data_dir", None)
        return Path(given).expanduser() if given else ui_queries.default_data_dir()

    def given_passphrase(self) -> str | None:
        path = getattr(self.args, "passphrase_file", None)
        if path:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        return os.environ.get("SAPAN_PASSPHRASE") or None

    def open_store(self) -> Any | None:
        """The unlocked store: created on first run, else from keyring or passphrase."""
        root = self.data_dir
        given = self.given_passphrase()
        if not ui_queries.store_exists(root):
            if given is not None:
                return ui_queries.create_store(root, given, given)
            return self._first_run(root)
        try:
            return self._opening(partial(ui_queries.open_store, root, given))
        except UserError as exc:
            if exc.code != "error.passphrase_needed" or given is not None:
                self.dialogs.error(exc.translated(current()))
                return None
        dialog = UnlockDialog(locked=False)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            typed = dialog.passphrase.text()
            try:
                return self._opening(partial(ui_queries.open_store, root, typed))
            except UserError as exc:
                dialog.error.setText(exc.translated(current()))
        return None

    def _opening(self, open_it: Callable[[], Any]) -> Any:
        """``open_it()`` (unlocking the store and, after an update, upgrading it) off the
        GUI thread, with a window saying so when it takes a while.

        A large store's backup copy and upgrade can take a minute on an old laptop, and a
        blank screen that long looks like a crash: someone who closes the app then loses
        nothing (the upgrade is one transaction) but starts it again the next time.
        """
        outcome: list[Any] = []

        def attempt() -> None:
            try:
                outcome.append(open_it())
            except BaseException as exc:  # raised again on the GUI thread, as it was
                outcome.append(exc)

        handle = self.ops.run(attempt, write=True)
        waiting = QProgressDialog(tr("ui.start.opening"), "", 0, 0)  # busy, no cancel
        waiting.setCancelButton(None)
        waiting.setWindowTitle(tr("ui.app.title"))
        waiting.setWindowModality(Qt.WindowModality.ApplicationModal)
        waiting.setMinimumDuration(OPENING_SHOWN_AFTER_MS)
        waiting.setValue(0)  # starts the clock after which it shows itself
        try:
            self._wait(handle)
        finally:
            waiting.reset()  # stops its clock: closed alone, it would show itself later
            waiting.close()
        (result,) = outcome
        if isinstance(result, BaseException):
            raise result
        return result

    def _wait(self, handle: Handle) -> None:
        """Handle events until the write ``handle`` names has ended (its callbacks run)."""
        while not handle.done:
            self.qapp.processEvents()
            self.ops.writer.waitForDone(50)
        self.qapp.processEvents()

    def _first_run(self, root: Path) -> Any | None:
        dialog = FirstRunDialog(wiped=ui_queries.finish_wipe(root))
        dialog.language_chosen.connect(self.language.set_language)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            if dialog.restoring:
                dialog.restoring = False
                restored = self._restore(root, dialog)
                if restored is not None:
                    return restored
                continue
            typed = dialog.server.text().strip()
            try:
                # checked before the store is made, as the Settings page checks it
                server = _checked_server(typed) if typed else None
                store = ui_queries.create_store(
                    root, dialog.passphrase.text(), dialog.repeat.text()
                )
            except UserError as exc:
                dialog.error.setText(exc.translated(current()))
                continue
            store.set_setting("language", current())
            ui_queries.keep_start_language(root, current())
            if server:
                store.set_setting(ui_queries.SERVER_SETTING, server)
            if dialog.demo.isChecked():
                self._load_demo(store, dialog.demo_people.value())
            return store
        return None

    def _restore(self, root: Path, dialog: FirstRunDialog) -> Any | None:
        """A backup made the store of this empty data folder, opened with the passphrase
        typed in the first-run dialog; None (the refusal shown there) to stay in it."""
        from desktop.services import backup  # loaded only when a backup is restored

        passphrase = dialog.passphrase.text()
        if not passphrase:
            dialog.error.setText(tr("ui.first_run.restore_passphrase"))
            return None
        folder = self.dialogs.choose_folder(tr("ui.first_run.restore_choose"))
        if folder is None:
            return None
        try:
            backup.restore_store(Path(folder), root, passphrase)
            store = self._opening(partial(ui_queries.open_store, root, passphrase))
        except UserError as exc:
            dialog.error.setText(exc.translated(current()))
            return None
        ui_queries.keep_start_language(root, current())
        self.dialogs.info(tr("ui.first_run.restored"))
        return store

    def _load_demo(self, store: Any, people: int) -> None:
        """Demo data with a cancellable progress dialog; the work runs off the GUI thread."""
        try:
            from desktop.services import demo
        except ImportError:
            return
        progress = QProgressDialog(tr("ui.first_run.demo_loading"), tr("ui.cancel"), 0, people)
        progress.setMinimumDuration(0)
        handle = self.ops.run(
            lambda p: demo.generate(store, people, seed=1, progress=lambda d, t: p.report(d, t)),
            progress=True,
            write=True,
            on_progress=lambda done, total: progress.setValue(done),
        )
        progress.canceled.connect(handle.cancel)
        progress.rejected.connect(handle.cancel)  # Escape: hides it without "canceled"
        self._wait(handle)
        progress.close()

    def start(self) -> int:
        # worker threads must never collect cycles that hold Qt objects (see collector)
        with collect_on_gui_thread():
            return self._start()

    def _start(self) -> int:
        lang = getattr(self.args, "lang", None)
        # the passphrase is asked in the language last chosen (the setting is encrypted)
        remembered = ui_queries.start_language(self.data_dir)
        first = lang if lang in LANGUAGES else remembered
        self.language.set_language(first if first in LANGUAGES else "en")
        store = self.open_store()
        if store is None:
            return 1
        if not lang:
            saved = store.setting("language", None)
            if saved in LANGUAGES:
                self.language.set_language(saved)
                ui_queries.keep_start_language(self.data_dir, saved)
        self.ctx = AppContext(store, self.ops, self.dialogs, self.language)
        self.window = MainWindow(self.ctx)
        self.dialogs.parent = self.window
        self.window.settings.language_chosen.connect(self._save_language)
        self.idle = IdleLock(int(store.setting("idle_lock_minutes", 10)), self.lock)
        self.window.settings.idle_changed.connect(self.idle.set_minutes)
        self.window.sync_worker.synced.connect(self._after_sync)
        self.qapp.installEventFilter(self.idle)
        # Queue the first case-list query before showing: it runs in a reader thread
        # (SQLite releases the GIL) while the window lays itself out and paints.
        self.window.start()
        self.window.show()
        # rendered packets an earlier run left (it crashed, the power went)
        self.ops.run(lambda: ui_queries.sweep_previews(store))
        if self.on_shown is not None:
            self.on_shown()
        smoke = os.environ.get("SAPAN_SMOKE_MS")
        if smoke:
            QTimer.singleShot(int(smoke), self.qapp.quit)
        code = self.qapp.exec()
        # stop what would start more work (timers, the sync worker, the idle lock), let
        # the work under way finish, then close the store
        self.qapp.removeEventFilter(self.idle)
        self.idle.stop()
        self.window.shut_down()
        self.ops.wait()
        store.close()
        if self.wiped:
            ui_queries.finish_wipe(self.data_dir)  # the files go once the store is closed
        return int(code)

    def _user_error(self, exc: UserError) -> None:
        if not self.wiped:  # after a wipe, work still queued fails: nothing more to say
            self.dialogs.error(exc.translated(current()))

    def _bug(self, exc: BaseException) -> None:
        """A bug: its report written to the data folder's crash log, and shown."""
        report, log_path = crash.record(self.data_dir, exc, _qt_versions())
        # the same bug again (a timer's, the background sync's at each retry) is written
        # again but shown once: the report without its first line, the time
        seen = report.partition("\n")[2]
        if not self.wiped and seen not in self.bugs_shown:
            self.bugs_shown.add(seen)
            self.dialogs.bug(report, log_path)

    def uncaught(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """``sys.excepthook`` while the app runs: a bug raised in a slot or an event
        handler, outside any operation, is reported as theirs are (where the app runs
        without a console, on Windows, Python's own report goes nowhere)."""
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        try:
            self._bug(exc.with_traceback(tb))
        except Exception:  # the report itself failed: Python's, rather than nothing
            sys.__excepthook__(kind, exc, tb)

    def _say_merges_not_redone(self, store: Any, refused: list[dict[str, Any]]) -> None:
        """Name the merges a restored server refused to make again, B → A, read off the
        GUI thread."""
        from desktop.services import coordination

        def say(named: str) -> None:
            self.dialogs.info(tr("sync.merges_not_redone", count=len(refused), merges=named))

        self.ops.run(lambda: coordination.named_merges(store, refused), on_success=say)

    def _after_sync(self, summary: Any) -> None:
        """Say which case numbers a sync changed (the device's first block of numbers), and
        what it sent or made again for a server restored from an older backup.

        A revoked device: the sync destroyed the store's key (see ``sync.wipe_device``).
        Take the case data off the screen at once, say so, and quit; the files are
        deleted once the store is closed, and the next start is a first run."""
        if summary.resent and not self.wiped:
            self.dialogs.info(tr("sync.resent", count=summary.resent))
        if summary.merges_redone and not self.wiped:
            self.dialogs.info(tr("sync.merges_redone", count=summary.merges_redone))
        if summary.decisions_redone and not self.wiped:
            self.dialogs.info(tr("sync.decisions_redone", count=summary.decisions_redone))
        if summary.merges_not_redone and not self.wiped and self.ctx is not None:
            self._say_merges_not_redone(self.ctx.store, summary.merges_not_redone)
        if summary.renumbered and not self.wiped:
            self.dialogs.info(tr("sync.renumbered", numbers=summary.renumbered_text()))
        if not summary.wipe or self.window is None or self.wiped:
            return
        self.wiped = True
        if self.idle is not None:
            self.qapp.removeEventFilter(self.idle)
            self.idle.timer.stop()
        if self.lock_dialog is not None:
            self.lock_dialog.done(0)
            self.lock_dialog = None
        self.window.shut_down()
        self._hide_windows()  # the wizards and previews too, not only the main window
        self.dialogs.parent = None
        self.dialogs.info(tr("sync.revoked", count=summary.waiting + summary.failed))
        self.qapp.quit()

    def _save_language(self, lang: str) -> None:
        if self.ctx is not None:
            store, root = self.ctx.store, self.data_dir

            def save() -> None:
                store.set_setting("language", lang)
                ui_queries.keep_start_language(root, lang)

            self.ops.run(save, write=True)

    def lock(self) -> None:
        """Hide the case data and ask for the passphrase again."""
        if self.window is None or self.ctx is None:
            return
        self.hidden = self._hide_windows()
        self.lock_dialog = UnlockDialog(locked=True)
        # above a modal question a moment's work may still ask: the passphrase goes here
        self.lock_dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        store = self.ctx.store
        dialog = self.lock_dialog

        def attempt() -> None:
            typed = dialog.passphrase.text()
            self.ops.run(
                lambda: ui_queries.check_passphrase(store, typed),
                on_success=lambda _r: self._unlocked(),
                on_failure=lambda exc: dialog.error.setText(
                    exc.translated(current()) if isinstance(exc, UserError) else ""
                ),
            )

        dialog.buttons.accepted.disconnect()
        dialog.buttons.accepted.connect(attempt)
        dialog.show()

    def _hide_windows(self) -> list[QWidget]:
        """Hide every window showing case data: the main window, and the wizards, print
        previews and dialogs that are windows of their own (hiding the main window leaves
        them on screen). Returns the ones to show again, the step editor (``open()``,
        modal to its window) with what was typed in it; a question asked with ``exec()``
        (application-modal) is put away unanswered instead, as if cancelled."""
        shown = [
            w
            for w in self.qapp.topLevelWidgets()
            if w.isVisible() and w.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog)
        ]
        for widget in shown:
            widget.hide()
        return [w for w in shown if w.windowModality() != Qt.WindowModality.ApplicationModal]

    def _unlocked(self) -> None:
        if self.lock_dialog is not None:
            self.lock_dialog.done(0)
            self.lock_dialog = None
        hidden, self.hidden = self.hidden, []
        for widget in hidden:
            if Shiboken.isValid(widget):  # a window closed meanwhile is gone
                widget.show()
        if self.idle is not None:
            self.idle.unlocked()


def run(args: argparse.Namespace) -> int:
    """Start the app; returns the process exit code."""
    os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Sapan")
    install_fonts(qapp)
    app = App(qapp, args, on_shown=tune_gc)
    previous, sys.excepthook = sys.excepthook, app.uncaught
    try:
        return app.start()
    finally:
        sys.excepthook = previous


def _qt_versions() -> dict[str, str]:
    """The versions a bug report names beside Python's."""
    return {"Qt": qVersion(), "PySide6": PySide6.__version__}


def _checked_server(typed: str) -> str:
    """The first run's server address as registration would take it (a UserError if not);
    the sync code loads only when an address was typed."""
    from desktop.services import sync_view

    return sync_view.checked_server_url(typed)
