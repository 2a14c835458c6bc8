"""sync.server.db: the migrations build the tables the code describes; JSON and bulk inserts."""

from __future__ import annotations

import json
import math
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from sync.server.db import (
    attachment_offices,
    changes,
    dumps,
    field_state,
    insert_many,
    logged_creations,
    make_engine,
    metadata,
    row_state,
    upsert,
)
from sync.server.migrate import VERSION_TABLE, alembic_config, upgrade


def test_migrations_and_metadata_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
            found = inspect(conn)
            for table in metadata.sorted_tables:
                keys = found.get_pk_constraint(table.name)["constrained_columns"]
                assert keys == [c.name for c in table.primary_key.columns], table.name
    finally:
        engine.dispose()


def test_state_tables_are_keyed_by_row_id_first() -> None:
    """Pushes look state up by row id alone: the primary key serves it, no extra index."""
    assert [c.name for c in row_state.primary_key.columns] == ["row_id", "entity"]
    field_state = metadata.tables["field_state"]
    assert [c.name for c in field_state.primary_key.columns] == ["row_id", "entity", "field"]
    assert not row_state.indexes
    assert not field_state.indexes


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(_JSON)
def test_dumps_reads_back_as_the_same_value(value: Any) -> None:
    assert _same(json.loads(dumps(value)), value)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_dumps_writes_compact_json_as_the_standard_library_does(value: Any) -> None:
    # floats left out: tiny ones may spell their exponent shorter (1e-7), the same number
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_dumps_keeps_scripts_readable_and_specials() -> None:
    assert dumps({"name": "မောင်", "n": float("nan")}) == '{"name":"မောင်","n":NaN}'


