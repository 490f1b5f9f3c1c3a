"""Metric points: bulk writes that keep ``metric_summaries`` current, history, downsampling.

A write inserts the points with ON CONFLICT DO NOTHING ... RETURNING, so only points that are
new reach the summary upsert; the upsert moves "latest" only when the new point has a greater
(step, timestamp, value), so arrival order does not matter and re-sent points are not counted.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.entities import HistoryRow, Metric, MetricSummary
from runyard.errors import InvalidParameterValue
from runyard.search import paging
from runyard.store.sql import models as m
from runyard.store.sql.dialect import Computed, insert_new
from runyard.store.sql.drivers import driver_of

_NAN = float("nan")
_M = m.metrics.c
_S = m.metric_summaries.c


#: Rows per multi-row INSERT; 8 parameters each stays far below SQLite's variable limit.
_CHUNK = 1000


def point_tuple(series_id: int, metric: Metric) -> tuple:
    value = float(metric.value)
    is_nan = value != value
    return (
        series_id,
        metric.step,
        metric.timestamp,
        0.0 if is_nan else value,
        is_nan,
        metric.model_id,
        metric.dataset_name,
        metric.dataset_digest,
    )


def write_points(
    conn: Connection, run_id: str, metrics: Sequence[Metric], known: dict[str, int] | None = None
) -> None:
    """Insert new points and fold exactly those into the run's summaries (``known``: series
    ids already read, by ``stage_and_series``)."""
    if not metrics:
        return
    series = series_ids(conn, run_id, {metric.key for metric in metrics}, known)
    write_point_rows(conn, [point_tuple(series[metric.key], metric) for metric in metrics])


def stage_and_series(
    conn: Connection, run_id: str, keys: Collection[str], lock: bool = False
) -> tuple[str | None, dict[str, int]]:
    """The run's lifecycle stage (None: there is no such run) and the series ids it has for
    ``keys`` already, in one statement; with ``lock``, the run's row stays locked until the
    transaction ends (see ``SqlBase._run_stage``)."""
    driver = driver_of(conn)
    marks = ", ".join([driver.mark] * len(keys))
    rows = driver.rows(
        conn,
        "SELECT r.lifecycle_stage, s.key, s.series_id FROM runs r LEFT JOIN metric_summaries s "
        f"ON s.run_uuid = r.run_uuid AND s.key IN ({marks}) WHERE r.run_uuid = {driver.mark}"
        + (driver.lock_run_row if lock else ""),
        (*keys, run_id),
    )
    if not rows:
        return None, {}
    return rows[0][0], {key: series_id for _stage, key, series_id in rows if key is not None}


def write_point_rows(conn: Connection, rows: list[tuple]) -> None:
    """Insert point rows (``point_tuple``) of existing series and fold the new ones."""
    driver = driver_of(conn)
    if len(rows) == 1:  # one statement that says whether the point was new
        new = driver.insert_points(conn, rows)
        if new:
            fold_into_summaries(conn, new)
        return
    new: list = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        plain = all(row[5] is None and row[6] is None and row[7] is None for row in chunk)
        if plain and driver.insert_all_new(conn, chunk):
            new += chunk
        else:
            new += driver.insert_points(conn, chunk)
    if new:
        fold_into_summaries(conn, new)


def series_ids(
    conn: Connection, run_id: str, keys: set[str], known: dict[str, int] | None = None
) -> dict[str, int]:
    """The series id of each (run, key), creating empty series (count 0) for new keys; the
    ids in ``known`` (read in this transaction) are not read again."""
    stmt = sa.select(_S.key, _S.series_id).where(_S.run_uuid == run_id, _S.key.in_(keys))
    found = dict(conn.execute(stmt).all()) if known is None else dict(known)
    missing = keys.difference(found)
    if missing:
        empty = {"value": 0.0, "is_nan": False, "step": 0, "timestamp": 0, "count": 0}
        empty["in_time_order"] = True  # no points: nothing out of order
        # read in the same statement
        empty["experiment_id"] = Computed(
            "SELECT experiment_id FROM runs WHERE run_uuid = ?", (run_id,)
        )
        rows = [{"run_uuid": run_id, "key": key, **empty} for key in sorted(missing)]
        found.update(insert_new(conn, m.metric_summaries, rows, (_S.key, _S.series_id)))
        if keys.difference(found):  # another writer created some meanwhile
            found = dict(conn.execute(stmt).all())
    return found


def fold_into_summaries(conn: Connection, points: Sequence[Sequence]) -> None:
    """Fold new points (series_id, step, timestamp, stored value, is_nan, ...) into their
    series' summaries: one aggregate per series, one statement.

    Each aggregate also carries its first point in key order and whether its own timestamps
    never decrease in that order: the series stays ``in_time_order`` when they do and the
    first comes after the series' latest point, at no earlier time (``set_clause``)."""
    groups: dict[int, list] = {}
    for point in points:
        group = groups.get(point[0])
        if group is None:
            groups[point[0]] = [point]
        else:
            group.append(point)
    rows = []
    for series_id, group in groups.items():
        in_order = in_time_order(group)
        if in_order is None:  # not arrived in key order: look at them sorted
            group.sort(key=_ORDER_KEY)
            in_order = bool(in_time_order(group))
            latest = max(group, key=_ORDER_KEY)  # among equal keys, the first to arrive
        else:
            latest = group[-1]
        first = group[0]
        finite = [point[3] for point in group if not point[4]]
        rows.append(
            (
                series_id,
                latest[1],
                latest[2],
                latest[3],
                bool(latest[4]),
                min(finite) if finite else None,
                max(finite) if finite else None,
                len(group),
                first[1],
                first[2],
                first[3],
                in_order,
            )
        )
    driver_of(conn).update_summaries(conn, rows)


