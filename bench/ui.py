"""Benchmark: app start to a usable case list, and search-as-you-type latency in the list.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui.py [--cases 100000] [--runs 3]

The store is built once and cached under ``bench/out/ui-<N>/`` (git-ignored): ``N``
people, each with a case and its tracks, written by the demo generator's bulk path
(:func:`desktop.services.demo.generate` with ``contributions=False``: Core inserts in
batches of people per transaction, with their outbox entries, audit events and search
index rows). An empty store is cached beside it for the start-up baseline.

1. **Start to a usable case list**: a fresh Python process per run imports the app as
   ``sapan`` does (:func:`desktop.cli.load_app`, same order), calls the real
   ``desktop.ui.app.run()`` on the cached store (passphrase from a file, as
   ``sapan --passphrase-file`` does) and prints a timestamp when the case list's
   viewport paints with its first row loaded; the figure is from before the process was
   spawned to that paint. Also printed: when the whole id list (the scroll range and the
   count) has arrived. Baseline in the same run: the same start on the empty store.
2. **Search as you type**: mixed-script queries (Burmese, Thai, Khmer, Lao, Latin, ID
   and case numbers) typed one character at a time into the real case list page
   (offscreen Qt, real operation helper); for each keystroke the time from the query
   being issued (the debounce timer firing, ``DEBOUNCE_MS`` after the last key) until
   the model holds the new ids and the first page of rows and the visible rows are
   painted; meanwhile the GUI thread waits in Qt's event loop, as in the app. Baseline
   in the same run: the same service calls (``ui_queries.case_ids`` + ``cases.case_rows``
   of the first page) without Qt.

Targets: start under 2 s; search p50 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
# A bench store needs no real key-derivation cost and no OS keyring: the passphrase is given.
os.environ.setdefault("SAPAN_KDF_N", "1024")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

PASSPHRASE = "correct horse battery"
OUT = ROOT / "bench" / "out"
QUERIES = (
    "အောင်ကျော်",
    "สมชาย",
    "ស៊ុន",
    "ສົມພອນ",
    "aung kyaw",
    "nguyen",
    "TAK-",
    "00123",
)


def pct(values: list[float], p: float) -> float:
    """The ``p`` quantile of ``values`` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


SEED_PEOPLE = 2500
CLONED = ("person", "person_name", "identity_document", "employment", "consent", "note", "case")
BY_TRACK = ("step", "checklist_item")
ID_COLUMNS = frozenset({"id", "person_id", "case_id", "track_id", "document_id", "merged_into"})


def build(count: int) -> Path:
    """The cached store with ``count`` cases (built on first use); returns its folder.

    The first ``SEED_PEOPLE`` people come from the demo generator (names in every script,
    documents, jobs, cases with tracks, steps and checklists, with their outbox and audit
    rows). The rest are copies of those rows made by SQL inside the store
    (``INSERT ... SELECT`` through ``store.session()``, one transaction per copy of the
    seed) with new ids, case numbers and document numbers, then put in the search index:
    building 100,000 people through the generator takes about an hour on two cores, this
    takes minutes. Copies carry no outbox entries, like rows already synced.
    """
    from desktop.models.store import create_store, store_exists
    from desktop.services import demo

    folder = OUT / f"ui-{count}"
    done = folder / "built"
    if done.exists():
        return folder / "store"
    if store_exists(folder / "store"):
        raise SystemExit(f"{folder} holds a half-built store: delete it and run again")
    folder.mkdir(parents=True, exist_ok=True)
    store = create_store(folder / "store", PASSPHRASE)
    started = time.perf_counter()
    if count:
        seed = min(count, SEED_PEOPLE)
        demo.generate(store, seed, seed=7, contributions=False)
        print(f"  demo generator: {seed:,} people in {time.perf_counter() - started:.0f} s")
        _copy_seed(store, seed, count)
        print(f"  built {count:,} cases in {time.perf_counter() - started:.0f} s")
    store.close()
    done.write_text(str(count), encoding="utf-8")
    return folder / "store"


