"""Metric points: bulk writes that keep ``metric_summaries`` current, history, downsampling.

A write inserts the points with ON CONFLICT DO NOTHING ... RETURNING, so only points that are
new reach the summary upsert; the upsert moves "latest" only when the new point has a greater
(step, timestamp, value), so arrival order does not matter and re-sent points are not counted.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.entities import Metric, MetricSummary
from runyard.errors import InvalidParameterValue
from runyard.protocol import format_double
from runyard.search import paging
from runyard.store.sql import fastpath
from runyard.store.sql import models as m
from runyard.store.sql.dialect import insert_for, insert_ignore
from runyard.store.sql.rawfetch import fetch_for_runs

_NAN = float("nan")
_M = m.metrics.c
_S = m.metric_summaries.c


_POINT_COLUMNS = (
    "series_id",
    "step",
    "timestamp",
    "value",
    "is_nan",
    "model_id",
    "dataset_name",
    "dataset_digest",
)
_RETURNING = "series_id, step, timestamp, value, is_nan"
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


def write_points(conn: Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    """Insert new points and fold exactly those into the run's summaries."""
    if not metrics:
        return
    series = series_ids(conn, run_id, {metric.key for metric in metrics})
    write_point_rows(conn, [point_tuple(series[metric.key], metric) for metric in metrics])


def write_point_rows(conn: Connection, rows: list[tuple]) -> None:
    """Insert point rows (``point_tuple``) of existing series and fold the new ones."""
    if len(rows) == 1:  # one statement that says whether the point was new
        new = _insert_points(conn, rows)
        if new:
            fold_into_summaries(conn, new)
        return
    new: list = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        new += chunk if fastpath.insert_all_new(conn, chunk) else _insert_points(conn, chunk)
    if new:
        fold_into_summaries(conn, new)


def series_ids(conn: Connection, run_id: str, keys: set[str]) -> dict[str, int]:
    """The series id of each (run, key), creating empty series (count 0) for new keys."""
    stmt = sa.select(_S.key, _S.series_id).where(_S.run_uuid == run_id, _S.key.in_(keys))
    found = dict(conn.execute(stmt).all())
    missing = keys.difference(found)
    if missing:
        empty = {"value": 0.0, "is_nan": False, "step": 0, "timestamp": 0, "count": 0}
        insert_ignore(
            conn,
            m.metric_summaries,
            [{"run_uuid": run_id, "key": key, **empty} for key in sorted(missing)],
        )
        found = dict(conn.execute(stmt).all())
    return found


def _insert_points(conn: Connection, rows: list[tuple]) -> list:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING through the driver: this is the ingest hot
    path, and building 1000 parameter dicts in SQLAlchemy costs more than the insert itself."""
    driver = conn.dialect.driver
    if driver in ("pysqlite", "psycopg2"):
        cursor = conn.connection.cursor()
        try:
            if driver == "pysqlite":
                flat = [value for row in rows for value in row]
                cursor.execute(_sqlite_insert_sql(len(rows)), flat)
                return cursor.fetchall()
            cursor.execute(
                _POSTGRES_INSERT_SQL, [list(column) for column in zip(*rows, strict=True)]
            )
            return cursor.fetchall()
        finally:
            cursor.close()
    stmt = (
        insert_for(conn, m.metrics)
        .on_conflict_do_nothing()
        .returning(_M.series_id, _M.step, _M.timestamp, _M.value, _M.is_nan)
    )
    return list(conn.execute(stmt, [dict(zip(_POINT_COLUMNS, r, strict=True)) for r in rows]))


# One array per column: psycopg2 adapts lists in C, far cheaper than a row-per-VALUES text.
_POSTGRES_INSERT_SQL = (
    f"INSERT INTO metrics ({', '.join(_POINT_COLUMNS)}) SELECT * FROM unnest("
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::boolean[], "
    "%s::varchar[], %s::varchar[], %s::varchar[]) "
    f"ON CONFLICT DO NOTHING RETURNING {_RETURNING}"
)


@functools.lru_cache(maxsize=64)
def _sqlite_insert_sql(n_rows: int) -> str:
    row = "(" + ",".join("?" * len(_POINT_COLUMNS)) + ")"
    return (
        f"INSERT INTO metrics ({', '.join(_POINT_COLUMNS)}) VALUES "
        + ",".join([row] * n_rows)
        + f" ON CONFLICT DO NOTHING RETURNING {_RETURNING}"
    )


def fold_into_summaries(conn: Connection, points: Sequence[Sequence]) -> None:
    """Fold new points (series_id, step, timestamp, stored value, is_nan, ...) into their
    series' summaries: one aggregate per series, one statement."""
    groups: dict[int, list] = {}
    for point in points:
        group = groups.get(point[0])
        if group is None:
            groups[point[0]] = [point]
        else:
            group.append(point)
    rows = []
    for series_id, group in groups.items():
        latest = max(group, key=_ORDER_KEY)
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
            )
        )
    if not fastpath.update_summaries(conn, rows):
        conn.execute(_SUMMARY_UPDATE, [dict(zip(_FOLD_NAMES, row, strict=True)) for row in rows])


