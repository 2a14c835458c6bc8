"""Fixtures for the sync tests: a throwaway PostgreSQL, servers on both backends, devices.

PostgreSQL is started once per session from the binaries on the machine (initdb and
pg_ctl as user ``postgres`` when the suite runs as root), with fsync off, on a free
port, and stopped at the end. It is never mocked and never skipped: if it cannot start,
the tests that need it fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import signal
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, select, text

from desktop.domain import catalogue
from desktop.models.entities import CLASS_BY_ENTITY
from desktop.models.store import Store, create_store
from desktop.services.sync import SyncService
from sync.client.http import SyncClient
from sync.protocol import Role
from sync.server import admin
from sync.server.app import Settings, create_app
from sync.server.db import make_engine, read_counter
from sync.server.ingest import current_rows
from sync.server.migrate import upgrade
from tests.postgres import PostgresUnavailable, free_port, throwaway_postgres

PASSWORD = "password-123"
PASSPHRASE = "correct horse battery staple 42"


ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """``sapan serve`` in a subprocess on a free port of loopback; with ``tls`` (certificate
    and key files) it serves HTTPS, checked against ``tls[0]`` while it starts."""

    def __init__(self, db_url: str, *options: str, tls: tuple[Path, Path] | None = None) -> None:
        self.db_url = db_url
        self.port = free_port()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        if tls:
            options = (*options, "--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1]))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, desktop.cli; sys.exit(desktop.cli.main())",
                "serve",
                "--db",
                db_url,
                "--port",
                str(self.port),
                *options,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: workers are killed with it
        )
        verify: Any = ssl.create_default_context(cafile=str(tls[0])) if tls else True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{self.url}/v1/info", timeout=1, verify=verify)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        pytest.fail("the server did not start")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def workers(self) -> list[int]:
        """uvicorn's worker processes: children started by multiprocessing's spawn (not its
        resource tracker)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [
            int(pid)
            for pid in path.read_text().split()
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL cluster's ``postgres`` database for this session."""
    try:
        with throwaway_postgres() as url:
            yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))


_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_template(postgres_url: str) -> str:
    """A database with the server schema, copied for every test (CREATE ... TEMPLATE)."""
    admin_conn = psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)
    admin_conn.execute("CREATE DATABASE sapan_template")
    admin_conn.close()
    url = postgres_url.rsplit("/", 1)[0] + "/sapan_template"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def fresh_pg_database(postgres_url: str, pg_template: str) -> str:
    name = f"sapan_t{os.getpid()}_{next(_numbers)}"
    conn = psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)
    conn.execute(f"CREATE DATABASE {name} TEMPLATE sapan_template")
    conn.close()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated server database on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "server.db")
    return fresh_pg_database(
        request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_template")
    )


@dataclass
class Server:
    """A server app in-process with its engine; ``client()`` gives a TestClient."""

    app: object
    url: str

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.state.ctx.engine  # type: ignore[attr-defined]

    def http(self, address: str = "testclient"):  # type: ignore[no-untyped-def]
        """A client of the app; ``address``: the network address requests come from."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from starlette.testclient import TestClient

            return TestClient(
                self.app,  # type: ignore[arg-type]
                raise_server_exceptions=True,
                client=(address, 50000),
            )

    def user(
        self, name: str, role: Role = Role.CASEWORKER, offices: tuple[str, ...] = ("MS",)
    ) -> str:
        ctx = self.app.state.ctx  # type: ignore[attr-defined]
        admin.create_user(ctx.engine, ctx.hasher, name, PASSWORD, role, offices)
        return name

    def device(self, name: str, device_name: str = "laptop") -> SyncClient:
        client = SyncClient(self.http())
        client.register(name, PASSWORD, device_name)
        return client

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    def head(self) -> int:
        """The log's head: the highest seq the server has given."""
        with self.engine.connect() as conn:
            return read_counter(conn)


@pytest.fixture
def server(db_url: str) -> Iterator[Server]:
    app = create_app(Settings(db_url=db_url, cheap_hashing=True))
    srv = Server(app, db_url)
    yield srv
    srv.engine.dispose()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    app = create_app(Settings(db_url=str(tmp_path / "server.db"), cheap_hashing=True))
    srv = Server(app, str(tmp_path / "server.db"))
    yield srv
    srv.engine.dispose()


@pytest.fixture
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAPAN_KDF_N", "1024")


def make_store(root: Path, office: str = "MS") -> Store:
    return create_store(root, PASSPHRASE, office=office)


@pytest.fixture
def templates(tmp_path: Path, cheap_kdf: None) -> list[Path]:
    """Three empty stores of office MS, made once per test: each example of a stateful
    test copies them (key derivation is slow)."""
    paths = []
    for number in range(3):
        path = tmp_path / "templates" / f"template{number}"
        make_store(path, "MS").close()
        paths.append(path)
    return paths


