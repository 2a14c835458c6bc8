"""Benchmark: how long the Tasks page waits for its list of deadlines.

    .venv/bin/python bench/tasks.py [--people 3000] [--runs 5]

Builds a demo store of ``--people`` people (names, documents, jobs, contribution months,
cases with enrollment and claim tracks; in a temporary folder, encrypted as a real one)
and times :func:`desktop.services.ui_queries.open_tasks` (every deadline of every open
case, turned into tasks), which the Tasks page runs in a worker thread, median and
fastest of ``--runs``. Baseline in the same run: reading the same case facts from the
store without turning them into tasks (``ui_queries._case_events``, the SQL alone), and
the case list's ids (``cases.list_case_ids``), the query every screen starts with.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAPAN_KDF_N", "1024")  # a fast key derivation: not what is timed

TODAY = dt.date(2026, 3, 15)
T = TypeVar("T")


def timed(call: Callable[[], T], runs: int) -> tuple[float, float, T]:
    """Median and fastest milliseconds of ``runs`` calls (at least one), and the last
    result."""
    seconds = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000, min(seconds) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from desktop.models.store import create_store
    from desktop.services import cases, demo, ui_queries

    with tempfile.TemporaryDirectory() as folder:
        store = create_store(Path(folder) / "store", "bench passphrase only")
        start = time.perf_counter()
        demo.generate(store, args.people, seed=3, today=TODAY)
        print(f"demo store of {args.people} people: {time.perf_counter() - start:.1f} s")
        since = TODAY - dt.timedelta(days=3 * 366)
        ids = timed(lambda: cases.list_case_ids(store), args.runs)
        facts = timed(lambda: ui_queries._case_events(store, since), args.runs)
        tasks = timed(lambda: ui_queries.open_tasks(store, TODAY), args.runs)
        events = sum(map(len, facts[2].values()))
        print(f"baseline, case ids ({len(ids[2])}): median {ids[0]:.0f} ms, min {ids[1]:.0f} ms")
        print(f"baseline, case facts ({events}): median {facts[0]:.0f} ms, min {facts[1]:.0f} ms")
        print(
            f"open_tasks ({len(tasks[2])} due soon or overdue): "
            f"median {tasks[0]:.0f} ms, min {tasks[1]:.0f} ms"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
