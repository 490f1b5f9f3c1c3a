"""Counting what the SQL store asks of its database: statements on SQLite, round trips on
Postgres.

The count is taken at the driver, below SQLAlchemy, so the ingest fast paths (which use the
driver's cursor directly) are counted too. On Postgres every message exchange counts: each
``execute``, each parameter set of an ``executemany``, each ``COPY``, the ``BEGIN`` psycopg2
sends before a transaction's first statement, and ``COMMIT``/``ROLLBACK``. On SQLite the
database runs in-process, so "round trip" means a statement SQLite executed (trace callback).

The total is per process; tests assert per-operation counts with :func:`counting` (the
benchmark counts a server's round trips on the wire instead, ``bench/pg_wire.py``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_total = 0


def add(n: int = 1) -> None:
    """Note ``n`` round trips."""
    global _total
    with _lock:
        _total += n


def total() -> int:
    """Round trips this process made since it started."""
    return _total


class Tally:
    """Round trips made between entering and leaving a ``counting()`` block."""

    def __init__(self) -> None:
        self.start = total()
        self.end: int | None = None

    @property
    def count(self) -> int:
        return (total() if self.end is None else self.end) - self.start


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    tally = Tally()
    try:
        yield tally
    finally:
        tally.end = total()


# ---- SQLite ----------------------------------------------------------------------------------
def _sqlite_statement(_sql: str) -> None:
    add()


def watch_sqlite(dbapi_conn) -> None:  # type: ignore[no-untyped-def]
    """Count every statement the sqlite3 connection runs (its trace callback)."""
    dbapi_conn.set_trace_callback(_sqlite_statement)


# ---- Postgres (psycopg2) ---------------------------------------------------------------------
@functools.cache
def postgres_connection_factory() -> type:
    """A psycopg2 connection class whose cursors and transaction ends count their round trips."""
    import psycopg2.extensions as ext

    class CountingCursor(ext.cursor):
        def _begins(self) -> None:
            conn = self.connection
            if not conn.autocommit and conn.status == ext.STATUS_READY:
                add()  # psycopg2 sends BEGIN first

        def execute(self, query, vars=None):  # type: ignore[no-untyped-def]
            self._begins()
            add()
            return super().execute(query, vars)

        def executemany(self, query, vars_list):  # type: ignore[no-untyped-def]
            self._begins()
            vars_list = list(vars_list)
            add(len(vars_list))
            return super().executemany(query, vars_list)

        def copy_expert(self, sql, file, size=8192):  # type: ignore[no-untyped-def]
            self._begins()
            add()
            return super().copy_expert(sql, file, size)

        def callproc(self, procname, parameters=None):  # type: ignore[no-untyped-def]
            self._begins()
            add()
            return super().callproc(procname, parameters)

    class CountingConnection(ext.connection):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.cursor_factory = CountingCursor

        def commit(self) -> None:
            if self.status != ext.STATUS_READY:
                add()
            super().commit()

        def rollback(self) -> None:
            if self.status != ext.STATUS_READY:
                add()
            super().rollback()

    return CountingConnection
