"""Sizing windows for the screen they open on: a 1366x768 laptop leaves about 728 pixels
above its taskbar, less the window's title bar, so a window's preferred size is cut down
to what is there."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# room the window manager adds around a window: a title bar and borders
FRAME_WIDTH = 16
FRAME_HEIGHT = 40


def resize_to_fit(window: QWidget, width: int, height: int) -> None:
    """Resize ``window`` to ``width`` x ``height``, or less where its screen (less the
    taskbar and the window's frame) has not that much room."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        room = screen.availableGeometry()
        width = min(width, room.width() - FRAME_WIDTH)
        height = min(height, room.height() - FRAME_HEIGHT)
    window.resize(width, height)
