"""The store's hot paths on ``psycopg2``: one array per column (adapted in C), binary COPY for
new points, and one-statement ``log_metric`` and ``create_run``."""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.store.sql.drivers.base import (
    PLAIN_COLUMNS,
    POINT_COLUMNS,
    RETURNING,
    Driver,
    set_clause,
)

_SAVEPOINT = "runyard_points"
_ANY_OF_OPAQUE = "= ANY(CAST((SELECT %s::text[]) AS text[]))"


class PostgresDriver(Driver):
    name = "psycopg2"
    mark = "%s"
    no_limit = None
    one_statement_log_point = True
    lock_run_row = " FOR NO KEY UPDATE OF r"
    one_statement_create_run = True

    def fetch_for_ids(self, conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple]:
        """The ids go in as a one-row subquery's value, which the planner cannot see into. Given
        them as a constant, it estimates each one's rows: for a page of a few hundred runs it
        then priced the index probes above a scan of the whole table and read params and
        metric summaries by sequential scan (240 runs of 5,000: 7.7 ms for params, 3.5 through
        the index). Unseen, it plans for a handful of ids and probes the index."""
        return self.rows(conn, sql.format(ids=_ANY_OF_OPAQUE), (list(ids),))

    def create_run(
        self, conn: Connection, values: dict[str, Any], tags: dict[str, str]
    ) -> tuple[str | None, str | None]:
        """One autocommitted statement reads the experiment, inserts the run and its tags: a
        single statement is atomic by itself, so no BEGIN or COMMIT is sent. The experiment's
        row is read ``FOR KEY SHARE``, as ``_experiment_row`` does for a creation: a delete of
        the experiment waits for the run, or the run waits for the delete and is refused. It
        goes through SQLAlchemy, so a run id taken already raises its IntegrityError."""
        dbapi_conn = conn.connection.dbapi_connection
        was_autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        try:
            row = conn.execute(
                _CREATE_RUN, {**values, "keys": list(tags), "tag_values": list(tags.values())}
            ).first()
        finally:
            dbapi_conn.autocommit = was_autocommit
        return (None, None) if row is None else (row[0], row[1])

    def insert_points(self, conn: Connection, rows: Sequence[tuple]) -> list[tuple]:
        return self.rows(conn, _INSERT_RETURNING, _columns(rows))

    def insert_all_new(self, conn: Connection, rows: Sequence[tuple]) -> bool:
        """COPY is several times cheaper than any INSERT form; a duplicate aborts it, so it
        runs under a savepoint (released with the transaction)."""
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

    def update_summaries(self, conn: Connection, rows: Sequence[tuple]) -> None:
        self._execute(conn, _SUMMARY_UPDATE, _columns(rows))

    def log_point(
        self, conn: Connection, run_id: str, key: str, row: tuple
    ) -> tuple[str | None, int | None]:
        """One autocommitted statement checks the run, stores the point and folds the
        summary: one round trip, no BEGIN or COMMIT."""
        dbapi_conn = conn.connection.dbapi_connection
        was_autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        cursor = dbapi_conn.cursor()
        try:
            _sid, step, timestamp, value, is_nan, *_ = row
            cursor.execute(
                _LOG_POINT,
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

    @staticmethod
    def _execute(conn: Connection, sql: str, args: Sequence) -> None:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, args)
        finally:
            cursor.close()


def _columns(rows: Sequence[tuple]) -> list[list]:
    """One list per column: psycopg2 adapts lists in C, far cheaper than a row-per-VALUES text."""
    return [list(column) for column in zip(*rows, strict=True)]


_INSERT_RETURNING = (
    f"INSERT INTO metrics ({', '.join(POINT_COLUMNS)}) SELECT * FROM unnest("
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::boolean[], "
    "%s::varchar[], %s::varchar[], %s::varchar[]) "
    f"ON CONFLICT DO NOTHING RETURNING {RETURNING}"
)

_COPY_SQL = f"COPY metrics ({PLAIN_COLUMNS}) FROM STDIN WITH (FORMAT binary)"
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


# Every series in one statement, one array per column.
_SUMMARY_UPDATE = (
    "UPDATE metric_summaries AS s SET "
    + set_clause("n.")
    + " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::boolean[], "
    "%s::float8[], %s::float8[], %s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], "
    "%s::boolean[]) AS n(sid, step, ts, value, is_nan, mn, mx, cnt, fstep, fts, fvalue, ordered) "
    "WHERE s.series_id = n.sid"
)

# The artifact URI is the experiment's location (without trailing slashes) / run id /
# artifacts, as the general path writes it; the tags go in only with the run.
_CREATE_RUN = sa.text(
    "WITH e AS (SELECT experiment_id, artifact_location, lifecycle_stage FROM experiments "
    "WHERE experiment_id = :experiment_id FOR KEY SHARE), "
    "r AS (INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
    "end_time, artifact_uri, lifecycle_stage) "
    "SELECT :run_uuid, experiment_id, :name, :user_id, :status, :start_time, NULL, "
    "rtrim(artifact_location, '/') || '/' || :run_uuid || '/artifacts', lifecycle_stage "
    "FROM e WHERE lifecycle_stage = 'active' RETURNING run_uuid, artifact_uri), "
    "t AS (INSERT INTO tags (run_uuid, key, value) SELECT r.run_uuid, k, v FROM r, "
    "unnest(CAST(:keys AS text[]), CAST(:tag_values AS text[])) AS x(k, v)) "
    "SELECT e.lifecycle_stage, r.artifact_uri FROM e LEFT JOIN r ON true"
)

# The run's stage and the key's series; the point goes in only for an active run's existing
# series, and only a point that was new (RETURNING) reaches the summary.
_LOG_POINT = (
    "WITH target AS (SELECT r.lifecycle_stage, s.series_id FROM runs r "
    "LEFT JOIN metric_summaries s ON s.run_uuid = r.run_uuid AND s.key = %(key)s "
    "WHERE r.run_uuid = %(run)s), "
    f"new AS (INSERT INTO metrics ({PLAIN_COLUMNS}) "
    "SELECT series_id, %(step)s, %(ts)s, %(value)s, %(is_nan)s FROM target "
    "WHERE lifecycle_stage = 'active' AND series_id IS NOT NULL "
    "ON CONFLICT DO NOTHING RETURNING series_id, step, timestamp, value, is_nan), "
    "folded AS (UPDATE metric_summaries AS s SET "
    + set_clause("n.")
    + " FROM (SELECT series_id AS sid, step, timestamp AS ts, value, is_nan, "
    "CASE WHEN is_nan THEN NULL ELSE value END AS mn, "
    "CASE WHEN is_nan THEN NULL ELSE value END AS mx, 1 AS cnt, step AS fstep, "
    "timestamp AS fts, value AS fvalue, true AS ordered FROM new) AS n "
    "WHERE s.series_id = n.sid RETURNING 1) "
    "SELECT lifecycle_stage, series_id, (SELECT count(*) FROM folded) FROM target"
)
