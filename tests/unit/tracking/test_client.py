"""Client: value coercion, batch splitting, pages, runs and artifacts on the file store."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
from runyard import Client, Metric, Param, RunStatus, RunTag
from runyard.batching import plan_batches
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.tracking import client as client_module


@pytest.fixture
def client(tracking_uri: str) -> Client:
    return Client(tracking_uri)


@pytest.fixture
def run_id(client: Client) -> str:
    return client.create_run("0").info.run_id


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (3, 3.0),
        (2.5, 2.5),
        (True, 1.0),
        ("1.5", 1.5),
        (np.float32(0.25), 0.25),
        (np.int64(7), 7.0),
        (np.float64(-1e300), -1e300),
    ],
)
def test_metric_values_are_coerced(client: Client, run_id: str, value: object, stored: float):
    client.log_metric(run_id, "m", value)
    [point] = client.get_metric_history(run_id, "m")
    assert point.value == stored and isinstance(point.value, float)


@pytest.mark.parametrize("value", ["abc", None, [1, 2], {"a": 1}, object()])
def test_non_numeric_metric_is_refused_and_nothing_sent(
    client: Client, run_id: str, value: object
) -> None:
    with pytest.raises(InvalidParameterValue, match="'m'"):
        client.log_metric(run_id, "m", value)
    assert client.get_metric_history(run_id, "m") == []


def test_step_and_timestamp(client: Client, run_id: str) -> None:
    before = int(time.time() * 1000)
    client.log_metric(run_id, "m", 1.0)
    client.log_metric(run_id, "m", 2.0, timestamp=5, step=np.int32(4))
    first, second = sorted(client.get_metric_history(run_id, "m"), key=lambda m: m.step)
    assert first.step == 0 and before <= first.timestamp <= int(time.time() * 1000)
    assert (second.step, second.timestamp) == (4, 5)
    with pytest.raises(InvalidParameterValue, match="step"):
        client.log_metric(run_id, "m", 1.0, step=1.5)
    with pytest.raises(InvalidParameterValue, match="timestamp"):
        client.log_metric(run_id, "m", 1.0, timestamp="soon")
    assert len(client.get_metric_history(run_id, "m")) == 2


def test_params_and_tags_are_strings(client: Client, run_id: str) -> None:
    assert client.log_param(run_id, "int", 1) == 1
    client.log_param(run_id, "float", 3.5)
    client.log_param(run_id, "bool", True)
    client.set_tag(run_id, "tag", 42)
    client.log_batch(run_id, params={"dict": None}, tags=[RunTag("t2", "x")])
    data = client.get_run(run_id).data
    assert dict(data.params) == {"int": "1", "float": "3.5", "bool": "True", "dict": "None"}
    assert data.tags["tag"] == "42" and data.tags["t2"] == "x"
    client.delete_tag(run_id, "tag")
    assert "tag" not in client.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist):
        client.delete_tag(run_id, "tag")


def test_plan_batches_splits_one_big_call_like_mlflow() -> None:
    metrics = [Metric(f"m{i}", 1.0, 0) for i in range(2500)]
    params = [Param(f"p{i}", "v") for i in range(250)]
    tags = [RunTag(f"t{i}", "v") for i in range(150)]
    batches = [b.as_tuple() for b in plan_batches([(metrics, params, tags)])]
    for m, p, t in batches:
        assert len(p) <= 100 and len(t) <= 100 and len(m) <= 1000
        assert len(m) + len(p) + len(t) <= 1000
    assert [x for b in batches for x in b[0]] == metrics
    assert [x for b in batches for x in b[1]] == params
    assert [x for b in batches for x in b[2]] == tags
    # MLflow's packing: params and tags first, metrics fill the rest
    assert [(len(m), len(p), len(t)) for m, p, t in batches] == [
        (800, 100, 100),
        (850, 100, 50),
        (850, 50, 0),
    ]
    assert plan_batches([([], [], [])]) == []


def test_big_batch_is_split_and_fully_stored(client: Client, run_id: str) -> None:
    metrics = [Metric("series", float(i), timestamp=i, step=i) for i in range(2500)]
    params = {f"p{i}": i for i in range(250)}
    client.log_batch(run_id, metrics=metrics, params=params, tags={"t": "v"})
    assert len(client.get_metric_history(run_id, "series")) == 2500
    data = client.get_run(run_id).data
    assert len(data.params) == 250 and data.params["p249"] == "249"
    assert data.metrics["series"] == 2499.0


def test_big_batch_with_a_bad_item_writes_nothing(client: Client, run_id: str) -> None:
    metrics = [Metric("series", float(i), timestamp=i, step=i) for i in range(2500)]
    metrics[2400] = Metric("series", "oops", timestamp=1, step=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="oops"):
        client.log_batch(run_id, metrics=metrics, params={f"p{i}": i for i in range(150)})
    params = [Param(f"p{i}", "v") for i in range(150)] + [Param("p3", "other")]
    with pytest.raises(InvalidParameterValue, match="p3"):
        client.log_batch(run_id, params=params)
    assert client.get_metric_history(run_id, "series") == []
    assert dict(client.get_run(run_id).data.params) == {}


def test_metric_history_follows_pages(
    client: Client, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "METRIC_HISTORY_PAGE_SIZE", 7)
    client.log_batch(run_id, metrics=[Metric("h", float(i), i, i) for i in range(30)])
    assert [m.step for m in client.get_metric_history(run_id, "h")] == list(range(30))
    page = client.get_metric_history_paged(run_id, "h", max_results=10)
    assert len(page) == 10 and page.token
    rest = client.get_metric_history_paged(run_id, "h", max_results=100, page_token=page.token)
    assert [m.step for m in rest] == list(range(10, 30)) and not rest.token


def test_create_run_user_and_name(client: Client) -> None:
    run = client.create_run("0", tags={"mlflow.user": "carol"}, run_name="named")
    assert run.info.user_id == "carol" and run.info.run_name == "named"
    from_tag = client.create_run("0", tags={"mlflow.runName": "tagged"}, start_time=123)
    assert from_tag.info.run_name == "tagged" and from_tag.info.start_time == 123
    with pytest.raises(InvalidParameterValue, match="differ"):
        client.create_run("0", tags={"mlflow.runName": "a"}, run_name="b")
    assert len(client.search_runs("0")) == 2


def test_run_updates(client: Client, run_id: str) -> None:
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.update_run(run_id, status="KILLED")
    assert client.get_run(run_id).info.status == RunStatus.KILLED
    info = client.set_terminated(run_id)
    assert info.status == RunStatus.FINISHED and info.end_time is not None
    client.set_terminated(run_id, "FAILED", end_time=99)
    stored = client.get_run(run_id).info
    assert (stored.status, stored.end_time) == (RunStatus.FAILED, 99)
    client.delete_run(run_id)
    assert client.search_runs(["0"]) == []
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs(["0"])] == [run_id]


def test_experiment_methods(client: Client) -> None:
    exp_id = client.create_experiment("client-exp", tags={"team": 1})
    assert client.get_experiment(exp_id).tags["team"] == "1"
    assert client.get_experiment_by_name("nope") is None
    client.rename_experiment(exp_id, "renamed")
    client.set_experiment_tag(exp_id, "k", 2)
    client.delete_experiment_tag(exp_id, "team")
    exp = client.get_experiment_by_name("renamed")
    assert exp is not None and dict(exp.tags) == {"k": "2"}
    client.delete_experiment(exp_id)
    assert [e.name for e in client.search_experiments("DELETED_ONLY")] == ["renamed"]
    client.restore_experiment(exp_id)
    names = [e.name for e in client.search_experiments(filter_string="name = 'renamed'")]
    assert names == ["renamed"]


def test_client_accepts_a_path(tmp_path: Path) -> None:
    client = Client(tmp_path / "store")
    exp_id = client.create_experiment("p")
    assert client.tracking_uri == str(tmp_path / "store")
    assert (tmp_path / "store" / exp_id / "meta.yaml").is_file()


def test_artifact_helpers(client: Client, run_id: str, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"\x00\x01")
    client.log_artifact(run_id, folder)  # a directory becomes a sub-directory named after it
    client.log_text(run_id, "txt", "t.txt")
    client.log_dict(run_id, {"a": 1}, "d.yml")
    listed = {f.path: f for f in client.list_artifacts(run_id)}
    assert set(listed) == {"folder", "t.txt", "d.yml"}
    assert listed["t.txt"].file_size == 3 and listed["folder"].is_dir
    assert [f.path for f in client.list_artifacts(run_id, "folder")] == ["folder/x.bin"]
    local = client.download_artifacts(run_id, "folder/x.bin", tmp_path / "dl")
    assert Path(local) == tmp_path / "dl" / "x.bin"  # where MLflow's client puts it
    assert Path(local).read_bytes() == b"\x00\x01"
    folder = client.download_artifacts(run_id, "folder", tmp_path / "dir")
    assert Path(folder) == tmp_path / "dir" / "folder"
    assert (Path(folder) / "x.bin").read_bytes() == b"\x00\x01"
    assert Path(client.download_artifacts(run_id, "d.yml")).read_text() == "a: 1\n"
    with pytest.raises(InvalidParameterValue, match="missing"):
        client.log_artifact(run_id, tmp_path / "missing")


def test_async_logging_goes_through_the_background_module(
    client: Client, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple] = []
    fake = types.ModuleType("runyard.tracking.async_logging")
    fake.submit = lambda c, rid, metrics, params, tags: (
        calls.append(  # type: ignore[attr-defined]
            (
                "submit",
                rid,
                [m.key for m in metrics],
                [p.key for p in params],
                [t.key for t in tags],
            )
        )
        or "pending"
    )
    fake.flush = lambda rid: calls.append(("flush", rid))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "runyard.tracking.async_logging", fake)

    assert client.log_metric(run_id, "m", 1, synchronous=False) == "pending"
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "true")
    assert client.log_param(run_id, "p", 1) == "pending"
    assert client.set_tag(run_id, "t", 1, synchronous=True) is None
    client.set_terminated(run_id)
    assert calls == [
        ("submit", run_id, ["m"], [], []),
        ("submit", run_id, [], ["p"], []),
        ("flush", run_id),
    ]
    data = client.get_run(run_id).data
    assert dict(data.metrics) == {} and dict(data.params) == {} and data.tags["t"] == "1"


def test_async_refuses_bad_values_before_queueing(
    client: Client, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("runyard.tracking.async_logging")
    fake.submit = lambda *a, **k: pytest.fail("bad values must not be queued")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "runyard.tracking.async_logging", fake)
    with pytest.raises(InvalidParameterValue):
        client.log_metric(run_id, "m", "abc", synchronous=False)
    with pytest.raises(InvalidParameterValue):
        client.log_param(run_id, "bad key!", 1, synchronous=False)
