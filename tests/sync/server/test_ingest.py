"""Looking rows up by id in the server's state tables (``ingest._matching``)."""

from __future__ import annotations

import psycopg
from sqlalchemy import Connection

from desktop.models.base import new_id
from sync.server import ingest
from sync.server.db import make_engine, row_state
from sync.server.migrate import upgrade


def _state_rows(ids: list[str]) -> list[tuple[str, str, str, str, int, str, str]]:
    return [
        ("contribution", row_id, '{"office":"TAK-01"}', f"stamp-{n}", n, "dev", "ann")
        for n, row_id in enumerate(ids)
    ]


def _found(conn: Connection, items: list[str]) -> list[str]:
    found = ingest._matching(conn, ingest._ROW_STATE, items)
    rows = [r for query, params in found for r in conn.execute(query, params)]
    return sorted(r.row_id for r in rows)


def test_matching_finds_exactly_the_rows_asked_for(db_url: str) -> None:
    stored = [new_id() for _ in range(1_200)]
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            row_state.insert(),
            [dict(zip(("entity", "row_id", "value", "hlc", "seq", "device_id", "user_id"), r,
                       strict=True)) for r in _state_rows(stored)],
        )  # fmt: skip
    asked = stored[::2]  # 600 ids: more than one IN list on SQLite
    absent = [new_id() for _ in range(50)]
    with engine.connect() as conn:
        assert _found(conn, asked + absent) == sorted(asked)
        assert _found(conn, asked[:3] * 4) == sorted(asked[:3])  # repeated ids: each row once
        assert _found(conn, []) == []
        assert _found(conn, absent) == []
        # an id that cannot go comma-joined (PostgreSQL sends the ids as an array then)
        assert _found(conn, [stored[0], "a,b", ""]) == [stored[0]]
    engine.dispose()


def test_a_push_reads_state_rows_by_key_only_on_postgresql(
    postgres_url: str, pg_template: str
) -> None:
    """A thousand ids among 60,000 rows, in a write transaction: the index, not a scan.

    Without :func:`ingest._keyed_reads`, ``row_id = ANY(...)`` is planned as a sequential
    scan here, whose cost grew with every case file the server held.
    """
    from tests.sync.conftest import fresh_pg_database

    url = fresh_pg_database(postgres_url, pg_template)
    stored = [new_id() for _ in range(60_000)]
    with psycopg.connect(url.replace("+psycopg", "")) as raw:
        columns = "entity, row_id, value, hlc, seq, device_id, user_id"
        with raw.cursor().copy(f"COPY row_state ({columns}) FROM STDIN") as copy:
            for row in _state_rows(stored):
                copy.write_row(row)
        raw.commit()
        raw.execute("ANALYZE row_state")
        raw.commit()
    engine = make_engine(url)
    asked = stored[::120] + [new_id() for _ in range(500)]

    def plan(conn: Connection) -> str:
        [(query, params)] = ingest._matching(conn, ingest._ROW_STATE, asked)
        compiled = query.compile(conn)
        values = compiled.construct_params(params)
        assert len(conn.execute(query, params).all()) == 500
        return "\n".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", values))

    with engine.begin() as conn:
        assert "Seq Scan on row_state" in plan(conn)  # what the planner picks unasked
    with engine.begin() as conn:
        ingest._keyed_reads(conn)
        found = plan(conn)
        assert "Seq Scan" not in found, found
        assert "pk_row_state" in found, found
    with engine.begin() as conn:  # SET LOCAL: the next transaction plans freely again
        assert "Seq Scan on row_state" in plan(conn)
    engine.dispose()
