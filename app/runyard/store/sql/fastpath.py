"""The ingest hot path through the driver: plain bulk inserts and one-statement summary folds.

A batch of points is almost always new. So the points first go in with no conflict handling at
all (a multi-row INSERT on SQLite, COPY under a savepoint on Postgres); only when that hits a
stored point does the caller fall back to INSERT ... ON CONFLICT DO NOTHING RETURNING, which
says which points were new. The statement that failed left nothing behind (SQLite rolls back
the failing statement, Postgres rolls back to the savepoint), so the fallback starts clean.
Each function returns False when the driver has no fast path; the caller then uses SQLAlchemy.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Sequence

from sqlalchemy.engine import Connection

_COLUMNS = "series_id, step, timestamp, value, is_nan"
_SAVEPOINT = "runyard_points"


def insert_all_new(conn: Connection, rows: Sequence[tuple]) -> bool:
    """Insert point rows (``metrics`` column order) if none of them is stored yet.

    True: every row was inserted. False: nothing was inserted (a row was stored already, a row
    repeats within ``rows``, a row carries model or dataset fields, or the driver has no fast
    path).
    """
    if any(row[5] is not None or row[6] is not None or row[7] is not None for row in rows):
        return False
    driver = conn.dialect.driver
    if driver == "pysqlite":
        return _sqlite_insert(conn, rows)
    if driver == "psycopg2":
        return _postgres_copy(conn, rows)
    return False


def _sqlite_insert(conn: Connection, rows: Sequence[tuple]) -> bool:
    import sqlite3

    cursor = conn.connection.cursor()
    try:
        cursor.execute(_sqlite_insert_sql(len(rows)), [v for row in rows for v in row[:5]])
    except sqlite3.IntegrityError:  # the statement's own changes are rolled back
        return False
    finally:
        cursor.close()
    return True


@functools.lru_cache(maxsize=64)
def _sqlite_insert_sql(n_rows: int) -> str:
    return f"INSERT INTO metrics ({_COLUMNS}) VALUES " + ",".join(["(?,?,?,?,?)"] * n_rows)


def _postgres_copy(conn: Connection, rows: Sequence[tuple]) -> bool:
    """COPY is several times cheaper than any INSERT form; a duplicate aborts it, so it runs
    under a savepoint (released with the transaction)."""
    import psycopg2.errors

    try:
        data = _copy_binary(rows)
    except struct.error:  # a number out of bigint range: let the general path report it
        return False
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            cursor.copy_expert(_COPY_SQL, io.BytesIO(data))
        except psycopg2.errors.UniqueViolation:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            return False
    finally:
        cursor.close()
    return True


_COPY_SQL = f"COPY metrics ({_COLUMNS}) FROM STDIN WITH (FORMAT binary)"
#: COPY's binary header (signature, flags, extension length) and trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
#: One tuple: 5 fields, each a length and big-endian data (bigint, bigint, bigint, float8, bool).
_COPY_TUPLE = "hiqiqiqidi?"


def _copy_binary(rows: Sequence[tuple]) -> bytes:
    """Rows in COPY's binary format: one struct.pack for the whole batch; non-finite floats
    need no special spelling."""
    flat: list = []
    for sid, step, ts, value, is_nan, *_ in rows:
        flat += (5, 8, sid, 8, step, 8, ts, 8, value, 1, bool(is_nan))
    body = struct.pack(">" + _COPY_TUPLE * len(rows), *flat)
    return _COPY_HEADER + body + _COPY_TRAILER


# ---- summaries -------------------------------------------------------------------------------
def update_summaries(conn: Connection, rows: Sequence[tuple]) -> bool:
    """Fold per-series aggregates (series_id, step, timestamp, value, is_nan, min, max, count)
    into ``metric_summaries``; "latest" moves only to a greater (step, timestamp, value)."""
    driver = conn.dialect.driver
    cursor = None
    try:
        if driver == "pysqlite":
            cursor = conn.connection.cursor()
            for start in range(0, len(rows), _SUMMARY_CHUNK):
                chunk = rows[start : start + _SUMMARY_CHUNK]
                cursor.execute(_sqlite_summary_update(len(chunk)), [v for r in chunk for v in r])
            return True
        if driver == "psycopg2":
            cursor = conn.connection.cursor()
            cursor.execute(_POSTGRES_SUMMARY_UPDATE, [list(c) for c in zip(*rows, strict=True)])
            return True
        return False
    finally:
        if cursor is not None:
            cursor.close()


def _set_clause(n: str) -> str:
    """SET expressions over the new aggregate ``n`` (every reference to the row sees its old
    values, as SQL defines for UPDATE)."""
    newer = f"(s.count = 0 OR ({n}step, {n}ts, {n}value) > (s.step, s.timestamp, s.value))"
    return (
        f'"step" = CASE WHEN {newer} THEN {n}step ELSE s.step END, '
        f'"timestamp" = CASE WHEN {newer} THEN {n}ts ELSE s.timestamp END, '
        f'"value" = CASE WHEN {newer} THEN {n}value ELSE s.value END, '
        f'"is_nan" = CASE WHEN {newer} THEN {n}is_nan ELSE s.is_nan END, '
        f'"min_value" = CASE WHEN s.min_value IS NULL OR {n}mn < s.min_value '
        f"THEN {n}mn ELSE s.min_value END, "
        f'"max_value" = CASE WHEN s.max_value IS NULL OR {n}mx > s.max_value '
        f"THEN {n}mx ELSE s.max_value END, "
        f'"count" = s.count + {n}cnt'
    )


#: Series per SQLite summary UPDATE: 8 values each stays below SQLite's variable limit.
_SUMMARY_CHUNK = 1000


@functools.lru_cache(maxsize=64)
def _sqlite_summary_update(n_rows: int) -> str:
    """SQLite: every series in one UPDATE ... FROM over a VALUES list (SQLite names its
    columns column1..column8)."""
    values = ",".join(["(?,?,?,?,?,?,?,?)"] * n_rows)
    return (
        "UPDATE metric_summaries AS s SET "
        + _set_clause("n.")
        + " FROM (SELECT column1 AS sid, column2 AS step, column3 AS ts, column4 AS value, "
        "column5 AS is_nan, column6 AS mn, column7 AS mx, column8 AS cnt "
        f"FROM (VALUES {values})) AS n WHERE s.series_id = n.sid"
    )


# Postgres: every series in one statement, one array per column.
_POSTGRES_SUMMARY_UPDATE = (
    "UPDATE metric_summaries AS s SET "
    + _set_clause("n.")
    + " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::boolean[], "
    "%s::float8[], %s::float8[], %s::bigint[]) AS n(sid, step, ts, value, is_nan, mn, mx, cnt) "
    "WHERE s.series_id = n.sid"
)


# ---- one point in one round trip (Postgres) --------------------------------------------------
def log_point_postgres(conn: Connection, run_id: str, key: str, row: tuple) -> tuple:
    """Store one point (``metrics`` column order) of an existing series and fold it into the
    summary, in one autocommitted statement: one round trip, no BEGIN or COMMIT.

    Returns the run's (lifecycle stage, series id): the point was handled when the stage is
    active and the series id is not None; otherwise nothing was written and the caller takes
    the general path (which creates the series or raises the right error).
    """
    dbapi_conn = conn.connection.dbapi_connection
    was_autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    cursor = dbapi_conn.cursor()
    try:
        _sid, step, timestamp, value, is_nan, *_ = row
        cursor.execute(
            _POSTGRES_LOG_POINT,
            {
                "run": run_id,
                "key": key,
                "step": step,
                "ts": timestamp,
                "value": value,
                "is_nan": bool(is_nan),
            },
        )
        found = cursor.fetchone()
    finally:
        cursor.close()
        dbapi_conn.autocommit = was_autocommit
    return (None, None) if found is None else (found[0], found[1])


# The run's stage and the key's series; the point goes in only for an active run's existing
# series, and only a point that was new (RETURNING) reaches the summary.
_POSTGRES_LOG_POINT = (
    "WITH target AS (SELECT r.lifecycle_stage, s.series_id FROM runs r "
    "LEFT JOIN metric_summaries s ON s.run_uuid = r.run_uuid AND s.key = %(key)s "
    "WHERE r.run_uuid = %(run)s), "
    f"new AS (INSERT INTO metrics ({_COLUMNS}) "
    "SELECT series_id, %(step)s, %(ts)s, %(value)s, %(is_nan)s FROM target "
    "WHERE lifecycle_stage = 'active' AND series_id IS NOT NULL "
    "ON CONFLICT DO NOTHING RETURNING series_id, step, timestamp, value, is_nan), "
    "folded AS (UPDATE metric_summaries AS s SET "
    + _set_clause("n.")
    + " FROM (SELECT series_id AS sid, step, timestamp AS ts, value, is_nan, "
    "CASE WHEN is_nan THEN NULL ELSE value END AS mn, "
    "CASE WHEN is_nan THEN NULL ELSE value END AS mx, 1 AS cnt FROM new) AS n "
    "WHERE s.series_id = n.sid RETURNING 1) "
    "SELECT lifecycle_stage, series_id, (SELECT count(*) FROM folded) FROM target"
)
