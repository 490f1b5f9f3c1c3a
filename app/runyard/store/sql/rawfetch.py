"""Bulk reads keyed by a list of run ids, through the driver.

Loading a page of 1000 runs reads tens of thousands of (run, key, value) rows; SQLAlchemy's row
processing would cost more than the query itself, and these rows need no type conversion.
SQLite gets ``IN (?, ...)``, psycopg2 gets ``= ANY(%s)`` with one array parameter; other drivers
go through SQLAlchemy with an expanding parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: SQLite's default limit on parameters is 32766; stay well under it per statement.
_SQLITE_CHUNK = 10_000


def fetch_for_runs(conn: Connection, sql: str, run_ids: Sequence[str]) -> list[tuple]:
    """Rows of ``sql``, whose ``{runs}`` placeholder stands for "run_uuid is in run_ids"."""
    if not run_ids:
        return []
    driver = conn.dialect.driver
    if driver == "pysqlite":
        rows: list[tuple] = []
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(run_ids), _SQLITE_CHUNK):
                chunk = list(run_ids[start : start + _SQLITE_CHUNK])
                cursor.execute(sql.format(runs=f"IN ({','.join('?' * len(chunk))})"), chunk)
                rows += cursor.fetchall()
        finally:
            cursor.close()
        return rows
    if driver == "psycopg2":
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql.format(runs="= ANY(%s)"), (list(run_ids),))
            return cursor.fetchall()
        finally:
            cursor.close()
    stmt = sa.text(sql.format(runs="IN :run_ids")).bindparams(
        sa.bindparam("run_ids", expanding=True)
    )
    return [tuple(row) for row in conn.execute(stmt, {"run_ids": list(run_ids)}).all()]
