"""Alembic environment for the local store: batch mode for SQLite, the app's own connection."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from desktop.models import entities, sync_records  # noqa: F401  (registers the tables)
from desktop.models.base import Base

# Tables Alembic must not manage through autogenerate: the FTS5 search index is created
# with raw SQL in its migration.
_RAW_TABLES = ("person_search",)


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(_RAW_TABLES))


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        include_object=_include,
    )


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
else:  # command-line use (autogenerate): a plain throwaway SQLite URL
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///:memory:"
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
