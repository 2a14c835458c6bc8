"""``sapan serve``: the server app is built, the collector tuned, then uvicorn serves it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from desktop.cli import main, server
from desktop.domain.errors import UserError


def test_serve_tunes_the_collector_once_started_and_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, Any]] = []
    # observe, without freezing the test process or running a server loop that never ends
    monkeypatch.setattr(server, "tune_gc", lambda: calls.append(("tune_gc", None)))
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(("serve", app)))
    db = tmp_path / "server.db"

    assert main(["serve", "--db", str(db), "--port", "8799"]) == 0

    assert [name for name, _ in calls] == ["tune_gc", "serve"]
    app = calls[1][1]
    app.state.ctx.engine.dispose()
    assert app.state.ctx.settings.db_url == str(db)
    assert db.exists()  # the app (and its migrated database) existed before the tuning


@pytest.mark.parametrize(
    ("workers", "db"), [(2, "server.db"), (0, "server.db"), (0, "postgresql://u@localhost/x")]
)
def test_serve_refuses_workers_it_cannot_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    workers: int,
    db: str,
) -> None:
    """Several processes need PostgreSQL (a SQLite file has one writer); 0 is a typo."""
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    monkeypatch.chdir(tmp_path)

    assert main(["serve", "--db", db, "--workers", str(workers)]) == 2

    assert "PostgreSQL" in capsys.readouterr().err
    assert served == []
    assert not (tmp_path / "server.db").exists()  # nothing created


def test_set_offices_changes_the_scope_once_and_audits_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sqlalchemy import select

    from sync.server.db import accounts, audit, make_engine

    db = str(tmp_path / "server.db")
    monkeypatch.setenv("SAPAN_NEW_PASSWORD", "password-123")
    assert main(["server", "--db", db, "create-user", "dee", "--offices", "TAK-01"]) == 0
    capsys.readouterr()
    args = ["server", "--db", db, "set-offices", "dee", "--offices", "TAK-02", "--json"]
    assert main(args) == 0
    moved = json.loads(capsys.readouterr().out)
    assert moved["added"] == ["TAK-02"]
    assert moved["removed"] == ["TAK-01"]
    assert moved["scope_version"] == 2
    assert main(args) == 0  # the same offices again: no new version
    assert json.loads(capsys.readouterr().out)["changed"] is False
    assert main(["server", "--db", db, "set-offices", "nobody", "--offices", "X"]) != 0
    assert "nobody" in capsys.readouterr().err
    engine = make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(select(accounts.c.scope_version)).scalar_one() == 2
        details = [
            json.loads(d)
            for d in conn.scalars(
                select(audit.c.detail).where(audit.c.route == "server set-offices")
            )
        ]
    engine.dispose()
    assert details == [{"added": ["TAK-02"], "removed": ["TAK-01"], "scope_version": 2}]


@pytest.mark.parametrize(
    "options",
    [
        ["--ssl-certfile", "cert.pem"],
        ["--ssl-keyfile", "key.pem"],
        ["--ssl-certfile", "missing.pem", "--ssl-keyfile", "key.pem"],
        ["--ssl-certfile", ".", "--ssl-keyfile", "key.pem"],
    ],
)
def test_serve_refuses_tls_files_it_cannot_use_before_starting(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")

    assert main(["serve", "--db", "server.db", *options]) == 2

    assert "--ssl-certfile and --ssl-keyfile" in capsys.readouterr().err
    assert served == []
    assert not (tmp_path / "server.db").exists()


@pytest.mark.parametrize(
    ("options", "says", "warns"),
    [
        ([], "http://127.0.0.1:8799", False),
        (["--host", "127.0.0.2"], "http://127.0.0.2:8799", False),
        (["--host", "::1"], "http://[::1]:8799", False),
        (["--host", "LocalHost"], "http://LocalHost:8799", False),
        (["--host", "sync.example.org"], "http://sync.example.org:8799", True),
        (["--host", "0.0.0.0"], "http://0.0.0.0:8799", True),
        (["--host", "::"], "http://[::]:8799", True),
        (["--host", "0.0.0.0", "--tls"], "https://0.0.0.0:8799", False),
    ],
)
def test_serve_says_where_it_listens_and_warns_of_plain_http_beyond_this_computer(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    says: str,
    warns: bool,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(server, "tune_gc", lambda: None)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw | {"app": app}))
    (tmp_path / "cert.pem").write_text("cert")
    (tmp_path / "key.pem").write_text("key")
    if "--tls" in options:
        options = [o for o in options if o != "--tls"]
        options += ["--ssl-certfile", str(tmp_path / "cert.pem")]
        options += ["--ssl-keyfile", str(tmp_path / "key.pem")]

    assert main(["serve", "--db", str(tmp_path / "s.db"), "--port", "8799", *options]) == 0

    [call] = calls
    call["app"].state.ctx.engine.dispose()
    said = capsys.readouterr().err
    assert says in said
    assert ("HTTPS" in said) is warns
    assert (call["ssl_certfile"] is not None) is says.startswith("https")
    # which database, made new here (an operator who left out --db sees it at once)
    db = tmp_path / "s.db"
    assert said.startswith(f"A new, empty server database was made: {db}\n")
    assert f"\nServer database: {db}\n" in said


def test_the_database_may_be_named_after_the_command_and_an_unknown_file_is_not_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an administrator following server-operations.md: ``sapan server new-log
    --db URL`` was refused (--db belonged before the command), and a command run without
    the server's --db made a new empty database in the folder and said it succeeded."""
    import json

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SAPAN_SERVER_DB", raising=False)
    monkeypatch.setenv("SAPAN_NEW_PASSWORD", "password-123")
    db = str(tmp_path / "real.db")
    assert main(["server", "create-user", "ann", "--offices", "MS", "--db", db]) == 0
    capsys.readouterr()
    assert main(["server", "list-users", "--json", "--db", db]) == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)] == ["ann"]
    # after the command, it wins over the one before it
    assert main(["server", "--db", "elsewhere.db", "list-users", "--json", "--db", db]) == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)] == ["ann"]
    for command in (["prune"], ["new-log"], ["list-users"], ["revoke-device", "x"]):
        assert main(["server", *command]) == 2, command
        err = capsys.readouterr().err
        assert err.startswith(f"sapan: No server database at {tmp_path / 'sapan-server.db'}.")
        assert "sapan server --db FILE-OR-URL" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.db"]


