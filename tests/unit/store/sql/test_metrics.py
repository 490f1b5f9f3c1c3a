"""Metric storage specifics of the SQL store, on SQLite and Postgres: non-finite values,
de-duplication, summaries under out-of-order arrival, downsampling that keeps spikes."""

from __future__ import annotations

import math

import pytest
from runyard.entities import Metric
from runyard.store.sql import SqlStore


def test_nan_and_infinities_round_trip(sql_store: SqlStore, sql_run_id: str) -> None:
    points = [
        Metric("x", float("nan"), 1, 0),
        Metric("x", float("inf"), 2, 1),
        Metric("x", float("-inf"), 3, 2),
        Metric("x", 0.0, 1, 0),  # same step and time as the NaN, still a different point
    ]
    sql_store.log_batch(sql_run_id, metrics=points)
    history = sql_store.get_metric_history(sql_run_id, "x")
    values = [p.value for p in history]
    assert len(values) == 4
    assert sum(math.isnan(v) for v in values) == 1
    assert float("inf") in values and float("-inf") in values and 0.0 in values
    [summary] = sql_store.get_metric_summaries([sql_run_id])[sql_run_id]
    assert summary.latest.value == float("-inf") and summary.latest.step == 2
    assert summary.min_value == float("-inf") and summary.max_value == float("inf")
    assert summary.count == 4


def test_resent_points_are_stored_once(sql_store: SqlStore, sql_run_id: str) -> None:
    batch = [Metric("loss", 0.5, 100 + i, i) for i in range(10)]
    sql_store.log_batch(sql_run_id, metrics=batch)
    sql_store.log_batch(sql_run_id, metrics=[*batch[3:], Metric("loss", 0.25, 200, 10)])
    history = sql_store.get_metric_history(sql_run_id, "loss")
    assert len(history) == 11
    [summary] = sql_store.get_metric_summaries([sql_run_id])[sql_run_id]
    assert summary.count == 11
    assert summary.latest.value == 0.25


def test_summary_latest_ignores_arrival_order(sql_store: SqlStore, sql_run_id: str) -> None:
    # MLflow's example: (step 10, ts 1, 5.0), (step 3, ts 999999, 7.0), (step 10, ts 2, 1.0)
    sql_store.log_batch(sql_run_id, metrics=[Metric("m", 1.0, 2, 10)])
    sql_store.log_batch(sql_run_id, metrics=[Metric("m", 7.0, 999_999, 3)])
    sql_store.log_batch(sql_run_id, metrics=[Metric("m", 5.0, 1, 10), Metric("m", -3.0, 5, 1)])
    run = sql_store.get_run(sql_run_id)
    assert run.data.metrics["m"] == 1.0
    [summary] = sql_store.get_metric_summaries([sql_run_id])[sql_run_id]
    assert (summary.latest.step, summary.latest.timestamp) == (10, 2)
    assert (summary.min_value, summary.max_value, summary.count) == (-3.0, 7.0, 4)
    found = sql_store.search_runs(
        [run.info.experiment_id], "metrics.m = 1.0 AND metrics.m < 2", max_results=10
    )
    assert [r.info.run_id for r in found] == [sql_run_id]


def test_bulk_interval_keeps_spikes_and_ends(sql_store: SqlStore, sql_run_id: str) -> None:
    steps = 5000
    values = [math.sin(i / 50.0) for i in range(steps)]
    values[1234] = 1000.0  # a spike up
    values[3333] = -1000.0  # and one down
    for start in range(0, steps, 1000):
        sql_store.log_batch(
            sql_run_id,
            metrics=[Metric("s", values[i], 10_000 + i, i) for i in range(start, start + 1000)],
        )
    points = sql_store.get_metric_history_bulk_interval([sql_run_id], "s", max_results=100)
    assert 50 <= len(points) <= 100
    assert all(p.run_id == sql_run_id for p in points)
    by_step = {p.step: p.value for p in points}
    assert by_step[1234] == 1000.0 and by_step[3333] == -1000.0
    assert 0 in by_step and steps - 1 in by_step
    assert [p.step for p in points] == sorted(p.step for p in points)
    window = sql_store.get_metric_history_bulk_interval(
        [sql_run_id], "s", max_results=20, start_step=1000, end_step=1999
    )
    assert len(window) <= 20
    assert min(p.step for p in window) == 1000 and max(p.step for p in window) == 1999
    assert 1234 in {p.step for p in window}


