"""Coordinator benchmark: how long the Duplicates page and the conflict list take to read
on a coordinator's laptop holding a region's cases.

    .venv/bin/python bench/coordination.py --cases 100000 --pairs 300 --runs 3

The store is ``bench/ui.py``'s cached one (built on first use: 2,500 demo people copied to
``--cases`` people, each copy a new person with the same names and birth date and new
document numbers), copied to a temporary folder so the cache stays as ``bench/ui.py``
measured it. Into the copy go ``--pairs`` people who share a passport with a stored
person, ``--pairs`` who share a stored person's name and full birth date, and ``--pairs``
pairs of new people with one name (spelt with and without Vietnamese marks) and birth
date, plus as many conflict and merge records as a pull brings them. Every copied person
has 39 others with the same name and birth date: those groups are larger than
``coordination.MAX_NAME_GROUP`` and are read but not offered.

Printed: the service calls the pages make (median and worst of ``--runs``), beside a
baseline measured in the same run: the same rows read by the same SQL through the same
encrypted connection, without folding names or pairing people.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SAPAN_KDF_N", "1024")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.ui import PASSPHRASE, build  # noqa: E402
from desktop.models.entities import IdentityDocument, Person, PersonName  # noqa: E402
from desktop.models.store import Store, open_store  # noqa: E402
from desktop.services import coordination, people  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def plant(store: Store, pairs: int) -> None:
    """People who share a passport, or a name and birth date, with a stored person; and
    conflict and merge records as a pull would keep them."""
    from desktop.services.sync import SyncService
    from desktop.services.sync_view import offline_http
    from sync import protocol as p
    from sync.client.http import SyncClient

    with store.read() as session:
        docs = session.execute(
            select(IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number)
            .where(IdentityDocument.kind == "passport")
            .limit(pairs)
        ).all()
        named = session.execute(
            select(PersonName.full_name, Person.birth_date, Person.id)
            .join(Person, Person.id == PersonName.person_id)
            .where(func.length(Person.birth_date) == 10)
            .limit(pairs)
        ).all()
    for _person_id, kind, number in docs:
        people.create_person(
            store,
            people.PersonInput(
                names=[people.NameInput("Planted Twin", "latin")],
                documents=[people.DocumentInput(kind, number)],
            ),
        )
    for full_name, birth, _person_id in named:  # joins a group of 40: too big to offer
        people.create_person(
            store,
            people.PersonInput(names=[people.NameInput(full_name, "latin")], birth_date=birth),
        )
    for i in range(pairs):  # two people, one name and birth date: offered
        for spelling in (f"Nguyễn Văn Bench {i}", f"nguyen van  bench {i}"):
            people.create_person(
                store,
                people.PersonInput(
                    names=[people.NameInput(spelling, "latin")], birth_date="1985-02-03"
                ),
            )
    side = {"device_id": "bench", "user_id": "bench"}
    conflicts = [
        p.ConflictRecord(
            id=f"00000000-0000-4000-8000-{i:012d}",
            seq=i + 1,
            entity="person",
            row_id=person_id,
            field="birth_date",
            office="TAK-01",
            applied=p.Side(value="1990-01-02", hlc=f"0001773500000000-{i % 9999:04d}-b", **side),
            other=p.Side(value="1991-01-02", hlc=f"0001773400000000-{i % 9999:04d}-a", **side),
            status="open",
        )
        for i, (_name, _birth, person_id) in enumerate(named)
    ]
    merges = [
        p.MergeRecord(
            id=f"00000000-0000-4000-9000-{i:012d}",
            seq=len(conflicts) + i + 1,
            entity="person",
            source_id=source,
            target_id=target,
            office="TAK-01",
            merged_by="bench",
            undone=True,
        )
        for i, ((source, _k, _n), (_f, _b, target)) in enumerate(zip(docs, named, strict=False))
    ]
    page = p.PullPage(since=0, rows=[], merges=merges, conflicts=conflicts, cursor=1, more=False)
    SyncService(store, SyncClient(offline_http())).apply_page(page)


def baseline(store: Store) -> int:
    """The rows duplicate_people reads, read by the same SQL without pairing."""
    with store.read() as session:
        live = (
            select(Person.id)
            .where(Person.deleted.is_(False), Person.merged_into.is_(None))
            .scalar_subquery()
        )
        docs = session.execute(
            select(IdentityDocument.number)
            .where(IdentityDocument.deleted.is_(False), IdentityDocument.person_id.in_(live))
            .group_by(IdentityDocument.kind, IdentityDocument.number)
            .having(func.count(func.distinct(IdentityDocument.person_id)) > 1)
        ).all()
        names = session.execute(
            select(PersonName.full_name, Person.birth_date, Person.id)
            .join(Person, Person.id == PersonName.person_id)
            .where(
                PersonName.deleted.is_(False),
                Person.id.in_(live),
                func.length(Person.birth_date) == 10,
            )
        ).all()
    return len(docs) + len(names)


def report(label: str, seconds: list[float], note: str = "") -> None:
    median, worst = statistics.median(seconds) * 1000, max(seconds) * 1000
    print(f"  {label:<46} median {median:8.1f} ms   worst {worst:8.1f} ms  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cached = build(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        started = time.perf_counter()
        shutil.copytree(cached, root)
        print(f"copied the {args.cases:,}-case store in {time.perf_counter() - started:.1f} s")
        store = open_store(root, PASSPHRASE)
        try:
            started = time.perf_counter()
            plant(store, args.pairs)
            planted = time.perf_counter() - started
            print(f"planted {4 * args.pairs} people in {planted:.1f} s")
            base, rows = timed(lambda: baseline(store), args.runs)
            found_s, found = timed(lambda: coordination.duplicate_people(store), args.runs)
            conflict_s, listed = timed(lambda: coordination.conflicts(store), args.runs)
            merge_s, merges = timed(lambda: coordination.merges(store), args.runs)
        finally:
            store.close()
    print(f"{args.cases:,} cases, {args.runs} runs each:")
    report("baseline: the same rows, same SQL, no pairing", base, f"{rows:,} rows")
    reasons = {r: sum(d.reason == r for d in found) for r in ("document", "name_birth_date")}
    report("duplicate_people (Duplicates page)", found_s, f"{len(found)} pairs {reasons}")
    report("conflicts (Sync page list)", conflict_s, f"{len(listed)} conflicts")
    report("merges (Duplicates page list)", merge_s, f"{len(merges)} merges")


if __name__ == "__main__":
    main()
