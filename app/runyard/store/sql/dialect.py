"""INSERT ... ON CONFLICT for SQLite and Postgres, which spell it the same way in SQL.

Many rows go in as multi-row VALUES statements, never ``executemany``: psycopg2's executemany
is one round trip per row, so a run's params and tags would cost one each. The statements are
SQL text (``_insert`` says why), with the driver's own parameter marks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Computed:
    """A column's value computed by the database in the same statement (a scalar subquery,
    saving a round trip): SQL with ``?`` for each of ``args``."""

    sql: str
    args: tuple[Any, ...] = ()


#: Bound values per statement: below SQLite's limit (32,766) and Postgres's (65,535).
MAX_BOUND_VALUES = 30_000


def row_chunks(rows: Sequence[dict]) -> Iterator[list[dict]]:
    """``rows`` in slices small enough for one multi-row VALUES statement each."""
    if not rows:
        return
    width = sum(len(v.args) if isinstance(v, Computed) else 1 for v in rows[0].values())
    per_chunk = max(1, MAX_BOUND_VALUES // max(1, width))
    for start in range(0, len(rows), per_chunk):
        yield list(rows[start : start + per_chunk])


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Plain INSERT of rows, one statement per ``row_chunks`` slice."""
    _insert(conn, table, rows, "")


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert rows, silently skipping those that would violate a unique constraint."""
    _insert(conn, table, rows, " ON CONFLICT DO NOTHING")


def insert_new(
    conn: Connection, table: sa.Table, rows: Sequence[dict], returning: Sequence[sa.Column]
) -> list[tuple]:
    """Insert rows, skipping those that would violate a unique constraint; the ``returning``
    columns of the rows that went in (so the caller need not read them back)."""
    names = _column_names(table, [column.name for column in returning])
    return _insert(conn, table, rows, f" ON CONFLICT DO NOTHING RETURNING {names}")


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
    keys = _column_names(table, key_columns)
    _column_names(table, update_columns)  # checked like every name written into the text
    updates = ", ".join(f'"{name}" = excluded."{name}"' for name in update_columns)
    _insert(conn, table, list(latest.values()), f" ON CONFLICT ({keys}) DO UPDATE SET {updates}")


def _insert(conn: Connection, table: sa.Table, rows: Sequence[dict], tail: str) -> list[tuple]:
    """``INSERT INTO table (columns) VALUES (...), ... <tail>`` per ``row_chunks`` slice, as
    SQL text sent to the driver as it is; the rows the statements return.

    SQLAlchemy compiles a multi-row VALUES construct afresh for every row count, about 0.3 ms
    a row: a created run's params and tags spent 6 ms there, and a 1,000-point batch of a
    logged model's metrics 300 ms, where the text costs microseconds. Every row has the first
    row's columns; every name in the text is one of the table's columns."""
    if not rows:
        return []
    columns = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = f"INSERT INTO {table.name} ({_column_names(table, columns)}) VALUES "
    returned: list[tuple] = []
    for chunk in row_chunks(rows):
        marks, values = _values(chunk, columns, mark)
        result = conn.exec_driver_sql(head + marks + tail, values)
        if result.returns_rows:
            returned += [tuple(row) for row in result]
    return returned


def _values(chunk: list[dict], columns: list[str], mark: str) -> tuple[str, tuple[Any, ...]]:
    """The VALUES list's text and its parameters, ``Computed`` values written in place."""
    if not any(isinstance(value, Computed) for row in chunk for value in row.values()):
        one_row = "(" + ", ".join([mark] * len(columns)) + ")"
        return ", ".join([one_row] * len(chunk)), tuple(
            row[name] for row in chunk for name in columns
        )
    texts, values = [], []
    for row in chunk:
        parts = []
        for name in columns:
            value = row[name]
            if isinstance(value, Computed):
                parts.append("(" + value.sql.replace("?", mark) + ")")
                values.extend(value.args)
            else:
                parts.append(mark)
                values.append(value)
        texts.append("(" + ", ".join(parts) + ")")
    return ", ".join(texts), tuple(values)


def _column_names(table: sa.Table, names: Sequence[str]) -> str:
    """The names quoted for the SQL text, each checked to be one of the table's columns."""
    unknown = [name for name in names if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    return ", ".join(f'"{name}"' for name in names)