def test_unlocking_something_that_is_not_an_address_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAPAN_NEW_PASSWORD", "password-123")
    db = str(tmp_path / "server.db")
    assert main(["server", "--db", db, "create-user", "ann", "--offices", "MS"]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "server", "--db", db, "unlock-address", "not-an-ip"]) == 0
    assert capsys.readouterr().out.startswith("not-an-ip is not a network address (such as")
    assert main(["--lang", "en", "server", "--db", db, "unlock-address", "192.0.2.7"]) == 0
    assert "was neither waiting nor counting" in capsys.readouterr().out


def test_new_log_counts_requests_not_administrators_commands(tmp_path: Path) -> None:
    """What tells ``new-log`` a server is still serving: the newest request answered,
    not the administrator's own commands logged beside them."""
    from sync.server import admin
    from sync.server.db import audit, make_engine
    from sync.server.migrate import upgrade

    engine = make_engine(str(tmp_path / "server.db"))
    upgrade(engine)
    assert admin.last_request(engine) is None
    with engine.begin() as conn:
        row = {"account": "", "route": "/v1/pull", "status": 200, "detail": "{}"}
        conn.execute(
            audit.insert(), [row | {"at": "2026-11-25T10:00:00.000+00:00", "method": "GET"}]
        )
    admin.new_log(engine)  # an ADMIN row after it
    assert admin.last_request(engine) == "2026-11-25T10:00:00.000+00:00"
    engine.dispose()
    server._not_serving("2026-11-25T10:00:00.000+00:00", None, False)  # long ago: goes on
    # a server's connections open (PostgreSQL names them): refused, however long ago
    with pytest.raises(UserError) as refused:
        server._not_serving("2026-11-25T10:00:00.000+00:00", 2, False)
    assert refused.value.code == "sync.server.still_connected"
    server._not_serving(None, 2, True)  # --force