def test_insert_many_writes_tuples_in_column_order(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        columns = ("entity", "row_id", "value", "hlc", "seq", "device_id", "user_id")
        rows = [
            ("person", f"r{n}", "{}", "0001763812345678-0000-d", n, "d", "ann") for n in range(3)
        ]
        with engine.begin() as conn:
            insert_many(conn, row_state, columns, rows)
            insert_many(conn, row_state, columns, [])
        with engine.connect() as conn:
            found = conn.execute(select(row_state).order_by(row_state.c.seq)).all()
        assert [(r.row_id, r.seq, r.user_id) for r in found] == [
            (f"r{n}", n, "ann") for n in range(3)
        ]
    finally:
        engine.dispose()


def test_upsert_inserts_new_keys_and_replaces_the_rest_of_existing_ones(db_url: str) -> None:
    engine = make_engine(db_url)
    keys = ["entity", "row_id", "field"]

    def state(row_id: str, field: str, value: str | None, seq: int) -> dict[str, object]:
        return {"entity": "person", "row_id": row_id, "field": field, "value": value,
                "hlc": f"0001763812345678-{seq:04x}-d", "seq": seq, "device_id": "d",
                "user_id": "ann"}  # fmt: skip

    try:
        upgrade(engine)
        with engine.begin() as conn:
            upsert(conn, field_state, keys, [state("r1", "phone", '"081"', 1),
                                             state("r1", "sex", '"f"', 2)])  # fmt: skip
            upsert(conn, field_state, keys, [])
        with engine.begin() as conn:
            # one key replaced (value null, a bigger seq), one new, Thai text kept
            upsert(conn, field_state, keys, [state("r1", "phone", None, 2**40),
                                             state("r2", "address_th", '"ตาก"', 4)])  # fmt: skip
        with engine.connect() as conn:
            found = conn.execute(select(field_state).order_by(field_state.c.seq)).all()
        assert [(r.row_id, r.field, r.value, r.seq) for r in found] == [
            ("r1", "sex", '"f"', 2),
            ("r2", "address_th", '"ตาก"', 4),
            ("r1", "phone", None, 2**40),
        ]
    finally:
        engine.dispose()


def _at_revision(engine: Any, revision: str) -> None:
    """Bring a fresh database (SQLite: empty; PostgreSQL: a copy of the template, at
    head) to ``revision`` exactly."""
    upgrade(engine, revision)
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _log(engine: Any, entries: list[tuple[str, str, str, str, str]]) -> None:
    """Write (entity, row id, field, value JSON, office) entries into ``changes``."""
    with engine.begin() as conn:
        conn.execute(
            changes.insert(),
            [
                {
                    "seq": seq,
                    "change_id": f"c{seq}",
                    "entity": entity,
                    "row_id": row_id,
                    "field": field,
                    "value": value,
                    "hlc": f"{seq:016d}-0000-d",
                    "device_id": "d",
                    "user_id": "ann",
                    "office": office,
                    "received_at": "2026-11-23T04:00:00Z",
                }
                for seq, (entity, row_id, field, value, office) in enumerate(entries, 1)
            ],
        )


def _migrated(
    db_url: str, revision: str, entries: list[tuple[str, str, str, str, str]], table: Any
) -> set[tuple[Any, ...]]:
    """The rows of ``table`` after migrating to head from ``revision`` with ``entries``
    in the log."""
    engine = make_engine(db_url)
    try:
        _at_revision(engine, revision)
        _log(engine, entries)
        upgrade(engine)
        with engine.connect() as conn:
            return {tuple(row) for row in conn.execute(select(table))}
    finally:
        engine.dispose()


def test_migration_0004_fills_attachment_offices_from_the_log(db_url: str) -> None:
    """Every office an attachment row was logged to while it named a hash may fetch it."""
    h1, h2, h3 = "a1" * 32, "b2" * 32, "c3" * 32
    entries = [
        # created whole in MS, then moved to TAK: the move is logged to MS, every field
        # again to TAK
        ("attachment", "r1", "*", json.dumps({"sha256": h1, "office": "MS"}), "MS"),
        ("attachment", "r1", "office", json.dumps("TAK"), "MS"),
        ("attachment", "r1", "sha256", json.dumps(h1), "TAK"),
        # field by field in KB, its scan replaced later: both hashes stay with KB
        ("attachment", "r2", "office", json.dumps("KB"), "KB"),
        ("attachment", "r2", "sha256", json.dumps(h2), "KB"),
        ("attachment", "r2", "sha256", json.dumps(h3), "KB"),
        # no hash yet, a damaged value, another entity with a sha256 key: nothing
        ("attachment", "r3", "office", json.dumps("NAN"), "NAN"),
        ("attachment", "r4", "*", "{not json", "NAN"),
        ("person", "p1", "*", json.dumps({"sha256": h1, "office": "NAN"}), "NAN"),
    ]
    found = _migrated(db_url, "0003", entries, attachment_offices)
    assert found == {(h1, "MS"), (h1, "TAK"), (h2, "KB"), (h3, "KB")}


def test_migration_0005_names_the_rows_with_a_stored_creation_event(db_url: str) -> None:

    def event(action: str, entity: object, row_id: object) -> str:
        return json.dumps({"action": action, "entity": entity, "row_id": row_id, "user": "a"})

    entries = [
        ("person", "p1", "*", json.dumps({"office": "MS"}), "MS"),
        ("audit_event", "e1", "*", event("person.created", "person", "p1"), "MS"),
        ("audit_event", "e2", "*", event("step.created", "step", "s1"), "MS"),
        # not creation events, or not readable as one: nothing
        ("audit_event", "e3", "*", event("person.updated", "person", "p1"), "MS"),
        ("audit_event", "e4", "*", event("person.created", "step", "s2"), "MS"),
        ("audit_event", "e5", "*", event("person.created", "person", 7), "MS"),
        ("audit_event", "e6", "*", '{"action": "x.created", damaged', "MS"),
        ("audit_event", "e7", "*", '["person.created"]', "MS"),
        ("audit_event", "e8", "office", json.dumps("person.created"), "MS"),
    ]
    found = _migrated(db_url, "0004", entries, logged_creations)
    assert found == {("p1", "person"), ("s1", "step")}


def test_a_fields_value_at_a_version_is_one_probe_of_the_log_by_row(db_url: str) -> None:
    """Found by a security test: what a device saw when it made an edit was read by
    walking the log back from the edit's base version (no index by row): 2,000 such
    edits over 100,000 unrelated changes held the write lock for 40 s. The read is the
    row's index now, on both backends."""
    from sqlalchemy import text

    from sync.server.ingest import value_at_query

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        query = value_at_query(("step", "0191-row", "state"), 1_000_000)
        with engine.connect() as conn:
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET enable_seqscan = off"))  # an empty table: no choice
                plan = conn.execute(text(f"EXPLAIN {compiled}")).scalars().all()
            else:
                plan = [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
        assert any("ix_changes_row_seq" in line for line in plan), plan
    finally:
        engine.dispose()


def test_a_running_servers_connections_are_seen_on_postgresql(db_url: str) -> None:
    """What ``sapan server new-log`` looks for before it makes a new log: a server
    process keeps its pool's connections open while it runs, idle or not, and
    PostgreSQL names them; SQLite cannot tell (None)."""
    from sync.server import admin
    from sync.server.db import ADMIN_NAME

    mine = make_engine(db_url, ADMIN_NAME)
    serving = make_engine(db_url)  # as ``sapan serve`` makes it
    try:
        upgrade(mine)
        postgres = mine.dialect.name == "postgresql"
        assert admin.servers_connected(mine) == (0 if postgres else None)
        with serving.connect():
            pass  # answered a request; the connection stays in its pool
        assert admin.servers_connected(mine) == (1 if postgres else None)
        serving.dispose()  # the server stopped
        assert admin.servers_connected(mine) == (0 if postgres else None)
    finally:
        serving.dispose()
        mine.dispose()
