"""Metric points of the file store: chart downsampling, summaries, history order."""

from __future__ import annotations

import math
from pathlib import Path

from runyard.entities import Metric
from runyard.store.file import FileStore
from runyard.store.file import metrics as file_metrics


def _points(values: list[float]) -> list[Metric]:
    return [Metric("m", v, 1000 + i, i) for i, v in enumerate(values)]


def test_downsampling_keeps_ends_and_spikes_within_budget() -> None:
    values = [1.0] * 1000
    values[137], values[612] = 99.0, -42.0
    for budget in (3, 4, 10, 51):
        kept = file_metrics.downsample(_points(values), budget)
        assert len(kept) <= budget
        steps = [m.step for m in kept]
        assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 999
        assert 99.0 in [m.value for m in kept]
        if budget >= 4:
            assert -42.0 in [m.value for m in kept]


def test_downsampling_honours_the_step_window_and_small_series() -> None:
    points = _points([float(i) for i in range(100)])
    window = file_metrics.downsample(points, 1000, start_step=10, end_step=19)
    assert [m.step for m in window] == list(range(10, 20))
    assert [m.step for m in file_metrics.downsample(points, 2)] == [0, 99]


def test_bulk_interval_gives_each_point_its_run(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    runs = [store.create_run("0", "u", 1, []).info.run_id for _ in range(2)]
    for rid in runs:
        store.log_batch(rid, metrics=_points([float(i % 7) for i in range(300)]))
    sampled = store.get_metric_history_bulk_interval(runs, "m", 20)
    for rid in runs:
        mine = [m for m in sampled if m.run_id == rid]
        assert 2 < len(mine) <= 20
        assert {mine[0].step, mine[-1].step} == {0, 299}


def test_summaries_and_history_order(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    rid = store.create_run("0", "u", 1, []).info.run_id
    store.log_batch(
        rid,
        metrics=[
            Metric("m", 5.0, 1, 10),
            Metric("m", 7.0, 999999, 3),
            Metric("m", 1.0, 2, 10),
            Metric("m", math.nan, 0, 0),
        ],
    )
    (summary,) = store.get_metric_summaries([rid])[rid]
    assert (summary.latest.value, summary.min_value, summary.max_value, summary.count) == (
        1.0,
        1.0,
        7.0,
        4,
    )
    history = store.get_metric_history(rid, "m")
    assert [m.timestamp for m in history] == [0, 1, 2, 999999]
    assert store.get_run(rid).data.metrics["m"] == 1.0
    assert store.get_metric_summaries(["0" * 32]) == {"0" * 32: []}


def test_dataset_fields_a_metric_line_cannot_hold_are_refused_before_writing(
    tmp_path: Path,
) -> None:
    import pytest
    from runyard.errors import InvalidParameterValue

    store = FileStore(str(tmp_path / "mlruns"))
    run_id = store.create_run(store.create_experiment("e"), "u", 0).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    for name, digest in (("my data", "x"), ("d", "a\tb"), ("", "x")):
        bad = Metric("m", 2.0, 2, 1, dataset_name=name, dataset_digest=digest)
        with pytest.raises(InvalidParameterValue, match="no whitespace"):
            store.log_batch(run_id, metrics=[Metric("n", 0.0, 2, 1), bad])
    assert [p.value for p in store.get_metric_history(run_id, "m")] == [1.0]
    assert store.get_metric_history(run_id, "n") == []  # nothing of the refused batches
    store.log_batch(run_id, metrics=[Metric("m", 3.0, 3, 2, dataset_name="d", dataset_digest="x")])
    assert store.get_metric_history(run_id, "m")[-1].dataset_name == "d"
