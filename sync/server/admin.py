"""Administration used by the ``sapan server`` commands: accounts and devices."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, Row, func, select, text

from desktop.domain.catalogue import ENTITIES
from desktop.domain.errors import UserError
from sync.protocol import MAX_PASSWORD, MAX_USERNAME, PREFIX, Role
from sync.server.auth import ALL_OFFICES, forget_addresses, now_iso
from sync.server.db import (
    SERVING_NAME,
    LogId,
    accounts,
    audit,
    devices,
    last_sent,
    new_log_id,
    sign_in_addresses,
    skip_case_blocks,
)

# the shortest password an account may have; an office code as rows carry it
MIN_PASSWORD = 8
OFFICE_LENGTH = ENTITIES["person"].fields["office"].max_length or 32


def create_user(
    engine: Engine,
    hasher: PasswordHasher,
    username: str,
    password: str,
    role: Role,
    offices: Iterable[str],
) -> int:
    """Create an account; ``offices`` is its scope (a coordinator's region is its offices)."""
    _check_username(username)
    scope = [ALL_OFFICES] if role is Role.ADMIN else _scope(offices)
    _check_password(password)
    with engine.begin() as conn:
        exists = conn.execute(select(accounts.c.id).where(accounts.c.username == username)).first()
        if exists is not None:
            raise UserError("sync.server.user_exists", username=username)
        result = conn.execute(
            accounts.insert().values(
                username=username,
                password_hash=hasher.hash(password),
                role=role.value,
                offices=json.dumps(scope),
                disabled=False,
                created_at=now_iso(),
            )
        )
        key = result.inserted_primary_key
        _audit(conn, username, "server create-user", {"offices": scope, "role": role.value})
        return int(key[0]) if key is not None else 0


def list_devices(engine: Engine, username: str | None = None) -> list[dict[str, Any]]:
    """Every registered device (optionally of one account), newest first."""
    query = select(
        devices.c.id,
        devices.c.name,
        devices.c.created_at,
        devices.c.revoked_at,
        accounts.c.username,
    ).join(accounts, accounts.c.id == devices.c.account_id)
    if username:
        query = query.where(accounts.c.username == username)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(devices.c.created_at.desc())).all()
    return [
        {
            "device_id": r.id,
            "name": r.name,
            "username": r.username,
            "created_at": r.created_at,
            "revoked_at": r.revoked_at,
        }
        for r in rows
    ]


def revoke_device(engine: Engine, device_id: str) -> None:
    """Refuse the device from now on; it is told to wipe its local store. What it last
    sent for steps (``last_sent``) is dropped: it will never push again."""
    with engine.begin() as conn:
        result = conn.execute(
            devices.update()
            .where(devices.c.id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now_iso())
        )
        if result.rowcount == 0:
            raise UserError("sync.server.no_such_device", device_id=device_id)
        conn.execute(last_sent.delete().where(last_sent.c.device_id == device_id))
        username = conn.scalar(
            select(accounts.c.username)
            .join(devices, devices.c.account_id == accounts.c.id)
            .where(devices.c.id == device_id)
        )
        _audit(conn, username or "", "server revoke-device", {}, device_id=device_id)


@dataclass(frozen=True)
class NewLog:
    """What :func:`new_log` did: the log's new identity, and the first case-number block
    devices are given from now on."""

    log: LogId
    case_blocks_from: int

    def as_dict(self) -> dict[str, Any]:
        """What the audit log and ``sapan server new-log --json`` record of it."""
        return {
            "log_id": self.log.log,
            "parent_log": self.log.parent,
            "parent_head": self.log.parent_head,
            "case_blocks_from": self.case_blocks_from,
        }


