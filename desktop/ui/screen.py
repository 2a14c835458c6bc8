"""Sizing windows for the screen they open on: a 1366x768 laptop leaves about 728 pixels
above its taskbar, less the window's title bar, so a window's preferred size is cut down
to what is there.

The screen is looked up through ``QGuiApplication``'s static functions, never through
``widget.screen()``: PySide makes the ``QScreen`` returned by a widget's method a child of
that widget's Python wrapper (its return-value heuristic). When the widget's wrapper then
sits in a reference cycle, the garbage collector may clear the screen's wrapper first,
which hands the ``QScreen`` to Python and deletes it: the application's one screen is gone,
and the next window made crashes in ``QWidget``'s constructor (the UI tests died so, at
random, in ``QWizard.__init__``). :func:`screen_of` is the one way the app asks.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

# room the window manager adds around a window: a title bar and borders
FRAME_WIDTH = 16
FRAME_HEIGHT = 40


def screen_of(widget: QWidget) -> QScreen | None:
    """The screen under the middle of ``widget`` (else the primary screen), without
    tying the screen's lifetime to the widget's Python wrapper (see the module's note)."""
    middle = widget.mapToGlobal(widget.rect().center())
    return QGuiApplication.screenAt(middle) or QGuiApplication.primaryScreen()


def resize_to_fit(window: QWidget, width: int, height: int) -> None:
    """Resize ``window`` to ``width`` x ``height``, or less where its screen (less the
    taskbar and the window's frame) has not that much room."""
    screen = screen_of(window)
    if screen is not None:
        room = screen.availableGeometry()
        width = min(width, room.width() - FRAME_WIDTH)
        height = min(height, room.height() - FRAME_HEIGHT)
    window.resize(width, height)