def test_an_administrator_manages_accounts_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staff come and go: list accounts, promote, disable and enable, reset a password;
    each change is in the audit log, and a mistake is one clear line with exit code 2."""
    import json

    from sqlalchemy import select

    from sync.server.db import accounts, audit, make_engine

    db = str(tmp_path / "server.db")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["server", "--db", db, *args])
        out, err = capsys.readouterr()
        return code, out, err

    monkeypatch.setenv("SAPAN_NEW_PASSWORD", "password-123")
    assert run("create-user", "dee", "--offices", "TAK-01")[0] == 0
    assert run("create-user", "eve", "--role", "coordinator", "--offices", "TAK-01,TAK-02")[0] == 0

    code, out, _ = run("list-users", "--json")
    assert code == 0
    assert [(u["username"], u["role"], u["offices"], u["disabled"]) for u in json.loads(out)] == [
        ("dee", "caseworker", ["TAK-01"], False),
        ("eve", "coordinator", ["TAK-01", "TAK-02"], False),
    ]

    code, out, _ = run("set-role", "dee", "coordinator", "--json")
    assert (code, json.loads(out)["offices"]) == (0, ["TAK-01"])
    assert run("set-role", "dee", "admin")[0] == 0
    code, _, err = run("set-role", "dee", "caseworker")
    assert code == 2
    assert "--offices" in err  # leaving admin: which offices to keep
    assert run("set-role", "dee", "caseworker", "--offices", "TAK-03")[0] == 0

    code, out, _ = run("disable-user", "dee")
    assert code == 0
    assert "dee" in out
    code, out, _ = run("list-users")
    assert "DISABLED" in out.splitlines()[0]
    assert "DISABLED" not in out.splitlines()[1]
    assert run("enable-user", "dee")[0] == 0
    # an account waiting after wrong passwords says until when, and how to lift it
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET locked_until = '2999-01-01T00:00:00.000+00:00'"))
    engine.dispose()
    code, out, _ = run("list-users")
    assert "registering waits until 2999-01-01T00:00:00 UTC (set-password lifts it)" in out
    assert json.loads(run("list-users", "--json")[1])[0]["locked_until"].startswith("2999")
    code, _, err = run("disable-user", "nobody")
    assert (code, "nobody" in err) == (2, True)

    # in a script with no password given: the message names the variable, nothing changes
    monkeypatch.delenv("SAPAN_NEW_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run("set-password", "dee")
    assert (code, "SAPAN_NEW_PASSWORD" in err, "store" in err) == (2, True, False)
    # a password typed at the terminal is asked twice; two that differ change nothing
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    typed = iter(["new-password-1", "new-password-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    engine = make_engine(db)
    with engine.connect() as conn:
        before = conn.scalar(select(accounts.c.password_hash).where(accounts.c.username == "dee"))
    code, _, err = run("set-password", "dee")
    assert (code, "differ" in err) == (2, True)
    typed = iter(["new-password-1", "new-password-1"])
    assert run("set-password", "dee")[0] == 0
    with engine.connect() as conn:
        after = conn.scalar(select(accounts.c.password_hash).where(accounts.c.username == "dee"))
        logged = conn.execute(select(audit.c.route, audit.c.account, audit.c.detail)).all()
    engine.dispose()
    assert before != after
    assert [route for route, who, _ in logged if who == "dee"] == [
        "server create-user",
        "server set-role",  # coordinator
        *["server set-role"] * 2,  # admin: the role, then its scope (every office)
        *["server set-role"] * 2,  # caseworker again: the role, then TAK-03
        "server disable-user",
        "server enable-user",
        "server set-password",
    ]
    assert not any("new-password" in detail for _, _, detail in logged)


def test_an_administrator_sees_and_lifts_an_address_waiting_after_wrong_sign_ins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An office says no laptop can register: ``list-addresses`` shows its router's
    address waiting after wrong user names or passwords, ``unlock-address`` lifts it
    (audited, without the address), in the administrator's language."""
    import json

    from sqlalchemy import select, text

    from sync.server.db import audit, make_engine

    db = str(tmp_path / "server.db")

    def run(*args: str, lang: str = "en") -> tuple[int, str, str]:
        code = main(["--lang", lang, "server", "--db", db, *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, _out, err = run("list-addresses")  # no server database there: none is made
    assert (code, err.startswith(f"sapan: No server database at {db}.")) == (2, True)
    assert not Path(db).exists()
    monkeypatch.setenv("SAPAN_NEW_PASSWORD", "password-123")
    # the first account may make one, and says so
    code, _out, err = run("create-user", "ann", "--offices", "MS")
    assert (code, err) == (0, f"A new, empty server database was made: {db}\n")
    assert run("list-addresses") == (0, "-\n", "")
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sign_in_addresses VALUES ('198.51.100.7', 23, :since, :until),"
                " ('203.0.113.9', 2, :since, NULL)"
            ),
            {"since": "2999-01-01T00:00:00.000+00:00", "until": "2999-01-01T00:30:00.000+00:00"},
        )
    code, out, _ = run("list-addresses")
    assert code == 0
    first, second = out.splitlines()
    assert first.startswith("198.51.100.7 ")
    assert first.endswith(
        "23 wrong user names or passwords since 2999-01-01T00:00:00 UTC"
        "  registering waits until 2999-01-01T00:30:00 UTC (unlock-address lifts it)"
    )
    assert second.endswith("2 wrong user names or passwords since 2999-01-01T00:00:00 UTC")
    listed = json.loads(run("list-addresses", "--json")[1])
    assert [(a["address"], a["failures"]) for a in listed] == [
        ("198.51.100.7", 23),
        ("203.0.113.9", 2),
    ]
    assert "ต้องรอถึง 2999-01-01T00:30:00 UTC" in run("list-addresses", lang="th")[1]

    code, out, _ = run("unlock-address", "198.51.100.7", lang="th")
    assert (code, out) == (0, "198.51.100.7 ลงทะเบียนอุปกรณ์ได้อีกครั้งทันที การนับครั้งที่ผิดเริ่มใหม่\n")
    assert json.loads(run("unlock-address", "198.51.100.7", "--json")[1]) == {
        "address": "198.51.100.7",
        "unlocked": False,
    }
    assert [a["address"] for a in json.loads(run("list-addresses", "--json")[1])] == ["203.0.113.9"]
    with engine.connect() as conn:
        logged = conn.execute(select(audit.c.route, audit.c.detail)).all()
    engine.dispose()
    assert [tuple(r) for r in logged if "address" in r.route] == [("server unlock-address", "{}")]


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("postgresql://admin:s3cret@127.0.0.1:1/sapan", "Connection refused"),
        ("{tmp}/no/such/folder/server.db", "unable to open database file"),
        ("{tmp}/notes.txt", "file is not a database"),
        ("mysql://admin:s3cret@localhost/sapan", "only a SQLite file or a postgresql:// URL"),
        ("sqlite://", "a database in memory keeps nothing"),  # was a trace, no table
        ("sqlite:///:memory:", "a database in memory keeps nothing"),
        ("postgresql://a b@@/x:y", "connection"),  # not a URL a driver reads: no trace
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["server", "list-users"]])
def test_a_database_that_cannot_be_used_is_one_clear_line_and_nothing_is_touched(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    db: str,
    says: str,
    command: list[str],
) -> None:
    """PostgreSQL down, a mistyped folder, the wrong file: exit code 2 and one line naming
    the database (its password left out) and the cause; no trace, no server listening,
    and a file that is not a database is left as it was."""
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"not a database, but someone's notes\n" * 100)
    db = db.format(tmp=tmp_path)
    first, *rest = command
    args = [first, "--db", db, *rest] if rest else [first, "--db", db, "--port", "8799"]

    assert main(args) == 2

    out, err = capsys.readouterr()
    if first == "server" and "no/such" in db:  # an administrator's command makes none
        assert err.startswith(f"sapan: No server database at {db}.")
    else:
        assert err.startswith("sapan: Cannot use the server database")
        assert says in err
    assert "s3cret" not in err
    assert "Traceback" not in err
    assert "listening" not in out + err
    assert served == []
    assert notes.read_bytes() == b"not a database, but someone's notes\n" * 100
    assert not (tmp_path / "no").exists()


