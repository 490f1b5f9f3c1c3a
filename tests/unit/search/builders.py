"""Builders for hand-made runs and experiments used by the search tests."""

from __future__ import annotations

from collections.abc import Mapping

from runyard.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
)

MetricPoints = Mapping[str, float | list[tuple[float, int, int]]]


def build_run(
    run_id: str = "r1",
    *,
    name: str = "run",
    status: RunStatus = RunStatus.FINISHED,
    user: str = "alice",
    start: int | None = 1000,
    end: int | None = 2000,
    metrics: MetricPoints | None = None,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    datasets: list[tuple[str, str, str | None]] | None = None,
) -> Run:
    """A run; a metric is a single value or a list of (value, step, timestamp) points."""
    points: list[Metric] = []
    for key, value in (metrics or {}).items():
        if isinstance(value, list):
            points += [Metric(key, v, timestamp=ts, step=step) for v, step, ts in value]
        else:
            points.append(Metric(key, value, timestamp=0, step=0))
    inputs = [
        DatasetInput(
            Dataset(dname, digest), tags={} if ctx is None else {"mlflow.data.context": ctx}
        )
        for dname, digest, ctx in datasets or []
    ]
    info = RunInfo(
        run_id=run_id,
        experiment_id="0",
        run_name=name,
        user_id=user,
        status=status,
        start_time=start,
        end_time=end,
        artifact_uri=f"file:///tmp/mlruns/0/{run_id}/artifacts",
    )
    return Run(info, RunData(tuple(points), params or {}, tags or {}), RunInputs(tuple(inputs)))


def build_experiment(
    experiment_id: str,
    name: str = "exp",
    *,
    created: int | None = 1,
    updated: int | None = 1,
    tags: Mapping[str, str] | None = None,
) -> Experiment:
    return Experiment(
        experiment_id=experiment_id,
        name=name,
        artifact_location=f"file:///tmp/mlruns/{experiment_id}",
        creation_time=created,
        last_update_time=updated,
        tags=tags or {},
    )
