"""Benchmark: memory the UI's operation helper keeps per operation.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/operations.py [--operations 10000]

Every screen runs its reads and writes through :class:`desktop.ui.operations.Operations`
(search as you type alone starts one per keystroke, and more for each page of rows), so
whatever it keeps per operation grows with a day's use. The bench runs the operations in
batches of 100, as a screen would (each delivers its result to a callback on the GUI
thread; every other one supersedes the one before, as search does), after a warm-up of
1,000, and prints the growth of the process's resident memory over ``--operations`` more,
twice. Baseline in the same run: the same callables run by a plain
``concurrent.futures`` pool of two threads, results collected on the main thread.

Target: no growth beyond the baseline's.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.forms import rss_mb  # noqa: E402  (after the path above)

BATCH = 100


def work() -> list[int]:
    return list(range(50))  # a small result, as a page of ids


def baseline(count: int) -> None:
    results: list[object] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, count, BATCH):
            futures = [pool.submit(work) for _ in range(min(BATCH, count - start))]
            results.extend(f.result() for f in futures)
            results.clear()


def with_operations(count: int) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from desktop.ui.operations import Operations

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    ops = Operations()
    delivered: list[object] = []
    for start in range(0, count, BATCH):
        for index in range(min(BATCH, count - start)):
            key = "search" if index % 2 else None
            ops.run(work, on_success=lambda result: delivered.append(result), key=key)
        ops.wait()
        while ops.busy:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)  # deferred deletes
        delivered.clear()


def growth(run: object, count: int) -> list[float]:
    """RSS growth, MB, over ``count`` operations, twice, after a warm-up."""
    assert callable(run)
    run(1_000)
    found = []
    for _ in range(2):
        gc.collect()
        before = rss_mb()
        run(count)
        gc.collect()
        found.append(rss_mb() - before)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=10_000)
    args = parser.parse_args()
    count = args.operations
    base = growth(baseline, count)
    ops = growth(with_operations, count)
    print(f"memory kept per operation, {count:,} operations twice after 1,000 to warm up:")
    print(f"  operation helper: RSS {ops[0]:+.1f} MB, then {ops[1]:+.1f} MB")
    print(f"  baseline, a plain thread pool: RSS {base[0]:+.1f} MB, then {base[1]:+.1f} MB")


if __name__ == "__main__":
    main()
