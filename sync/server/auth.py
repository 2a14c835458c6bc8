"""Accounts, devices and tokens: Argon2 password hashes, SHA-256 token hashes, scope.

A device token is shown once, at registration or rotation; the server keeps only its
SHA-256, so a copy of the database cannot be replayed as a token. Rotating a token makes
the previous one useless; revoking a device refuses it and tells it to wipe its store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, ColumnElement, Engine, func, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from sync.protocol import Account, Errno, Role
from sync.server.db import (
    ADDRESS_LENGTH,
    accounts,
    counter,
    devices,
    insert_missing,
    sign_in_addresses,
)
from sync.server.errors import ApiError

ALL_OFFICES = "*"
TOKEN_PREFIX = "sp1_"


def now_iso() -> str:
    return _iso(dt.datetime.now(dt.UTC))


def make_hasher(cheap: bool = False) -> PasswordHasher:
    """Argon2id; ``cheap`` only for tests, where the real cost would dominate run time."""
    if cheap:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Caller:
    """Who is asking: the account behind a device token, with its scope."""

    account_id: int
    username: str
    role: Role
    offices: frozenset[str]
    device_id: str
    # the account's scope version (``accounts.scope_version``), read with ``offices``
    scope_version: int = 1

    @cached_property
    def all_offices(self) -> bool:
        # worked out once: a push asks for every change (and enum members are slow to
        # look up on Python 3.11)
        return ALL_OFFICES in self.offices or self.role is Role.ADMIN

    def may(self, office: str | None) -> bool:
        """True when rows of ``office`` are inside this caller's scope."""
        return office is not None and (self.all_offices or office in self.offices)

    def account(self) -> Account:
        return Account(
            username=self.username,
            role=self.role,
            offices=sorted(self.offices - {ALL_OFFICES}),
            all_offices=self.all_offices,
        )


