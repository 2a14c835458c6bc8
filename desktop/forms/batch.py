"""The office print queue: many packets as one PDF per case or one combined PDF.

Plain callables, no Qt: ``progress(done, total)`` after each packet and ``cancelled()``
checked before each one, so the UI can run this in a worker thread and the CLI can run
it directly. Memory stays flat: cases come from an iterable (a generator reading the
store one case at a time is fine), each packet is rendered and written to disk before
the next, and no flowables are kept. The combined PDF is written as it goes by
:class:`~desktop.forms.pdfjoin.PdfJoiner`, which copies each finished packet into the
output file and keeps only byte offsets and page numbers, so it never holds all packets.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from pathlib import Path

from desktop.domain import files
from desktop.forms.data import CaseData
from desktop.forms.packet import render_packet
from desktop.forms.pdfjoin import PdfJoiner
from desktop.forms.render import MissingField

Progress = Callable[[int, int | None], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class BatchItem:
    """One packet written, or the case number it was for and what it lacks."""

    case_number: str
    path: Path
    missing_fields: tuple[MissingField, ...]
    missing_documents: tuple[str, ...]


@dataclass(frozen=True)
class BatchResult:
    items: tuple[BatchItem, ...]
    cancelled: bool
    combined: Path | None = None


def _never() -> bool:
    return False


def _ignore(done: int, total: int | None) -> None:
    return None


def safe_filename(case_number: str) -> str:
    """A file name for a case number (letters, digits, dash, underscore only)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", case_number).strip("_")
    return cleaned or "case"


def print_per_case(
    cases: Iterable[CaseData],
    folder: str | Path,
    progress: Progress = _ignore,
    cancelled: Cancelled = _never,
) -> BatchResult:
    """One ``<case number>.pdf`` per case in ``folder``; stops early when cancelled."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    total = len(cases) if isinstance(cases, Sized) else None
    items: list[BatchItem] = []
    for case in cases:
        if cancelled():
            return BatchResult(tuple(items), cancelled=True)
        path = out / f"{safe_filename(case.case_number)}.pdf"
        result = render_packet(case, path)
        items.append(
            BatchItem(case.case_number, path, result.missing_fields, result.missing_documents)
        )
        progress(len(items), total)
    return BatchResult(tuple(items), cancelled=False)


def print_combined(
    cases: Iterable[CaseData],
    target: str | Path,
    progress: Progress = _ignore,
    cancelled: Cancelled = _never,
    *,
    double_sided: bool = False,
) -> BatchResult:
    """All packets in one PDF at ``target``. On cancel nothing is written at ``target``.

    The file grows beside ``target`` as packets are rendered and is renamed when the last
    one is in (:func:`desktop.domain.files.replacing`); a cancel or an error removes it.
    With ``double_sided`` a packet that ends on the front of a sheet is followed by a
    blank page, so that, printed on both sides, every packet starts on a sheet of its own
    and the packets can be handed out separately.
    """
    target = Path(target)
    total = len(cases) if isinstance(cases, Sized) else None
    items: list[BatchItem] = []
    try:
        with files.replacing(target) as partial, partial.open("wb") as out:
            joiner = PdfJoiner(out, title=f"Sapan print queue {target.stem}")
            for case in cases:
                if cancelled():
                    raise _Stopped
                buffer = io.BytesIO()
                result = render_packet(case, buffer)
                if double_sided and joiner.page_count % 2:  # the last one ended on a front
                    joiner.append_blank()
                joiner.append(buffer.getvalue())
                items.append(
                    BatchItem(
                        case.case_number, target, result.missing_fields, result.missing_documents
                    )
                )
                progress(len(items), total)
            joiner.finish()
    except _Stopped:
        return BatchResult(tuple(items), cancelled=True)
    return BatchResult(tuple(items), cancelled=False, combined=target)


class _Stopped(Exception):
    """A cancel seen between packets: what was joined so far is thrown away."""
