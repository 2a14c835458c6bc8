"""attachment_offices: which offices may fetch an attachment's bytes, by hash

A download checked its caller's scope by searching the whole change log for attachment
rows naming the hash (a LIKE over every whole-row value): a scan of the log on every
download, and of a log that grows with every case file the server holds. The ingest now
records (hash, office) as it logs an attachment row; this migration fills the table from
the log already there, with the same rule: every office a row was logged to while it
named the hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 04:20:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    table = op.create_table(
        "attachment_offices",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "office", name=op.f("pk_attachment_offices")),
    )
    assert table is not None
    changes = sa.table(
        "changes",
        sa.column("seq", sa.BigInteger),
        sa.column("entity", sa.String),
        sa.column("row_id", sa.String),
        sa.column("field", sa.String),
        sa.column("value", sa.Text),
        sa.column("office", sa.String),
    )
    conn = op.get_bind()
    named: dict[str, str] = {}  # attachment row id -> the hash it names, in log order
    pairs: set[tuple[str, str]] = set()
    query = (
        sa.select(changes.c.row_id, changes.c.field, changes.c.value, changes.c.office)
        .where(changes.c.entity == "attachment")
        .order_by(changes.c.seq)
        .execution_options(yield_per=_BATCH)  # streamed: the log may be millions of rows
    )
    for row_id, field, value, office in conn.execute(query):
        sha256 = _named_hash(field, value)
        if sha256 is not None:
            named[row_id] = sha256
        if row_id in named:
            pairs.add((named[row_id], office))
    rows = [{"sha256": sha256, "office": office} for sha256, office in sorted(pairs)]
    for start in range(0, len(rows), _BATCH):
        op.bulk_insert(table, rows[start : start + _BATCH])


def _named_hash(field: str, value: str | None) -> str | None:
    """The hash a log entry sets: the ``sha256`` field, or inside a whole row (``*``)."""
    try:
        parsed: Any = json.loads(value) if value is not None else None
    except ValueError:
        return None
    if field == "*" and isinstance(parsed, dict):
        parsed = parsed.get("sha256")
    elif field != "sha256":
        return None
    return parsed if isinstance(parsed, str) else None


def downgrade() -> None:
    op.drop_table("attachment_offices")
