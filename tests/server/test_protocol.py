"""``runyard.protocol``: the wire format shared by the server and the REST store."""

from __future__ import annotations

import math

import pytest
from runyard import protocol as p
from runyard.entities import (
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from runyard.errors import InvalidParameterValue

RID = "a" * 32


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (1, 1.0),
        (2.5, 2.5),
        ("1.5", 1.5),
        ("NaN", math.nan),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        (True, 1.0),
    ],
)
def test_parse_double_accepts_numbers_and_mlflow_strings(wire, expected) -> None:
    value = p.parse_double(wire)
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


@pytest.mark.parametrize("wire", ["abc", None, [], {}, ""])
def test_parse_double_rejects_naming_the_field(wire) -> None:
    with pytest.raises(InvalidParameterValue, match=r"parameter 'metrics\[0\].value'"):
        p.parse_double(wire, "metrics[0].value")


def test_format_double() -> None:
    assert p.format_double(math.nan) == "NaN"
    assert p.format_double(math.inf) == "Infinity"
    assert p.format_double(-math.inf) == "-Infinity"
    assert p.format_double(0.5) == 0.5


def test_run_to_json_omits_empty_fields_and_keeps_latest_metric() -> None:
    info = RunInfo(RID, "0", "n", "u", RunStatus.RUNNING, 5, None, "mlflow-artifacts:/0/x")
    run = Run(
        info,
        RunData(
            (Metric("m", 1.0, 9, 0), Metric("m", 2.0, 1, 3), Metric("n", math.nan, 1)),
            {},
            {"t": "v"},
        ),
    )
    body = p.run_to_json(run)
    assert body["info"]["run_id"] == body["info"]["run_uuid"] == RID
    assert "end_time" not in body["info"]
    assert body["info"]["status"] == "RUNNING"
    assert "params" not in body["data"]
    assert body["data"]["metrics"] == [
        {"key": "m", "value": 2.0, "timestamp": 1, "step": 3},
        {"key": "n", "value": "NaN", "timestamp": 1, "step": 0},
    ]
    assert body["inputs"] == {} and body["outputs"] == {}
    back = p.run_from_json(body)
    assert back.info == info and dict(back.data.tags) == {"t": "v"}


def test_experiment_and_model_round_trip() -> None:
    experiment = Experiment(
        "3", "e", "mlflow-artifacts:/3", creation_time=1, last_update_time=2, tags={"a": "b"}
    )
    assert p.experiment_from_json(p.experiment_to_json(experiment)) == experiment
    assert "tags" not in p.experiment_to_json(Experiment("1", "x", "loc"))
    model = LoggedModel(
        "m-1",
        "3",
        "model",
        "mlflow-artifacts:/3/models/m-1/artifacts",
        1,
        2,
        LoggedModelStatus.LOGGED_MODEL_READY,
        RID,
        params={"p": "1"},
        metrics=(Metric("loss", 0.5, 1, 0, run_id=RID, model_id="m-1"),),
    )
    body = p.logged_model_to_json(model)
    assert body["info"]["status"] == "LOGGED_MODEL_READY"
    assert body["data"]["metrics"][0]["run_id"] == RID
    assert p.logged_model_from_json(body) == model


def test_request_helpers() -> None:
    assert p.run_id_from({"run_uuid": RID}) == RID
    assert p.run_id_from({"run_id": RID, "run_uuid": "other"}) == RID
    with pytest.raises(
        InvalidParameterValue, match="Missing value for required parameter 'run_id'"
    ):
        p.run_id_from({})
    assert p.parse_int("42", "step") == 42 and p.parse_int(3.0, "step") == 3
    with pytest.raises(InvalidParameterValue, match="'step'"):
        p.parse_int(1.5, "step")
    assert (
        p.parse_view_type("ALL") is ViewType.ALL and p.parse_view_type(2) is ViewType.DELETED_ONLY
    )
    assert p.parse_run_status("BOGUS") is None and p.parse_run_status(3) is RunStatus.FINISHED
    assert p.string_list({"ids": "1"}, "ids") == ["1"]
    assert p.key_values_from_json([{"key": "a"}]) == [("a", "")]
    with pytest.raises(InvalidParameterValue, match=r"tags\[0\].key"):
        p.key_values_from_json([{"value": "x"}])
    assert p.metric_from_json({"key": "m", "value": "NaN", "timestamp": "5"}).step == 0