def _copy_seed(store: Any, seed: int, count: int) -> None:
    """Copies of the seed people, cases and tracks until there are ``count`` cases."""
    from sqlalchemy import text

    from desktop.models.search import reindex_people

    with store.session() as session:
        session.execute(text("CREATE TABLE bench_seed (person_id PRIMARY KEY, rank)"))
        session.execute(
            text(
                "INSERT INTO bench_seed SELECT id, row_number() OVER (ORDER BY id) - 1 FROM person"
            )
        )
        columns = {
            table: [row[1] for row in session.execute(text(f'PRAGMA table_info("{table}")'))]
            for table in (*CLONED, "track", *BY_TRACK)
        }
    copy = 1
    while copy * seed < count:
        n = min(seed, count - copy * seed)
        people = f"(SELECT person_id FROM bench_seed WHERE rank < {n})"
        tracks = (
            '(SELECT t.id FROM track t JOIN "case" c ON c.id = t.case_id '
            f"WHERE c.person_id IN {people})"
        )
        where = {table: f"person_id IN {people}" for table in CLONED}
        where["person"] = f"id IN {people}"
        where["track"] = f'case_id IN (SELECT id FROM "case" WHERE person_id IN {people})'
        where.update({table: f"track_id IN {tracks}" for table in BY_TRACK})
        with store.session() as session:
            for table, condition in where.items():
                names = columns[table]
                values = ", ".join(_copied(table, name, copy, seed) for name in names)
                quoted = ", ".join(f'"{name}"' for name in names)
                session.execute(
                    text(
                        f'INSERT INTO "{table}" ({quoted}) SELECT {values} FROM "{table}" '
                        f"WHERE {condition}"
                    )
                )
            new_people = [
                _copy_id(pid, copy)
                for pid in session.scalars(
                    text(f"SELECT person_id FROM bench_seed WHERE rank < {n}")
                )
            ]
            reindex_people(session, new_people)
        print(f"\r  copied {copy * seed + n:,}/{count:,}", end="", flush=True)
        copy += 1
    with store.session() as session:
        session.execute(text("DROP TABLE bench_seed"))
    print()


def _copy_id(row_id: str, copy: int) -> str:
    """A copy's id: the seed's UUID with the version digit (``5``, uuid5) set to ``c`` and
    the copy number in the last four digits, so no copy can collide with a seed row."""
    return f"{row_id[:14]}c{row_id[15:32]}{copy:04x}"


def _copy_id_sql(name: str, copy: int) -> str:
    return f"substr({name}, 1, 14) || 'c' || substr({name}, 16, 17) || printf('%04x', {copy})"


def _copied(table: str, column: str, copy: int, seed: int) -> str:
    """The SQL expression giving ``column`` of a copy: new ids and numbers, the rest as is."""
    name = f'"{column}"'
    if column in ID_COLUMNS:
        return f"CASE WHEN {name} IS NULL THEN NULL ELSE {_copy_id_sql(name, copy)} END"
    if table == "case" and column == "number":
        return (
            f"substr(number, 1, length(number) - 6) || "
            f"printf('%06d', CAST(substr(number, -6) AS INTEGER) + {copy * seed})"
        )
    if table == "identity_document" and column == "number":
        # Keep the kind's shape (letters, length): only the last five digits change.
        return (
            f"substr(number, 1, length(number) - 5) || "
            f"printf('%05d', (CAST(substr(number, -5) AS INTEGER) + {copy * 7919}) % 100000)"
        )
    return name


# --- 1. start-up, in a child process --------------------------------------------------------

