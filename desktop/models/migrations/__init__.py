"""Alembic migrations of the local store (SQLite batch mode). Only migrations change the schema."""
