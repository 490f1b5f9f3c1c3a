"""The SQL store's single-point ``log_metric`` path keeps ``log_batch``'s semantics: run checks,
new series, de-duplication, summaries, and nothing written on bad input."""

from __future__ import annotations

import math

import pytest
from runyard.entities import Metric
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.store.sql import SqlStore


def test_points_summaries_and_dedup(sql_store: SqlStore, sql_run_id: str) -> None:
    sql_store.log_metric(sql_run_id, Metric("loss", 0.5, 10, 1))
    sql_store.log_metric(sql_run_id, Metric("loss", 0.5, 10, 1))  # re-sent: stored once
    sql_store.log_metric(sql_run_id, Metric("loss", 0.25, 5, 0))  # older step: not latest
    sql_store.log_metric(sql_run_id, Metric("nan", math.nan, 1, 0))
    history = sql_store.get_metric_history(sql_run_id, "loss")
    assert [(p.step, p.value) for p in history] == [(0, 0.25), (1, 0.5)]
    summaries = {s.key: s for s in sql_store.get_metric_summaries([sql_run_id])[sql_run_id]}
    assert summaries["loss"].count == 2 and summaries["loss"].latest.value == 0.5
    assert summaries["loss"].min_value == 0.25 and summaries["loss"].max_value == 0.5
    assert math.isnan(summaries["nan"].latest.value) and summaries["nan"].count == 1


def test_missing_and_deleted_runs_are_refused(sql_store: SqlStore, sql_run_id: str) -> None:
    with pytest.raises(ResourceDoesNotExist):
        sql_store.log_metric("0" * 32, Metric("m", 1.0, 1, 0))
    sql_store.delete_run(sql_run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        sql_store.log_metric(sql_run_id, Metric("m", 1.0, 1, 0))
    sql_store.restore_run(sql_run_id)
    assert list(sql_store.get_metric_history(sql_run_id, "m")) == []


def test_bad_point_writes_nothing(sql_store: SqlStore, sql_run_id: str) -> None:
    with pytest.raises(InvalidParameterValue):
        sql_store.log_metric(sql_run_id, Metric("../m", 1.0, 1, 0))
    with pytest.raises(InvalidParameterValue):
        sql_store.log_metric(sql_run_id, Metric("m", "x", 1, 0))  # type: ignore[arg-type]
    assert sql_store.get_metric_summaries([sql_run_id])[sql_run_id] == []


def test_model_points_still_link_to_the_model(sql_store: SqlStore, sql_run_id: str) -> None:
    sql_store.log_metric(sql_run_id, Metric("m", 1.0, 1, 0, dataset_name="d", dataset_digest="x"))
    [point] = sql_store.get_metric_history(sql_run_id, "m")
    assert point.dataset_name == "d" and point.dataset_digest == "x"
