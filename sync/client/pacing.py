"""How much the next request carries: pull pages, push batches and upload chunks follow
the link.

Each request costs a round trip and, on the device, a commit, so on a quick link bigger
loads move more a second (pages of 10,000 changes pulled 8-19 % more case files a second
than pages of 2,000 over loopback, docs/performance.md); on a slow or dropping link a load
lost to a cut connection is sent again whole, so it shrinks back.
"""

from __future__ import annotations

# A load answered within this many seconds asks for a bigger next one; one that takes
# longer than SLOW_SECONDS, or had to be sent again (or was cut off), for a smaller one.
FAST_SECONDS = 1.0
SLOW_SECONDS = 5.0


def next_size(size: int, seconds: float, retried: bool, *, least: int, most: int) -> int:
    """The next load's size (changes of a page or batch, bytes of a chunk) after one of
    ``size`` was answered in ``seconds``: twice as much when quick, half when slow or
    ``retried``, the same otherwise; between ``least`` and ``most``."""
    if retried or seconds > SLOW_SECONDS:
        return max(least, size // 2)
    if seconds < FAST_SECONDS:
        return min(most, size * 2)
    return size
