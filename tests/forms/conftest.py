"""Shared helpers for the forms tests: poppler command wrappers."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path


def pdftotext(path: Path, first: int | None = None, last: int | None = None) -> str:
    """The text of ``path`` (or of pages ``first`` to ``last``) with ligatures unfolded
    (NFKC) and whitespace collapsed."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    out = subprocess.run(
        ["pdftotext", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(unicodedata.normalize("NFKC", out).split())


def pdffonts(path: Path) -> list[list[str]]:
    """Rows of ``pdffonts`` output after the header, split on whitespace."""
    out = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return [line.split() for line in out[2:] if line.strip()]


def page_count(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def to_png(path: Path, first: int = 1, last: int = 1, dpi: int = 150) -> list[Path]:
    prefix = path.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            str(first),
            "-l",
            str(last),
            str(path),
            str(prefix),
        ],
        check=True,
    )
    return sorted(path.parent.glob(prefix.name + "-*.png"))
