"""``sapan serve``: the server app is built, the collector tuned, then uvicorn serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from desktop.cli import main, server


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
        details = [json.loads(d) for d in conn.scalars(select(audit.c.detail))]
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
