"""The store's hot paths on Python's ``sqlite3``: multi-row VALUES, ``?`` markers, and
UPDATE ... FROM (VALUES ...) for summaries."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from runyard.store.sql.drivers.base import (
    PLAIN_COLUMNS,
    POINT_COLUMNS,
    RETURNING,
    Driver,
    set_clause,
)

#: SQLite's default limit on bound values is 32,766: ids per IN list stay well under it.
_IN_CHUNK = 10_000
#: Series per summary UPDATE: 12 values each stays below the same limit.
_SUMMARY_CHUNK = 1000


class SqliteDriver(Driver):
    name = "pysqlite"
    mark = "?"
    no_limit = -1

    def fetch_for_ids(self, conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = list(ids[start : start + _IN_CHUNK])
            rows += self.rows(conn, sql.format(ids=f"IN ({','.join('?' * len(chunk))})"), chunk)
        return rows

    def insert_points(self, conn: Connection, rows: Sequence[tuple]) -> list[tuple]:
        return self.rows(conn, _insert_returning_sql(len(rows)), [v for row in rows for v in row])

    def insert_all_new(self, conn: Connection, rows: Sequence[tuple]) -> bool:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(_insert_plain_sql(len(rows)), [v for row in rows for v in row[:5]])
        except sqlite3.IntegrityError:  # the statement's own changes are rolled back
            return False
        finally:
            cursor.close()
        return True

    def update_summaries(self, conn: Connection, rows: Sequence[tuple]) -> None:
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(rows), _SUMMARY_CHUNK):
                chunk = rows[start : start + _SUMMARY_CHUNK]
                cursor.execute(_summary_update_sql(len(chunk)), [v for r in chunk for v in r])
        finally:
            cursor.close()


@functools.lru_cache(maxsize=64)
def _insert_returning_sql(n_rows: int) -> str:
    row = "(" + ",".join("?" * len(POINT_COLUMNS)) + ")"
    return (
        f"INSERT INTO metrics ({', '.join(POINT_COLUMNS)}) VALUES "
        + ",".join([row] * n_rows)
        + f" ON CONFLICT DO NOTHING RETURNING {RETURNING}"
    )


@functools.lru_cache(maxsize=64)
def _insert_plain_sql(n_rows: int) -> str:
    return f"INSERT INTO metrics ({PLAIN_COLUMNS}) VALUES " + ",".join(["(?,?,?,?,?)"] * n_rows)


@functools.lru_cache(maxsize=64)
def _summary_update_sql(n_rows: int) -> str:
    """Every series in one UPDATE ... FROM over a VALUES list (SQLite names its columns
    column1..column12)."""
    values = ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?)"] * n_rows)
    return (
        "UPDATE metric_summaries AS s SET "
        + set_clause("n.")
        + " FROM (SELECT column1 AS sid, column2 AS step, column3 AS ts, column4 AS value, "
        "column5 AS is_nan, column6 AS mn, column7 AS mx, column8 AS cnt, column9 AS fstep, "
        "column10 AS fts, column11 AS fvalue, column12 AS ordered "
        f"FROM (VALUES {values})) AS n WHERE s.series_id = n.sid"
    )