@dataclass
class Device:
    """A device: its own encrypted store and a sync service against one server."""

    store: Store
    client: SyncClient
    service: SyncService

    def sync(self):  # type: ignore[no-untyped-def]
        return self.service.sync()


@pytest.fixture
def make_device(tmp_path: Path, cheap_kdf: None) -> Iterator[object]:
    stores: list[Store] = []

    def _make(server: Server, user: str, office: str = "MS", **options: object) -> Device:
        store = make_store(tmp_path / f"dev{len(stores)}", office)
        stores.append(store)
        client = server.device(user, f"device-{len(stores)}")
        service = SyncService(store, client, sleep=lambda _s: None, **options)  # type: ignore[arg-type]
        return Device(store, client, service)

    yield _make
    for store in stores:
        store.close()


def engine_for(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url)


class MemorySink:
    """A download sink in memory (the device's is its encrypted partial file)."""

    def __init__(self, held: bytes = b"") -> None:
        self.data = bytearray(held)
        self.flushes = 0

    @property
    def held(self) -> int:
        return len(self.data)

    def write(self, data: bytes) -> None:
        self.data += data

    def flush(self) -> None:
        self.flushes += 1

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def discard(self) -> None:
        self.data.clear()


def new_row(device: Device, cls: Any, **values: Any) -> str:
    """A row of ``cls`` made on ``device`` (in its office), recorded as a caseworker would;
    its id."""
    with device.store.session() as session:
        row = cls(office=device.store.office, **values)
        session.add(row)
        session.flush()
        return str(row.id)


def new_person(device: Device, **values: Any) -> str:
    """A person made on ``device`` (in its office), recorded as a caseworker would; its id."""
    from desktop.models.entities import Person

    return new_row(device, Person, **values)


def edit_row(device: Device, cls: Any, row_id: str, **values: Any) -> None:
    """Set fields of one row on ``device``, recorded (outbox and audit) as the UI would."""
    with device.store.session() as session:
        obj = session.get(cls, row_id)
        for key, value in values.items():
            setattr(obj, key, value)


def colleagues(server: Server, make_device: Any) -> tuple[Device, Device]:
    """Two caseworkers of one office, ann and bob, each on a device, and their
    coordinator cora (``server.device("cora")`` when a test needs her)."""
    server.user("ann")
    server.user("bob")
    server.user("cora", Role.COORDINATOR)
    return make_device(server, "ann"), make_device(server, "bob")


def stored(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every synced table of ``store`` as stored (SQL, below the ORM), row by row in id
    order, without ``version`` and ``updated_at`` (the server's and the device's own):
    what two devices holding the same rows must hold byte for byte."""
    found = {}
    with store.read() as session:
        for table in CLASS_BY_ENTITY:
            rows = session.execute(text(f'SELECT * FROM "{table}" ORDER BY id')).mappings()
            found[table] = [
                tuple(v for k, v in row.items() if k not in ("version", "updated_at"))
                for row in rows
            ]
    return found


Rows = dict[tuple[str, str], dict[str, Any]]


def wire_rows(store: Store) -> Rows:
    """Every synced row of ``store`` as its wire values, tombstone included, by
    (entity, id)."""
    found: Rows = {}
    with store.read() as session:
        for entity, cls in CLASS_BY_ENTITY.items():
            spec = catalogue.entity(entity)
            for obj in session.scalars(select(cls)):
                values = {
                    name: catalogue.to_wire(f, getattr(obj, name))
                    for name, f in spec.fields.items()
                }
                values[catalogue.TOMBSTONE_FIELD] = bool(obj.deleted)
                found[(entity, obj.id)] = values
    return found


def agree_with_server(server: Server, stores: list[Store]) -> Rows:
    """Check that every store holds exactly the server's rows and values, plus one derived
    creation event per row the server holds (those never reach the server), the same on
    every store; returns the server's rows."""
    with server.engine.connect() as conn:
        rows = current_rows(conn)
    for values in rows.values():
        values.setdefault(catalogue.TOMBSTONE_FIELD, False)
    created = {key for key in rows if key[0] != catalogue.AUDIT_ENTITY}
    events: list[Rows] = []
    for number, store in enumerate(stores):
        mine = wire_rows(store)
        derived = {k: v for k, v in mine.items() if k not in rows}
        assert all(catalogue.is_creation_event(v) for v in derived.values()), number
        assert {(v["entity"], v["row_id"]) for v in derived.values()} == created
        assert len(derived) == len(created), f"device {number}: one event per row"
        events.append(derived)
        assert set(mine) - set(derived) == set(rows), f"device {number} holds other rows"
        for key, values in rows.items():
            for name, value in mine[key].items():
                assert values.get(name) == value, (number, key, name, value, values)
    assert all(found == events[0] for found in events), "devices derived other events"
    return rows
