"""``protocol.run_to_json`` is built field by field for speed; it must give exactly what the
generic drop-empty construction gives, for plain runs and for every optional part."""

from __future__ import annotations

import math

import pytest
from runyard import protocol as p
from runyard.entities import (
    Dataset,
    DatasetInput,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from runyard.protocol.runs import _order


def _drop_empty(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != {}}


def _reference(run: Run) -> dict:
    """The construction ``run_to_json`` had before it was made lean."""
    info = run.info
    latest: dict[str, Metric] = {}
    for metric in run.data.metric_list:
        current = latest.get(metric.key)
        if current is None or _order(metric) > _order(current):
            latest[metric.key] = metric
    return {
        "info": _drop_empty(
            {
                "run_uuid": info.run_id,
                "run_id": info.run_id,
                "run_name": info.run_name,
                "experiment_id": info.experiment_id,
                "user_id": info.user_id,
                "status": str(info.status),
                "start_time": info.start_time,
                "end_time": info.end_time,
                "artifact_uri": info.artifact_uri,
                "lifecycle_stage": str(info.lifecycle_stage),
            }
        ),
        "data": _drop_empty(
            {
                "metrics": [p.metric_to_json(m) for m in latest.values()],
                "params": [{"key": k, "value": v} for k, v in run.data.params.items()],
                "tags": [{"key": k, "value": v} for k, v in run.data.tags.items()],
            }
        ),
        "inputs": p.run_inputs_to_json(run.inputs),
        "outputs": p.run_outputs_to_json(run.outputs),
    }


def _info(end_time: int | None = None) -> RunInfo:
    return RunInfo("r1", "0", "name", "", RunStatus.FINISHED, 5, end_time, "file:///a")


_METRICS = (
    Metric("a", 1.5, 10, 1),
    Metric("a", 2.5, 10, 2),
    Metric("nan", math.nan, 1, 0),
    Metric("inf", math.inf, 1, 0),
    Metric("ninf", -math.inf, 1, 0),
    Metric("int", 3, 1, 0),
    Metric("model", 1.0, 1, 0, model_id="m-1", dataset_name="d", dataset_digest="x"),
)


@pytest.mark.parametrize(
    "run",
    [
        Run(_info()),
        Run(_info(9), RunData(_METRICS, {"p": "1", "q": ""}, {"t": "v"})),
        Run(_info(), RunData((), {}, {"t": "v"})),
        Run(
            _info(),
            RunData(_METRICS[:2]),
            RunInputs(
                (DatasetInput(Dataset("d", "x", "local", "s"), {"k": "v"}),),
                (ModelInput("m-1"),),
            ),
            RunOutputs((ModelOutput("m-2", 3),)),
        ),
        Run(_info(), inputs=RunInputs(model_inputs=(ModelInput("m-1"),))),
    ],
)
def test_run_to_json_matches_the_generic_construction(run: Run) -> None:
    assert p.run_to_json(run) == _reference(run)
    assert list(p.run_to_json(run)["info"]) == list(_reference(run)["info"])


def test_non_finite_latest_values_travel_as_strings() -> None:
    data = p.run_to_json(Run(_info(), RunData(_METRICS[2:5])))["data"]
    assert [m["value"] for m in data["metrics"]] == ["NaN", "Infinity", "-Infinity"]


def test_history_rows_are_written_as_metric_to_json_would_encode_them() -> None:
    """The server's history pages are written as text; they must parse to exactly what
    ``metric_to_json`` gives for the same points, special values and optional fields too."""
    import json

    from runyard.entities import Metric
    from runyard.protocol import history_rows_json_text, metric_to_json

    values = [0.1, -0.0, 1e300, 5e-324, float("inf"), float("-inf"), 2.0**60, 1 / 3]
    rows = [(v, False, 10 + i, i, None, None, None) for i, v in enumerate(values)]
    rows.append((0.0, True, 99, 99, "m-1", 'd "é"\\\n', "x"))
    expected = [
        metric_to_json(Metric("k/é", v, ts, step, None, mid, name, digest))
        for v, _nan, ts, step, mid, name, digest in rows[:-1]
    ]
    expected.append(metric_to_json(Metric("k/é", float("nan"), 99, 99, None, *rows[-1][4:])))
    assert json.loads(history_rows_json_text("k/é", rows)) == expected
    assert history_rows_json_text("k", []) == "[]"
