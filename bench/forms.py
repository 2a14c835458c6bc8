"""Benchmark: claim-packet render time and memory over a print batch.

1. Baseline, measured in the same run: a plain-Latin one-page ReportLab document in
   Helvetica (no shaping, no embedded font).
2. Packet render time: ``--timing`` packets (the four demo cases in turn: Burmese,
   Khmer, Lao, Thai), each written to disk; mean, median and 95th percentile.
3. Batch: ``--count`` packets through ``desktop.forms.batch.print_per_case``; the
   process RSS sampled every 50 packets, to show that memory stays flat; then
   ``--traced`` packets under tracemalloc for the Python-level peak.
4. Combined: ``--combined`` packets into one PDF through
   ``desktop.forms.batch.print_combined`` (each packet copied to the file as it is
   done); the process RSS sampled every 50 packets, like the batch.

Targets: packet under 300 ms; RSS flat over both batches.

    .venv/bin/python bench/forms.py [--count 500] [--timing 40] [--combined 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.pdfgen.canvas import Canvas

from desktop.forms import batch, fonts, packet, samples
from desktop.forms.data import CaseData


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cases(count: int) -> Iterator[CaseData]:
    """``count`` packets cycling through the demo cases, each with its own id (own QR)."""
    demo = samples.demo_cases()
    for index, case in zip(range(count), itertools.cycle(demo), strict=False):
        yield dataclasses.replace(
            case, case_id=uuid.uuid4(), case_number=f"{case.case_number}-{index:04d}"
        )


def baseline(folder: Path, count: int) -> list[float]:
    times = []
    for index in range(count):
        start = time.perf_counter()
        canvas = Canvas(str(folder / f"plain-{index}.pdf"))
        text = canvas.beginText(72, 770)
        text.setFont("Helvetica", 11)
        for line in range(40):
            text.textLine(f"Line {line}: Social security claim, plain Latin text, no shaping.")
        canvas.drawText(text)
        canvas.showPage()
        canvas.save()
        times.append((time.perf_counter() - start) * 1000)
    return times


def packet_times(folder: Path, count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per packet (CPU is steadier on a shared machine)."""
    wall, cpu = [], []
    for case in cases(count):
        start, start_cpu = time.perf_counter(), time.process_time()
        packet.render_packet(case, folder / "packet.pdf")
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"{name:<34} n={len(times):>4}  mean {statistics.mean(times):7.1f} ms  "
        f"median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
    )


def batch_run(
    run: Callable[..., batch.BatchResult], count: int, target: Path
) -> tuple[float, int, str]:
    """Seconds, packets done and "packets:RSS MB" every 50 packets for one print batch."""
    samples_rss: list[tuple[int, float]] = [(0, rss_mb())]

    def progress(done: int, total: int | None) -> None:
        if done % 50 == 0:
            samples_rss.append((done, rss_mb()))

    start = time.perf_counter()
    result = run(cases(count), target, progress=progress)
    elapsed = time.perf_counter() - start
    return elapsed, len(result.items), ", ".join(f"{d}:{r:.0f}" for d, r in samples_rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="packets in the batch")
    parser.add_argument("--timing", type=int, default=40, help="packets timed one by one")
    parser.add_argument("--traced", type=int, default=8, help="packets run under tracemalloc")
    parser.add_argument("--combined", type=int, default=500, help="packets in one combined PDF")
    args = parser.parse_args(argv)

    fonts.register_pdf_fonts()
    packet.render_packet_bytes(samples.thai_case())  # warm caches: fonts, styles, YAML
    with tempfile.TemporaryDirectory(prefix="sapan-bench-") as scratch:
        folder = Path(scratch)
        print(summary("baseline: 1-page Latin (Helvetica)", baseline(folder, args.timing)))
        wall, cpu = packet_times(folder, args.timing)
        print(summary("claim packet, wall clock", wall))
        print(summary("claim packet, CPU time", cpu))

        # Memory over the batch: RSS sampled every 50 packets, tracemalloc off (it slows
        # shaping-heavy rendering about twentyfold).
        elapsed, done, rss = batch_run(batch.print_per_case, args.count, folder / "batch")
        print(
            f"batch of {done} (one PDF per case): {elapsed:.1f} s, "
            f"{elapsed / max(done, 1) * 1000:.0f} ms/packet wall"
        )
        print("RSS MB by packets done: " + rss)

        # Python-level peak for a shorter run with tracemalloc on: what one packet holds.
        tracemalloc.start()
        batch.print_per_case(cases(args.traced), folder / "traced")
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"tracemalloc over {args.traced} packets: peak {peak / 2**20:.1f} MB, "
            f"still allocated after {current / 2**20:.1f} MB"
        )

        if args.combined:
            target = folder / "combined.pdf"
            elapsed, done, rss = batch_run(batch.print_combined, args.combined, target)
            size = target.stat().st_size / 2**20
            print(
                f"combined PDF of {done}: {elapsed:.1f} s, "
                f"{elapsed / max(done, 1) * 1000:.0f} ms/packet wall, {size:.1f} MB file"
            )
            print("RSS MB by packets done: " + rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
