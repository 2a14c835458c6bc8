"""``sapan serve`` and ``sapan server ...``: run the sync server and administer it."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import getpass
import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.common import Cli, add_json_option
from desktop.domain.errors import UserError
from desktop.domain.gc_tuning import tune_gc
from desktop.domain.i18n import text

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_DB = "sapan-server.db"
DB_HELP = (
    "the server database: a SQLite file (default: sapan-server.db in this folder, or"
    " SAPAN_SERVER_DB) or postgresql://user:password@host:port/db"
)
ROLES = ["caseworker", "coordinator", "office", "admin"]
# ``new-log`` refuses while the audit log shows a request answered this recently (a
# server still serving keeps the old log's id until it restarts), unless ``--force``
SERVING_SECONDS = 120
PASSWORD_HELP = (
    "The password is asked twice at the terminal, or taken from SAPAN_NEW_PASSWORD (for"
    " scripts); at least 8 characters."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="run the sync server (uvicorn)")
    serve.add_argument("--db", default=os.environ.get("SAPAN_SERVER_DB", DEFAULT_DB), help=DB_HELP)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this computer only; 0.0.0.0:"
        " every network it is on)",
    )
    serve.add_argument("--port", type=int, default=8765, help="default: 8765")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (more than 1: PostgreSQL only)"
    )
    serve.add_argument("--ssl-certfile", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    serve.set_defaults(handler=run_serve)

    server = subparsers.add_parser("server", help="administer the sync server database")
    server.add_argument("--db", default=os.environ.get("SAPAN_SERVER_DB", DEFAULT_DB), help=DB_HELP)
    # ``--db`` after the command too (``sapan server new-log --db URL``): there it
    # overrides the one given before, or the default, and is left out when not given
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
    sub = server.add_subparsers(dest="server_command", metavar="SUBCOMMAND", required=True)
    add_parser = functools.partial(sub.add_parser, parents=[database])
    create = add_parser("create-user", help="create an account", epilog=PASSWORD_HELP)
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="caseworker")
    create.add_argument("--offices", default="", help="comma-separated office codes (scope)")
    create.set_defaults(handler=run_create_user)
    listing = add_parser("list-devices", help="list registered devices")
    listing.add_argument("--user", default=None)
    add_json_option(listing)
    listing.set_defaults(handler=run_list_devices)
    scope = add_parser(
        "set-offices", help="change an account's offices (its devices catch up at next sync)"
    )
    scope.add_argument("username")
    scope.add_argument(
        "--offices", required=True, help="comma-separated office codes; * for every office"
    )
    add_json_option(scope)
    scope.set_defaults(handler=run_set_offices)
    revoke = add_parser("revoke-device", help="refuse a device from now on")
    revoke.add_argument("device_id")
    revoke.set_defaults(handler=run_revoke)
    prune = add_parser("prune", help="drop bookkeeping no device needs any more (run now and then)")
    add_json_option(prune)
    prune.set_defaults(handler=run_prune)
    new_log = add_parser(
        "new-log",
        help="after restoring the database from a backup, before starting the server: "
        "devices that synced past the backup send again what they sent since, instead of "
        "skipping changes",
    )
    new_log.add_argument(
        "--force",
        action="store_true",
        help="run even though a server answered a request in the last two minutes",
    )
    add_json_option(new_log)
    new_log.set_defaults(handler=run_new_log)
    users = add_parser("list-users", help="list accounts")
    add_json_option(users)
    users.set_defaults(handler=run_list_users)
    role = add_parser("set-role", help="give an account another role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    role.add_argument(
        "--offices", default=None, help="comma-separated office codes (needed to leave admin)"
    )
    add_json_option(role)
    role.set_defaults(handler=run_set_role)
    for name, disabled, what in (
        ("disable-user", True, "refuse every device of an account (someone who left)"),
        ("enable-user", False, "let a disabled account's devices sync again"),
    ):
        switch = add_parser(name, help=what)
        switch.add_argument("username")
        switch.set_defaults(handler=run_set_disabled, disabled=disabled)
    password = add_parser(
        "set-password",
        help="give an account a new password (also lifts its wait after wrong passwords)",
        epilog=PASSWORD_HELP + " The same password again is fine.",
    )
    password.add_argument("username")
    password.set_defaults(handler=run_set_password)
    addresses = add_parser(
        "list-addresses",
        help="network addresses that gave wrong user names or passwords in the last hour",
    )
    add_json_option(addresses)
    addresses.set_defaults(handler=run_list_addresses)
    unlock = add_parser(
        "unlock-address", help="let an address that waits after wrong passwords register again"
    )
    unlock.add_argument("address")
    add_json_option(unlock)
    unlock.set_defaults(handler=run_unlock_address)


def run_serve(args: argparse.Namespace, cli: Cli) -> int:
    import uvicorn

    from sync.server.app import KEEP_ALIVE_SECONDS, WORKER_DB_ENV, Settings, create_app
    from sync.server.db import normalise_url

    if args.workers < 1 or (
        args.workers > 1 and not normalise_url(args.db).startswith("postgresql")
    ):
        # several processes share one PostgreSQL; a SQLite file has one writer at a time
        raise UserError("sync.server.workers", workers=args.workers)
    cert, key = _tls(args)
    _port_free(args.host, args.port)
    # a database that cannot be used is said before listening; a new SQLite file, made
    engine = _engine(args, made=cli, serving=True)
    _announce(args, cli, tls=cert is not None)
    if args.workers > 1:
        engine.dispose()  # migrated once here, not by each worker
        os.environ[WORKER_DB_ENV] = args.db
        uvicorn.run(
            "sync.server.app:worker_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        return 0
    app = create_app(Settings(db_url=args.db, migrate=False), engine=engine)  # migrated above
    tune_gc()  # start-up is done: later collections skip its objects (each process its own)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def _tls(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The certificate and key files to serve HTTPS with: both or neither, each readable
    (checked before the server starts, so a typo is one clear line, not ssl's trace)."""
    cert, key = args.ssl_certfile, args.ssl_keyfile
    if cert is None and key is None:
        return None, None
    for path in (cert, key):
        if path is None or not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise UserError("sync.server.tls_files", path=path or "-")
    return cert, key