def authenticate(conn: Connection, authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or an :class:`ApiError`."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, Errno.MISSING_TOKEN, "a device token is required")
    token = authorization[len("Bearer ") :].strip()
    row = conn.execute(
        select(
            devices.c.id,
            devices.c.revoked_at,
            accounts.c.id.label("account_id"),
            accounts.c.username,
            accounts.c.role,
            accounts.c.offices,
            accounts.c.disabled,
            accounts.c.scope_version,
        )
        .join(accounts, accounts.c.id == devices.c.account_id)
        .where(devices.c.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise ApiError(401, Errno.INVALID_TOKEN, "the device token is not valid")
    if row.revoked_at is not None:
        raise ApiError(401, Errno.DEVICE_REVOKED, "this device was revoked", wipe=True)
    if row.disabled:
        raise ApiError(403, Errno.ACCOUNT_DISABLED, "the account is disabled")
    return Caller(
        account_id=row.account_id,
        username=row.username,
        role=Role(row.role),
        offices=frozenset(json.loads(row.offices)),
        device_id=row.id,
        scope_version=row.scope_version,
    )


# Wrong passwords an account takes in a row before registering is refused for a while;
# each one past them doubles the wait, from LOCK_FIRST up to LOCK_LONGEST. Someone trying
# passwords online then gets about a hundred tries a day; a person who mistyped five
# times waits half a minute.
FREE_TRIES = 5
LOCK_FIRST = dt.timedelta(seconds=30)
LOCK_LONGEST = dt.timedelta(minutes=15)


def lock_after(failures: int) -> dt.timedelta | None:
    """How long an account refuses registering after ``failures`` wrong passwords in a row."""
    if failures < FREE_TRIES:
        return None
    doublings: int = min(failures - FREE_TRIES, 10)
    return min(LOCK_FIRST * (1 << doublings), LOCK_LONGEST)


# An address may give ADDRESS_FREE_TRIES wrong user names or passwords within
# ADDRESS_WINDOW of the first before it waits as an account does after five (the waits of
# lock_after, from its first). This counts what an account's lock cannot: names no account
# has, and one password tried against many accounts. An office's laptops behind one
# router share an address and mistype far less than that in an hour.
ADDRESS_FREE_TRIES = 20
ADDRESS_WINDOW = dt.timedelta(hours=1)


def address_lock_after(failures: int) -> dt.timedelta | None:
    """How long an address waits to register after ``failures`` wrong tries in its hour."""
    return lock_after(failures - (ADDRESS_FREE_TRIES - FREE_TRIES))


def register_device(
    engine: Engine,
    hasher: PasswordHasher,
    username: str,
    password: str,
    name: str,
    address: str | None = None,
) -> tuple[str, str, Caller]:
    """Check the password and register a new device; returns (device id, token, caller).

    An account that took :data:`FREE_TRIES` wrong passwords in a row refuses the next
    try, right or wrong, with ``429`` errno 117 until its wait is over (``Retry-After``);
    so does the client's network ``address`` after :data:`ADDRESS_FREE_TRIES` wrong user
    names or passwords within an hour, before any password is hashed. A wrong try is
    counted in its own transaction, which the refusal does not undo.
    """
    if address:
        # as the table holds it: a proxy trusted with "*" passes on whatever a client says
        address = address[:ADDRESS_LENGTH]
        _wait_over(engine, address)
    with engine.begin() as conn:
        row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
        if row is not None and row.locked_until is not None:
            _still_locked(row.locked_until, "account")
        good = False
        if row is None:
            hasher.hash(password)  # spend the same time, so timing does not reveal user names
        else:
            try:
                good = hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                good = False
    if row is None or not good:
        if row is not None:
            _count_failure(engine, row.id)
        if address:
            _count_address_failure(engine, address)
        raise ApiError(401, Errno.BAD_CREDENTIALS, "wrong user name or password")
    with engine.begin() as conn:
        if row.failed_logins or row.locked_until is not None:
            conn.execute(
                accounts.update()
                .where(accounts.c.id == row.id)
                .values(failed_logins=0, locked_until=None)
            )
        if row.disabled:
            raise ApiError(403, Errno.ACCOUNT_DISABLED, "the account is disabled")
        device_id = str(uuid.uuid4())
        token = new_token()
        conn.execute(
            devices.insert().values(
                id=device_id,
                account_id=row.id,
                name=name,
                token_hash=token_hash(token),
                created_at=now_iso(),
            )
        )
    caller = Caller(
        row.id,
        row.username,
        Role(row.role),
        frozenset(json.loads(row.offices)),
        device_id,
        row.scope_version,
    )
    return device_id, token, caller


def _count_failure(engine: Engine, account_id: int) -> None:
    """One more wrong password in a row for the account, and its wait if it has one."""
    with engine.begin() as conn:
        _one_more(conn, accounts.c.failed_logins, accounts.c.id == account_id, lock_after)


def _one_more(
    conn: Connection,
    count: Column[int],
    where: ColumnElement[bool],
    wait_after: Callable[[int], dt.timedelta | None],
) -> None:
    """Add one to the wrong tries ``count`` of the row ``where`` names and, when
    ``wait_after`` that many gives a wait, set the row's ``locked_until`` to its end."""
    table = count.table
    failures = conn.execute(
        table.update().where(where).values({count: count + 1}).returning(count)
    ).scalar_one()
    wait = wait_after(failures)
    if wait is not None:
        until = _iso(dt.datetime.now(dt.UTC) + wait)
        conn.execute(table.update().where(where).values(locked_until=until))


def _wait_over(engine: Engine, address: str) -> None:
    """Refuse (429 errno 117) while ``address`` waits after too many wrong tries."""
    with engine.connect() as conn:
        until = conn.execute(
            select(sign_in_addresses.c.locked_until).where(sign_in_addresses.c.address == address)
        ).scalar()
    if until is not None:
        _still_locked(until, "address")


def _count_address_failure(engine: Engine, address: str) -> None:
    """One more wrong try from ``address`` in its hour, and its wait if it has one. Rows
    whose hour and wait are both over are dropped first: an address starts over then,
    and is not kept longer than it counts."""
    now = dt.datetime.now(dt.UTC)
    table = sign_in_addresses
    with engine.begin() as conn:
        forget_addresses(conn, now)
        insert_missing(conn, table, [{"address": address, "failures": 0, "since": _iso(now)}])
        _one_more(conn, table.c.failures, table.c.address == address, address_lock_after)


def forget_addresses(conn: Connection, now: dt.datetime) -> int:
    """Drop the addresses whose hour of counting and wait are both over; how many."""
    table, stamp = sign_in_addresses, _iso(now)
    return conn.execute(
        table.delete().where(
            table.c.since < _iso(now - ADDRESS_WINDOW),
            or_(table.c.locked_until.is_(None), table.c.locked_until < stamp),
        )
    ).rowcount


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _still_locked(until: str, what: str) -> None:
    """Refuse with 429 errno 117 if ``until`` (ISO) is still to come; ``what`` waits
    (``account`` or ``address``, in the answer's details for the client to say so)."""
    wait = dt.datetime.fromisoformat(until) - dt.datetime.now(dt.UTC)
    if wait <= dt.timedelta(0):
        return
    seconds = max(1, int(wait.total_seconds() + 0.999))
    raise ApiError(429, Errno.SIGN_IN_LOCKED, _LOCKED[what], retry_after=seconds, locked=what)


_LOCKED = {
    "account": "too many wrong passwords for this account; try again later",
    "address": "too many wrong user names or passwords from this address; try again later",
}


# Case-number blocks the server hands out: 9000-9999 are the devices' own provisional
# blocks (desktop.models.case_numbers), so they are never given.
MAX_CASE_BLOCK = 8999
_BLOCK_LOCK = 0x5A9A_CB10  # the advisory lock key of case-block allocation (PostgreSQL)


def case_block(engine: Engine, caller: Caller, above: int = 0) -> int:
    """The calling device's block of case numbers: the next free one on its first ask,
    past ``above`` (the highest block in the case numbers the device holds: a device that
    came from another server holds that server's numbers, which this one never gave),
    the same one afterwards. Blocks are never reused (a revoked device's cases keep
    their numbers). Two devices asking at once race on the unique index; the loser asks
    again."""
    for _attempt in range(5):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # one allocation at a time (SQLite
                    # serializes writers already); the unique index stays the last word
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BLOCK_LOCK})
                mine = conn.execute(
                    select(devices.c.case_block).where(devices.c.id == caller.device_id)
                ).scalar_one()
                if mine is not None:
                    return int(mine)
                top = conn.execute(select(func.max(devices.c.case_block))).scalar()
                # past the blocks a restored database may have given and forgotten
                floor = conn.execute(
                    select(counter.c.case_blocks_from).where(counter.c.id == 1)
                ).scalar()
                block = max(int(top or 0) + 1, int(floor or 1), above + 1)
                if block > MAX_CASE_BLOCK:
                    raise ApiError(409, Errno.NO_CASE_BLOCK, "no case-number block is left")
                conn.execute(
                    devices.update()
                    .where(devices.c.id == caller.device_id, devices.c.case_block.is_(None))
                    .values(case_block=block)
                )
        except IntegrityError:
            continue  # another device took that block in the same moment
    raise ApiError(503, Errno.SERVICE_BUSY, "case-number blocks are busy; try again", retry_after=2)


def rotate_token(engine: Engine, caller: Caller) -> str:
    """A fresh token for the calling device; the old one stops working at once."""
    token = new_token()
    with engine.begin() as conn:
        conn.execute(
            devices.update()
            .where(devices.c.id == caller.device_id)
            .values(token_hash=token_hash(token))
        )
    return token
