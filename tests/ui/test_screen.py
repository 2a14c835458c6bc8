"""Windows sized for the screen they open on."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.ui.screen import FRAME_HEIGHT, FRAME_WIDTH, resize_to_fit


def test_a_window_larger_than_the_screen_is_cut_down_to_it(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    resize_to_fit(window, room.width() + 500, room.height() + 500)
    assert window.width() == room.width() - FRAME_WIDTH
    assert window.height() == room.height() - FRAME_HEIGHT


def test_a_window_that_fits_keeps_its_size(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    resize_to_fit(window, 300, 200)
    assert (window.width(), window.height()) == (300, 200)