def _port_free(host: str, port: int) -> None:
    """Refuse a port another program holds (or one this account may not use) before the
    server says it listens: uvicorn would announce nothing and end on a bind error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return  # a name this computer cannot resolve: the server's own bind says so
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # as uvicorn binds; on Windows the option would steal the port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            detail = exc.strerror or str(exc)
            raise UserError("sync.server.port_busy", host=host, port=port, detail=detail) from exc


def _announce(args: argparse.Namespace, cli: Cli, *, tls: bool) -> None:
    """Where the server listens; a note when it serves plain HTTP beyond this computer."""
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"{'https' if tls else 'http'}://{host}:{args.port}"
    cli.info(text("sync.server.serving", cli.lang, url=url))
    cli.info(text("sync.server.database", cli.lang, db=_shown_db(args.db)))
    if not tls and not _loopback(args.host):
        cli.info(text("sync.server.plain_http", cli.lang))


def _loopback(host: str) -> bool:
    """True when ``host`` is this computer only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may well be reachable from elsewhere


@contextmanager
def _database(args: argparse.Namespace, made: Cli | None = None) -> Iterator[Engine]:
    """The server database of ``--db``, migrated, for one administrator's command.

    A SQLite file that does not exist is refused (a command given without the ``--db``
    the server uses would otherwise answer from a new, empty database in this folder and
    say it succeeded), except for a command that may make the server's first account:
    ``made`` says there that a new database was made."""
    engine = _engine(args, made)
    try:
        yield engine
    finally:
        engine.dispose()


