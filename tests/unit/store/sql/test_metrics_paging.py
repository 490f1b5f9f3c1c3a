"""Keyset page tokens of the SQL store's metric history, on SQLite and Postgres: every point
exactly once across pages, ties on (timestamp, step) included, and MLflow's offset tokens
still accepted."""

from __future__ import annotations

import math

import pytest
from runyard.entities import Metric
from runyard.errors import InvalidParameterValue
from runyard.search import encode_offset_token, encode_token
from runyard.store.sql import SqlStore


def _points() -> list[Metric]:
    points = [Metric("m", float(i % 7), 1000 + i // 3, i // 2) for i in range(40)]
    # Same (timestamp, step): NaN (stored as 0 + flag), 0.0, infinities, a negative value.
    points += [Metric("m", v, 5, 5) for v in (float("nan"), 0.0, math.inf, -math.inf, -1.0)]
    return points


def _key(metric: Metric) -> tuple:
    return (metric.timestamp, metric.step, repr(metric.value))


def _all_pages(store: SqlStore, run_id: str, size: int, token: str | None = None) -> list:
    seen: list[Metric] = []
    while True:
        page = store.get_metric_history(run_id, "m", max_results=size, page_token=token)
        assert len(page) <= size
        seen += list(page)
        token = page.token
        if not token:
            return seen


@pytest.mark.parametrize("size", [1, 2, 3, 7, 45, 100])
def test_pages_cover_every_point_once_in_order(
    sql_store: SqlStore, sql_run_id: str, size: int
) -> None:
    sql_store.log_batch(sql_run_id, metrics=_points())
    whole = list(sql_store.get_metric_history(sql_run_id, "m"))
    paged = _all_pages(sql_store, sql_run_id, size)
    assert [_key(p) for p in paged] == [_key(p) for p in whole]
    assert len(paged) == 45
    stamps = [(p.timestamp, p.step) for p in paged]
    assert stamps == sorted(stamps)


def test_mlflow_offset_token_is_accepted(sql_store: SqlStore, sql_run_id: str) -> None:
    sql_store.log_batch(sql_run_id, metrics=_points())
    whole = list(sql_store.get_metric_history(sql_run_id, "m"))
    rest = _all_pages(sql_store, sql_run_id, 10, encode_offset_token(12))
    assert [_key(p) for p in rest] == [_key(p) for p in whole[12:]]


@pytest.mark.parametrize(
    "payload",
    [
        {"ts": "1", "step": 0, "value": "0.0", "nan": False},
        {"ts": 1, "step": 0, "value": 0.5, "nan": False},
        {"ts": 1, "step": 0, "value": "abc", "nan": False},
        {"ts": 1, "step": True, "value": "0.0", "nan": False},
        {"ts": 1, "step": 0, "value": "0.0", "nan": "no"},
        {"offset": 0},
    ],
)
def test_bad_keyset_tokens_are_rejected(
    sql_store: SqlStore, sql_run_id: str, payload: dict
) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid page token"):
        sql_store.get_metric_history(
            sql_run_id, "m", max_results=5, page_token=encode_token(payload)
        )
