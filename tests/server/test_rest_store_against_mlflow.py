"""RestStore and ProxyArtifactRepo against a real ``mlflow server``: runyard's client must work
with MLflow's server too, not only with its own."""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.artifacts.proxy import ProxyArtifactRepo
from runyard.entities import (
    Dataset,
    DatasetInput,
    LoggedModelStatus,
    Metric,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
)
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.store.rest import RestStore

from tests.mlflow_server import start_mlflow_server

# MLflow's server takes tens of seconds to create its database on first start.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


def test_tracking_calls_round_trip(mlflow_url: str) -> None:
    store = RestStore(mlflow_url)
    store.check_ready()
    name = f"interop-{time.time_ns()}"
    exp_id = store.create_experiment(name, tags=[("team", "a")])
    assert store.get_experiment_by_name(name).tags == {"team": "a"}  # type: ignore[union-attr]
    assert store.get_experiment_by_name(f"{name}-missing") is None
    run = store.create_run(exp_id, "ann", 1000, [RunTag("t", "v")], run_name="first")
    run_id = run.info.run_id
    points = [Metric("loss", 1.0 / (i + 1), 2000 + i, i) for i in range(7)]
    store.log_batch(
        run_id, metrics=[*points, Metric("bad", math.nan, 1, 0)], params=[Param("p", "1")]
    )
    store.log_batch(run_id, params=[Param("p", "1")])  # same value again is fine
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id, params=[Param("p", "2")])
    fetched = store.get_run(run_id)
    assert fetched.data.metrics["loss"] == points[-1].value
    assert math.isnan(fetched.data.metrics["bad"])
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == list(range(7))
    page = store.get_metric_history(run_id, "loss", max_results=3)
    assert len(page) == 3 and page.token
    info = store.update_run_info(run_id, RunStatus.FINISHED, 5000, run_name="renamed")
    assert (info.status, info.run_name) == (RunStatus.FINISHED, "renamed")
    assert [r.info.run_id for r in store.search_runs([exp_id], "metrics.loss < 0.5")] == [run_id]
    summary = store.get_metric_summaries([run_id])[run_id]
    loss = next(s for s in summary if s.key == "loss")
    assert (loss.min_value, loss.max_value, loss.count) == (points[-1].value, 1.0, 7)
    store.delete_tag(run_id, "t")
    with pytest.raises(ResourceDoesNotExist):
        store.delete_tag(run_id, "t")
    with pytest.raises(ResourceDoesNotExist):
        store.get_run("0123456789abcdef0123456789abcdef")


def test_logged_models_inputs_and_outputs(mlflow_url: str) -> None:
    store = RestStore(mlflow_url)
    exp_id = store.create_experiment(f"interop-models-{time.time_ns()}")
    run_id = store.create_run(exp_id, "ann", 1000).info.run_id
    model = store.create_logged_model(exp_id, name="m", source_run_id=run_id, params=[("a", "b")])
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    assert ready.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert [m.model_id for m in store.search_logged_models([exp_id])] == [model.model_id]
    store.log_inputs(run_id, [DatasetInput(Dataset("d", "abc", "code", "{}"), {"ctx": "train"})])
    store.log_outputs(run_id, [ModelOutput(model.model_id, 0)])
    run = store.get_run(run_id)
    assert run.inputs.dataset_inputs[0].dataset.digest == "abc"
    assert run.outputs.model_outputs == (ModelOutput(model.model_id, 0),)


def test_proxied_artifacts(mlflow_url: str, tmp_path: Path) -> None:
    repo = ProxyArtifactRepo(f"mlflow-artifacts:/interop/{time.time_ns()}", tracking_uri=mlflow_url)
    repo.write_stream("a/b.txt", io.BytesIO(b"hello"))
    repo.write_stream("empty.txt", io.BytesIO(b""))
    assert [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()] == [
        ("a", True, None),
        ("empty.txt", False, 0),
    ]
    assert b"".join(repo.open_stream("a/b.txt")) == b"hello"
    with pytest.raises(ResourceDoesNotExist):
        b"".join(repo.open_stream("a"))
    with pytest.raises(ResourceDoesNotExist):
        b"".join(repo.open_stream("missing.txt"))
    local = Path(repo.download_artifacts("", tmp_path / "dl"))
    assert (local / "a" / "b.txt").read_bytes() == b"hello"
    repo.delete_artifacts("a")
    assert [f.path for f in repo.list_artifacts()] == ["empty.txt"]