_ORDER_KEY = operator.itemgetter(1, 2, 3)  # MLflow's "latest": greatest (step, timestamp, value)
_FOLD_NAMES = ("sid", "n_step", "n_timestamp", "n_value", "n_is_nan", "n_min", "n_max", "n_count")


def _summary_update() -> sa.Update:
    """Fold a batch's aggregate into a series: "latest" moves only to a greater
    (step, timestamp, value), so arrival order does not matter."""
    new = {
        name: sa.bindparam(f"n_{name}", type_=_S[name].type)
        for name in ("step", "timestamp", "value", "is_nan")
    }
    new_min = sa.bindparam("n_min", type_=_S.min_value.type)
    new_max = sa.bindparam("n_max", type_=_S.max_value.type)
    newer = sa.or_(
        _S.count == 0,
        sa.tuple_(new["step"], new["timestamp"], new["value"])
        > sa.tuple_(_S.step, _S.timestamp, _S.value),
    )
    return (
        sa.update(m.metric_summaries)
        .where(_S.series_id == sa.bindparam("sid"))
        .values(
            step=sa.case((newer, new["step"]), else_=_S.step),
            timestamp=sa.case((newer, new["timestamp"]), else_=_S.timestamp),
            value=sa.case((newer, new["value"]), else_=_S.value),
            is_nan=sa.case((newer, new["is_nan"]), else_=_S.is_nan),
            min_value=sa.case(
                (sa.or_(_S.min_value.is_(None), new_min < _S.min_value), new_min),
                else_=_S.min_value,
            ),
            max_value=sa.case(
                (sa.or_(_S.max_value.is_(None), new_max > _S.max_value), new_max),
                else_=_S.max_value,
            ),
            count=_S.count + sa.bindparam("n_count", type_=sa.BigInteger),
        )
    )


_SUMMARY_UPDATE = _summary_update()


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
        "WHERE count > 0 AND run_uuid {runs}"
    )
    for run_id, key, value, is_nan, timestamp, step in fetch_for_runs(conn, sql, run_ids):
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
    rows = _history_rows(conn, run_id, key, limit, offset, after)
    return [
        Metric(key, _NAN if nan else v, ts, step, run_id, mid, dname, ddigest)
        for v, nan, ts, step, mid, dname, ddigest in rows
    ]


def history_json(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int = 0,
    after: HistoryKey | None = None,
) -> list[dict]:
    """What ``history`` returns, as ``protocol.metric_to_json`` renders each point: the REST
    handler's path, with no ``Metric`` per row."""
    rows = _history_rows(conn, run_id, key, limit, offset, after)
    out = []
    for v, nan, ts, step, mid, dname, ddigest in rows:
        obj = {
            "key": key,
            "value": "NaN" if nan else (v if v - v == 0.0 else format_double(v)),
            "timestamp": ts,
            "step": step,
        }
        if mid is not None:
            obj["model_id"] = mid
        if dname is not None:
            obj["dataset_name"] = dname
        if ddigest is not None:
            obj["dataset_digest"] = ddigest
        out.append(obj)
    return out


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


def _history_rows(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int,
    after: HistoryKey | None,
) -> list[tuple]:
    driver = conn.dialect.driver
    if driver not in ("pysqlite", "psycopg2"):
        return _history_rows_core(conn, run_id, key, limit, offset, after)
    mark = "?" if driver == "pysqlite" else "%s"
    sql = (
        f"SELECT {_HISTORY_COLUMNS} FROM metrics WHERE series_id = (SELECT series_id FROM "
        f"metric_summaries WHERE run_uuid = {mark} AND key = {mark})"
    )
    args: list = [run_id, key]
    if after is not None:
        sql += f" AND (timestamp, step, value, is_nan) > ({mark}, {mark}, {mark}, {mark})"
        args += after
    sql += _HISTORY_ORDER
    if limit is not None or offset:
        sql += f" LIMIT {mark} OFFSET {mark}"
        args += [-1 if limit is None and driver == "pysqlite" else limit, offset]
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def _history_rows_core(
    conn: Connection,
    run_id: str,
    key: str,
    limit: int | None,
    offset: int,
    after: HistoryKey | None,
) -> list[tuple]:
    """The same query through SQLAlchemy, for drivers without a raw path."""
    stmt = sa.select(
        _M.value,
        _M.is_nan,
        _M.timestamp,
        _M.step,
        _M.model_id,
        _M.dataset_name,
        _M.dataset_digest,
    ).where(_M.series_id == series_of(run_id, key))
    if after is not None:
        stmt = stmt.where(sa.tuple_(_M.timestamp, _M.step, _M.value, _M.is_nan) > sa.tuple_(*after))
    stmt = stmt.order_by(_M.timestamp, _M.step, _M.value, _M.is_nan).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [tuple(row) for row in conn.execute(stmt)]
