"""The UI benchmark's workloads on a tiny data set: both apps answer each one with the same
number of items (the chart view's panel included), so the figures compare like with like."""

from __future__ import annotations

import pytest

from bench import bench_ui

TINY = bench_ui.Size(
    runs=3,
    chart_points=50,
    metrics=2,
    params=2,
    repeats=1,
    mlflow_repeats=1,
    view_runs=3,
    view_points=40,
)


def test_both_apps_answer_every_workload_alike(tmp_path) -> None:
    pytest.importorskip("mlflow")
    figures = {}
    for side_cls in (bench_ui.RunyardSide, bench_ui.MlflowSide):
        side = side_cls(f"sqlite:///{tmp_path / side_cls.name}.db", str(tmp_path / "artifacts"))
        figures[side_cls.name] = bench_ui.bench_side(side, TINY, 1)
    ours, theirs = figures["runyard"], figures["mlflow"]
    assert set(ours) == set(bench_ui.TARGETS_MS)
    assert ours["chart_view"]["items"] == theirs["chart_view"]["items"] == 3 * 40
    for workload in bench_ui.TARGETS_MS:
        assert ours[workload]["items"] == theirs[workload]["items"], workload
        assert ours[workload]["bytes"] > 0