def new_log(engine: Engine) -> NewLog:
    """Give the change log a new identity (:func:`sync.server.db.new_log_id`) and skip
    case-number blocks the restored database may have given and forgotten
    (:func:`sync.server.db.skip_case_blocks`).

    For a database restored from a backup: devices that synced after the backup was made
    hold cursors past what it kept, and would skip the changes numbered anew up to them.
    Under a new id, which names the log it continues and its head, they send again what
    they sent past that head and pull on from there (one that no longer keeps it stops
    and asks its person to register again); devices that had not synced past the backup
    go on (docs/sync-protocol.md §3).
    Run it with the server processes stopped: each reads the id when it starts."""
    with engine.begin() as conn:
        made = NewLog(new_log_id(conn), skip_case_blocks(conn))
        _audit(conn, "", "server new-log", made.as_dict())
    return made


def last_request(engine: Engine) -> str | None:
    """When the server last answered a request (its newest audit record that is not an
    administrator's: ISO, UTC), or None: how :func:`new_log`'s command tells a server
    still serving (one key read from the end of the log)."""
    with engine.connect() as conn:
        return conn.execute(
            select(audit.c.at).where(audit.c.method != "ADMIN").order_by(audit.c.id.desc()).limit(1)
        ).scalar_one_or_none()


