"""Fluent logging, artifacts and search, against the embedded file store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import runyard
import yaml
from runyard import Client
from runyard.errors import InvalidParameterValue


def test_params_metrics_and_tags() -> None:
    with runyard.start_run() as run:
        assert runyard.log_param("lr", 0.1) == 0.1
        runyard.log_params({"depth": 3, "kind": "rf"})
        runyard.log_metric("loss", 2)
        runyard.log_metric("loss", 1.5, step=1)
        runyard.log_metrics({"a": 1, "b": 2.5}, step=7)
        runyard.set_tag("stage", "dev")
        runyard.set_tags({"team": "vision", "gone": "x"})
        runyard.delete_tag("gone")
    stored = runyard.get_run(run.info.run_id)
    assert dict(stored.data.params) == {"lr": "0.1", "depth": "3", "kind": "rf"}
    assert dict(stored.data.metrics) == {"loss": 1.5, "a": 1.0, "b": 2.5}
    assert stored.data.tags["stage"] == "dev" and stored.data.tags["team"] == "vision"
    assert "gone" not in stored.data.tags
    client = Client()
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")] == [
        (0, 2.0),
        (1, 1.5),
    ]
    a, b = (client.get_metric_history(run.info.run_id, k)[0] for k in ("a", "b"))
    assert a.step == b.step == 7
    assert a.timestamp == b.timestamp


def test_metric_with_explicit_timestamp_and_nan() -> None:
    with runyard.start_run() as run:
        runyard.log_metric("t", 1.0, step=2, timestamp=12345)
        runyard.log_metric("n", math.nan)
    [point] = Client().get_metric_history(run.info.run_id, "t")
    assert (point.timestamp, point.step, point.value) == (12345, 2, 1.0)
    assert math.isnan(runyard.get_run(run.info.run_id).data.metrics["n"])


def test_bad_values_raise_before_anything_is_written() -> None:
    with runyard.start_run() as run:
        with pytest.raises(InvalidParameterValue, match="abc"):
            runyard.log_metrics({"good": 1.0, "bad": "abc"})
        with pytest.raises(InvalidParameterValue, match="bad key!"):
            runyard.log_params({"ok": 1, "bad key!": 2})
    data = runyard.get_run(run.info.run_id).data
    assert dict(data.metrics) == {} and dict(data.params) == {}


def test_artifacts(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "sub" / "b.txt").write_text("B")
    with runyard.start_run() as run:
        runyard.log_artifact(source / "a.txt")
        runyard.log_artifact(source / "a.txt", "copies")
        runyard.log_artifacts(source, "tree")
        runyard.log_text("hello", "notes/hello.txt")
        runyard.log_dict({"x": 1, "y": [1, 2]}, "cfg/config.json")
        runyard.log_dict({"x": 1}, "cfg/config.yaml")
        uri = runyard.get_artifact_uri()
        assert runyard.get_artifact_uri("notes/hello.txt") == uri + "/notes/hello.txt"
    assert uri == runyard.get_run(run.info.run_id).info.artifact_uri
    client = Client()
    top = {f.path: f.is_dir for f in client.list_artifacts(run.info.run_id)}
    assert top == {"a.txt": False, "copies": True, "tree": True, "notes": True, "cfg": True}
    out = Path(client.download_artifacts(run.info.run_id, "", tmp_path / "out"))
    assert (out / "tree" / "sub" / "b.txt").read_text() == "B"
    assert (out / "copies" / "a.txt").read_text() == "A"
    assert (out / "notes" / "hello.txt").read_text() == "hello"
    assert json.loads((out / "cfg" / "config.json").read_text()) == {"x": 1, "y": [1, 2]}
    assert yaml.safe_load((out / "cfg" / "config.yaml").read_text()) == {"x": 1}


def test_artifact_paths_cannot_escape() -> None:
    with runyard.start_run():
        with pytest.raises(InvalidParameterValue):
            runyard.log_text("x", "../escape.txt")
        with pytest.raises(InvalidParameterValue):
            runyard.get_artifact_uri("/etc/passwd")


def test_search_runs_list_and_pandas() -> None:
    runyard.set_experiment("search-me")
    for i in range(3):
        with runyard.start_run(run_name=f"r{i}"):
            runyard.log_metric("score", i)
            runyard.log_param("i", i)
    found = runyard.search_runs(filter_string="metrics.score >= 1", order_by=["metrics.score"])
    assert [r.info.run_name for r in found] == ["r1", "r2"]
    assert [r.info.run_name for r in runyard.search_runs(max_results=2)] == ["r2", "r1"]
    frame = runyard.search_runs(output_format="pandas", order_by=["metrics.score DESC"])
    assert list(frame.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert list(frame["metrics.score"]) == [2.0, 1.0, 0.0]
    assert list(frame["params.i"]) == ["2", "1", "0"]
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r1", "r0"]
    assert set(frame["status"]) == {"FINISHED"}
    with pytest.raises(InvalidParameterValue, match="output_format"):
        runyard.search_runs(output_format="csv")


def test_search_runs_follows_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    from runyard.tracking import fluent_search

    monkeypatch.setattr(fluent_search, "_SEARCH_PAGE_SIZE", 2)
    made = set()
    for _ in range(5):
        with runyard.start_run() as run:
            made.add(run.info.run_id)
    found = [r.info.run_id for r in runyard.search_runs()]
    assert len(found) == 5 and set(found) == made
    assert len(runyard.search_runs(max_results=3)) == 3


def test_search_experiments() -> None:
    for name in ("e-one", "e-two", "other"):
        runyard.create_experiment(name)
    names = [e.name for e in runyard.search_experiments(filter_string="name LIKE 'e-%'")]
    assert sorted(names) == ["e-one", "e-two"]
    assert len(runyard.search_experiments(max_results=2)) == 2
    assert {"Default", "other"} <= {e.name for e in runyard.search_experiments()}


def test_background_logging_is_flushed_when_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_ASYNC_LOGGING", "true")
    with runyard.start_run() as run:
        for step in range(20):
            runyard.log_metric("bg", step, step=step)
        runyard.log_param("mode", "async")
        runyard.set_tag("t", "x", synchronous=False)
    stored = runyard.get_run(run.info.run_id)
    assert stored.data.metrics["bg"] == 19.0
    assert stored.data.params["mode"] == "async" and stored.data.tags["t"] == "x"
    history = Client().get_metric_history(run.info.run_id, "bg")
    assert [m.step for m in history] == list(range(20))