CHILD = r"""
import argparse, os, sys, time
sys.path.insert(0, {root!r})
from desktop import cli
app_module = cli.load_app()  # the imports `sapan` makes, in its order
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from desktop.ui.main_window import MainWindow

marks = {{"imported": time.time()}}
qapp = QApplication(sys.argv[:1])

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and "painted" not in marks:
            model = self.window.case_list.model
            if model.rowCount() == 0 and "ids" in marks or model.row_for(0) is not None:
                QTimer.singleShot(0, self.painted)
        return False

    def painted(self):
        if "painted" in marks:
            return
        marks["painted"] = time.time()
        self.complete()

    def complete(self):
        # the whole id list (its count shown) may come after the first page is painted
        if self.window.case_list.loaded_generation == 0:
            QTimer.singleShot(2, self.complete)
            return
        marks["complete"] = time.time()
        print("MARKS", " ".join(f"{{k}}={{v:.6f}}" for k, v in marks.items()), flush=True)
        qapp.quit()

watcher = FirstPaint()

def find_window():
    for widget in qapp.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            if "shown" not in marks:
                marks["shown"] = time.time()
                watcher.window = widget
                widget.case_list.table.viewport().installEventFilter(watcher)
                widget.case_list.model.modelReset.connect(
                    lambda: marks.setdefault("ids", time.time())
                )
            return
    QTimer.singleShot(1, find_window)

QTimer.singleShot(0, find_window)
QTimer.singleShot(60_000, qapp.quit)
args = argparse.Namespace(data_dir={data_dir!r}, passphrase_file={passfile!r}, lang="en")
sys.exit(app_module.run(args))
"""


def start_once(store_root: Path) -> dict[str, float]:
    """One cold start of the app on ``store_root``: seconds from spawn to each mark."""
    passfile = store_root.parent / "passphrase.txt"
    passfile.write_text(PASSPHRASE, encoding="utf-8")
    code = CHILD.format(root=str(ROOT), data_dir=str(store_root), passfile=str(passfile))
    env = {k: v for k, v in os.environ.items() if k != "SAPAN_SMOKE_MS"}
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("MARKS ")), None)
    if line is None:
        raise SystemExit(f"the app did not show its case list:\n{result.stdout}\n{result.stderr}")
    marks = dict(part.split("=") for part in line.split()[1:])
    return {k: float(v) - spawned for k, v in marks.items()}


def startup(store_root: Path, empty_root: Path, runs: int) -> None:
    full = [start_once(store_root) for _ in range(runs)]
    base = [start_once(empty_root) for _ in range(runs)]

    def show(name: str, found: list[dict[str, float]]) -> str:
        return ", ".join(
            f"{mark} {statistics.median(r[mark] for r in found):.2f} s"
            for mark in ("imported", "shown", "ids", "painted", "complete")
            if all(mark in r for r in found)
        )

    print(f"start, {name_of(store_root)}: {show('full', full)} (median of {runs})")
    print(f"  baseline, empty store: {show('empty', base)}")
    worst = max(r["painted"] for r in full)
    print(
        f"  first rows painted: median {statistics.median(r['painted'] for r in full):.2f} s,"
        f" worst {worst:.2f} s (target < 2 s); whole list with its count: median"
        f" {statistics.median(r['complete'] for r in full):.2f} s"
    )


def name_of(store_root: Path) -> str:
    return store_root.parent.name


# --- 2. search as you type -------------------------------------------------------------------


def prefixes() -> list[str]:
    """Every prefix of every query, as typed one character at a time."""
    return [q[:i] for q in QUERIES for i in range(1, len(q) + 1)]


def search_baseline(store: object, typed: list[str]) -> list[float]:
    from desktop.services import cases, ui_queries

    times = []
    for text in typed:
        started = time.perf_counter()
        found = ui_queries.case_ids(store, cases.CaseFilter(text=text))  # type: ignore[arg-type]
        cases.case_rows(store, found[:100])  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    return times


