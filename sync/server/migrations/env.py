"""Alembic environment for the sync server database.

The connection is always handed in by :func:`sync.server.migrate.upgrade` through
``config.attributes["connection"]``, so the same code migrates SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context

from sync.server.db import metadata
from sync.server.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