def servers_connected(engine: Engine) -> int | None:
    """How many connections of server processes (``sapan serve``) are open to this
    database besides this one: PostgreSQL names them (``db.SERVING_NAME``), and a
    server keeps its pool's open while it runs, idle or not. None on SQLite, which
    cannot tell."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": SERVING_NAME},
            ).scalar_one()
        )


@dataclass(frozen=True)
class Pruned:
    """What :func:`prune` dropped, and what it kept."""

    last_sent_removed: int
    last_sent_kept: int
    # addresses whose hour of counting wrong sign-ins and wait were over
    addresses_forgotten: int = 0


# The route of a pull in the audit log, whose ``since`` is a cursor its device had committed.
PULL_ROUTE = f"{PREFIX}/pull"


def prune(engine: Engine) -> Pruned:
    """Drop the bookkeeping no device needs any more, in one transaction.

    What a device last sent for a step's state or data (``last_sent``) is read only for
    an edit it makes before it has pulled that value back (``ingest._last_sent``); once
    it has pulled past the value's ``seq`` its edits carry a base version at or beyond
    it, and the row is never read again. A device's cursor is the highest ``since`` of
    its answered pulls in the audit log (a device commits a page and its cursor
    together, so it asks from there only once it holds everything before); a device
    with no pull in the log keeps all its rows.
    """
    with engine.begin() as conn:
        pulled: dict[str, int] = {}
        for device_id, detail in conn.execute(
            select(audit.c.device_id, audit.c.detail).where(
                audit.c.route == PULL_ROUTE,
                audit.c.status == 200,
                audit.c.device_id.is_not(None),
            )
        ):
            since = json.loads(detail or "{}").get("since")
            if isinstance(since, int) and since > pulled.get(device_id, 0):
                pulled[device_id] = since
        removed = 0
        for device_id, cursor in sorted(pulled.items()):
            removed += conn.execute(
                last_sent.delete().where(
                    last_sent.c.device_id == device_id, last_sent.c.seq <= cursor
                )
            ).rowcount
        kept = conn.scalar(select(func.count()).select_from(last_sent)) or 0
        forgotten = forget_addresses(conn, dt.datetime.now(dt.UTC))
        _audit(
            conn,
            "",
            "server prune",
            {"last_sent_removed": removed, "last_sent_kept": kept, "addresses": forgotten},
        )
        return Pruned(removed, kept, forgotten)


@dataclass(frozen=True)
class ScopeChange:
    """What :func:`set_offices` did: the account's offices before and after, and the
    scope version its devices now pull under (unchanged when the offices were)."""

    username: str
    before: list[str]
    after: list[str]
    scope_version: int

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def added(self) -> list[str]:
        return sorted(set(self.after) - set(self.before))

    @property
    def removed(self) -> list[str]:
        return sorted(set(self.before) - set(self.after))


def set_offices(engine: Engine, username: str, offices: Iterable[str]) -> ScopeChange:
    """Make ``offices`` the scope of a caseworker's, coordinator's or office account
    (``*`` alone: every office) and record the change in the audit log.

    A change bumps the account's scope version, so each of its devices, at its next
    pull, fetches the existing rows of the offices it gained and drops those of the
    offices it lost (docs/sync-protocol.md §6). The same offices again change nothing.
    An administrator's scope is every office and cannot be narrowed.
    """
    scope = _scope(offices)
    with engine.begin() as conn:
        row = _account(conn, username)
        if row.role == Role.ADMIN.value:
            raise UserError("sync.server.admin_scope", username=username)
        return _rescope(conn, row, scope, "server set-offices")


def set_role(
    engine: Engine, username: str, role: Role, offices: Iterable[str] | None = None
) -> ScopeChange:
    """Give an account another role (a caseworker made coordinator, say), audited.

    An administrator's scope is every office, so making one widens the account's scope,
    and taking the role back needs the ``offices`` it keeps; either way its devices
    catch up at their next pull, as after :func:`set_offices`. The same role again
    changes nothing. Devices learn a new role when they next ask (``GET /v1/me``).
    """
    with engine.begin() as conn:
        row = _account(conn, username)
        before = sorted(json.loads(row.offices))
        if role is Role.ADMIN:
            scope = [ALL_OFFICES]
        elif offices is not None:
            scope = _scope(offices)
        elif row.role == Role.ADMIN.value:
            raise UserError("sync.server.offices_required")
        else:
            scope = before
        if row.role != role.value:
            conn.execute(accounts.update().where(accounts.c.id == row.id).values(role=role.value))
            _audit(conn, username, "server set-role", {"from": row.role, "to": role.value})
        return _rescope(conn, row, scope, "server set-role")


def set_disabled(engine: Engine, username: str, disabled: bool) -> bool:
    """Disable an account (someone who left) or enable it again; True when it changed.

    Every device of a disabled account is refused (``403``, errno 114) and keeps what it
    has not sent, so enabling the account lets that work through; to have a device wipe
    itself, revoke it. A disabled account cannot register new devices.
    """
    with engine.begin() as conn:
        row = _account(conn, username)
        if bool(row.disabled) == disabled:
            return False
        conn.execute(accounts.update().where(accounts.c.id == row.id).values(disabled=disabled))
        route = "server disable-user" if disabled else "server enable-user"
        _audit(conn, username, route, {})
    return True


def set_password(engine: Engine, hasher: PasswordHasher, username: str, password: str) -> None:
    """Give an account a new password (a forgotten one), audited; devices already
    registered keep their tokens, and new devices register with the new password."""
    _check_password(password)
    with engine.begin() as conn:
        row = _account(conn, username)
        conn.execute(
            accounts.update()
            .where(accounts.c.id == row.id)
            .values(password_hash=hasher.hash(password), failed_logins=0, locked_until=None)
        )
        _audit(conn, username, "server set-password", {})


def list_addresses(engine: Engine) -> list[dict[str, Any]]:
    """The network addresses counting wrong user names or passwords at registration
    (an hour from their first), most tries first: ``failures``, ``since`` and, while it
    must wait, ``locked_until`` (None otherwise)."""
    with engine.begin() as conn:
        forget_addresses(conn, dt.datetime.now(dt.UTC))
        rows = conn.execute(
            select(sign_in_addresses).order_by(
                sign_in_addresses.c.failures.desc(), sign_in_addresses.c.address
            )
        ).all()
    now = now_iso()
    return [
        {
            "address": r.address,
            "failures": r.failures,
            "since": r.since,
            "locked_until": _waiting(r.locked_until, now),
        }
        for r in rows
    ]


def unlock_address(engine: Engine, address: str) -> bool:
    """Let ``address`` register again at once, its count started over (an office's router
    that a mistyping colleague locked); audited. False when it was not counted."""
    with engine.begin() as conn:
        dropped = conn.execute(
            sign_in_addresses.delete().where(sign_in_addresses.c.address == address)
        ).rowcount
        if dropped:
            _audit(conn, "", "server unlock-address", {})
    return bool(dropped)


def _waiting(locked_until: str | None, now: str) -> str | None:
    """``locked_until`` while it is still to come (both ISO, UTC), else None."""
    return locked_until if (locked_until or "") > now else None


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every account by name: role, offices, whether disabled, its devices in use, and
    until when registering with it waits after wrong passwords (``locked_until``, None
    when it does not)."""
    active = (
        select(devices.c.account_id, func.count().label("n"))
        .where(devices.c.revoked_at.is_(None))
        .group_by(devices.c.account_id)
        .subquery()
    )
    query = (
        select(accounts, func.coalesce(active.c.n, 0).label("devices"))
        .outerjoin(active, active.c.account_id == accounts.c.id)
        .order_by(accounts.c.username)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    now = now_iso()
    return [
        {
            "username": r.username,
            "role": r.role,
            "offices": json.loads(r.offices),
            "disabled": bool(r.disabled),
            "devices": int(r.devices),
            "created_at": r.created_at,
            "locked_until": _waiting(r.locked_until, now),
        }
        for r in rows
    ]


def _scope(offices: Iterable[str]) -> list[str]:
    scope = sorted({o.strip() for o in offices if o.strip()})
    if not scope:
        raise UserError("sync.server.offices_required")
    for office in scope:
        # an office code as rows carry it (catalogue: 32 characters): one that no row can
        # carry would be a scope that never matches
        if len(office) > OFFICE_LENGTH or not office.isprintable() or " " in office:
            raise UserError("sync.server.bad_office", office=office[:40], maximum=OFFICE_LENGTH)
    return [ALL_OFFICES] if ALL_OFFICES in scope else scope  # every office: nothing beside it


def _check_username(username: str) -> None:
    """A name a device can register with (``POST /v1/devices`` takes 1 to 80 characters)."""
    if (
        not 1 <= len(username) <= MAX_USERNAME
        or not username.isprintable()
        or username != username.strip()
    ):
        raise UserError("sync.server.bad_username", maximum=MAX_USERNAME)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError("sync.server.password_too_short", minimum=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:  # registration refuses longer ones: never usable
        raise UserError("sync.server.password_too_long", maximum=MAX_PASSWORD)


def _account(conn: Connection, username: str) -> Row[Any]:
    """The account's row, locked for the transaction's change; a clear error if none."""
    row = conn.execute(
        select(accounts).where(accounts.c.username == username).with_for_update()
    ).first()
    if row is None:
        raise UserError("sync.server.no_such_user", username=username)
    return row


def _rescope(conn: Connection, row: Row[Any], scope: list[str], route: str) -> ScopeChange:
    """Make ``scope`` the account's offices, bumping its scope version when they change."""
    before = sorted(json.loads(row.offices))
    version = int(row.scope_version)
    change = ScopeChange(row.username, before, scope, version)
    if not change.changed:
        return change
    version += 1
    conn.execute(
        accounts.update()
        .where(accounts.c.id == row.id)
        .values(offices=json.dumps(scope), scope_version=version)
    )
    # office codes and the version: no person's data
    detail = {"added": change.added, "removed": change.removed, "scope_version": version}
    _audit(conn, row.username, route, detail)
    return ScopeChange(row.username, before, scope, version)


def _audit(
    conn: Connection,
    username: str,
    route: str,
    detail: dict[str, Any],
    *,
    device_id: str | None = None,
) -> None:
    """An administrator's change in the audit log, beside every request's: the account
    (and device) it was about, never a password."""
    conn.execute(
        audit.insert().values(
            at=now_iso(),
            account=username,
            device_id=device_id,
            method="ADMIN",
            route=route,
            status=200,
            detail=json.dumps(detail, sort_keys=True),
        )
    )
