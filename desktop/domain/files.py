"""Files written whole or not at all: the one way Sapan writes a file a person will open.

A PDF, an export or a key file is written beside its name (``NAME.partial``), flushed to
the device and renamed over ``NAME`` only once complete. A full disk, a USB stick pulled
out or a crash halfway leaves no half file under the name a clerk would print or a
caseworker would hand over; a leftover ``.partial`` says what it is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

_PARTIAL = ".partial"


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A file beside ``path`` to write; it becomes ``path`` once the block ends without an
    exception (flushed to the device first), and is removed if the block raised."""
    partial = path.with_name(path.name + _PARTIAL)
    try:
        yield partial
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
        partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):  # a folder gone, or something else in the way
            partial.unlink(missing_ok=True)
        raise
