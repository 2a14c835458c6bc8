"""Benchmark: sync of 10,000 case files over loopback to a PostgreSQL-backed server.

    .venv/bin/python bench/sync.py [--cases 10000] [--edits 1000] [--edit-rounds 1] [--json]

1. Starts a throwaway PostgreSQL cluster (initdb + pg_ctl from the machine's PostgreSQL
   binaries, fsync off, as the test fixture does) and ``sapan serve`` (uvicorn) on a free
   port of 127.0.0.1.
2. Device A (a fresh encrypted store) creates ``--cases`` case files through the ORM, so
   the outbox and audit trail fill the real way: a person, two names, a passport, an
   employment, twelve contribution months, a case, a track and four steps (about 1.3 KB
   of JSON per case file, measured and printed).
3. Push: device A pushes its outbox. Pull: a fresh device B pulls everything.
4. Incremental: ``--edits`` single-field edits on A, then A pushes and B pulls (the bar's
   figure: the first round, caches cold); ``--edit-rounds N`` edits the same rows again,
   to new values.
5. Baselines, same run: the rows the server wrote during the push (``changes``,
   ``row_state`` and ``field_state``) copied again into empty tables of the same shape with
   PostgreSQL COPY; and the rows device B wrote during the pull (every synced table and the
   audit trail, not the search index) written into a new empty store of the same schema
   and encryption in one transaction, by SQLite alone (``INSERT ... SELECT`` from the
   attached pulled store) and by the driver's ``executemany`` of rows already read as
   tuples: what writing those rows costs the store without, and with, binding them from
   Python.
6. What a restore costs the pushing device, A (no server involved): its daily look through
   the sent changes it keeps (nothing old enough to drop), then taking a restored
   database's new log that continues its own from head 0: every change it sent goes back
   in its outbox, and its rows' versions back to 0 (``sync.resend_lost``).

Bytes on the wire are counted by httpx event hooks: request line, headers and the body as
sent (gzip), response status line, headers and the body as received (gzip).

Bar to beat (PouchDB to a CouchDB-protocol server, 2 cores): 3,500 documents/s each way,
about 1,480 bytes per document pushed and 320 pulled, 0.55 s for the 1,000-edit round.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import httpx
import psycopg

from desktop.domain import catalogue
from desktop.domain.gc_tuning import tune_gc
from desktop.models.base import new_id, table_of
from desktop.models.entities import (
    SYNCED_CLASSES,
    Case,
    ContributionMonth,
    Employer,
    Employment,
    IdentityDocument,
    Person,
    PersonName,
    Step,
    Track,
)
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store, create_store
from desktop.services.sync import SyncService, SyncSummary, prune_sent, resend_lost
from sync.client.http import SyncClient
from sync.protocol import Role
from sync.server import admin
from sync.server.auth import make_hasher
from sync.server.db import make_engine
from sync.server.migrate import upgrade
from tests.fakes import MemoryKeyring
from tests.postgres import PostgresUnavailable, free_port, throwaway_postgres

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"
PASSPHRASE = "correct horse battery staple 42"
OFFICE = "MS"
BAR = {"push_per_s": 3500, "pull_per_s": 3500, "push_bytes": 1480, "pull_bytes": 320,
       "edit_s": 0.55}  # fmt: skip


# -- PostgreSQL and the server ------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields the URL of its ``postgres`` database."""
    try:
        with throwaway_postgres(prefix="sapan-bench-pg-") as url:
            yield url
    except PostgresUnavailable as exc:
        raise SystemExit(str(exc)) from exc


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is field 0)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default), from /proc."""
    if pid is None:
        return time.process_time()
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postmaster_pid(db_url: str) -> int:
    """The PostgreSQL cluster's postmaster: the parent of a backend (read while the
    backend lives: it exits when its connection closes)."""
    with psycopg.connect(db_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None
        return int(_stat(int(backend[0]))[1])


def database_cpu_seconds(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL cluster: the postmaster, its live children (backends,
    writers, autovacuum) and the children it has reaped."""
    fields = _stat(postmaster)
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                child = _stat(int(entry.name))
                if int(child[1]) == postmaster:
                    ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(db_url: str) -> Iterator[tuple[str, int]]:
    """``sapan serve`` (uvicorn) on a free loopback port; yields its base URL and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, desktop.cli; sys.exit(desktop.cli.main())",
         "serve", "--db", db_url, "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/v1/info", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("the sync server did not start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


# -- wire accounting ----------------------------------------------------------------------


@dataclass
class Wire:
    """Bytes on the wire, as sent and received (compressed bodies, headers, start lines)."""

    sent: int = 0
    received: int = 0
    requests: int = 0

    def on_request(self, request: httpx.Request) -> None:
        self.requests += 1
        self.sent += len(request.method) + len(request.url.raw_path) + 12
        self.sent += sum(len(k) + len(v) + 4 for k, v in request.headers.raw) + 2
        self.sent += len(request.content)

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.received += 17 + len(response.reason_phrase)
        self.received += sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2
        self.received += response.num_bytes_downloaded

    def snapshot(self) -> tuple[int, int]:
        return self.sent, self.received


def device(root: Path, url: str, user: str, wire: Wire, secrets: SecretStore) -> SyncService:
    store = create_store(root, PASSPHRASE, office=OFFICE, secrets=secrets)
    http = httpx.Client(
        timeout=600,
        event_hooks={"request": [wire.on_request], "response": [wire.on_response]},
    )
    client = SyncClient(http, url)
    client.register(user, PASSWORD, root.name)
    return SyncService(store, client)


# -- case files ---------------------------------------------------------------------------

GIVEN = ("Aung", "Hla", "Kyaw", "Mya", "Sok", "Dara", "Somchai", "Noy", "Thida", "Zaw")
FAMILY = ("Win", "Htun", "Oo", "Chan", "Phally", "Vong", "Sisavath", "Myint", "Lwin", "Naing")
STEPS = ("intake", "documents", "employer_contact", "submit")


def make_employers(store: Store, count: int) -> list[str]:
    ids = []
    with store.session() as session:
        for number in range(count):
            employer = Employer(
                office=OFFICE,
                name=f"Factory {number} Co., Ltd.",
                name_th=f"บริษัท โรงงาน {number} จำกัด",
                sso_account=f"{1000000000 + number}",
                sso_branch="000000",
                province_code="63",
                district="Mae Sot",
                phone="055 123 456",
            )
            session.add(employer)
            session.flush()
            ids.append(employer.id)
    return ids


def add_case_file(session: Any, rng: random.Random, index: int, employers: list[str]) -> None:
    """One case file: about 1.3 KB of JSON across 22 rows."""
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    # ids made here rather than at flush, so the whole case file needs no flush until commit
    person = Person(
        id=new_id(),
        office=OFFICE,
        sex=rng.choice(("f", "m")),
        birth_date=f"{rng.randint(1970, 2004)}-{rng.randint(1, 12):02d}",
        nationality=rng.choice(("MMR", "KHM", "LAO")),
        languages=["my", "th"],
        preferred_language="my",
        phone=f"08{rng.randint(10000000, 99999999)}",
        address_th="123 Moo 4, Mae Pa, Mae Sot, Tak",
        arrived_on=dt.date(2019, rng.randint(1, 12), rng.randint(1, 28)),
    )
    session.add(person)
    session.add_all(
        [
            PersonName(office=OFFICE, person_id=person.id, script="Latn", kind="passport",
                       full_name=f"{given} {family}", given_name=given, family_name=family),
            PersonName(office=OFFICE, person_id=person.id, script="Mymr", kind="native",
                       full_name="မောင်အောင်ဝင်း"),
            IdentityDocument(office=OFFICE, person_id=person.id, kind="passport",
                             number=f"MD{index:07d}", issuing_country="MMR",
                             issued_on=dt.date(2020, 1, 15), expires_on=dt.date(2030, 1, 14),
                             status="current"),
        ]
    )  # fmt: skip
    employer = rng.choice(employers)
    session.add(
        Employment(office=OFFICE, person_id=person.id, employer_id=employer,
                   start_date=dt.date(2022, 3, 1), monthly_wage=decimal.Decimal("9900.00"),
                   occupation="sewing machine operator", section=33)
    )  # fmt: skip
    for month in range(12):
        session.add(
            ContributionMonth(office=OFFICE, person_id=person.id, employer_id=employer,
                              month=f"2024-{month + 1:02d}", wage=decimal.Decimal("9900.00"),
                              section=33, source="sso_statement", status="paid")
        )  # fmt: skip
    case = Case(id=new_id(), office=OFFICE, person_id=person.id, number=f"MS-{index:07d}",
                owner="ann", province_code="63", status="open",
                opened_on=dt.date(2025, 1, 6))  # fmt: skip
    session.add(case)
    track = Track(id=new_id(), office=OFFICE, case_id=case.id, kind="claim", benefit="unemployment",
                  workflow="claim.unemployment@1", state="in_progress",
                  event_date=dt.date(2024, 12, 31), opened_on=dt.date(2025, 1, 6))  # fmt: skip
    session.add(track)
    for position, key in enumerate(STEPS):
        session.add(
            Step(office=OFFICE, track_id=track.id, key=key, position=position,
                 state="ready" if position < 2 else "not_started",
                 data={"checked": position < 2})
        )  # fmt: skip


def create_cases(store: Store, count: int, employers: list[str]) -> float:
    rng = random.Random(20250106)
    started = time.perf_counter()
    for start in range(0, count, 200):
        with store.session() as session:
            for index in range(start, min(count, start + 200)):
                add_case_file(session, rng, index, employers)
    return time.perf_counter() - started


def case_json_bytes(store: Store) -> float:
    """Mean JSON size of one case file: every row's fields and id (audit trail excluded)."""
    classes = (Person, PersonName, IdentityDocument, Employment, ContributionMonth, Case, Track,
               Step)  # fmt: skip
    total = 0
    with store.read() as session:
        cases = session.query(Case).count()
        for cls in classes:
            spec = catalogue.entity(cls.__entity__)
            for obj in session.query(cls):
                values = {n: catalogue.to_wire(f, getattr(obj, n)) for n, f in spec.fields.items()}
                values["id"] = obj.id
                total += len(json.dumps(values, ensure_ascii=False).encode())
    return total / max(1, cases)


