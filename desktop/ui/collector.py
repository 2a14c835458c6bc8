"""Cyclic garbage collection on the GUI thread only.

CPython runs its cyclic collector in whichever thread happens to allocate past the
threshold. In Sapan that is often a worker of :mod:`desktop.ui.operations` (a query
allocates thousands of ORM objects), and the garbage it finds can hold Qt objects: a
closed dialog or a page kept alive by a reference cycle (a lambda connected to its own
signal, a traceback that holds a frame). Qt objects must be destroyed in the thread they
live in; destroying a widget from a worker while the GUI thread paints crashes the process
(the test suite died once with "Fatal Python error: Segmentation fault ... Garbage-collecting"
in a reader thread).

:func:`collect_on_gui_thread` turns CPython's automatic collection off and runs the same
collections from a timer on the GUI thread instead: every ``interval_ms`` it compares the
collector's counts with its thresholds (whatever :func:`desktop.domain.gc_tuning.tune_gc`
set) and collects the generation CPython would have collected. (CPython also holds a full
collection back until a quarter of the oldest generation is new; that condition is not
visible from Python and is not applied here. With the app's thresholds a full collection
is due only every 10^8 allocations.) Objects without cycles are still freed at once by
reference counting in any thread; only cycles wait, at most one interval (and while a
modal dialog runs its own event loop the timer still fires).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer

INTERVAL_MS = 250

_active = 0  # nested collectors (an app started inside a test that has one): gc stays off
_was_enabled = True


def collect_due() -> int | None:
    """Collect the generation CPython would collect now; returns it, or None.

    CPython's rule: nothing until generation 0's count (allocations minus frees) passes its
    threshold; then the oldest generation whose count passes its threshold is collected
    (a generation's count is the number of collections of the one below it since its own).
    """
    counts = gc.get_count()
    thresholds = gc.get_threshold()
    if counts[0] <= thresholds[0]:
        return None
    generation = max(g for g in range(3) if g == 0 or counts[g] > thresholds[g])
    gc.collect(generation)
    return generation


@contextmanager
def collect_on_gui_thread(interval_ms: int = INTERVAL_MS) -> Iterator[QTimer]:
    """Within the block, cyclic garbage is collected by a timer on the calling (GUI) thread.

    On leaving, one collection runs here, on the GUI thread, and automatic collection is
    turned back on if it was on before (and no other such block is still open).
    """
    global _active, _was_enabled
    if _active == 0:
        _was_enabled = gc.isenabled()
    _active += 1
    gc.disable()
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(collect_due)
    timer.start()
    try:
        yield timer
    finally:
        timer.stop()
        _active -= 1
        gc.collect()
        if _active == 0 and _was_enabled:
            gc.enable()