def _engine(args: argparse.Namespace, made: Cli | None = None, *, serving: bool = False) -> Engine:
    """The server database of ``--db``, migrated; one clear line when it cannot be used
    (PostgreSQL not running or refusing, a folder that does not exist, a file that is not
    a database), with any password in the URL left out. A SQLite file that does not
    exist yet is made only with ``made`` (the command that says so), else refused."""
    from sqlalchemy.exc import ArgumentError, DatabaseError

    from sync.server.db import ADMIN_NAME, SERVING_NAME, make_engine, normalise_url
    from sync.server.migrate import upgrade

    url = normalise_url(args.db)
    if "://" in args.db and not url.startswith(("sqlite", "postgresql")):
        reason = "only a SQLite file or a postgresql:// URL"
        raise UserError("sync.server.db_unusable", db=_shown_url(args.db), reason=reason)
    database = _sqlite_database(url)
    if database == "":
        reason = "a database in memory keeps nothing"
        raise UserError("sync.server.db_unusable", db=args.db, reason=reason)
    new = Path(database).resolve() if database is not None else None
    if new is not None and new.exists():
        new = None  # there already: opened, never made
    if new is not None and made is None:
        raise UserError("sync.server.no_database", db=str(new))
    engine: Engine | None = None
    try:
        engine = make_engine(args.db, SERVING_NAME if serving else ADMIN_NAME)
        upgrade(engine)
    except (ArgumentError, DatabaseError) as exc:
        if engine is not None:
            engine.dispose()
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise UserError(
            "sync.server.db_unusable", db=_shown_url(args.db), reason=cause[0] if cause else "?"
        ) from exc
    if new is not None and made is not None:
        made.info(text("sync.server.database_made", made.lang, db=str(new)))
    return engine


def _sqlite_database(url: str) -> str | None:
    """The file a SQLite database URL names, ``""`` for a database in memory; None for
    another backend, or a URL that does not read (opening it says so)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    return "" if parsed.database in (None, "", ":memory:") else parsed.database


def _shown_db(db: str) -> str:
    """``--db`` as the server's start names it: a SQLite file by its whole path."""
    return _shown_url(db) if "://" in db else str(Path(db).resolve())


def _shown_url(url: str) -> str:
    """``--db`` as it may be printed: a database URL without its password."""
    if "://" not in url:
        return url  # a SQLite file
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://…"


def run_create_user(args: argparse.Namespace, cli: Cli) -> int:
    from sync.protocol import Role
    from sync.server import admin
    from sync.server.auth import make_hasher

    password = _new_password(f"Password for {args.username}: ")
    with _database(args, made=cli) as engine:
        admin.create_user(
            engine, make_hasher(), args.username, password, Role(args.role), args.offices.split(",")
        )
    cli.emit(
        {"username": args.username},
        text("sync.server.user_created", cli.lang, username=args.username),
    )
    return 0


