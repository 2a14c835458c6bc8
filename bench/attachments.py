"""Benchmark: one big attachment down from a PostgreSQL-backed server, whole and resumed.

    .venv/bin/python bench/attachments.py [--mb 100] [--cut 0.6] [--log-rows 230000] [--json]

1. Starts a throwaway PostgreSQL cluster and ``sapan serve`` (uvicorn) on loopback, as
   ``bench/sync.py`` does, and uploads one ``--mb`` MB blob in 1 MiB chunks.
2. Whole: a fresh device store downloads it the way a sync does (``download_blob`` into
   the store's encrypted partial file, then ``AttachmentStore.finish`` seals the blob).
3. Resumed: a second device's download is cut at ``--cut`` of the bytes (the link drops),
   then the next attempt fetches the rest with ``Range``.
4. Baseline, same run: the same chunks read straight from PostgreSQL with psycopg (what
   serving them costs before any HTTP).
5. The scope check a download makes (which offices may fetch this hash) with the change
   log ``--log-rows`` deep, against the search of the log it used to be.

It prints seconds and MB/s for each, the bytes the resumed attempt received against the
bytes still missing, and the peak resident memory (VmHWM) of the server process and of
this process, the peak restarted before the downloads (``clear_refs``): a download
streams, so neither should grow by anything near the blob's size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import httpx
import psycopg
from sqlalchemy import and_, or_, select

from bench.sync import PASSWORD, postgres, server
from desktop.models.attachments import AttachmentStore
from sync.client import attachments as wire
from sync.client.http import ServerUnreachable, SyncClient
from sync.protocol import Role
from sync.server import admin
from sync.server.auth import make_hasher
from sync.server.db import (
    attachment_offices,
    changes,
    dumps,
    insert_many,
    insert_missing,
    make_engine,
)
from sync.server.migrate import upgrade

MB = 1024 * 1024


def peak_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, this one by default, in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def reset_peak(pid: int | None = None) -> float:
    """Start a new peak at the current resident memory (Linux: clear_refs 5); that in MB."""
    Path(f"/proc/{pid or os.getpid()}/clear_refs").write_text("5")
    return peak_mb(pid)


class Cut(Exception):
    """Raised from the progress callback: the link drops mid-download."""


def device(url: str, name: str) -> SyncClient:
    client = SyncClient(httpx.Client(timeout=300), url)
    client.register("bench", PASSWORD, name)
    return client


def download(client: SyncClient, blobs: AttachmentStore, sha: str, cut_at: int | None) -> int:
    """One attempt into the store's partial file; the bytes it received (-1 if cut)."""
    partial = blobs.partial(sha)

    def progress(held: int, _total: int) -> None:
        if cut_at is not None and held >= cut_at:
            raise Cut

    try:
        result = wire.download_blob(
            client, sha, partial, max_bytes=blobs.max_bytes, progress=progress
        )
    except (Cut, ServerUnreachable):
        partial.flush()
        return -1
    blobs.finish(partial)
    return result.received


def upload(client: SyncClient, megabytes: int) -> tuple[str, float]:
    """Upload ``megabytes`` of random bytes in 1 MiB chunks: (its name, seconds)."""
    data = os.urandom(megabytes * MB)
    sha = hashlib.sha256(data).hexdigest()
    started = time.perf_counter()
    wire.upload_blob(client, sha, len(data), lambda: [data], chunk_size=MB)
    return sha, time.perf_counter() - started


def read_chunks(db_url: str, sha: str) -> tuple[int, float]:
    """The baseline: (bytes, seconds) reading the blob's chunks straight from PostgreSQL."""
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        query = "SELECT data FROM attachment_chunks WHERE sha256 = %s ORDER BY idx"
        read = sum(len(row[0]) for row in conn.execute(query, (sha,)))
    return read, time.perf_counter() - started


def scope_check(db_url: str, log_rows: int) -> dict[str, float]:
    """Milliseconds (median of 7) to find which offices may fetch a blob, ``log_rows`` deep.

    The server looks the hash up in ``attachment_offices``; the baseline, same run, is the
    check it made before: a search of the change log for attachment rows naming the hash.
    The log is filled with COPY: one row in twenty an attachment, the rest people.
    """
    engine = make_engine(db_url)
    wanted = "ab" * 32
    entries, pairs = [], []
    for seq in range(1, log_rows + 1):
        if seq % 20:
            entity, value = "person", {"office": "MS", "phone": str(seq), "note": "x" * 80}
        else:
            name = wanted if seq == log_rows // 2 // 20 * 20 else f"{seq:064x}"
            entity, value = "attachment", {"sha256": name, "filename": "scan.jpg", "office": "MS"}
            pairs.append({"sha256": name, "office": "MS"})
        entries.append((seq, f"bench-{seq}", entity, f"row-{seq}", "*", dumps(value), *_STAMP))
    log = select(changes.c.office).where(
        changes.c.entity == "attachment",
        or_(
            and_(changes.c.field == "sha256", changes.c.value == dumps(wanted)),
            and_(changes.c.field == "*", changes.c.value.like(f'%"sha256":{dumps(wanted)}%')),
        ),
    )
    lookup = select(attachment_offices.c.office).where(attachment_offices.c.sha256 == wanted)
    try:
        with engine.begin() as conn:
            insert_many(conn, changes, [c.name for c in changes.columns], entries)
            insert_missing(conn, attachment_offices, pairs)
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            found: dict[str, float] = {}
            for name, query in (("scan_ms", log), ("lookup_ms", lookup)):
                times = []
                for _ in range(7):
                    started = time.perf_counter()
                    assert conn.execute(query).scalars().all() == ["MS"]
                    times.append(time.perf_counter() - started)
                found[name] = round(sorted(times)[3] * 1000, 2)
            return found
    finally:
        engine.dispose()


