"""Device-local records of what sync brought: conflicts to review and merges.

Both are copies of the server's records (the server is their source of truth); devices
keep them so the Sync page can list conflicts awaiting a coordinator and so the app
can show "B was merged into A" without a connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from desktop.models.base import Base


class SyncConflict(Base):
    """A concurrent same-field edit: the value in force and the one that lost."""

    __tablename__ = "sync_conflict"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[str] = mapped_column(String(36), index=True)
    field: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(32))
    applied: Mapped[dict[str, Any]] = mapped_column(JSON)
    other: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # open | confirmed | flipped
    resolved_by: Mapped[str | None] = mapped_column(String(80))


class SyncMerge(Base):
    """Person or case ``source_id`` (B) merged into ``target_id`` (A); ``undone`` after undo."""

    __tablename__ = "sync_merge"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(36), index=True)
    target_id: Mapped[str] = mapped_column(String(36))
    office: Mapped[str] = mapped_column(String(32))
    merged_by: Mapped[str] = mapped_column(String(80))
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    # The rows the merge moved from B to A, [[entity, row id, field], ...] (``deleted`` as
    # the field: a row of B retired as a repeat of A's); None when the server did not say
    # (a server before pull form 6, or a merge it recorded before it kept the list).
    # Once the merge has synced, B's names hang from A: this is how a list still names B.
    moved: Mapped[list[list[str]] | None] = mapped_column(JSON(none_as_null=True))
