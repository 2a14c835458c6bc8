"""Build the word lists the line breaker uses: ``resources/text/{thai,lao}_words.txt.gz``.

Sources, each taken from a wheel on PyPI (``pip download NAME --no-deps``, then unzip):

- Thai: PyThaiNLP's ``pythainlp/corpus/words_th.txt`` (CC0 1.0);
- Lao: LaoNLP's copy of Google's ``lo_spellcheck_dict.txt``
  (``laonlp/corpus/lo_spellcheck_dict.txt``; google/language-resources, Apache 2.0).

Kept: entries of the script's letters and marks only, 2 to 24 characters (no
abbreviations with dots, no phrases with spaces, no comment lines), sorted, one per line,
gzip-compressed with a zero timestamp so that a rebuild gives the same bytes. Run once
after changing a source and commit the output::

    .venv/bin/python tools/build_word_lists.py --thai words_th.txt --lao lo_spellcheck_dict.txt
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "text"
# a word of one script: its letters and marks, 2 to 24 of them
WORD = {
    "thai": re.compile("[\u0e01-\u0e4e]{2,24}"),
    "lao": re.compile("[\u0e81-\u0edf]{2,24}"),
}


def build(script: str, source: Path) -> Path:
    lines = [line.strip() for line in source.read_text(encoding="utf-8-sig").splitlines()]
    kept = sorted({word for word in lines if WORD[script].fullmatch(word)})
    data = ("\n".join(kept) + "\n").encode("utf-8")
    target = OUTPUT / f"{script}_words.txt.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(gzip.compress(data, 9, mtime=0))
    print(f"{script}: {len(kept)} words, {target.stat().st_size} bytes: {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thai", type=Path, help="PyThaiNLP's words_th.txt")
    parser.add_argument("--lao", type=Path, help="lo_spellcheck_dict.txt")
    args = parser.parse_args(argv)
    for script in WORD:
        source = getattr(args, script)
        if source is not None:
            build(script, source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
