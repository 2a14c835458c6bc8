"""Wizard drafts: what a caseworker typed, saved at every step so a crash loses nothing.

Drafts are local only (the ``draft`` table is not a synced entity): they never reach the
outbox or the audit trail. A draft is keyed by the caller, e.g. ``"enrollment:<case id>"``;
saving again replaces it; finishing or explicitly discarding a wizard removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from desktop.models.entities import Draft
from desktop.models.store import Store


@dataclass(frozen=True)
class DraftView:
    """One saved draft: its key, the case it belongs to and the saved input."""

    key: str
    case_id: str | None
    data: Mapping[str, Any]
    updated_at: str


def save_draft(store: Store, key: str, data: Mapping[str, Any], case_id: str | None = None) -> None:
    """Create or replace the draft ``key`` (values must be JSON-serialisable)."""
    if not key:
        raise ValueError("a draft needs a key")
    with store.session() as session:
        row = session.get(Draft, key)
        if row is None:
            session.add(Draft(key=key, case_id=case_id, data=dict(data)))
        else:
            row.data = dict(data)
            if case_id is not None:
                row.case_id = case_id


def load_draft(store: Store, key: str) -> DraftView | None:
    """The draft ``key``, or None when there is none."""
    with store.read() as session:
        row = session.get(Draft, key)
        if row is None:
            return None
        return DraftView(row.key, row.case_id, dict(row.data or {}), row.updated_at or "")


def discard_draft(store: Store, key: str) -> bool:
    """Remove the draft ``key``; returns whether there was one."""
    with store.session() as session:
        row = session.get(Draft, key)
        if row is None:
            return False
        session.delete(row)
        return True


def list_drafts(store: Store, case_id: str | None = None) -> list[DraftView]:
    """Every draft (or those of one case), most recently saved first."""
    with store.read() as session:
        query = select(Draft).order_by(Draft.updated_at.desc())
        if case_id is not None:
            query = query.where(Draft.case_id == case_id)
        return [
            DraftView(r.key, r.case_id, dict(r.data or {}), r.updated_at or "")
            for r in session.scalars(query)
        ]
