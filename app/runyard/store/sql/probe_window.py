"""Filtered pages of the default order on SQLite: test the newest runs one by one first, and
fall back to sets of matches only when they are rare.

As sets (``run_filter``), a condition reads every row that matches it, in every experiment,
before the first run is ordered: a filtered page cost time in proportion to the matches, so it
grew with the experiment (165 ms at 100,000 runs for a metric-and-param filter that one run in
22 matches). Walking the runs newest first and probing each one's own rows stops when the page
is full, which costs the same at any size when matches are common, but reads every run when
they are rare.

So a page probes a small window of runs first (``FIRST_WINDOW_PER_ROW`` runs per row asked),
then a window as large as the rate of matches seen says the rest of the page needs, as long as
the runs probed stay within ``PROBES_PER_ROW`` per row asked; past that, or when the first window
matched nothing, the rest of the page comes from the sets, starting after the last window.

Postgres needs none of this: it estimates each condition's matches from its statistics
(migration 0008) and makes the same choice itself; SQLite keeps no statistics unless a user
runs ANALYZE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from runyard.search.ast import Expr
from runyard.store.sql import models as m
from runyard.store.sql import newest_first
from runyard.store.sql.search import run_filter

_R = m.runs.c
#: The first window: runs probed per row asked, to learn how often the filter matches.
FIRST_WINDOW_PER_ROW = 10
#: The most runs probed per row asked before the rest of the page comes from sets: a filter
#: that one run in fifty matches still fills its page by probing.
PROBES_PER_ROW = 100
#: The next window is this much larger than the rate seen so far says the page needs.
MARGIN = 1.25


def applies(
    conn: Connection, expr: Expr | None, offset: int, after: tuple[int | None, str] | None
) -> bool:
    """SQLite, a filter, and a page of the default order that starts at the beginning or after
    a named run (a bare offset from another server's token pages by offset)."""
    first_or_seek = offset == 0 or after is not None
    return conn.dialect.name == "sqlite" and expr is not None and first_or_seek


def search_page(
    conn: Connection,
    columns: Sequence[Any],
    base_where: Sequence[ColumnElement[bool]],
    expr: Expr,
    after: tuple[int | None, str] | None,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows of ``columns`` for runs matching ``base_where`` and ``expr``, in the
    default order, after ``after`` (the first page when None)."""
    as_sets = [*base_where, run_filter(expr)]
    if after is not None and after[0] is None:  # already among the runs without a start time
        return newest_first.search_page(conn, columns, as_sets, after, limit)
    probing = [*base_where, run_filter(expr, correlated=True)]
    rows: list[Any] = []
    probed, window = 0, FIRST_WINDOW_PER_ROW * limit
    while True:
        bound = window_end(conn, base_where, after, window)
        stmt = started(columns, probing, after)
        if bound is not None:
            stmt = stmt.where(up_to(*bound))
        rows += conn.execute(stmt.limit(limit - len(rows))).all()
        rest = limit - len(rows)
        if rest == 0:
            return rows
        if bound is None:  # the window held every started run left: the unstarted follow
            stmt = newest_first.never_started_after(columns, as_sets, None)
            return rows + conn.execute(stmt.limit(rest)).all()
        probed, after = probed + window, bound
        window = next_window(len(rows), probed, rest)
        if window is None or probed + window > PROBES_PER_ROW * limit:
            return rows + newest_first.search_page(conn, columns, as_sets, after, rest)


def next_window(found: int, probed: int, rest: int) -> int | None:
    """How many more runs to probe for ``rest`` more matches, at the rate seen so far; None
    when nothing matched yet."""
    if found == 0:
        return None
    return math.ceil(rest * probed / found * MARGIN)


def started(
    columns: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    after: tuple[int | None, str] | None,
) -> sa.Select:
    """Runs with a start time, newest first, after ``after`` when one is given."""
    if after is not None:
        start_time, run_id = after
        assert start_time is not None
        return newest_first.started_after(columns, where, start_time, run_id)
    return (
        sa.select(*columns)
        .where(*where, _R.start_time.is_not(None))
        .order_by(_R.start_time.desc().nulls_last(), _R.run_uuid.asc())
    )


def window_end(
    conn: Connection,
    base_where: Sequence[ColumnElement[bool]],
    after: tuple[int | None, str] | None,
    size: int,
) -> tuple[int, str] | None:
    """The (start time, run id) of the ``size``-th started run after ``after``, read from the
    newest-first index; None when fewer are left."""
    stmt = started([_R.start_time, _R.run_uuid], base_where, after)
    row = conn.execute(stmt.offset(size - 1).limit(1)).first()
    return None if row is None else (row[0], row[1])


def up_to(start_time: int, run_id: str) -> ColumnElement[bool]:
    """Runs up to and including (start_time, run_id) in the default order, among the started."""
    return sa.and_(
        _R.start_time >= start_time,
        sa.or_(_R.start_time > start_time, _R.run_uuid <= run_id),
    )


__all__ = [
    "FIRST_WINDOW_PER_ROW",
    "PROBES_PER_ROW",
    "applies",
    "next_window",
    "search_page",
    "up_to",
    "window_end",
]
