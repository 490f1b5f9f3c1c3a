"""INSERT ... ON CONFLICT for SQLite and Postgres, which spell it the same way in SQL but
through different SQLAlchemy constructs.

Many rows go in as multi-row VALUES statements, never ``executemany``: psycopg2's executemany
is one round trip per row, so a run's params and tags would cost one each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT construct (it has ``on_conflict_do_*`` and ``excluded``)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


#: Bound values per statement: below SQLite's limit (32,766) and Postgres's (65,535).
MAX_BOUND_VALUES = 30_000


def row_chunks(rows: Sequence[dict]) -> Iterator[list[dict]]:
    """``rows`` in slices small enough for one multi-row VALUES statement each."""
    if not rows:
        return
    per_chunk = max(1, MAX_BOUND_VALUES // max(1, len(rows[0])))
    for start in range(0, len(rows), per_chunk):
        yield list(rows[start : start + per_chunk])


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Plain INSERT of rows, one statement per ``row_chunks`` slice."""
    for chunk in row_chunks(rows):
        conn.execute(sa.insert(table).values(chunk))


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert rows, silently skipping those that would violate a unique constraint.

    Written as SQL text and sent to the driver as it is: SQLAlchemy compiles a multi-row
    VALUES construct afresh for every row count, about 0.3 ms a row (a 1,000-point batch of a
    logged model's metrics spent 300 ms there), where the text costs microseconds. Every
    row has the first row's columns, whose names come from ``table``."""
    if not rows:
        return
    columns = list(rows[0])
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one_row = "(" + ", ".join([mark] * len(columns)) + ")"
    names = ", ".join(f'"{name}"' for name in columns)  # checked against the table above
    head = f"INSERT INTO {table.name} ({names}) VALUES "
    for chunk in row_chunks(rows):
        values = [row[name] for row in chunk for name in columns]
        sql = head + ", ".join([one_row] * len(chunk)) + " ON CONFLICT DO NOTHING"
        conn.exec_driver_sql(sql, tuple(values))


def insert_new(
    conn: Connection, table: sa.Table, rows: Sequence[dict], returning: Sequence[sa.Column]
) -> list[tuple]:
    """Insert rows, skipping those that would violate a unique constraint; the ``returning``
    columns of the rows that went in (so the caller need not read them back)."""
    inserted: list[tuple] = []
    for chunk in row_chunks(rows):
        stmt = insert_for(conn, table).values(chunk).on_conflict_do_nothing()
        inserted += [tuple(row) for row in conn.execute(stmt.returning(*returning))]
    return inserted


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict],
    key_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert rows; where the key exists already, overwrite ``update_columns``. Of rows with
    the same key the last wins (Postgres refuses to update a row twice in one statement)."""
    latest = {tuple(row[name] for name in key_columns): row for row in rows}
    for chunk in row_chunks(list(latest.values())):
        stmt = insert_for(conn, table).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key_columns),
            set_={name: stmt.excluded[name] for name in update_columns},
        )
        conn.execute(stmt)