def case_document_bytes(store: Store, sample: int = 100) -> float:
    """Mean size of one case file as one nested JSON document, as a document store keeps it.

    No row ids, references or office codes (the nesting says what belongs to what) and no
    empty fields: the shape the 1.3 KB of the PouchDB comparison refers to.
    """
    skip = {"office", "person_id", "case_id", "track_id", "employer_id", "merged_into"}

    def doc(obj: Any) -> dict[str, Any]:
        spec = catalogue.entity(obj.__entity__)
        values = {n: catalogue.to_wire(f, getattr(obj, n)) for n, f in spec.fields.items()}
        return {k: v for k, v in values.items() if v is not None and k not in skip}

    total = 0
    with store.read() as session:
        people = session.query(Person).limit(sample).all()
        for person in people:
            case = session.query(Case).filter_by(person_id=person.id).one()
            track = session.query(Track).filter_by(case_id=case.id).one()
            nested = {
                "_id": case.id,
                "person": doc(person),
                "names": [doc(n) for n in session.query(PersonName).filter_by(person_id=person.id)],
                "documents": [
                    doc(d) for d in session.query(IdentityDocument).filter_by(person_id=person.id)
                ],
                "employment": [
                    doc(e) for e in session.query(Employment).filter_by(person_id=person.id)
                ],
                "contributions": [
                    doc(c) for c in session.query(ContributionMonth).filter_by(person_id=person.id)
                ],
                "case": doc(case),
                "track": doc(track),
                "steps": [doc(s) for s in session.query(Step).filter_by(track_id=track.id)],
            }
            total += len(json.dumps(nested, ensure_ascii=False, separators=(",", ":")).encode())
    return total / max(1, len(people))


