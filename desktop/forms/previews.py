"""PNG previews of every form and packet for the demo cases, for ``docs/forms``.

Run ``.venv/bin/python -m desktop.forms.previews docs/forms`` after changing a layout,
then look at every PNG (marks stacked, nothing clipped, no missing-glyph boxes) before
committing them. Needs poppler's ``pdftoppm``. Page 1 of each form; every packet page.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from desktop.forms import packet, render, samples

DPI = 60


def _png(pdf: Path, prefix: Path, first: int, last: int | None) -> None:
    command = ["pdftoppm", "-r", str(DPI), "-png", "-f", str(first)]
    if last is not None:
        command += ["-l", str(last)]
    subprocess.run([*command, str(pdf), str(prefix)], check=True)


def write_previews(folder: Path) -> list[Path]:
    """Render the demo forms and packets to PNG files in ``folder``; returns them."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {case.lang: case for case in samples.demo_cases()}
    # Each form once, filled for the case that uses it, so every script is covered.
    owners = {form_id: case for case in cases.values() for form_id in case.forms}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        for form_id in samples.ALL_FORMS:
            case = owners.get(form_id, cases["my"])
            pdf = tmp / f"{form_id}.pdf"
            render.render_form(form_id, case, pdf)
            _png(pdf, folder / f"form-{form_id}-{case.lang}", 1, 1)
        death = samples.death_case()  # the 2-01 with its claimant section
        render.render_form("sps2_01", death, tmp / "death.pdf")
        _png(tmp / "death.pdf", folder / f"form-sps2_01-death-{death.lang}", 1, 1)
        for lang in ("my", "km", "lo", "th"):
            pdf = tmp / f"packet-{lang}.pdf"
            packet.render_packet(cases[lang], pdf)
            _png(pdf, folder / f"packet-{lang}", 1, None)
    return sorted(folder.glob("*.png"))


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path("docs/forms")
    for path in write_previews(target):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
