"""What a DB-API driver must offer the SQL store's hot paths, and the SQL both drivers share.

Bulk reads, point inserts and summary folds go through the driver's own cursor: SQLAlchemy's
per-row processing would cost more than the statements. Each supported driver implements
``Driver`` once (``sqlite.py``, ``postgres.py``); the query modules call it and never compare
driver names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

#: Columns of a point row (``metrics.point_tuple``), in ``metrics`` table order.
POINT_COLUMNS = (
    "series_id",
    "step",
    "timestamp",
    "value",
    "is_nan",
    "model_id",
    "dataset_name",
    "dataset_digest",
)
#: What an insert hands back for each new point: enough to fold it into its summary.
RETURNING = "series_id, step, timestamp, value, is_nan"
#: The plain point columns (no model or dataset fields): the bulk fast path's rows.
PLAIN_COLUMNS = RETURNING


def set_clause(n: str) -> str:
    """SET expressions folding the new aggregate ``n`` into ``metric_summaries s``: "latest"
    moves only to a greater (step, timestamp, value), so arrival order does not matter (every
    reference to the row sees its old values, as SQL defines for UPDATE). The series stays in
    time order when the new points are (``ordered``) and the first of them (``fstep``, ``fts``,
    ``fvalue``) comes after the latest point in key order, at no earlier time."""
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
        f'"count" = s.count + {n}cnt, '
        f'"in_time_order" = s.in_time_order AND {n}ordered AND (s.count = 0 OR '
        f"(({n}fstep, {n}fts, {n}fvalue) > (s.step, s.timestamp, s.value) "
        f"AND {n}fts >= s.timestamp))"
    )


class Driver(ABC):
    """One DB-API driver's spelling of the store's hot paths."""

    #: SQLAlchemy's name for the driver (``conn.dialect.driver``).
    name: ClassVar[str]
    #: The driver's positional parameter marker.
    mark: ClassVar[str]
    #: What ``LIMIT`` takes to mean "no limit" when an OFFSET follows.
    no_limit: ClassVar[int | None]
    #: Whether ``log_point`` stores a point in one round trip (else the store opens a
    #: transaction for it).
    one_statement_log_point: ClassVar[bool] = False
    #: Whether ``create_run`` inserts a run and its tags in one round trip.
    one_statement_create_run: ClassVar[bool] = False
    #: What ends a ``SELECT ... FROM runs r`` to lock the run's row until the transaction ends
    #: against other writers of the run, but not against foreign-key checks (a point inserted
    #: by a one-statement ``log_metric`` checks its run); SQLite needs none: its writers take
    #: turns on the whole database.
    lock_run_row: ClassVar[str] = ""

    def rows(self, conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        """All rows of one statement on the driver's cursor (``mark`` placeholders)."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, args)
            return cursor.fetchall()
        finally:
            cursor.close()

    @abstractmethod
    def fetch_for_ids(self, conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple]:
        """Rows of ``sql``, whose ``{ids}`` placeholder follows a column and stands for "is
        one of ``ids``" (a page's run ids, a page's logged model ids)."""

    @abstractmethod
    def insert_points(self, conn: Connection, rows: Sequence[tuple]) -> list[tuple]:
        """INSERT point rows ... ON CONFLICT DO NOTHING; the new ones (``RETURNING``)."""

    @abstractmethod
    def insert_all_new(self, conn: Connection, rows: Sequence[tuple]) -> bool:
        """Insert plain point rows with no conflict handling, if none of them is stored yet.

        True: every row went in. False: nothing went in (a row was stored already or repeats),
        and the statement left nothing behind, so the caller falls back to ``insert_points``.
        """

    @abstractmethod
    def update_summaries(self, conn: Connection, rows: Sequence[tuple]) -> None:
        """Fold per-series aggregates (series_id, step, timestamp, value, is_nan, min, max,
        count, first step, first timestamp, first value, in time order) into
        ``metric_summaries`` in as few statements as the driver allows."""

    def log_point(
        self, conn: Connection, run_id: str, key: str, row: tuple
    ) -> tuple[str | None, int | None]:
        """Store one point of an existing series in one round trip (drivers with
        ``one_statement_log_point``).

        Returns the run's (lifecycle stage, series id): the point was handled when the stage
        is active and the series id is not None; else nothing was written and the caller
        takes the general path (which creates the series or raises the right error).
        """
        raise NotImplementedError(f"{self.name} has no one-statement log_point")

    def create_run(
        self, conn: Connection, values: dict[str, Any], tags: dict[str, str]
    ) -> tuple[str | None, str | None]:
        """Insert a run (``values``: its columns but the artifact URI, which the experiment's
        location decides) and its tags in one round trip (drivers with
        ``one_statement_create_run``), if its experiment is active.

        Returns (the experiment's lifecycle stage, the run's artifact URI): the run was
        created when the URI is not None; else nothing was written and the caller takes the
        general path (which raises the right error). A run id taken already raises the
        database's integrity error, as the general path's INSERT does.
        """
        raise NotImplementedError(f"{self.name} has no one-statement create_run")
