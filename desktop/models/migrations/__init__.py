"""Alembic migrations of the local store (SQLite batch mode). Only migrations change the schema."""

# The newest revision, so that an up-to-date store opens without importing Alembic (about
# 0.35 s of every start on an old laptop). tests/models/test_migrations.py checks that it
# names Alembic's one head: a new migration must update it.
HEAD = "0012_zawgyi_names_indexed"
