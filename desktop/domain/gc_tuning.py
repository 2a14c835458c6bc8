"""Tuning CPython's cyclic garbage collector for Sapan's long-running processes.

Sync moves pages of thousands of rows through dicts, ORM objects and JSON, and much of a
page is alive at once. With CPython 3.11's default thresholds ``(700, 10, 10)`` the
collector looks at those objects while they are still in use, promotes them to the older
generations, and every full collection also walks the 80,000-100,000 objects that imports
left behind (modules, classes, functions), which never become garbage: measured in
``bench/sync.py --cases 2000``, the process playing the devices spent about 8 s in 67 full
collections of 80-190 ms each and 3 s in young ones; the server had 80-110 ms pauses.

:func:`tune_gc` is called once by each process entry point, after start-up (``sapan serve``
before uvicorn runs, ``sapan sync`` once its store is open, the desktop app once its main
window is shown). It changes *when* the collector runs, not *whether*: every reference
cycle made after start-up is still collected.
"""

from __future__ import annotations

import gc

# Generation 0 is collected when the number of container objects (lists, dicts, instances)
# allocated minus those freed since its last collection exceeds this. 700 means a sync page
# is examined and promoted while it is being worked on; at 50,000 most of a page has been
# freed by reference counting before the collector looks, and a young collection walks at
# most about 50,000 objects (a few milliseconds). The cost: up to that many objects of
# cyclic garbage, a few MB, can wait for the next young collection.
GEN0_THRESHOLD = 50_000
# Generation 1 is collected after this many generation-0 collections (default 10): about
# every million net allocations, so objects that outlive one young collection (a page held
# across a request) get a second look before they are promoted for good.
GEN1_THRESHOLD = 20
# Generation 2 (a full collection) after this many generation-1 collections (default 10),
# and CPython adds its own rule: only once the objects promoted since the last full
# collection exceed 25 % of those that survived it. After the freeze below the survivors
# are few, so that rule no longer holds full collections back and this count does: 100
# means at most one full collection per 2,000 young ones (about 10^8 net allocations).
# The memory trade-off: cycles that became garbage after reaching the oldest generation
# (objects that lived through two collections, such as caches that are later dropped) wait
# that long to be reclaimed; objects without cycles are still freed at once by reference
# counting, whatever the thresholds.
GEN2_THRESHOLD = 100
THRESHOLDS: tuple[int, int, int] = (GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


def tune_gc(thresholds: tuple[int, int, int] = THRESHOLDS) -> int:
    """Freeze what start-up allocated and raise the collection thresholds.

    Call once per process, when its start-up is done (imports made, app or window built).
    First the young generations are collected (about 1 ms) so the start-up's latest
    short-lived cycles are not frozen; then :func:`gc.freeze` moves every object the
    collector tracks into the permanent generation, which later collections skip (a constant
    time list move, not a walk). The oldest generation is not collected first: a full
    collection of 80,000-100,000 start-up objects costs 50-70 ms and found 0-250 unreachable
    objects at this point, which stay allocated for the life of the process (tens of KB).
    A frozen object that later becomes cyclic garbage is never reclaimed either, so freeze
    only when what exists is meant to last (modules, classes, the app's long-lived objects).

    Returns the number of objects frozen. ``gc.unfreeze()`` and ``gc.set_threshold`` undo it.
    """
    if len(thresholds) != 3 or any(value < 1 for value in thresholds):
        raise ValueError(f"three positive thresholds are needed, got {thresholds!r}")
    gc.collect(1)
    gc.freeze()
    gc.set_threshold(*thresholds)
    return gc.get_freeze_count()