def edit_fields(store: Store, count: int, round_: int = 0) -> float:
    """``count`` single-field edits on random rows, one transaction each (as the UI does).

    Every round edits the same rows to new values (``round_`` is in the number): setting a
    field to the value it holds records nothing, so a repeated round must change them.
    """
    rng = random.Random(7)
    with store.read() as session:
        people = [row[0] for row in session.query(Person.id)]
    started = time.perf_counter()
    for number in range(count):
        with store.session() as session:
            person = session.get(Person, rng.choice(people))
            assert person is not None
            person.phone = f"0{9 - round_ % 10}{number:08d}"
    return time.perf_counter() - started


# -- measurement --------------------------------------------------------------------------


def timed_push(service: SyncService) -> tuple[float, SyncSummary]:
    summary = SyncSummary()
    started = time.perf_counter()
    service.push(summary)
    return time.perf_counter() - started, summary


def timed_pull(service: SyncService) -> tuple[float, SyncSummary]:
    summary = SyncSummary()
    started = time.perf_counter()
    service.pull(summary)
    return time.perf_counter() - started, summary


def copy_baseline(dsn: str) -> tuple[float, int]:
    """COPY the rows the server wrote (log, row and field state) into empty look-alike tables."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        total = 0
        seconds = 0.0
        for table in ("changes", "row_state", "field_state"):
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            conn.execute(f"DROP TABLE IF EXISTS bench_{table}")
            conn.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY bench_{table} FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            seconds += time.perf_counter() - started
            total += len(rows)
    return seconds, total


def run(cases: int, edits: int, edit_rounds: int = 1) -> dict[str, Any]:
    secrets = SecretStore(backend=MemoryKeyring())
    work = Path(tempfile.mkdtemp(prefix="sapan-bench-"))
    results: dict[str, Any] = {"cases": cases, "edits": edits}
    try:
        with postgres() as admin_url:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE sapan")
            db_url = admin_url.rsplit("/", 1)[0] + "/sapan"
            engine = make_engine(db_url)
            upgrade(engine)
            for name in ("ann", "bob"):
                admin.create_user(engine, make_hasher(True), name, PASSWORD, Role.CASEWORKER,
                                  (OFFICE,))  # fmt: skip
            engine.dispose()
            with server(db_url) as (url, pid):
                postmaster = postmaster_pid(db_url)

                def cpu() -> tuple[float, float, float]:
                    return cpu_seconds(), cpu_seconds(pid), database_cpu_seconds(postmaster)

                push_wire, pull_wire = Wire(), Wire()
                a = device(work / "device-a", url, "ann", push_wire, secrets)
                b = device(work / "device-b", url, "bob", pull_wire, secrets)
                tune_gc()  # the devices have started, as `sapan sync` and the app do then
                employers = make_employers(a.store, 50)
                results["create_s"] = create_cases(a.store, cases, employers)
                results["case_json_bytes"] = round(case_json_bytes(a.store))
                results["case_document_bytes"] = round(case_document_bytes(a.store))
                results["outbox"] = a.outbox_counts()[0]

                sent0, _ = push_wire.snapshot()
                cpu0 = cpu()
                seconds, summary = timed_push(a)
                results["push_cpu"] = [
                    after - before for before, after in zip(cpu0, cpu(), strict=True)
                ]
                assert summary.rejected == 0, summary
                assert a.outbox_counts() == (0, 0), summary
                results["push_s"] = seconds
                results["push_changes"] = summary.pushed
                results["push_requests"] = push_wire.requests
                results["push_bytes_per_case"] = (push_wire.sent - sent0) / cases

                _, received0 = pull_wire.snapshot()
                cpu0 = cpu()
                seconds, summary = timed_pull(b)
                results["pull_cpu"] = [
                    after - before for before, after in zip(cpu0, cpu(), strict=True)
                ]
                results["pull_s"] = seconds
                results["pull_rows"] = summary.pulled_rows
                results["pull_pages"] = summary.pages
                results["pull_bytes_per_case"] = (pull_wire.received - received0) / cases
                with b.store.read() as session:
                    assert session.query(Case).count() == cases
                results |= store_baseline(b.store, work / "baseline", secrets)

                # A catches up on its own pushed changes (versions), outside the bar's
                # timings but part of the caseworker's sync: timed on its own
                cpu0 = cpu()
                results["catch_up_s"], catch_up = timed_pull(a)
                results["catch_up_cpu"] = [
                    after - before for before, after in zip(cpu0, cpu(), strict=True)
                ]
                results["catch_up_rows"] = catch_up.pulled_rows
                results["edit_local_s"] = edit_fields(a.store, edits)
                cpu0 = cpu()
                push_s, push_summary = timed_push(a)
                pull_s, pull_summary = timed_pull(b)
                results["incremental_cpu"] = [
                    after - before for before, after in zip(cpu0, cpu(), strict=True)
                ]
                assert push_summary.pushed == 2 * edits, push_summary  # the edit + its audit row
                results["incremental_push_s"] = push_s
                results["incremental_pull_s"] = pull_s
                results["incremental_s"] = push_s + pull_s
                results["incremental_rows"] = pull_summary.pulled_rows
                # the same rows again, new values: caches are warm after the first round
                results["incremental_rounds"] = [push_s + pull_s]
                # push seconds, pull seconds, client, server and database CPU seconds of each
                # round
                results["incremental_round_parts"] = [[push_s, pull_s, *results["incremental_cpu"]]]
                for round_ in range(1, edit_rounds):
                    a.pull(SyncSummary())
                    edit_fields(a.store, edits, round_)
                    cpu0 = cpu()
                    push_s, push_summary = timed_push(a)
                    pull_s, _ = timed_pull(b)
                    assert push_summary.pushed == 2 * edits, push_summary  # the same work
                    results["incremental_rounds"].append(push_s + pull_s)
                    results["incremental_round_parts"].append(
                        [push_s, pull_s, *(y - x for x, y in zip(cpu0, cpu(), strict=True))]
                    )

                copy_s, copy_rows = copy_baseline(db_url)
                results["copy_s"] = copy_s
                results["copy_rows"] = copy_rows
                results |= restore_costs(a.store)
                a.store.close()
                b.store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def restore_costs(store: Store) -> dict[str, float]:
    """Step 6: the daily look through the kept sent changes, then a resend of all of them."""
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    started = time.perf_counter()
    dropped = prune_sent(store, tomorrow)
    look_s = time.perf_counter() - started
    assert dropped == 0
    started = time.perf_counter()
    with store.remote_session() as session:
        resent = resend_lost(session, 0)
    return {"sent_look_s": look_s, "resend_s": time.perf_counter() - started, "resent": resent}


def store_baseline(pulled: Store, root: Path, secrets: SecretStore) -> dict[str, float]:
    """Write the rows a pull wrote into a new empty store of the same schema, timed two
    ways, each one transaction: by SQLite alone (``INSERT ... SELECT`` from the pulled
    store, attached with its key), and from Python by the driver's ``executemany`` of
    rows already read as tuples (the least a pull that binds its rows must pay)."""
    target = create_store(root, PASSPHRASE, office=OFFICE, secrets=secrets)
    tables = [table_of(cls) for cls in SYNCED_CLASSES]  # the audit trail's table too
    names = {t.name: ", ".join(f'"{c.name}"' for c in t.columns) for t in tables}
    connection = target.engine.raw_connection()
    try:
        cursor = connection.cursor()
        key = pulled.key_for_attachments().hex()  # the store's key, as a backup attaches
        cursor.execute(f"ATTACH DATABASE ? AS pulled KEY \"x'{key}'\"", (str(pulled.paths.db),))
        rows = {
            name: cursor.execute(f'SELECT {columns} FROM pulled."{name}"').fetchall()
            for name, columns in names.items()
        }
        cursor.execute("PRAGMA synchronous = NORMAL")  # as the pull's commits

        def emptied() -> None:  # the new store's own rows (its settings' audit events) too
            for name in names:
                cursor.execute(f'DELETE FROM main."{name}"')
            connection.commit()

        def timed(write: Callable[[str, str], None]) -> float:
            emptied()
            started = time.perf_counter()
            cursor.execute("BEGIN")
            for name, columns in names.items():
                write(name, columns)
            connection.commit()
            return time.perf_counter() - started

        by_sql = timed(
            lambda name, columns: cursor.execute(
                f'INSERT INTO main."{name}" ({columns}) SELECT {columns} FROM pulled."{name}"'
            )
        )
        by_driver = timed(
            lambda name, columns: (
                cursor.executemany(
                    f'INSERT INTO main."{name}" ({columns}) '
                    f"VALUES ({', '.join('?' * len(rows[name][0]))})",
                    rows[name],
                )
                if rows[name]
                else None
            )
        )
        cursor.execute("DETACH DATABASE pulled")
    finally:
        connection.close()
        target.close()
    return {
        "store_rows": sum(len(found) for found in rows.values()),
        "store_sql_s": by_sql,
        "store_executemany_s": by_driver,
    }


def report(r: dict[str, Any]) -> None:
    cases = r["cases"]
    push_rate, pull_rate = cases / r["push_s"], cases / r["pull_s"]
    ingest = r["push_changes"] / r["push_s"]
    copy = r["copy_rows"] / r["copy_s"]
    ingest_rows = r["copy_rows"] / r["push_s"]  # the same rows, written by the push
    stored = r["store_rows"]
    lines = [
        f"case files: {cases:,}, {r['case_document_bytes']:,} bytes of JSON each as one "
        f"document ({r['case_json_bytes']:,} as rows with ids), "
        f"{r['push_changes'] / cases:.0f} changes each pushed; "
        f"created through the ORM in {r['create_s']:.1f} s",
        f"push : {push_rate:8,.1f} cases/s ({ingest:,.0f} changes/s, "
        f"{r['push_requests']} requests; bar {BAR['push_per_s']:,}/s)",
        f"pull : {pull_rate:8,.1f} cases/s ({r['pull_rows']:,} row updates in "
        f"{r['pull_pages']} pages; bar {BAR['pull_per_s']:,}/s)",
        f"catch-up: the pushing device pulls its own {r['catch_up_rows']:,} row updates back "
        f"(their versions) in {r['catch_up_s']:.2f} s, {cases / r['catch_up_s']:,.1f} cases/s "
        "(CPU: client {:.1f}, server {:.1f}, PostgreSQL {:.1f} s)".format(*r["catch_up_cpu"]),
        f"wire : {r['push_bytes_per_case']:,.0f} bytes/case pushed (bar {BAR['push_bytes']:,}), "
        f"{r['pull_bytes_per_case']:,.0f} bytes/case pulled (bar {BAR['pull_bytes']:,})",
        f"incremental: {r['edits']:,} single-field edits: push {r['incremental_push_s']:.2f} s "
        f"+ pull {r['incremental_pull_s']:.2f} s = {r['incremental_s']:.2f} s "
        f"(bar {BAR['edit_s']} s; making the edits locally took {r['edit_local_s']:.2f} s)",
        "edit rounds (the first as above, then the same rows again, new values): "
        + ", ".join(f"{seconds:.2f} s" for seconds in r["incremental_rounds"]),
        "CPU seconds (client, server, PostgreSQL): push {:.1f}, {:.1f}, {:.1f}; "
        "pull {:.1f}, {:.1f}, {:.1f}; incremental {:.2f}, {:.2f}, {:.2f}".format(
            *r["push_cpu"], *r["pull_cpu"], *r["incremental_cpu"]
        ),
        f"server ingest: {ingest:,.0f} changes/s through the API ({ingest_rows:,.0f} rows/s: "
        f"log and state rows) vs COPY baseline {copy:,.0f} rows/s ({r['copy_rows']:,} rows in "
        f"{r['copy_s']:.2f} s)",
        f"device write: the pull wrote {stored:,} rows (synced tables and audit trail) at "
        f"{stored / r['pull_s']:,.0f} rows/s, everything else it does included; into an empty "
        f"store, one transaction: SQLite alone {stored / r['store_sql_s']:,.0f} rows/s "
        f"({cases / r['store_sql_s']:,.0f} case files/s), the driver's executemany of "
        f"ready tuples {stored / r['store_executemany_s']:,.0f} rows/s "
        f"({cases / r['store_executemany_s']:,.0f} case files/s)",
        f"restore: the pushing device's daily look through the {r['resent']:,} sent changes "
        f"it keeps took {r['sent_look_s']:.2f} s; putting them all back in its outbox for a "
        f"restored server (resend_lost, head 0) {r['resend_s']:.2f} s",
    ]
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=1_000)
    parser.add_argument(
        "--edit-rounds", type=int, default=1, help="repeat the edit round (same rows, new values)"
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("SAPAN_KDF_N", "1024")  # key derivation is not what is measured
    results = run(args.cases, args.edits, max(1, args.edit_rounds))
    report(results)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
