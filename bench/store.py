"""Store benchmark: build N people with cases, then time search and opening a case file.

    .venv/bin/python bench/store.py --people 100000 --local-people 2000

Two ways rows reach a device, measured separately:

* **created on this device** (``--local-people``): the demo generator's bulk path
  (:class:`desktop.models.recorder.BulkWriter`), which records every field in the outbox
  and an audit event per row, exactly as a caseworker's edits are recorded;
* **received from the server** (``--people``): the same rows written as a pull applies
  them (no outbox, no audit), which is how a coordinator's device comes to hold 100,000
  cases. Search and open-case latency are measured on this store.

People have no contribution histories here, so 100,000 fit in minutes. The baseline is
the same rows in a plain, unencrypted SQLite file (``sqlcipher_export``) queried with the
same SQL.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SAPAN_KDF_N", "1024")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

from sqlalchemy import text

from desktop.domain.text import search_fold
from desktop.models.store import create_store
from desktop.services import cases, demo, search

QUERIES = (
    "အောင်",
    "ကျော်",
    "อ่อง",
    "จ่อ",
    "ស៊ុន",
    "ສົມພອນ",
    "nguyen",
    "AUNG KYAW",
    "MA5",
    "WP12",
    "00123",
)
CASE_SQL = (
    'SELECT * FROM "case" WHERE number = ?',
    "SELECT * FROM person WHERE id = ?",
    "SELECT * FROM person_name WHERE person_id = ?",
    "SELECT * FROM identity_document WHERE person_id = ?",
    "SELECT * FROM employment WHERE person_id = ?",
    "SELECT * FROM track WHERE case_id = ?",
)
SEARCH_SQL = (
    "SELECT d.person_id FROM person_search JOIN person_search_doc d "
    "ON d.doc_id = person_search.rowid WHERE person_search MATCH ? ORDER BY bm25(person_search) "
    "LIMIT 20"
)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--local-people", type=int, default=2_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sapan-bench-"))

    local = create_store(root / "local", "correct horse battery")
    started = time.perf_counter()
    local_summary = demo.generate(local, args.local_people, seed=7, contributions=False)
    local_s = time.perf_counter() - started
    local.close()
    local_size = _size(root / "local")

    store = create_store(root / "store", "correct horse battery")
    started = time.perf_counter()
    summary = demo.generate(store, args.people, seed=11, contributions=False, record=False)
    insert_s = time.perf_counter() - started

    plain = root / "plain.db"
    started = time.perf_counter()
    with store.engine.connect() as conn:
        conn.execute(text(f"ATTACH DATABASE '{plain}' AS plaintext KEY ''"))
        conn.execute(text("SELECT sqlcipher_export('plaintext')"))
        conn.execute(text("DETACH DATABASE plaintext"))
    copy_s = time.perf_counter() - started

    times: list[float] = []
    for _ in range(3):
        for q in QUERIES:
            t = time.perf_counter()
            search.search(store, q, 20)
            times.append(time.perf_counter() - t)
    numbers = [
        r.number
        for r in cases.case_rows(store, cases.list_case_ids(store)[:: max(1, args.people // 50)])
    ]
    open_times: list[float] = []
    for n in numbers:
        t = time.perf_counter()
        cases.get_case_file(store, n)
        open_times.append(time.perf_counter() - t)

    base = sqlite3.connect(plain)
    base_search: list[float] = []
    for _ in range(3):
        for q in QUERIES:
            t = time.perf_counter()
            terms = [x for x in search_fold(q).split() if len(x) >= 3]
            if terms:
                base.execute(SEARCH_SQL, (" AND ".join(f'"{x}"' for x in terms),)).fetchall()
            base_search.append(time.perf_counter() - t)
    base_open: list[float] = []
    for n in numbers:
        t = time.perf_counter()
        row = base.execute(CASE_SQL[0], (n,)).fetchone()
        for sql in CASE_SQL[1:]:
            base.execute(sql, (row[0] if "case_id" in sql else row[5],)).fetchall()
        base_open.append(time.perf_counter() - t)
    base.close()

    store.compact()
    size = _size(root / "store")
    print(f"people {summary.people}, cases {summary.cases}, tracks {summary.tracks}")
    print(
        f"insert, created here: {local_summary.people / local_s:,.0f} people/s"
        f" ({local_summary.people} people in {local_s:.1f} s, every field in the outbox"
        f" + an audit event per row; {local_size / local_summary.people / 1e3:.0f} KB/person"
        " on disk before the first sync)"
    )
    print(
        f"insert, received from server: {summary.people / insert_s:,.0f} people/s"
        f" ({insert_s:.1f} s) | baseline sqlcipher_export of the same rows to plain"
        f" SQLite {copy_s:.1f} s"
    )
    print(
        f"search: p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms"
        f" | baseline plain sqlite3 FTS p50 {pct(base_search, 0.5):.1f} ms,"
        f" p95 {pct(base_search, 0.95):.1f} ms"
    )
    print(
        f"open case: p50 {pct(open_times, 0.5):.1f} ms, p95 {pct(open_times, 0.95):.1f} ms"
        f" | baseline plain sqlite3 p50 {pct(base_open, 0.5):.1f} ms,"
        f" p95 {pct(base_open, 0.95):.1f} ms"
    )
    print(
        f"file size: {size / 1e6:.1f} MB encrypted"
        f" | baseline {plain.stat().st_size / 1e6:.1f} MB plain"
    )
    store.close()


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("sapan.db*"))


if __name__ == "__main__":
    main()
