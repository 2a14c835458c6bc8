"""Persistence: SQLAlchemy ORM, the encrypted SQLite store, migrations, search, attachments."""
