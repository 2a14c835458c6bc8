"""Fault tests with real processes: SIGKILLed clients, a SIGKILLed server, two servers.

Servers run as ``sapan serve`` subprocesses on free ports; clients killed mid-sync run
in a subprocess too, so SIGKILL hits a real process with a real database open.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from desktop.models.entities import OutboxEntry, Person
from desktop.models.store import open_store
from desktop.services.sync import SyncService
from sync.client.http import SyncClient
from sync.protocol import Role
from sync.server import admin
from sync.server.auth import make_hasher
from sync.server.db import make_engine
from sync.server.migrate import upgrade
from tests.sync.conftest import (
    PASSPHRASE,
    PASSWORD,
    ROOT,
    LiveServer,
    fresh_pg_database,
    make_store,
)

_OPEN: list[httpx.Client] = []


def _http() -> httpx.Client:
    client = httpx.Client(timeout=60)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def pg_db(postgres_url: str, pg_template: str) -> str:
    url = fresh_pg_database(postgres_url, pg_template)
    engine = make_engine(url)
    upgrade(engine)
    for name in ("ann", "bob"):
        admin.create_user(engine, make_hasher(), name, PASSWORD, Role.CASEWORKER, ["MS"])
    engine.dispose()
    return url


@pytest.fixture
def live(pg_db: str) -> Iterator[LiveServer]:
    server = LiveServer(pg_db)
    yield server
    server.kill()


def _changes(n: int, device: str = "d") -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        row = str(uuid.uuid4())
        for field, value in (("office", "MS"), ("phone", str(i))):
            out.append(
                {
                    "change_id": str(uuid.uuid4()),
                    "entity": "person",
                    "row_id": row,
                    "field": field,
                    "value": value,
                    "base_version": 0,
                    "hlc": f"{1763812345678 + i:016d}-0000-{device}",
                    "device_id": device,
                    "user_id": "ann",
                }
            )
    return out


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_two_server_processes_share_one_postgresql(pg_db: str) -> None:
    first, second = LiveServer(pg_db), LiveServer(pg_db)
    try:
        clients = []
        for server, name in ((first, "ann"), (second, "bob")):
            client = SyncClient(_http(), server.url)
            client.register(name, PASSWORD, "laptop")
            clients.append(client)
        seen: list[int] = []
        done = threading.Event()

        def pusher(client: SyncClient) -> None:
            from sync.protocol import Change

            for _ in range(4):
                client.push([Change.model_validate(c) for c in _changes(50, client.token[-6:])])

        def puller() -> None:
            cursor = 0
            while True:
                finished = done.is_set()
                page = clients[0].pull(cursor, 97)
                seen.extend(row.version for row in page.rows)
                cursor = page.cursor
                if finished and not page.more:
                    return

        threads = [threading.Thread(target=pusher, args=(c,)) for c in clients]
        reader = threading.Thread(target=puller)
        for thread in [*threads, reader]:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        reader.join()
        total = _count(pg_db, "SELECT count(*) FROM changes")
        assert total == 2 * 4 * 100
        top = _count(pg_db, "SELECT max(seq) FROM changes")
        assert top == total  # gap-free, unique sequence across both processes
        # the concurrent reader saw every row exactly at its final version: nothing skipped
        assert len(seen) >= 2 * 4 * 50
        assert _count(pg_db, "SELECT count(DISTINCT row_id) FROM changes") == 400
    finally:
        first.kill()
        second.kill()


def test_serve_with_workers_runs_several_processes_on_one_postgresql(pg_db: str) -> None:
    """``sapan serve --workers 2``: two uvicorn workers, one database, one sequence."""
    server = LiveServer(pg_db, "--workers", "2")
    try:
        deadline = time.monotonic() + 30
        while len(server.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(server.workers()) == 2
        clients = []
        for name in ("ann", "bob"):
            client = SyncClient(_http(), server.url)
            client.register(name, PASSWORD, "laptop")
            clients.append(client)
        from sync.protocol import Change

        for client in clients * 3:
            client.push([Change.model_validate(c) for c in _changes(20, client.token[-6:])])
        assert _count(pg_db, "SELECT count(*) FROM changes") == 6 * 40
        assert _count(pg_db, "SELECT max(seq) FROM changes") == 6 * 40
        assert len(clients[1].pull(0, 10_000).rows) == 6 * 20
    finally:
        server.kill()


@pytest.mark.parametrize("delay", [0.05, 0.2])
def test_server_killed_mid_batch_applies_nothing_or_all(pg_db: str, delay: float) -> None:
    server = LiveServer(pg_db)
    client = SyncClient(_http(), server.url)
    client.register("ann", PASSWORD, "laptop")
    from sync.protocol import Change

    batch = [Change.model_validate(c) for c in _changes(500)]
    killer = threading.Timer(delay, server.kill)
    killer.start()
    with contextlib.suppress(Exception):
        client.push(batch)
    killer.join()
    server.kill()
    stored = _count(pg_db, "SELECT count(*) FROM changes")
    assert stored in (0, len(batch))
    # after a restart the same batch completes exactly once
    again = LiveServer(pg_db)
    try:
        retry = SyncClient(_http(), again.url)
        retry.register("ann", PASSWORD, "laptop-2")
        results = retry.push(batch).results
        assert {r.status.value for r in results} <= {"accepted", "duplicate"}
        assert _count(pg_db, "SELECT count(*) FROM changes") == len(batch)
    finally:
        again.kill()


CLIENT_SCRIPT = textwrap.dedent(
    """
    import sys, httpx
    from desktop.models.store import open_store
    from desktop.services.sync import SyncService
    from sync.client.http import SyncClient
    root, url, token, passphrase = sys.argv[1:5]
    store = open_store(__import__("pathlib").Path(root), passphrase)
    service = SyncService(store, SyncClient(httpx.Client(timeout=60), url, token),
                          batch_size=50, max_batch_size=50, page_size=50,
                          max_page_size=50)
    print("ready", flush=True)
    while True:
        service.sync()
        with store.session() as session:  # keep producing edits while syncing
            from desktop.models.entities import Person
            session.add(Person(office="MS", phone="late"))
    """
)


def _run_client(root: Path, url: str, token: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT_SCRIPT, str(root), url, token, PASSPHRASE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    )


@pytest.mark.usefixtures("cheap_kdf")
@pytest.mark.parametrize("phase", ["push", "pull"])
def test_client_killed_mid_sync_loses_and_duplicates_nothing(
    live: LiveServer, pg_db: str, tmp_path: Path, phase: str
) -> None:
    writer_root, reader_root = tmp_path / "writer", tmp_path / "reader"
    writer = make_store(writer_root)
    with writer.session() as session:
        for n in range(300):
            session.add(Person(office="MS", phone=str(n)))
    writer_client = SyncClient(_http(), live.url)
    writer_client.register("ann", PASSWORD, "writer")
    reader_client = SyncClient(_http(), live.url)
    reader_client.register("bob", PASSWORD, "reader")
    if phase == "pull":
        SyncService(writer, writer_client).sync()
        victim_root, token = reader_root, reader_client.token
        make_store(reader_root).close()
    else:
        victim_root, token = writer_root, writer_client.token
    writer.close()
    assert token is not None
    process = _run_client(victim_root, live.url, token)
    assert process.stdout is not None
    process.stdout.readline()
    time.sleep(0.8)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    # restart: one more sync finishes the job
    store = open_store(victim_root, PASSPHRASE)
    try:
        client = writer_client if phase == "push" else reader_client
        summary = SyncService(store, client).sync()
        assert summary.ok
        assert summary.waiting == 0
        with store.read() as session:
            local = list(session.scalars(select(Person)))
            assert session.scalars(select(OutboxEntry)).first() is None
        server_rows = _count(pg_db, "SELECT count(*) FROM row_state WHERE entity = 'person'")
        assert len(local) == server_rows >= 300
        # no change was applied twice: one log entry per change id, one per person created
        logged = "SELECT count(*) FROM changes WHERE entity = 'person' AND field = '*'"
        assert _count(pg_db, logged) == server_rows
    finally:
        store.close()


DOWNLOAD_SCRIPT = textwrap.dedent(
    """
    import sys, time, httpx
    from desktop.models.store import open_store
    from desktop.services.sync import SyncService
    from sync.client.http import SyncClient
    root, url, token, passphrase = sys.argv[1:5]
    store = open_store(__import__("pathlib").Path(root), passphrase)

    def progress(kind, done, total):
        if kind == "download" and done >= 2_500_000:
            print("downloading", done, flush=True)
            time.sleep(600)  # killed here, with the download half done

    SyncService(store, SyncClient(httpx.Client(timeout=60), url, token),
                on_progress=progress).sync()
    """
)


@pytest.mark.usefixtures("cheap_kdf")
def test_client_killed_mid_download_resumes_after_what_arrived(
    live: LiveServer, tmp_path: Path
) -> None:
    from desktop.services.attachments import add_attachment, blob_store

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(os.urandom(6 * 1024 * 1024 + 99))
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    writer = make_store(tmp_path / "writer")
    add_attachment(writer, scan)
    writer_client = SyncClient(_http(), live.url)
    writer_client.register("ann", PASSWORD, "writer")
    assert SyncService(writer, writer_client).sync().attachments_uploaded == 1
    writer.close()
    reader_client = SyncClient(_http(), live.url)
    reader_client.register("bob", PASSWORD, "reader")
    make_store(tmp_path / "reader").close()
    assert reader_client.token is not None
    args = [str(tmp_path / "reader"), live.url, reader_client.token, PASSPHRASE]
    process = subprocess.Popen(
        [sys.executable, "-c", DOWNLOAD_SCRIPT, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert line.startswith("downloading"), line
    store = open_store(tmp_path / "reader", PASSPHRASE)
    try:
        blobs = blob_store(store)
        assert not blobs.has(sha)
        # what arrived before the kill is still there (bar the unsealed last segment)
        held = blobs.partial(sha).held
        assert 2_500_000 - 256 * 1024 <= held <= int(line.split()[1])
        before = reader_client.bytes_received
        summary = SyncService(store, reader_client).sync()
        assert (summary.ok, summary.attachments_downloaded) == (True, 1)
        assert reader_client.bytes_received - before < scan.stat().st_size - held + 5_000
        assert blobs.read_bytes(sha) == scan.read_bytes()
        assert blobs.partial_names() == []
    finally:
        store.close()


def _answer(conn: socket.socket) -> bytes:
    """One HTTP/1.1 answer read off ``conn``: its head and a body of Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data  # closed before (or instead of) an answer
        data += chunk
    head, _blank, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(4096)
    return head


def test_a_connection_stays_open_between_requests_a_slow_link_spaces_out(
    tmp_path: Path,
) -> None:
    """uvicorn closes a connection 5 s after writing an answer; on a 2G link the laptop
    was still receiving that answer (a pull page) then, and its next request went out
    on the closed connection: the sync stopped as if the link had dropped, one page a
    sync (a field tester). ``sapan serve`` keeps an idle connection for longer."""
    server = LiveServer(str(tmp_path / "server.db"))
    ask = b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(ask)
            first = _answer(conn)
            time.sleep(6)  # past uvicorn's default of 5 s
            conn.sendall(ask)
            second = _answer(conn)
    finally:
        server.kill()
    assert first.startswith(b"HTTP/1.1 200")
    assert second.startswith(b"HTTP/1.1 200"), second