def search_in_list(store: object, typed: list[str]) -> tuple[list[float], list[int]]:
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.ui.case_list import CaseListPage
    from desktop.ui.context import AppContext
    from desktop.ui.i18n import LanguageSwitch
    from desktop.ui.operations import Operations

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    errors: list[object] = []
    ops = Operations(on_user_error=errors.append, on_bug=errors.append)
    language = LanguageSwitch()
    language.set_language("en")
    ctx = AppContext(store, ops, _NoDialogs(), language)
    page = CaseListPage(ctx)
    page.resize(1000, 700)
    page.show()
    model = page.model

    def ready(generation: int) -> bool:
        return page.loaded_generation > generation and (
            model.rowCount() == 0 or model.row_for(0) is not None
        )

    class PaintAfter(QObject):
        """Quits ``loop`` once the viewport has painted while ``ready()`` holds."""

        def __init__(self, ready: Any, loop: QEventLoop) -> None:
            super().__init__()
            self.ready, self.loop, self.seen = ready, loop, False

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint and self.ready() and not self.seen:
                self.seen = True
                QTimer.singleShot(0, self.loop.quit)  # after this paint has finished
            return False

    def settle(generation: int) -> None:
        """Run the real event loop (as the app does: no busy polling competing with the
        reader thread for the GIL) until the view has painted the new result's rows."""
        loop = QEventLoop()
        painted = PaintAfter(lambda: ready(generation), loop)
        viewport = page.table.viewport()
        viewport.installEventFilter(painted)
        limit = QTimer()
        limit.setSingleShot(True)
        limit.timeout.connect(loop.quit)
        limit.start(30_000)
        loop.exec()
        limit.stop()
        viewport.removeEventFilter(painted)
        if not painted.seen:
            raise SystemExit("the case list did not answer within 30 s")

    page.start()
    settle(0)
    times, counts = [], []
    for text in typed:
        page.search.blockSignals(True)  # the debounce delay is by design: time the query
        page.search.setText(text)
        page.search.blockSignals(False)
        generation = page.loaded_generation
        started = time.perf_counter()
        page.refresh()  # what the debounce timer calls
        settle(generation)  # the first page's rows come with the ids, then are painted
        times.append(time.perf_counter() - started)
        counts.append(model.rowCount())
    ops.wait()
    if errors:
        raise SystemExit(f"operations failed: {errors!r}")
    page.close()
    return times, counts


class _NoDialogs:
    def info(self, message: str) -> None:
        raise SystemExit(message)

    error = info

    def confirm(self, message: str) -> bool:
        return False

    def open_file(self, title: str) -> None:
        return None

    def ask_text(self, title: str, label: str, *, secret: bool = False) -> None:
        return None


def search(store_root: Path, rounds: int) -> None:
    from desktop.models.store import open_store
    from desktop.ui.case_list import DEBOUNCE_MS

    store = open_store(store_root, PASSPHRASE)
    typed = prefixes()
    base: list[float] = []
    listed: list[float] = []
    counts: list[int] = []
    for _ in range(rounds):
        base += search_baseline(store, typed)
        found, counts = search_in_list(store, typed)
        listed += found
    store.close()
    print(
        f"search as you type, {len(typed)} keystrokes x {rounds} over {len(QUERIES)} "
        f"mixed-script queries (debounce {DEBOUNCE_MS} ms not included):"
    )
    print(
        f"  case list: p50 {pct(listed, 0.5):.1f} ms, p95 {pct(listed, 0.95):.1f} ms,"
        f" max {pct(listed, 1.0):.1f} ms (target p50 < 50 ms)"
    )
    print(
        f"  baseline, same service calls without Qt: p50 {pct(base, 0.5):.1f} ms,"
        f" p95 {pct(base, 0.95):.1f} ms"
    )
    print(
        f"  matches per keystroke: min {min(counts)}, median {statistics.median(counts)},"
        f" max {max(counts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="cold starts of each store")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the queries")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    store_root = build(args.cases)
    empty_root = build(0)
    if args.build_only:
        return
    if args.runs:
        startup(store_root, empty_root, args.runs)
    if args.rounds:
        search(store_root, args.rounds)


if __name__ == "__main__":
    main()
