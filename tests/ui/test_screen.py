"""Windows sized for the screen they open on."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.ui.screen import FRAME_HEIGHT, FRAME_WIDTH, resize_to_fit, screen_of


def test_a_window_larger_than_the_screen_is_cut_down_to_it(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    screen = screen_of(window)
    assert screen is not None
    room = screen.availableGeometry()
    resize_to_fit(window, room.width() + 500, room.height() + 500)
    assert window.width() == room.width() - FRAME_WIDTH
    assert window.height() == room.height() - FRAME_HEIGHT


def test_a_window_that_fits_keeps_its_size(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    resize_to_fit(window, 300, 200)
    assert (window.width(), window.height()) == (300, 200)


def test_a_sized_window_does_not_hold_the_screen(qtbot: QtBot) -> None:
    """Asked through ``widget.screen()``, the screen's wrapper would hang from the window's
    (PySide's return-value heuristic), for the garbage collector to delete with it."""
    window = QWidget()
    qtbot.addWidget(window)
    resize_to_fit(window, 300, 200)
    assert not [o for o in gc.get_referents(window) if isinstance(o, QScreen)]


# A window sized and then left in a reference cycle (a lambda connected to its own signal
# does that), collected, and the next window made: the UI tests crashed so, at random, in
# QWizard.__init__, once the collector had deleted the application's QScreen.
COLLECTED_WINDOW = """
import gc
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from desktop.ui.screen import resize_to_fit

app = QApplication([])
gc.disable()
first = QWidget()
resize_to_fit(first, 300, 200)
window = QWidget()
window.cycle = window
resize_to_fit(window, 300, 200)
del window
gc.collect()
later = QWidget()
resize_to_fit(later, 300, 200)
print(len(QGuiApplication.screens()), later.width())
"""


def test_a_window_collected_in_a_cycle_leaves_the_screen_to_the_next_one() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", COLLECTED_WINDOW],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "300"]
