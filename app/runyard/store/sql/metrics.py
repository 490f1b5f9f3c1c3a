"""Metric points: bulk writes that keep ``metric_summaries`` current, history, downsampling.

A write inserts the points with ON CONFLICT DO NOTHING ... RETURNING, so only points that are
new reach the summary upsert; the upsert moves "latest" only when the new point has a greater
(step, timestamp, value), so arrival order does not matter and re-sent points are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.entities import Metric, MetricSummary
from runyard.store.sql import models as m
from runyard.store.sql.dialect import insert_for

_NAN = float("nan")
_M = m.metrics.c
_S = m.metric_summaries.c


def point_row(run_id: str, metric: Metric) -> dict:
    value = float(metric.value)
    is_nan = value != value
    return {
        "run_uuid": run_id,
        "key": metric.key,
        "step": metric.step,
        "timestamp": metric.timestamp,
        "value": 0.0 if is_nan else value,
        "is_nan": is_nan,
        "model_id": metric.model_id,
        "dataset_name": metric.dataset_name,
        "dataset_digest": metric.dataset_digest,
    }


def write_points(conn: Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    """Insert new points and fold exactly those into the run's summaries."""
    if not metrics:
        return
    rows = [point_row(run_id, metric) for metric in metrics]
    stmt = (
        insert_for(conn, m.metrics)
        .on_conflict_do_nothing()
        .returning(_M.key, _M.step, _M.timestamp, _M.value, _M.is_nan)
    )
    inserted = conn.execute(stmt, rows).all()
    if inserted:
        _fold_into_summaries(conn, run_id, inserted)


def _fold_into_summaries(conn: Connection, run_id: str, points: Iterable[sa.Row]) -> None:
    per_key: dict[str, list] = {}
    for key, step, timestamp, value, is_nan in points:
        entry = per_key.get(key)
        finite_value = None if is_nan else value
        if entry is None:
            per_key[key] = [step, timestamp, value, is_nan, finite_value, finite_value, 1]
            continue
        if (step, timestamp, value) > (entry[0], entry[1], entry[2]):
            entry[0], entry[1], entry[2], entry[3] = step, timestamp, value, is_nan
        if finite_value is not None:
            if entry[4] is None or finite_value < entry[4]:
                entry[4] = finite_value
            if entry[5] is None or finite_value > entry[5]:
                entry[5] = finite_value
        entry[6] += 1
    rows = [
        {
            "run_uuid": run_id,
            "key": key,
            "step": e[0],
            "timestamp": e[1],
            "value": e[2],
            "is_nan": e[3],
            "min_value": e[4],
            "max_value": e[5],
            "count": e[6],
        }
        for key, e in per_key.items()
    ]
    conn.execute(_summary_upsert(conn), rows)


def _summary_upsert(conn: Connection) -> sa.Insert:
    stmt = insert_for(conn, m.metric_summaries)
    new = stmt.excluded
    newer = sa.tuple_(new.step, new.timestamp, new.value) > sa.tuple_(
        _S.step, _S.timestamp, _S.value
    )
    return stmt.on_conflict_do_update(
        index_elements=["run_uuid", "key"],
        set_={
            "step": sa.case((newer, new.step), else_=_S.step),
            "timestamp": sa.case((newer, new.timestamp), else_=_S.timestamp),
            "value": sa.case((newer, new.value), else_=_S.value),
            "is_nan": sa.case((newer, new.is_nan), else_=_S.is_nan),
            "min_value": sa.case(
                (sa.or_(_S.min_value.is_(None), new.min_value < _S.min_value), new.min_value),
                else_=_S.min_value,
            ),
            "max_value": sa.case(
                (sa.or_(_S.max_value.is_(None), new.max_value > _S.max_value), new.max_value),
                else_=_S.max_value,
            ),
            "count": _S.count + new.count,
        },
    )


def _value(value: float, is_nan: bool) -> float:
    return _NAN if is_nan else value


# ---- reads ----------------------------------------------------------------------------------
def latest_metrics(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """The latest point of every metric of each run, from the summary table (one query)."""
    found: dict[str, list[Metric]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    stmt = sa.select(_S.run_uuid, _S.key, _S.value, _S.is_nan, _S.timestamp, _S.step).where(
        _S.run_uuid.in_(run_ids)
    )
    for run_id, key, value, is_nan, timestamp, step in conn.execute(stmt):
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


def history(
    conn: Connection, run_id: str, key: str, limit: int | None, offset: int
) -> list[Metric]:
    stmt = (
        sa.select(
            _M.key,
            _M.value,
            _M.is_nan,
            _M.timestamp,
            _M.step,
            _M.model_id,
            _M.dataset_name,
            _M.dataset_digest,
        )
        .where(_M.run_uuid == run_id, _M.key == key)
        .order_by(_M.timestamp, _M.step, _M.value)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        Metric(k, _value(v, nan), ts, step, run_id, mid, dname, ddigest)
        for k, v, nan, ts, step, mid, dname, ddigest in conn.execute(stmt)
    ]


def is_finite_number(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
