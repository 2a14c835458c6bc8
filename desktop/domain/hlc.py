"""Hybrid logical clock stamps for ordering changes across devices.

A stamp is ``(wall_millis, counter, node)``; its string form
``"0001763812345678-0003-<node>"`` sorts the same way as the tuple, so the server and
clients compare stamps as plain strings. The wall part never goes backwards on one
device even if its clock does; ``observe`` folds in stamps seen from other devices.
Stamps order concurrent edits deterministically; they are never used as sync cursors.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# The text form keeps the counter to four digits, so that stamps sort as strings (and the
# protocol's pattern accepts them). A clock that reaches it moves its wall part on by a
# millisecond instead.
MAX_COUNTER = 9999
# The last millisecond of 9999-12-31 (UTC): a creation event's time is read from its
# stamp, and Python dates end there. Anything later is not a stamp.
MAX_WALL = 253_402_300_799_999
# What a stamp on the wire looks like: ASCII digits only (a regex ``\d`` also matches
# other scripts' digits, which would sort above every real stamp), a printable node.
STAMP_PATTERN = r"^[0-9]{16}-[0-9]{4}-[!-~]{1,60}$"
_STAMP = re.compile(r"([0-9]{1,16})-([0-9]{1,4})-([!-~]{1,60})", re.ASCII)
# A stamp from another node further ahead of this node's own clock than this is not
# folded in: one device with its clock years ahead would otherwise carry every clock it
# syncs with (and the dates derived from stamps) years ahead. Such a stamp still orders
# the edit it belongs to; it only stops spreading.
MAX_OBSERVED_AHEAD_MS = 24 * 3600 * 1000


def stamp_text(wall: int, counter: int, node: str) -> str:
    """The text form of the stamp ``(wall, counter, node)``, without building a
    :class:`Stamp` (a pull resolves one per row)."""
    return f"{wall:016d}-{counter:04d}-{node}"


@dataclass(frozen=True, order=True)
class Stamp:
    wall: int
    counter: int
    node: str

    def __str__(self) -> str:
        return stamp_text(self.wall, self.counter, self.node)

    @classmethod
    def parse(cls, text: str) -> Stamp:
        """The stamp ``text`` writes (``ValueError`` for anything else, or past year 9999)."""
        found = _STAMP.fullmatch(text)
        if found is None or int(found.group(1)) > MAX_WALL:
            raise ValueError(f"not an HLC stamp: {text!r}")
        return cls(int(found.group(1)), int(found.group(2)), found.group(3))


class HybridClock:
    """Issues monotonically increasing stamps for one node (device)."""

    def __init__(self, node: str, wall_millis: Callable[[], int] | None = None) -> None:
        self.node = node
        self._wall = wall_millis or (lambda: time.time_ns() // 1_000_000)
        self._last = Stamp(0, 0, node)
        self._lock = threading.Lock()

    @property
    def last(self) -> Stamp:
        return self._last

    def tick(self) -> Stamp:
        """A new stamp, greater than every stamp issued or observed before.

        While the wall clock is behind the last stamp (set back, or behind the other
        devices this one observed: a laptop whose clock reset to its BIOS date), stamps
        count up within the last millisecond, and past :data:`MAX_COUNTER` move to the
        next millisecond, so their text keeps its width and its order.
        """
        with self._lock:
            now, last = self._wall(), self._last
            if now > last.wall:
                self._last = Stamp(now, 0, self.node)
            elif last.counter < MAX_COUNTER:
                self._last = Stamp(last.wall, last.counter + 1, self.node)
            else:
                self._last = Stamp(last.wall + 1, 0, self.node)
            return self._last

    def observe(self, remote: Stamp | str) -> None:
        """Fold in a stamp from another device so later local stamps sort after it; one
        more than :data:`MAX_OBSERVED_AHEAD_MS` ahead of this clock is left out."""
        other = Stamp.parse(remote) if isinstance(remote, str) else remote
        if other.wall > self._wall() + MAX_OBSERVED_AHEAD_MS:
            return
        self._fold(other)

    def restore(self, stamp: Stamp | str) -> None:
        """Resume after a restart from the last stamp persisted by this device (its own
        history: folded in however far ahead of the wall clock it is)."""
        self._fold(Stamp.parse(stamp) if isinstance(stamp, str) else stamp)

    def _fold(self, other: Stamp) -> None:
        with self._lock:
            if (other.wall, other.counter) > (self._last.wall, self._last.counter):
                self._last = Stamp(other.wall, other.counter, self.node)