def test_a_port_another_program_holds_is_said_before_listening(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(app))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["serve", "--db", str(tmp_path / "s.db"), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot listen on 127.0.0.1:{port}" in err
    assert "http://" not in err  # no "serving on …" first
    assert started == []
    assert not (tmp_path / "s.db").exists()  # refused before the database was touched


def test_a_request_waiting_for_the_write_lock_holds_up_no_other_connection(
    tmp_path: Path,
) -> None:
    """Found by a security test: each request's audit record was written on the event
    loop, so on SQLite, while a long push held the write lock, every connection waited:
    a bare ``GET /v1/info`` for 20 s, even a malformed request uvicorn answers itself.
    The record now waits in a worker thread; the server goes on answering meanwhile."""
    import sqlite3
    import threading
    import time

    import httpx

    from tests.cli.conftest import serving

    db = tmp_path / "server.db"
    with serving(db) as url:
        port = int(url.rsplit(":", 1)[1])
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # as a long push holds it
        answers: list[int] = []
        waiting = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{url}/v1/info").status_code)
        )
        try:
            waiting.start()
            time.sleep(0.5)  # its record now waits for the lock
            began = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(b"BLAH\r\n\r\n")
                said = raw.recv(100)
            took = time.monotonic() - began
            assert said.startswith(b"HTTP/1.1 400"), said
            assert took < 2.0, took  # answered while the other request waited
            assert answers == []  # still waiting for its audit record
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            waiting.join(30)
        assert answers == [200]  # and answered once the lock was free
