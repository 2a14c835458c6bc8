"""What the document generators share: write the generated file, or check it is current.

``tools/gen_rules_doc.py`` and ``tools/gen_catalogue_doc.py`` each render one Markdown
file from data; both take ``--check`` (exit 1 when the committed file differs), which
their tests run so the file cannot drift from the data.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write_or_check(
    argv: list[str] | None,
    *,
    description: str | None,
    target: Path,
    render: Callable[[], str],
    name: str,
    tool: str,
) -> int:
    """Write ``render()`` to ``target``, or with ``--check`` compare it: 0 when current,
    1 (and what to run) when ``name`` is out of date."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"fail if {name} is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{name} is out of date: run python {tool}")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0