_ORDER_KEY = operator.itemgetter(1, 2, 3)  # MLflow's "latest": greatest (step, timestamp, value)


def in_time_order(points: Sequence[Sequence]) -> bool | None:
    """For points of one series, as given: None unless each comes after the one before in key
    order (step, timestamp, value); else whether their timestamps never decrease."""
    in_order = True
    previous = points[0]
    for point in points[1:]:
        if point[1] <= previous[1] and _ORDER_KEY(point) <= _ORDER_KEY(previous):
            return None
        if point[2] < previous[2]:
            in_order = False
        previous = point
    return in_order


def _value(value: float, is_nan: bool) -> float:
    return _NAN if is_nan else value


# ---- reads ----------------------------------------------------------------------------------
def latest_metrics(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """The latest point of every metric of each run, from the summary table (one query)."""
    found: dict[str, list[Metric]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    sql = (
        "SELECT run_uuid, key, value, is_nan, timestamp, step FROM metric_summaries "
        "WHERE count > 0 AND run_uuid {ids}"
    )
    rows = driver_of(conn).fetch_for_ids(conn, sql, run_ids)
    for run_id, key, value, is_nan, timestamp, step in rows:
        found[run_id].append(Metric(key, _NAN if is_nan else value, timestamp, step, run_id))
    return found


def summaries(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
    found: dict[str, list[MetricSummary]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    stmt = (
        sa.select(m.metric_summaries)
        .where(_S.run_uuid.in_(list(run_ids)))
        .order_by(_S.run_uuid, _S.key)
    )
    for row in conn.execute(stmt):
        latest = Metric(
            row.key, _value(row.value, row.is_nan), row.timestamp, row.step, row.run_uuid
        )
        found[row.run_uuid].append(
            MetricSummary(
                key=row.key,
                latest=latest,
                min_value=_NAN if row.min_value is None else row.min_value,
                max_value=_NAN if row.max_value is None else row.max_value,
                count=row.count,
            )
        )
    return found


def series_of(run_id: str, key: str) -> sa.ScalarSelect:
    """The series id of (run, key) as a scalar subquery (NULL, matching nothing, if absent)."""
    return sa.select(_S.series_id).where(_S.run_uuid == run_id, _S.key == key).scalar_subquery()


#: A history page's position: the last point's (timestamp, step, stored value, is_nan).
HistoryKey = tuple[int, int, float, bool]

_HISTORY_COLUMNS = "value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest"
_HISTORY_ORDER = " ORDER BY timestamp, step, value, is_nan"
_KEY_ORDER = " ORDER BY step, timestamp, value, is_nan"


def history(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int = 0,
    after: HistoryKey | None = None,
) -> list[Metric]:
    """Points of (run, key) in (timestamp, step, value) order, from ``offset`` or strictly
    after the point ``after`` (keyset paging: no earlier rows are sorted and skipped again).

    Read through the driver's cursor: a page holds up to 25,000 points, and SQLAlchemy's per-row
    processing would cost more than the query.
    """
    rows = history_rows(conn, run_id, key, limit, offset, after)
    return [
        Metric(key, _NAN if nan else v, ts, step, run_id, mid, dname, ddigest)
        for v, nan, ts, step, mid, dname, ddigest in rows
    ]


def history_key(metric: Metric) -> HistoryKey:
    """The keyset position of a point that ``history`` returned."""
    value = metric.value
    is_nan = value != value
    return (metric.timestamp, metric.step, 0.0 if is_nan else float(value), is_nan)


def encode_history_token(last: Metric | HistoryKey) -> str:
    """The token for the page after ``last`` (a point or its keyset position): the position,
    with the value as text so infinities survive JSON."""
    ts, step, value, is_nan = history_key(last) if isinstance(last, Metric) else last
    return paging.encode_token({"ts": ts, "step": step, "value": repr(value), "nan": is_nan})


def decode_history_token(token: str | None) -> tuple[int, HistoryKey | None]:
    """(offset, keyset position) of a page token: ours carry the position of the last point;
    MLflow's ``{"offset": N}`` tokens are still accepted, so a client can carry one across."""
    if not token:
        return 0, None
    try:
        payload = paging.decode_token(token)
    except InvalidParameterValue:
        return paging.decode_offset_token(token), None
    if "offset" in payload:
        return paging.decode_offset_token(token), None
    ts, step, value, is_nan = (payload.get(k) for k in ("ts", "step", "value", "nan"))
    try:
        number = float(value) if isinstance(value, str) else _NAN
    except ValueError:
        number = _NAN
    if (
        not all(isinstance(n, int) and not isinstance(n, bool) for n in (ts, step))
        or not isinstance(is_nan, bool)
        or number != number
    ):
        raise InvalidParameterValue(f"Invalid page token, parsed value={payload}")
    return 0, (ts, step, number, is_nan)


def history_rows(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int = 0,
    after: HistoryKey | None = None,
) -> list[HistoryRow]:
    """What ``history`` returns, as bare rows: the server renders a long history straight from
    these (``protocol.history_rows_json_text``), with no ``Metric`` per point."""
    query = history_query(conn, run_id, key, limit, offset, after)
    return [] if query is None else driver_of(conn).rows(conn, query.sql, query.args)


@dataclass(frozen=True)
class HistoryQuery:
    """One page of a series as SQL in the driver's placeholders: ``sql`` selects
    ``_HISTORY_COLUMNS`` in page order."""

    sql: str
    args: list


def history_query(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int = 0,
    after: HistoryKey | None = None,
) -> HistoryQuery | None:
    """The query of a history page; None when (run, key) has no series.

    A series ``in_time_order`` is read in its primary key's order, which is then the same
    order: a page is an index range scan. Any other series is sorted."""
    mark = (driver := driver_of(conn)).mark
    found = driver.rows(
        conn,
        f"SELECT series_id, in_time_order FROM metric_summaries WHERE run_uuid = {mark} "
        f"AND key = {mark}",
        [run_id, key],
    )
    if not found:
        return None
    series_id, by_key = found[0][0], bool(found[0][1])
    sql = f"SELECT {_HISTORY_COLUMNS} FROM metrics WHERE series_id = {mark}"
    args: list = [series_id]
    if after is not None:
        ts, step, value, is_nan = after
        if by_key:
            sql += f" AND (step, timestamp, value, is_nan) > ({mark}, {mark}, {mark}, {mark})"
            args += [step, ts, value, is_nan]
        else:
            sql += f" AND (timestamp, step, value, is_nan) > ({mark}, {mark}, {mark}, {mark})"
            args += after
    sql += _KEY_ORDER if by_key else _HISTORY_ORDER
    if limit is not None or offset:
        sql += f" LIMIT {mark} OFFSET {mark}"
        args += [driver.no_limit if limit is None else limit, offset]
    return HistoryQuery(sql, args)
