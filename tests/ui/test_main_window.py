"""The main window: navigation, the case list over the store, five languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QScrollArea,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.domain import i18n
from desktop.models.store import Store, create_store
from desktop.services import cases, people, ui_wizards
from desktop.ui.app import install_fonts
from desktop.ui.context import AppContext
from desktop.ui.main_window import NAV_KEYS, MainWindow
from desktop.ui.screen import FRAME_HEIGHT
from tests.conftest import PASSPHRASE
from tests.fakes import FakeDialogs
from tests.ui.conftest import FakePrintDialogs, drain


def _people(store: Store, n: int = 3) -> list[str]:
    found = []
    for i in range(n):
        person = people.create_person(
            store, people.PersonInput(names=[people.NameInput(f"สมชาย {i}", "thai")])
        )
        found.append(cases.case_id_for(store, cases.open_case(store, person.person_id)))
    return found


def _window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.start()
    drain(qtbot, ctx)
    return window


def test_case_list_shows_the_cases_and_searches(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    ids = _people(store)
    window = _window(qtbot, ctx)
    model = window.case_list.model
    assert model.rowCount() == 3
    model.data(model.index(0, 1))
    drain(qtbot, ctx)
    assert model.data(model.index(0, 1)) == "สมชาย 0"
    window.case_list.search.setText("สมชาย 2")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    assert model.case_id(0) == ids[2]


def test_opening_a_case_shows_the_case_file(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    (case_id,) = _people(store, 1)
    window = _window(qtbot, ctx)
    with qtbot.waitSignal(window.case_file.loaded, timeout=5000):
        window.open_case(case_id)
    assert "สมชาย 0" in window.case_file.title.text()
    assert window.stack.currentWidget() is window.case_file


def test_a_case_file_that_cannot_be_read_says_why_and_goes_back_to_the_list(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """A case whose person was merged into another office's: the error was shown over
    the case file page, whose Person tab (another case's, or empty) could still be
    edited and saved to nowhere (a tester's retest)."""
    from sqlalchemy import text

    first, second = _people(store, 2)
    window = _window(qtbot, ctx)
    with qtbot.waitSignal(window.case_file.loaded, timeout=5000):
        window.open_case(first)
    with store.session() as session:  # as a pull of such a merge leaves the second case
        session.execute(
            text('UPDATE "case" SET person_id = :p WHERE id = :c'),
            {"p": "01a21458-cf11-7000-8000-000000000001", "c": second},
        )

    window.open_case(second)
    drain(qtbot, ctx)

    assert dialogs.errors[-1].startswith("The person of case file")
    assert window.stack.currentWidget() is not window.case_file
    assert window.stack.currentWidget() is window.case_list


def _visible_texts(root: QWidget) -> list[str]:
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QListWidget):
            texts += [widget.item(i).text() for i in range(widget.count())]
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, QTabWidget):
            texts += [widget.tabText(i) for i in range(widget.count())]
    return [t for t in texts if t.strip()]


def test_every_language_leaves_no_english_on_the_main_screens(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    (case_id,) = _people(store, 1)
    window = _window(qtbot, ctx)
    english = {
        texts["en"]
        for key, texts in i18n.catalogue().items()
        if key.startswith(("ui.", "qt.")) and not texts["en"].isdigit()
    }
    # Words that are the same in every language (names, codes) are not translations.
    same_everywhere = {
        texts["en"] for texts in i18n.catalogue().values() if len(set(texts.values())) == 1
    }
    for lang in i18n.LANGUAGES:
        ctx.language.set_language(lang)
        qtbot.wait(10)
        for page in range(len(NAV_KEYS)):
            window.show_page(page)
            drain(qtbot, ctx)
            texts = _visible_texts(window)
            if lang != "en":
                leftover = [t for t in texts if t in english and t not in same_everywhere]
                assert leftover == [], (lang, page, leftover)
            assert not [t for t in texts if t.startswith(("ui.", "qt."))], (lang, texts)
        with qtbot.waitSignal(window.case_file.loaded, timeout=5000):
            window.open_case(case_id)
        texts = _visible_texts(window)
        if lang != "en":
            assert [t for t in texts if t in english and t not in same_everywhere] == []
        window.show_page(0)


def test_qt_buttons_are_translated(qtbot: QtBot, ctx: AppContext) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    qtbot.addWidget(box)
    ctx.language.set_language("th")
    qtbot.wait(10)
    texts = {b.text().replace("&", "") for b in box.buttons()}
    assert texts == {"ตกลง", "ยกเลิก"}


def test_window_fits_a_768_pixel_high_laptop_screen(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    for page in range(len(NAV_KEYS)):  # pages are built on first use: build them all
        window.show_page(page)
    window.case_file  # noqa: B018 (built on first use)
    drain(qtbot, ctx)
    # 768 px screen minus a taskbar and the window frame
    assert window.minimumSizeHint().height() <= 680
    assert window.minimumSizeHint().width() <= 1024
    # a case open in Thai with its person's details editor open: the person tab scrolls
    names = [
        people.NameInput("ພອນສະຫວັນ ສຸລິຍະ", "native"),
        people.NameInput("PHONSAVANH SOULIYA", "passport"),
        people.NameInput("พอนสะหวัน สุลิยะ", "thai"),
        people.NameInput("ນ້ອຍ", "alias"),
    ]
    person = people.create_person(
        ctx.store, people.PersonInput(names=names, sex="F", birth_date="2005-09-14")
    ).person_id
    number = cases.open_case(ctx.store, person)
    ctx.language.set_language("th")
    window.show()
    window.open_case(number)
    drain(qtbot, ctx)
    window.case_file.tabs.setCurrentIndex(0)
    window.case_file.edit_details()
    assert window.case_file.details_editor.isVisibleTo(window)
    assert isinstance(window.case_file.tabs.widget(0), QScrollArea)
    assert window.minimumSizeHint().height() <= 680


def test_the_window_opens_above_the_taskbar_of_a_768_pixel_high_laptop(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1366x768 Windows laptop leaves 1366x728 above its taskbar: a window opened
    taller than that had its status bar behind the taskbar."""
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(0, 0, 1366, 728))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert window.height() + FRAME_HEIGHT <= 728
    assert window.width() == 1200  # as wide as it was: there is room


def test_a_step_blocked_by_many_things_still_fits_a_768_pixel_high_screen(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The Tracks tab lists everything a step still needs, one line each: a new
    enrollment lists six, and the window could no longer be made short enough."""
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("နန်း")]))
    ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit(
            "enrollment", "enrollment_mou_passport", [("identity", {}, "in_progress")]
        ),
    )
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    font = qapp.font()
    install_fonts(qapp)  # as the app runs: Burmese lines are taller than a fallback's
    try:
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        ctx.language.set_language("my")
        window.show()
        window.open_case(case_id)
        drain(qtbot, ctx)
        window.case_file.tabs.setCurrentIndex(3)  # tracks
        qtbot.wait(10)
        assert window.case_file.step_hint.text().count("•") >= 6
        assert window.minimumSizeHint().height() <= 680
    finally:
        qapp.setFont(font)
    assert window.minimumSizeHint().height() <= 680