def test_bulk_interval_answers_alike_by_window_and_by_bucket_scans(
    sql_store: SqlStore, sql_run_id: str, monkeypatch
) -> None:
    """Histories up to WINDOW_LIMIT points take one windowed query, longer ones per-bucket index
    scans: the two must pick the same points (ties to the earliest step, NaN left out)."""
    from runyard.store.sql import downsample

    values = [float(i % 17) for i in range(3000)]  # many ties inside each bucket
    values[100] = math.nan
    values[2500] = -50.0
    points = [Metric("t", v, i, i) for i, v in enumerate(values)]
    for start in range(0, len(points), 1000):
        sql_store.log_batch(sql_run_id, metrics=points[start : start + 1000])

    def ask() -> list[tuple[int, float]]:
        points = sql_store.get_metric_history_bulk_interval([sql_run_id], "t", max_results=60)
        return [(p.step, p.value) for p in points]

    windowed = ask()
    monkeypatch.setattr(downsample, "WINDOW_LIMIT", 0)
    assert ask() == windowed
    assert (2500, -50.0) in windowed and 30 <= len(windowed) <= 60


@pytest.mark.parametrize("first_timestamp", [1_700_000_000_000, 1_700_000_000_000_000_000])
def test_bulk_interval_returns_logged_points_exactly(
    sql_store: SqlStore, sql_run_id: str, first_timestamp: int
) -> None:
    """Downsampled points are logged points, step and timestamp exact, also when the
    timestamps are in nanoseconds (beyond what a double holds exactly)."""
    values = [float(i % 5) for i in range(2000)]
    logged = {(i, first_timestamp + 3 * i, v) for i, v in enumerate(values)}
    points = [Metric("x", v, ts, step) for step, ts, v in sorted(logged)]
    for start in range(0, len(points), 1000):
        sql_store.log_batch(sql_run_id, metrics=points[start : start + 1000])
    got = sql_store.get_metric_history_bulk_interval([sql_run_id], "x", max_results=100)
    assert 50 <= len(got) <= 100
    assert {(p.step, p.timestamp, p.value) for p in got} <= logged
    lows = [p for p in got if p.value == 0.0]
    assert all(p.step % 5 == 0 for p in lows) and len(lows) >= 40  # each bucket's lowest


def test_bulk_interval_returns_short_histories_whole(sql_store: SqlStore, sql_run_id: str) -> None:
    sql_store.log_batch(sql_run_id, metrics=[Metric("k", float(i), i, i) for i in range(7)])
    points = sql_store.get_metric_history_bulk_interval([sql_run_id, "missing"], "k", 50)
    assert [p.step for p in points] == list(range(7))
    assert sql_store.get_metric_history_bulk_interval([sql_run_id], "nope", 50) == []


def test_repeats_within_a_batch_and_a_partly_stored_batch_count_once(
    sql_store: SqlStore, sql_run_id: str
) -> None:
    first = [Metric("r", float(i), 50 + i, i) for i in range(5)]
    sql_store.log_batch(sql_run_id, metrics=[*first, first[2], first[4]])  # repeats inside
    stored = [Metric("r", float(i), 50 + i, i) for i in range(3, 8)]  # 3, 4 are stored
    sql_store.log_batch(sql_run_id, metrics=[*stored, Metric("q", math.inf, 9, 1)])
    assert [p.step for p in sql_store.get_metric_history(sql_run_id, "r")] == list(range(8))
    by_key = {s.key: s for s in sql_store.get_metric_summaries([sql_run_id])[sql_run_id]}
    assert (by_key["r"].count, by_key["r"].min_value, by_key["r"].max_value) == (8, 0.0, 7.0)
    assert (by_key["r"].latest.step, by_key["r"].latest.value) == (7, 7.0)
    assert by_key["q"].count == 1 and by_key["q"].latest.value == math.inf


def test_points_with_model_fields_keep_them(sql_store: SqlStore, sql_run_id: str) -> None:
    point = Metric("d", 1.5, 7, 2, dataset_name="train\tset", dataset_digest="ab\\c")
    sql_store.log_batch(sql_run_id, metrics=[point, Metric("d", 2.5, 8, 3)])
    [first, second] = sql_store.get_metric_history(sql_run_id, "d")
    assert (first.dataset_name, first.dataset_digest) == ("train\tset", "ab\\c")
    assert second.dataset_name is None and second.value == 2.5
    [summary] = sql_store.get_metric_summaries([sql_run_id])[sql_run_id]
    assert summary.count == 2 and summary.latest.value == 2.5
