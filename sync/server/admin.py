"""Administration used by the ``sapan server`` commands: accounts and devices."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from desktop.domain.errors import UserError
from sync.protocol import Role
from sync.server.auth import ALL_OFFICES, now_iso
from sync.server.db import accounts, audit, devices


def create_user(
    engine: Engine,
    hasher: PasswordHasher,
    username: str,
    password: str,
    role: Role,
    offices: Iterable[str],
) -> int:
    """Create an account; ``offices`` is its scope (a coordinator's region is its offices)."""
    scope = sorted({o.strip() for o in offices if o.strip()})
    if role is Role.ADMIN:
        scope = [ALL_OFFICES]
    if not scope:
        raise UserError("sync.server.offices_required")
    if len(password) < 8:
        raise UserError("sync.server.password_too_short", minimum=8)
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
    """Refuse the device from now on; it is told to wipe its local store."""
    with engine.begin() as conn:
        result = conn.execute(
            devices.update()
            .where(devices.c.id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now_iso())
        )
        if result.rowcount == 0:
            raise UserError("sync.server.no_such_device", device_id=device_id)


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
    scope = sorted({o.strip() for o in offices if o.strip()})
    if not scope:
        raise UserError("sync.server.offices_required")
    if ALL_OFFICES in scope:
        scope = [ALL_OFFICES]  # every office: a list beside it would mean nothing
    with engine.begin() as conn:
        row = conn.execute(
            select(accounts.c.id, accounts.c.role, accounts.c.offices, accounts.c.scope_version)
            .where(accounts.c.username == username)
            .with_for_update()
        ).first()
        if row is None:
            raise UserError("sync.server.no_such_user", username=username)
        if row.role == Role.ADMIN.value:
            raise UserError("sync.server.admin_scope", username=username)
        before = sorted(json.loads(row.offices))
        version = int(row.scope_version)
        change = ScopeChange(username, before, scope, version)
        if not change.changed:
            return change
        version += 1
        conn.execute(
            accounts.update()
            .where(accounts.c.id == row.id)
            .values(offices=json.dumps(scope), scope_version=version)
        )
        conn.execute(
            audit.insert().values(
                at=now_iso(),
                account=username,
                device_id=None,
                method="ADMIN",
                route="server set-offices",
                status=200,
                # office codes and the version: no person's data
                detail=json.dumps(
                    {"added": change.added, "removed": change.removed, "scope_version": version},
                    sort_keys=True,
                ),
            )
        )
    return ScopeChange(username, before, scope, version)
