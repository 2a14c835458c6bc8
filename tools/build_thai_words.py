"""Build ``resources/text/thai_words.txt.gz``, the Thai word list the line breaker uses.

The source is PyThaiNLP's ``corpus/words_th.txt`` (CC0 1.0), taken from its wheel on PyPI
(``pip download pythainlp --no-deps``, then unzip). Kept: entries of Thai letters and
marks only, 2 to 24 characters (no abbreviations with dots, no phrases with spaces),
sorted, one per line, gzip-compressed with a zero timestamp so a rebuild gives the same
bytes. Run once after changing the source and commit the output::

    .venv/bin/python tools/build_thai_words.py path/to/pythainlp/corpus/words_th.txt
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "text" / "thai_words.txt.gz"
WORD = re.compile("[\u0e01-\u0e4e]{2,24}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="PyThaiNLP's words_th.txt")
    args = parser.parse_args(argv)
    lines = [line.strip() for line in args.source.read_text(encoding="utf-8").splitlines()]
    kept = sorted({word for word in lines if WORD.fullmatch(word)})
    data = ("\n".join(kept) + "\n").encode("utf-8")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(gzip.compress(data, 9, mtime=0))
    print(f"{len(kept)} words, {OUTPUT.stat().st_size} bytes: {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
