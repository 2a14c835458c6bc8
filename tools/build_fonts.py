"""Build the merged "Sapan Sans" family used by both Qt and the PDFs.

ReportLab shapes a whole word with the font of its first fragment, so a word mixing
Latin punctuation with Thai, Burmese, Khmer or Lao comes out as missing-glyph boxes when
each script lives in its own font. One merged font per weight avoids that. The inputs
are the static Noto TTFs from Debian's ``fonts-noto-core`` (SIL OFL 1.1).

Run once after changing the sources and commit the output::

    .venv/bin/python tools/build_fonts.py [--source /usr/share/fonts/truetype/noto]

The family is renamed (name IDs 1, 3, 4, 6, 16) so it never clashes with a system Noto.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools.merge import Merger
from fontTools.ttLib import TTFont

FAMILY = "Sapan Sans"
POSTSCRIPT_FAMILY = "SapanSans"
SCRIPTS = ("Thai", "Myanmar", "Khmer", "Lao")
STYLES = ("Regular", "Bold")
DEFAULT_SOURCE = Path("/usr/share/fonts/truetype/noto")
OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "fonts"


def sources(folder: Path, style: str) -> list[Path]:
    """Input files for one weight; Noto Sans (Latin) first so its metrics win."""
    paths = [folder / f"NotoSans-{style}.ttf"]
    paths += [folder / f"NotoSans{script}-{style}.ttf" for script in SCRIPTS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(
            "missing source fonts (apt-get install fonts-noto-core): " + ", ".join(missing)
        )
    return paths


def rename(font: TTFont, style: str) -> None:
    """Give the merged font its own family name (IDs 1, 2, 3, 4, 6, 16, 17) on both platforms."""
    names = {
        1: FAMILY,
        2: style,
        3: f"{POSTSCRIPT_FAMILY}-{style}",
        4: FAMILY if style == "Regular" else f"{FAMILY} {style}",
        6: f"{POSTSCRIPT_FAMILY}-{style}",
        16: FAMILY,
        17: style,
    }
    table = font["name"]
    # Remove every old record for these IDs (all platforms and languages) so no
    # leftover "Noto Sans" record can make Qt or fontconfig match the system font.
    table.names = [r for r in table.names if r.nameID not in names]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)


def build(source: Path, output: Path) -> list[Path]:
    """Merge and rename both weights; returns the written paths."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for style in STYLES:
        font = Merger().merge([str(p) for p in sources(source, style)])
        rename(font, style)
        target = output / f"{POSTSCRIPT_FAMILY}-{style}.ttf"
        font.save(str(target))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    for path in build(args.source, args.output):
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
