"""Reports of bugs: what went wrong and where, without anyone's personal data.

A bug (anything but a :class:`~desktop.domain.errors.UserError`) in the app is written to
``crash.log`` in the data folder's ``logs`` (kept by a wipe, and beside a store restored
there) and shown in a dialog the person can copy the report from, for whoever supports
them. The report holds the versions of the app and the
platform and, for each exception of the chain, its type and the frames it went through
(file, line, function and the line of code). It leaves out the exceptions' messages and
every local value, which can hold a name, an ID number or a query's parameters; and a
file's path is cut to the part inside its package, since a Windows path holds the name of
the person logged in. ``crash.log`` sits beside the encrypted store unencrypted, which is
why nothing else may go in it (the ``logs`` folder is the one a wipe keeps for that).
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sys
import sysconfig
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath
from types import TracebackType

import desktop
from desktop import app_version
from desktop.models.store import StorePaths

log = logging.getLogger(__name__)

LOG_NAME = "crash.log"
# The log keeps the newest reports: once over this size, the oldest half goes.
MAX_LOG_BYTES = 256 * 1024
# Exceptions of one chain (raised while handling another, or from another) reported.
MAX_CHAIN = 5

_PROJECT = Path(desktop.__file__).resolve().parents[1]
_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def report(
    exc: BaseException,
    versions: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The report of one bug: versions, then each exception of the chain with its frames.

    ``versions`` adds lines to the header (the UI gives Qt's)."""
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"Sapan {app_version()} bug report, {when}",
        f"Python {platform.python_version()} on {platform.platform()}",
        *(f"{name} {version}" for name, version in (versions or {}).items()),
        "Messages and values are left out: they can hold a person's data.",
    ]
    chain = _chain(exc)
    for earlier, link in zip([None, *chain], chain, strict=False):
        lines.append("")
        if earlier is not None:
            lines.extend([_led_on(earlier, link), ""])
        lines.append(_type_name(link))
        lines.extend(_frames(link.__traceback__))
    return "\n".join(lines) + "\n"


def record(
    root: Path, exc: BaseException, versions: Mapping[str, str] | None = None
) -> tuple[str, Path | None]:
    """Write the report of ``exc`` to ``crash.log`` in the logs of the data folder ``root``;
    the report and the log's path, or None for the path when it could not be written (a
    full disk, a folder that is gone: the report is still shown, and the app goes on)."""
    text = report(exc, versions)
    log.error("bug:\n%s", text)
    path = log_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _trim(path)
        with path.open("a", encoding="utf-8") as out:
            out.write(text + "\n")
    except OSError:
        return text, None
    return text, path


def log_path(root: Path) -> Path:
    """The crash log of the data folder ``root``."""
    return StorePaths(root).logs / LOG_NAME


def _trim(path: Path) -> None:
    """Drop the oldest half of the log once it has grown past :data:`MAX_LOG_BYTES`."""
    if not path.exists() or path.stat().st_size <= MAX_LOG_BYTES:
        return
    kept = path.read_bytes()[-MAX_LOG_BYTES // 2 :]
    start = kept.find(b"\nSapan ")  # from the first whole report kept
    path.write_bytes(kept[start + 1 :] if start >= 0 else b"")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exceptions of ``exc``'s chain (its causes and the ones it was raised while
    handling), the first raised first, as Python prints them."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < MAX_CHAIN:
        chain.append(current)
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    return chain[::-1]


def _led_on(earlier: BaseException, later: BaseException) -> str:
    if later.__cause__ is earlier:
        return "The exception above was the direct cause of:"
    return "While handling the exception above, another came:"


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _frames(tb: TracebackType | None) -> Iterator[str]:
    for frame in traceback.extract_tb(tb):
        yield f'  File "{_where(frame.filename)}", line {frame.lineno}, in {frame.name}'
        if frame.line:
            yield f"    {frame.line.strip()}"


def _where(filename: str) -> str:
    """A frame's file without the folders above its package (they can name the user)."""
    path = PurePath(filename)
    frozen = getattr(sys, "_MEIPASS", None)
    for root in (_PROJECT, _STDLIB, *([Path(frozen)] if frozen else [])):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    parts = path.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return PurePath(*parts[parts.index(marker) + 1 :]).as_posix()
    return path.name if path.is_absolute() else path.as_posix()
