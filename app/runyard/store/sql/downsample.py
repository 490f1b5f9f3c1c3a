"""Metric history downsampled in the database, for charts of long histories.

The run's step range is cut into about ``max_results / 2`` buckets; each bucket contributes its
lowest and its highest point, so spikes survive, plus the first and last point of the range.
Index seeks find the end points. The extremes come from one windowed query per run while the
history is of a size the database sorts in a blink (``WINDOW_LIMIT`` points), and from two
index range scans per bucket beyond it, where sorting the whole history would cost more than
the seeks: a million-point history comes back as a few hundred points without a million rows
ever leaving the database, and a chart of a hundred 10,000-point runs costs a hundred queries,
not fifty thousand.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.entities import Metric
from runyard.store.sql import models as m

_M = m.metrics.c
_NAN = float("nan")
#: Up to this many points in the step range, one windowed query finds every bucket's extremes.
WINDOW_LIMIT = 200_000


def bulk_interval(
    conn: Connection,
    run_ids: Sequence[str],
    key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    found: list[Metric] = []
    for run_id in dict.fromkeys(run_ids):
        points = _run_points(conn, run_id, key, max_results, start_step, end_step)
        found += [Metric(key, v, ts, step, run_id) for step, ts, v in points]
    return found


def _run_points(
    conn: Connection,
    run_id: str,
    key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[tuple[int, int, float]]:
    series = conn.execute(
        sa.select(m.metric_summaries.c.series_id, m.metric_summaries.c.count).where(
            m.metric_summaries.c.run_uuid == run_id, m.metric_summaries.c.key == key
        )
    ).first()
    if series is None or not series.count:
        return []
    where = [_M.series_id == series.series_id]
    if start_step is not None:
        where.append(_M.step >= start_step)
    if end_step is not None:
        where.append(_M.step <= end_step)
    if series.count <= max_results:
        return _ordered(conn.execute(_points(where).order_by(_M.step, _M.timestamp)).all())
    first = conn.execute(_points(where).order_by(_M.step, _M.timestamp).limit(1)).first()
    last = conn.execute(
        _points(where).order_by(_M.step.desc(), _M.timestamp.desc()).limit(1)
    ).first()
    if first is None or last is None:
        return []
    low, high = first.step, last.step
    buckets = max(1, (max_results - 2) // 2)
    width = (high - low) // buckets + 1
    if series.count <= WINDOW_LIMIT:
        extremes = _window_extremes(conn, series.series_id, low, high, width)
    else:
        extremes = _bucket_extremes(conn, series.series_id, low, high, width)
    points = _ordered([first, last, *extremes])
    return points if len(points) <= max_results else _thin(points, max_results)


def _points(where: list) -> sa.Select:
    return sa.select(_M.step, _M.timestamp, _M.value, _M.is_nan).where(*where)


def _window_extremes(
    conn: Connection, series_id: int, low: int, high: int, width: int
) -> list[tuple]:
    """Every bucket's lowest and highest finite point in one pass over the history; ties go to
    the earliest step, as in the per-bucket scans.

    SQLite groups the points by bucket and keeps the row of each group's min() and max().
    PostgreSQL hashes the points into buckets and keeps the least and greatest
    ``[value, step, timestamp]`` array of each (no sort), exact while steps and timestamps fit
    a double's 53 bits; past that, or on other databases, window functions rank each bucket's
    points (two sorts, about three times the cost)."""
    params = {"sid": series_id, "lo": low, "hi": high, "w": width}
    if conn.dialect.driver == "pysqlite":
        return [
            (r[1], r[2], r[0], False)
            for query in _SQLITE_GROUPED
            for r in conn.execute(query, params)
        ]
    if conn.dialect.name == "postgresql" and max(abs(low), abs(high)) <= _EXACT_IN_DOUBLE:
        rows = conn.execute(_ARRAY_EXTREMES, params).all()
        if all(-_EXACT_IN_DOUBLE <= r.first <= r.last <= _EXACT_IN_DOUBLE for r in rows):
            return [
                (int(a[1]) * sign, int(a[2]), a[0], False)
                for r in rows
                for a, sign in ((r.lowest, 1), (r.highest, -1))
            ]
    return [(r[0], r[1], r[2], False) for r in conn.execute(_WINDOWED_EXTREMES, params)]


_WINDOWED_EXTREMES = sa.text(
    "SELECT step, timestamp, value FROM ("
    " SELECT step, timestamp, value,"
    "  ROW_NUMBER() OVER (PARTITION BY (step - :lo) / :w ORDER BY value ASC, step) AS lowest,"
    "  ROW_NUMBER() OVER (PARTITION BY (step - :lo) / :w ORDER BY value DESC, step) AS highest"
    " FROM metrics"
    " WHERE series_id = :sid AND step >= :lo AND step <= :hi AND NOT is_nan"
    ") AS ranked WHERE lowest = 1 OR highest = 1"
)

#: Integers up to this size are exact in a double.
_EXACT_IN_DOUBLE = 2**53

# Arrays compare element by element: the least [value, step] is the lowest value at its
# earliest step, the greatest [value, -step] the highest value at its earliest step.
_ARRAY_EXTREMES = sa.text(
    "SELECT min(ARRAY[value, step, timestamp]) AS lowest,"
    " max(ARRAY[value, -step, timestamp]) AS highest,"
    " min(timestamp) AS first, max(timestamp) AS last"
    " FROM metrics WHERE series_id = :sid AND step >= :lo AND step <= :hi AND NOT is_nan"
    " GROUP BY (step - :lo) / :w"
)


def _bucket_extremes(
    conn: Connection, series_id: int, low: int, high: int, width: int
) -> list[tuple]:
    """The lowest and highest finite point of each step bucket: index range scans per bucket
    and no sort (a GROUP BY over a computed bucket would sort the whole history)."""
    queries = _SQLITE_EXTREMES if conn.dialect.driver == "pysqlite" else _GENERIC_EXTREMES
    rows: list[tuple] = []
    for bucket_start in range(low, high + 1, width):
        params = {"sid": series_id, "lo": bucket_start, "hi": bucket_start + width}
        for query in queries:
            row = conn.execute(query, params).first()
            if row is not None and row[0] is not None:
                rows.append((row[1], row[2], row[0], False))
    return rows


# SQLite returns the bare columns of the row holding a group's min() or max(); among equal
# values, the first row of the group, which the subquery's step order makes the earliest.
_SQLITE_GROUPED = tuple(
    sa.text(
        f"SELECT {agg}(value), step, timestamp FROM (SELECT step, timestamp, value FROM metrics"
        " WHERE series_id = :sid AND step >= :lo AND step <= :hi AND NOT is_nan ORDER BY step)"
        " GROUP BY (step - :lo) / :w"
    )
    for agg in ("min", "max")
)

_RANGE = "series_id = :sid AND step >= :lo AND step < :hi AND NOT is_nan"
# SQLite returns the bare columns of the row holding a lone min() or max(): one pass, no sort.
_SQLITE_EXTREMES = tuple(
    sa.text(f"SELECT {agg}(value), step, timestamp FROM metrics WHERE {_RANGE}")
    for agg in ("min", "max")
)
_GENERIC_EXTREMES = tuple(
    sa.text(
        f"SELECT value, step, timestamp FROM metrics WHERE {_RANGE} "
        f"ORDER BY value {direction}, step LIMIT 1"
    )
    for direction in ("ASC", "DESC")
)


def _ordered(rows: Sequence[tuple]) -> list[tuple[int, int, float]]:
    unique = {(r[0], r[1], _NAN if r[3] else r[2]) for r in rows}
    return sorted(unique, key=lambda p: (p[0], p[1]))


def _thin(points: list[tuple[int, int, float]], limit: int) -> list[tuple[int, int, float]]:
    """Evenly spaced points keeping the first and the last (only for tiny ``limit``)."""
    if limit <= 1:
        return points[-1:]
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]