_STAMP = ("0001763812345678-0000-bench", "bench", "bench", "MS", "2026-11-23T00:00:00Z")


def run(megabytes: int, cut: float, log_rows: int) -> dict[str, Any]:
    size = megabytes * MB
    with postgres() as admin_url:
        db_url = admin_url.rsplit("/", 1)[0] + "/sapan_bench_att"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE sapan_bench_att")
        engine = make_engine(db_url)
        upgrade(engine)
        admin.create_user(engine, make_hasher(cheap=True), "bench", PASSWORD, Role.CASEWORKER,
                          ["MS"])  # fmt: skip
        engine.dispose()
        with server(db_url) as (url, pid), tempfile.TemporaryDirectory() as tmp:
            sha, upload_s = upload(device(url, "uploader"), megabytes)
            read, baseline_s = read_chunks(db_url, sha)
            assert read == size
            server_upload = peak_mb(pid)
            del read
            server_before, client_before = reset_peak(pid), reset_peak()

            def store(name: str) -> AttachmentStore:
                return AttachmentStore(Path(tmp) / name, os.urandom(32), max_bytes=2 * size)

            whole = store("whole")
            started = time.perf_counter()
            received = download(device(url, "whole"), whole, sha, None)
            whole_s = time.perf_counter() - started
            assert received == size
            assert whole.has(sha)

            resumed, client = store("resumed"), device(url, "resumed")
            assert download(client, resumed, sha, int(cut * size)) == -1
            held = resumed.partial(sha).held
            started = time.perf_counter()
            rest = download(client, resumed, sha, None)
            rest_s = time.perf_counter() - started
            check = hashlib.sha256()
            for block in resumed.read_chunks(sha):  # streamed: the blob never sits in memory
                check.update(block)
            assert check.hexdigest() == sha
            server_after, client_after = peak_mb(pid), peak_mb()
            scope = scope_check(db_url, log_rows)  # after: it builds the log in memory
            return {
                "mb": megabytes,
                "log_rows": log_rows,
                **scope,
                "upload_s": round(upload_s, 2),
                "baseline_read_s": round(baseline_s, 2),
                "whole_s": round(whole_s, 2),
                "held_after_cut": held,
                "missing_after_cut": size - held,
                "resumed_received": rest,
                "resumed_s": round(rest_s, 2),
                "server_peak_mb_upload": round(server_upload, 1),
                "server_peak_mb_before": round(server_before, 1),
                "server_peak_mb_after": round(server_after, 1),
                "client_peak_mb_before": round(client_before, 1),
                "client_peak_mb_after": round(client_after, 1),
            }


def report(r: dict[str, Any]) -> None:
    mb = r["mb"]
    print(f"blob: {mb} MB, uploaded in 1 MiB chunks in {r['upload_s']} s")
    base, whole = r["baseline_read_s"], r["whole_s"]
    print(f"baseline: the chunks read straight from PostgreSQL in {base} s ({mb / base:.0f} MB/s)")
    print(f"whole download into a device store: {whole} s ({mb / whole:.0f} MB/s)")
    print(
        f"cut after {r['held_after_cut']:,} bytes; the resumed attempt received "
        f"{r['resumed_received']:,} bytes for the {r['missing_after_cut']:,} missing, "
        f"in {r['resumed_s']} s"
    )
    print(
        f"scope check of a download, {r['log_rows']:,} rows in the change log: "
        f"{r['lookup_ms']} ms (baseline, the log searched for the hash: {r['scan_ms']} ms)"
    )
    print(
        f"peak memory (VmHWM): server {r['server_peak_mb_upload']} MB by the end of the upload; "
        f"from {r['server_peak_mb_before']} MB before the downloads to "
        f"{r['server_peak_mb_after']} MB after them. This process: from "
        f"{r['client_peak_mb_before']} MB to {r['client_peak_mb_after']} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--cut", type=float, default=0.6)
    parser.add_argument("--log-rows", type=int, default=230_000, help="10,000 case files' worth")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.mb, args.cut, args.log_rows)
    print(json.dumps(result)) if args.json else report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