def _new_password(prompt: str) -> str:
    """A new account password: ``SAPAN_NEW_PASSWORD`` (scripts), else asked twice at the
    terminal, so a typo does not lock someone out."""
    password = os.environ.get("SAPAN_NEW_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise UserError("sync.server.new_password_needed")
    password = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != password:
        raise UserError("sync.server.passwords_differ")
    return password


def run_list_devices(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        devices = admin.list_devices(engine, args.user)
    lines = [
        f"{d['device_id']}  {d['username']:<16} {d['name']:<20} {d['created_at']}"
        + ("  REVOKED" if d["revoked_at"] else "")
        for d in devices
    ]
    cli.emit(devices, "\n".join(lines) if lines else "-")
    return 0


def run_set_offices(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        change = admin.set_offices(engine, args.username, args.offices.split(","))
    key = "sync.server.offices_set" if change.changed else "sync.server.offices_unchanged"
    cli.emit(
        {
            "username": change.username,
            "offices": change.after,
            "added": change.added,
            "removed": change.removed,
            "scope_version": change.scope_version,
            "changed": change.changed,
        },
        text(
            key,
            cli.lang,
            username=change.username,
            offices=", ".join(change.after),
            version=change.scope_version,
        ),
    )
    return 0


def run_revoke(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        admin.revoke_device(engine, args.device_id)
    cli.emit(
        {"revoked": args.device_id}, text("sync.server.revoked", cli.lang, device=args.device_id)
    )
    return 0


def run_prune(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        pruned = admin.prune(engine)
    cli.emit(
        {
            "last_sent_removed": pruned.last_sent_removed,
            "last_sent_kept": pruned.last_sent_kept,
            "addresses_forgotten": pruned.addresses_forgotten,
        },
        text(
            "sync.server.pruned",
            cli.lang,
            removed=pruned.last_sent_removed,
            kept=pruned.last_sent_kept,
        ),
    )
    return 0


def run_new_log(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        _not_serving(admin.last_request(engine), admin.servers_connected(engine), args.force)
        made = admin.new_log(engine)
    said = text(
        "sync.server.new_log",
        cli.lang,
        log=made.log.log,
        head=made.log.parent_head,
        block=made.case_blocks_from,
    )
    cli.emit(made.as_dict(), said)
    return 0


def _not_serving(last: str | None, connected: int | None, force: bool) -> None:
    """Refuse a new log while a server may still be serving: a server process holds
    connections to the database (``connected``: PostgreSQL names them; None on SQLite),
    or the audit log shows a request answered in the last :data:`SERVING_SECONDS`
    (``last``: ISO, UTC). Such a server keeps the old log's id until it restarts, and
    devices that sync meanwhile go on under it."""
    if force:
        return
    if connected:
        raise UserError("sync.server.still_connected", count=connected)
    if last is None:
        return
    ago = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(last)).total_seconds()
    if ago < SERVING_SECONDS:
        raise UserError("sync.server.still_serving", at=last[:19], seconds=max(0, round(ago)))


def run_list_users(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        users = admin.list_users(engine)
    disabled = text("sync.server.disabled_mark", cli.lang)
    lines = [
        f"{u['username']:<16} {u['role']:<12} {','.join(u['offices']):<24} "
        + text("sync.server.devices_in_use", cli.lang, count=u["devices"])
        + (f"  {disabled}" if u["disabled"] else "")
        + _waits("sync.server.locked_mark", u["locked_until"], cli.lang)
        for u in users
    ]
    cli.emit(users, "\n".join(lines) if lines else "-")
    return 0


def run_list_addresses(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        found = admin.list_addresses(engine)
    lines = [
        f"{a['address']:<40} "
        + text("sync.server.address_tries", cli.lang, count=a["failures"], since=a["since"][:19])
        + _waits("sync.server.address_waits", a["locked_until"], cli.lang)
        for a in found
    ]
    cli.emit(found, "\n".join(lines) if lines else "-")
    return 0


def _waits(key: str, until: str | None, lang: str) -> str:
    """A listing's note of registering waiting until ``until`` (UTC, to the second)."""
    return "  " + text(key, lang, until=until[:19]) if until else ""


def run_unlock_address(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        lifted = admin.unlock_address(engine, args.address)
    if lifted:
        key = "sync.server.address_unlocked"
    elif _is_address(args.address):
        key = "sync.server.address_not_counted"
    else:  # a typo, or not an address at all (a proxy passing junk is counted as it is)
        key = "sync.server.not_an_address"
    cli.emit(
        {"address": args.address, "unlocked": lifted}, text(key, cli.lang, address=args.address)
    )
    return 0


def _is_address(text_: str) -> bool:
    try:
        ipaddress.ip_address(text_)
    except ValueError:
        return False
    return True


def run_set_role(args: argparse.Namespace, cli: Cli) -> int:
    from sync.protocol import Role
    from sync.server import admin

    offices = args.offices.split(",") if args.offices is not None else None
    with _database(args) as engine:
        change = admin.set_role(engine, args.username, Role(args.role), offices)
    cli.emit(
        {"username": args.username, "role": args.role, "offices": change.after},
        text(
            "sync.server.role_set",
            cli.lang,
            username=args.username,
            role=args.role,
            offices=", ".join(change.after),
        ),
    )
    return 0


def run_set_disabled(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin

    with _database(args) as engine:
        changed = admin.set_disabled(engine, args.username, args.disabled)
    key = "sync.server.user_disabled" if args.disabled else "sync.server.user_enabled"
    cli.emit(
        {"username": args.username, "disabled": args.disabled, "changed": changed},
        text(key, cli.lang, username=args.username),
    )
    return 0


def run_set_password(args: argparse.Namespace, cli: Cli) -> int:
    from sync.server import admin
    from sync.server.auth import make_hasher

    password = _new_password(f"New password for {args.username}: ")
    with _database(args) as engine:
        admin.set_password(engine, make_hasher(), args.username, password)
    cli.emit(
        {"username": args.username},
        text("sync.server.password_set", cli.lang, username=args.username),
    )
    return 0