START_UP = """
import sys
from pathlib import Path
from desktop import cli
app = cli.load_app()
from PySide6.QtWidgets import QApplication
from desktop.ui.context import AppContext
from desktop.ui.dialogs import Dialogs
from desktop.ui.i18n import LanguageSwitch
from desktop.ui.main_window import MainWindow
from desktop.ui.operations import Operations
from desktop.models.store import open_store
qapp = QApplication([])
store = open_store(Path(sys.argv[1]), "correct horse battery")
ops = Operations()
window = MainWindow(AppContext(store, ops, Dialogs(), LanguageSwitch()))
window.start()
window.show()
qapp.processEvents()
ops.wait()
print(" ".join(sorted(sys.modules)))
store.close()
"""


def test_start_up_imports_only_what_the_case_list_needs(tmp_path: Path) -> None:
    """Every module here costs start-up time on an old laptop: they load on first use."""
    create_store(tmp_path / "store", PASSPHRASE).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", START_UP, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    loaded = set(done.stdout.split())
    assert "desktop.ui.case_list" in loaded
    deferred = {
        "alembic",  # a store at the newest schema needs no migration
        "httpx",  # the sync worker's first check comes later, in its own thread
        "sync.protocol",
        "reportlab",  # printing
        "desktop.ui.case_file",
        "desktop.ui.wizard",
        "desktop.ui.new_case",
        "desktop.ui.print_preview",
        "desktop.ui.print_queue",
        "desktop.ui.sync_page",
    }
    assert deferred & loaded == set()


def test_the_case_file_shows_dates_and_nationality_in_the_chosen_language(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    person = people.create_person(
        store,
        people.PersonInput(
            names=[people.NameInput("အောင်ကျော်", "native")],
            birth_date="1990-05",
            nationality="MMR",
        ),
    )
    case_id = cases.case_id_for(store, cases.open_case(store, person.person_id))
    window = _window(qtbot, ctx)
    ctx.language.set_language("th")
    with qtbot.waitSignal(window.case_file.loaded, timeout=5000):
        window.open_case(case_id)
    details = window.case_file.details.text()
    assert "05/2533" in details  # May 1990, Buddhist Era
    assert "เมียนมา" in details
    assert "MMR" not in details


def test_a_print_recorded_from_the_window_reloads_the_case_file(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    (case_id,) = _people(store, 1)
    window = _window(qtbot, ctx)
    with qtbot.waitSignal(window.case_file.loaded, timeout=5000):
        window.open_case(case_id)
    window.printer.dialogs = FakePrintDialogs(tmp_path)
    with qtbot.waitSignal(window.printer.opened, timeout=20_000) as opened:
        window.printer.open(case_id)
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(window.case_file.loaded, timeout=20_000):  # reloaded after the save
        dialog.save_button.click()


def test_a_new_enrollment_wizard_starts_with_the_passport_birth_date_and_nationality_on_file(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    from desktop.services import ui_wizards

    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("မောင်မောင်"), people.NameInput("MAUNG MAUNG", "passport")],
            documents=[people.DocumentInput("passport", "MB2222222")],
            birth_date="1994-07-02",
            nationality="MMR",
        ),
    )
    window = _window(qtbot, ctx)
    window.start_wizard("enrollment_mou_passport", case_id)
    qtbot.waitUntil(lambda: getattr(window, "wizard", None) is not None, timeout=10_000)
    qtbot.addWidget(window.wizard)
    identity = window.wizard.step_pages[0]
    assert identity.raw("full_name") == "MAUNG MAUNG"  # the name as in the passport
    assert identity.raw("passport_number") == "MB2222222"
    assert identity.raw("date_of_birth") == "02/07/1994"  # as its label asks for a date
    assert identity.raw("nationality") == "myanmar"  # the choice that stands for MMR
    assert identity.raw("work_permit_number") == ""  # none on file: left to type
    window.wizard.reject()
    drain(qtbot, ctx)
