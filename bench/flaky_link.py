"""Benchmark: scans uploaded over a slow link that drops, with fixed and with paced chunks.

    .venv/bin/python bench/flaky_link.py [--scans 4] [--kb 400] [--cases 50]
        [--up 32000] [--down 64000] [--drop-kb 200] [--seed 7] [--json]

A caseworker's laptop on a 2G/3G link: ``--scans`` scans of ``--kb`` KB (random bytes,
as photos do not compress) and ``--cases`` case files wait to be sent. The link carries
``--up`` bytes a second up and ``--down`` down, and drops after a random number of bytes
(exponential, ``--drop-kb`` KB on average, from a seeded generator), counted in both
directions over every connection, cutting the connection then on it. The device syncs
again at once after each sync the link cut off, until one ends well, as the app's worker
does after a cut that moved something (it waits a few seconds first; that wait is left
out here).

Two runs, each with a fresh server (``sapan serve`` on SQLite, on loopback: the link is
the bottleneck) and a fresh device, the link's drops drawn from the same seed:

- *fixed* (the baseline, same run): every upload in chunks of 256 KiB, as before chunks
  were paced (``ChunkPace.timed`` made to do nothing);
- *paced*: the code as it is (``sync/client/pacing.py``): slow or cut-off chunks halve
  the chunk size of the next upload, quick ones double it.

It prints, for each run: syncs needed, seconds, bytes that crossed the link up and down
(counted by the link itself, cut-off requests included) against the bytes that had to go
(the scans, and the case files' push bodies as a sync sends them), and the chunk sizes
the uploads used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import httpx
from sqlalchemy import text

from bench.sync import OFFICE, PASSPHRASE, PASSWORD, create_cases, make_employers, server
from desktop.models.secret_store import SecretStore
from desktop.models.store import create_store
from desktop.services.attachments import add_attachment
from desktop.services.sync import SyncService
from sync.client import attachments as wire
from sync.client.http import SyncClient
from sync.protocol import Role
from sync.server import admin
from sync.server.auth import make_hasher
from sync.server.db import make_engine
from sync.server.migrate import upgrade
from tests.fakes import MemoryKeyring
from tests.postgres import free_port

MAX_SYNCS = 200


@dataclass
class Link:
    """A throttled TCP link on loopback that drops connections after random byte counts."""

    target: int
    up: float
    down: float
    drop_bytes: float
    seed: int
    latency: float = 0.3
    port: int = field(default_factory=free_port)
    dropping: bool = True
    sent_up: int = 0
    sent_down: int = 0
    drops: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.until_drop = self.rng.expovariate(1 / self.drop_bytes)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", self.port)
        )
        self.ready.set()
        self.loop.run_forever()

    async def _connection(self, near_r: Any, near_w: Any) -> None:
        await asyncio.sleep(self.latency)
        far_r, far_w = await asyncio.open_connection("127.0.0.1", self.target)
        await asyncio.gather(
            self._pipe(near_r, far_w, self.up, "up", near_w),
            self._pipe(far_r, near_w, self.down, "down", far_w),
        )

    async def _pipe(self, r: Any, w: Any, rate: float, way: str, other: Any) -> None:
        try:
            while data := await r.read(1024):
                await asyncio.sleep(len(data) / rate)
                if self.dropping:
                    self.until_drop -= len(data)
                    if self.until_drop <= 0:  # the link drops, whichever connection is on it
                        self.until_drop = self.rng.expovariate(1 / self.drop_bytes)
                        self.drops += 1
                        w.transport.abort()
                        other.transport.abort()
                        return
                if way == "up":
                    self.sent_up += len(data)
                else:
                    self.sent_down += len(data)
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                w.close()

    def close(self) -> None:
        async def stop() -> None:
            # connections cut mid-way are being closed: nothing they say is of interest now
            self.loop.set_exception_handler(lambda _loop, _context: None)
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@contextlib.contextmanager
def sqlite_server(work: Path) -> Iterator[str]:
    db = work / "server.db"
    engine = make_engine(str(db))
    upgrade(engine)
    admin.create_user(engine, make_hasher(True), "ann", PASSWORD, Role.CASEWORKER, (OFFICE,))
    engine.dispose()
    with server(str(db)) as (url, _pid):
        yield url


def chunk_sizes(work: Path) -> list[int]:
    engine = make_engine(str(work / "server.db"))
    with engine.connect() as conn:
        sizes = conn.execute(text("SELECT chunk_size FROM attachments ORDER BY created_at"))
        found = [int(size) for size in sizes.scalars()]
    engine.dispose()
    return found


def one_run(args: argparse.Namespace, paced: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="sapan-flaky-"))
    with sqlite_server(work) as url:
        link = Link(int(url.rsplit(":", 1)[1]), args.up, args.down, args.drop_kb * 1000, args.seed)
        try:
            link.dropping = False  # registering is not what is measured
            store = create_store(
                work / "device", PASSPHRASE, office=OFFICE, secrets=SecretStore(MemoryKeyring())
            )
            client = SyncClient(httpx.Client(timeout=60), f"http://127.0.0.1:{link.port}")
            client.register("ann", PASSWORD, "laptop")
            service = SyncService(store, client, sleep=lambda _s: None)
            create_cases(store, args.cases, make_employers(store, 3))
            scans = 0
            for index in range(args.scans):
                path = work / f"scan{index}.jpg"
                path.write_bytes(b"\xff\xd8\xff" + os.urandom(args.kb * 1000 - 3))
                add_attachment(store, path)
                scans += path.stat().st_size
            before_up, before_down = link.sent_up, link.sent_down
            link.dropping = True
            started = time.monotonic()
            syncs = 0
            while syncs < MAX_SYNCS:
                syncs += 1
                summary = service.sync()
                if summary.ok:
                    break
            seconds = time.monotonic() - started
            store.close()
        finally:
            link.close()
    return {
        "paced": paced,
        "ok": summary.ok,
        "syncs": syncs,
        "seconds": round(seconds, 1),
        "bytes_up": link.sent_up - before_up,
        "bytes_down": link.sent_down - before_down,
        "scan_bytes": scans,
        "drops": link.drops,
        "chunk_sizes": chunk_sizes(work),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    timed = wire.ChunkPace.timed
    try:
        wire.ChunkPace.timed = lambda self, chunk_size, length, seconds: None  # type: ignore[method-assign]
        fixed = one_run(args, paced=False)
    finally:
        wire.ChunkPace.timed = timed  # type: ignore[method-assign]
    paced = one_run(args, paced=True)
    return {"link": vars(args), "fixed": fixed, "paced": paced}


def report(r: dict[str, Any]) -> None:
    a = r["link"]
    print(
        f"{a['scans']} scans of {a['kb']} KB and {a['cases']} case files; link "
        f"{a['up']:.0f} B/s up, {a['down']:.0f} down, a drop every {a['drop_kb']} KB on "
        f"average (seed {a['seed']})"
    )
    print(
        f"{'':>8} {'syncs':>6} {'seconds':>8} {'MB up':>8} {'MB down':>8} {'drops':>6}  chunk sizes"
    )
    for name in ("fixed", "paced"):
        x = r[name]
        sizes = ", ".join(f"{s // 1024} KiB" for s in x["chunk_sizes"])
        print(
            f"{name:>8} {x['syncs']:>6} {x['seconds']:>8.1f} {x['bytes_up'] / 1e6:>8.2f} "
            f"{x['bytes_down'] / 1e6:>8.2f} {x['drops']:>6}  {sizes}"
            + ("" if x["ok"] else f"  (not done after {MAX_SYNCS} syncs)")
        )
    print(f"scan bytes that had to go: {r['paced']['scan_bytes'] / 1e6:.2f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=4)
    parser.add_argument("--kb", type=int, default=400)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--up", type=float, default=32000)
    parser.add_argument("--down", type=float, default=64000)
    parser.add_argument("--drop-kb", type=float, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SAPAN_KDF_N", "1024")  # key derivation is not what is measured
    r = run(args)
    report(r)
    if args.json:
        print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
