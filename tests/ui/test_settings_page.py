"""The Settings page (desktop/ui/pages.py): settings saved and read back, and a backup of
the whole store to a chosen folder (a USB stick) with progress, its day shown after; a
chooser cancelled writes nothing, and a folder that cannot be written is said so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from desktop.models.store import Store, open_store
from desktop.services import backup
from desktop.ui.context import AppContext
from desktop.ui.i18n import format_date
from desktop.ui.pages import SettingsPage
from tests.conftest import PASSPHRASE
from tests.fakes import FakeDialogs
from tests.ui.conftest import drain, untranslated


def _page(qtbot: QtBot, ctx: AppContext) -> SettingsPage:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.load()
    drain(qtbot, ctx)
    return page


def test_settings_are_saved_and_read_back(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    page.idle.setValue(25)
    page.server.setText("  https://sync.example.org  ")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert store.setting("idle_lock_minutes") == 25
    assert store.setting("sync_server_url") == "https://sync.example.org"
    again = _page(qtbot, ctx)
    assert (again.idle.value(), again.server.text()) == (25, "https://sync.example.org")


def test_a_server_address_registration_would_refuse_is_not_saved(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    page = _page(qtbot, ctx)
    for typed in ("http://sync.example.org", "https://ann:secret@sync.example.org", "sync"):
        page.server.setText(typed)
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
        drain(qtbot, ctx)
    assert len(dialogs.errors) == 3
    assert "secret" not in dialogs.errors[1]  # a password is never shown back
    assert store.setting("sync_server_url") is None
    page.server.setText("http://192.168.1.20:8000/")  # the office's own network: fine
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert store.setting("sync_server_url") == "http://192.168.1.20:8000"


def test_the_whole_store_is_backed_up_to_the_folder_chosen(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs, tmp_path: Path
) -> None:
    page = _page(qtbot, ctx)
    assert "never been backed up" in page.backup_text.text()
    stick = tmp_path / "usb"
    stick.mkdir()
    dialogs.folders.append(stick)
    progressed: list[int] = []
    page.backup_progress.valueChanged.connect(progressed.append)

    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)

    (made,) = stick.iterdir()
    assert made.name.startswith("sapan-backup-")
    assert sorted(p.name for p in made.iterdir()) == ["sapan.db", "sapan.key"]
    assert progressed  # the bar moved
    assert dialogs.errors == []
    assert str(made) in dialogs.infos[-1]
    today = format_date(dt.datetime.now(dt.UTC).astimezone().date())
    assert f"Last backup: {today}, to {made}" in page.backup_text.text()
    assert page.backup_button.isEnabled()
    assert not page.backup_progress.isVisible()
    with open_store(made, PASSPHRASE) as copy:  # it opens on its own
        assert copy.store_id == store.store_id

    # read again, the page still knows
    assert f"Last backup: {today}" in _page(qtbot, ctx).backup_text.text()


def test_a_cancelled_chooser_writes_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    page = _page(qtbot, ctx)
    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert (dialogs.infos, dialogs.errors) == ([], [])
    assert store.setting("last_backup") is None


def test_a_bug_in_the_backup_is_reported_once_and_the_page_is_ready_again(
    qtbot: QtBot,
    ctx: AppContext,
    dialogs: FakeDialogs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The crash report says it (see the operations helper); the page adds no message of
    its own, and its button works again."""

    def fault(*_args: object) -> None:
        raise RuntimeError("a fault in the backup code")

    monkeypatch.setattr(backup, "backup_store", fault)
    reported: list[BaseException] = []
    monkeypatch.setattr(ctx.ops, "on_bug", reported.append)
    dialogs.folders.append(tmp_path)
    page = _page(qtbot, ctx)
    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert [type(exc) for exc in reported] == [RuntimeError]
    assert dialogs.errors == []
    assert page.backup_button.isEnabled()
    assert not page.backup_progress.isVisible()


def test_a_folder_that_cannot_be_written_is_said_so(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "stick-gone"
    not_a_folder.write_bytes(b"")  # the stick was pulled and a file took its name
    dialogs.folders.append(not_a_folder)
    page = _page(qtbot, ctx)
    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert len(dialogs.errors) == 1
    assert dialogs.errors[0].startswith("The backup to ")
    assert "could not be written" in dialogs.errors[0]
    assert page.backup_button.isEnabled()
    assert "never been backed up" in page.backup_text.text()
    assert sorted(tmp_path.iterdir()) == sorted([store.paths.root, not_a_folder])


def test_the_page_speaks_thai_and_burmese(qtbot: QtBot, ctx: AppContext) -> None:
    page = _page(qtbot, ctx)
    for lang in ("th", "my"):
        ctx.language.set_language(lang)
        qtbot.wait(10)  # the language change event arrives
        shown = [w.text() for w in page.findChildren(QLabel) + page.findChildren(QPushButton)]
        shown.append(page.backup_box.title())
        assert untranslated(shown, lang) == []
