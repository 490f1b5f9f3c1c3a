"""The module-level calls MLflow code makes beyond runs and logging (experiment tags, restores,
parents, dataset inputs, the registry and logged models), so switching is one import."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest
import runyard
import yaml
from runyard.entities import Dataset, LifecycleStage, LoggedModelStatus, PagedList
from runyard.errors import InvalidParameterValue
from runyard.tracking.fluent_search import every_page


def test_experiment_tags_go_to_the_active_experiment() -> None:
    experiment = runyard.set_experiment("tagged")
    runyard.set_experiment_tag("team", "fraud")
    runyard.set_experiment_tags({"stage": "dev", "owner": 7})
    runyard.delete_experiment_tag("stage")
    assert runyard.get_experiment(experiment.experiment_id).tags == {"team": "fraud", "owner": "7"}


def test_restore_brings_back_a_deleted_run_and_experiment() -> None:
    experiment_id = runyard.create_experiment("restorable")
    with runyard.start_run(experiment_id=experiment_id) as run:
        pass
    runyard.delete_run(run.info.run_id)
    runyard.restore_run(run.info.run_id)
    assert runyard.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    runyard.delete_experiment(experiment_id)
    runyard.restore_experiment(experiment_id)
    assert runyard.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE


def test_get_parent_run_follows_nesting() -> None:
    with runyard.start_run() as parent, runyard.start_run(nested=True) as child:
        pass
    found = runyard.get_parent_run(child.info.run_id)
    assert found is not None and found.info.run_id == parent.info.run_id
    assert runyard.get_parent_run(parent.info.run_id) is None


def test_log_input_takes_an_mlflow_dataset_and_a_runyard_one() -> None:
    mlflow_data = pytest.importorskip("mlflow.data")
    from mlflow.entities import LoggedModelInput

    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    from_mlflow = mlflow_data.from_pandas(frame, source="s3://data/train.csv", name="train")
    ours = Dataset(name="eval", digest="abc123", source_type="local", source="/data/eval")
    with runyard.start_run() as run:
        model = runyard.initialize_logged_model(name="net")
        runyard.log_input(from_mlflow, context="training", tags={"fold": 1})
        runyard.log_inputs([ours], contexts=["eval"], models=[LoggedModelInput(model.model_id)])
    stored = runyard.get_run(run.info.run_id).inputs
    assert [m.model_id for m in stored.model_inputs] == [model.model_id]
    inputs = {i.dataset.name: i for i in stored.dataset_inputs}
    train = inputs["train"]
    assert train.dataset.digest == from_mlflow.digest
    assert train.dataset.source_type == "s3" and "train.csv" in train.dataset.source
    assert train.dataset.profile and train.dataset.schema
    assert dict(train.tags) == {"fold": "1", "mlflow.data.context": "training"}
    assert dict(inputs["eval"].tags) == {"mlflow.data.context": "eval"}


def test_log_inputs_refuses_mismatched_lists_and_logs_nothing() -> None:
    ours = Dataset(name="d", digest="1")
    with runyard.start_run() as run:
        with pytest.raises(InvalidParameterValue, match="1 datasets but 2 contexts"):
            runyard.log_inputs([ours], contexts=["a", "b"])
        with pytest.raises(InvalidParameterValue, match="not int"):
            runyard.log_input(5)
    assert not runyard.get_run(run.info.run_id).inputs.dataset_inputs


def test_log_outputs_takes_runyards_and_mlflows_model_outputs() -> None:
    from runyard.entities import ModelOutput

    first = runyard.initialize_logged_model("first")
    second = runyard.initialize_logged_model("second")
    mlflow_entities = pytest.importorskip("mlflow.entities")
    with runyard.start_run() as run:
        runyard.log_outputs(
            [ModelOutput(first.model_id, 3), mlflow_entities.LoggedModelOutput(second.model_id, 7)]
        )
        with pytest.raises(InvalidParameterValue, match=r"models\[0\] is a ModelOutput"):
            runyard.log_outputs([first.model_id])
    outputs = runyard.get_run(run.info.run_id).outputs.model_outputs
    assert sorted((o.model_id, o.step) for o in outputs) == sorted(
        [(first.model_id, 3), (second.model_id, 7)]
    )


def test_flush_async_logging_waits_for_every_queued_call() -> None:
    with runyard.start_run() as run:
        for step in range(50):
            runyard.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=False)
        runyard.flush_async_logging()
        history = runyard.Client().get_metric_history(run.info.run_id, "loss")
        assert len(history) == 50


def test_registry_searches_return_every_match() -> None:
    client = runyard.MlflowClient()
    for name in ("fraud-a", "fraud-b", "churn"):
        client.create_registered_model(name)
    with runyard.start_run() as run:
        runyard.log_text("x", "model/MLmodel")
    runyard.register_model(f"runs:/{run.info.run_id}/model", "fraud-a")
    names = [m.name for m in runyard.search_registered_models(filter_string="name LIKE 'fraud%'")]
    assert sorted(names) == ["fraud-a", "fraud-b"]
    assert len(runyard.search_registered_models(max_results=2)) == 2
    runyard.set_model_version_tag("fraud-a", 1, "validated", True)
    (version,) = runyard.search_model_versions(filter_string="name = 'fraud-a'")
    assert version.tags == {"validated": "True"}


def test_every_page_follows_tokens_up_to_max_results() -> None:
    rows = list(range(7))
    sizes: list[int] = []

    def fetch(size: int, token: str | None) -> PagedList[int]:
        sizes.append(size)
        start = int(token or 0)
        end = start + size
        return PagedList(rows[start:end], str(end) if end < len(rows) else None)

    assert every_page(fetch, None, 3) == rows and sizes == [3, 3, 3]
    sizes.clear()
    assert every_page(fetch, 5, 3) == rows[:5] and sizes == [3, 2]


def test_logged_models_start_pending_in_the_active_run_and_finalize_by_mlflows_names() -> None:
    runyard.set_experiment("models")
    with runyard.start_run() as run:
        model = runyard.initialize_logged_model(name="net", params={"layers": 3})
    assert model.status == LoggedModelStatus.LOGGED_MODEL_PENDING
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == run.info.experiment_id
    ready = runyard.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.LOGGED_MODEL_READY
    with pytest.raises(InvalidParameterValue, match="READY, FAILED or PENDING"):
        runyard.finalize_logged_model(model.model_id, "DONE")
    runyard.set_logged_model_tags(model.model_id, {"team": "vision", "tmp": "1"})
    runyard.delete_logged_model_tag(model.model_id, "tmp")
    assert runyard.get_logged_model(model.model_id).tags == {"team": "vision"}
    assert [m.model_id for m in runyard.search_logged_models()] == [model.model_id]
    assert runyard.search_logged_models(filter_string="name = 'other'") == []


def test_last_logged_model_and_its_params_by_mlflows_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert runyard.last_logged_model() is None
    first = runyard.initialize_logged_model(name="first", params={"lr": 0.1})
    second = runyard.initialize_logged_model(name="second")
    assert runyard.last_logged_model().model_id == second.model_id
    runyard.log_model_params({"lr": 0.2, "depth": 4}, model_id=first.model_id)
    assert runyard.get_logged_model(first.model_id).params == {"lr": "0.2", "depth": "4"}
    with pytest.raises(InvalidParameterValue, match="Give model_id"):
        runyard.log_model_params({"lr": 0.3})
    # The environment's active model is read once per thread, when it first asks (as MLflow's
    # is): this thread asked above, so a thread started now sees the variable.
    monkeypatch.setenv("MLFLOW_ACTIVE_MODEL_ID", second.model_id)
    assert runyard.get_active_model_id() is None
    worker = threading.Thread(target=runyard.log_model_params, args=({"epochs": 2},))
    worker.start()
    worker.join()
    assert runyard.get_logged_model(second.model_id).params == {"epochs": "2"}
    runyard.MlflowClient().delete_logged_model(first.model_id)
    assert [m.model_id for m in runyard.search_logged_models()] == [second.model_id]


def test_model_metrics_and_the_logged_model_search_take_mlflows_arguments() -> None:
    evaluation = Dataset(name="eval", digest="d1", source_type="local", source="eval.csv")
    with runyard.start_run():
        low = runyard.initialize_logged_model(name="low")
        high = runyard.initialize_logged_model(name="high")
        runyard.initialize_logged_model(name="none")
        runyard.log_metric("acc", 0.2, model_id=low.model_id, dataset=evaluation)
        runyard.log_metrics({"acc": 0.9, "f1": 0.8}, model_id=high.model_id)
    assert [(m.key, m.dataset_name) for m in runyard.get_logged_model(low.model_id).metrics] == [
        ("acc", "eval")
    ]
    best_first = runyard.search_logged_models(
        order_by=[{"field_name": "metrics.acc", "ascending": False}], output_format="list"
    )
    assert [m.name for m in best_first] == ["high", "low", "none"]
    on_eval = runyard.search_logged_models(
        datasets=[{"dataset_name": "eval", "dataset_digest": "d1"}], output_format="list"
    )
    assert [m.name for m in on_eval] == ["low"]
    found = runyard.MlflowClient().search_logged_models(
        [best_first[0].experiment_id], filter_string="metrics.f1 > 0.5", max_results=10
    )
    assert [m.name for m in found] == ["high"]
    on_eval_first = runyard.search_logged_models(  # only low has acc on eval
        order_by=[{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}]
    )
    assert on_eval_first[0].name == "low"  # the others tie (none on eval): newest first
    assert {m.name for m in on_eval_first[1:]} == {"high", "none"}


def test_the_active_model_takes_metrics_and_params_logged_without_a_model_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_ACTIVE_MODEL_ID", raising=False)
    assert runyard.get_active_model_id() is None
    with runyard.start_run():
        with runyard.set_active_model(name="agent") as active:
            assert active.name == "agent" and active.status == LoggedModelStatus.LOGGED_MODEL_READY
            assert runyard.get_active_model_id() == active.model_id
            runyard.log_metric("latency", 1.5)
            runyard.log_metrics({"quality": 0.7})
            runyard.log_model_params({"prompt": "v2"})
            again = runyard.set_active_model(name="agent")  # the newest of that name
            assert again.model_id == active.model_id
        assert runyard.get_active_model_id() is None  # the previous one, none, is back
        runyard.log_metric("untracked", 1.0)
    model = runyard.get_logged_model(active.model_id)
    assert sorted(m.key for m in model.metrics) == ["latency", "quality"]
    assert model.params == {"prompt": "v2"}
    assert [m.name for m in runyard.search_logged_models()] == ["agent"]
    runyard.set_active_model(model_id=active.model_id)
    assert runyard.get_active_model_id() == active.model_id
    runyard.clear_active_model()
    monkeypatch.setenv("MLFLOW_ACTIVE_MODEL_ID", "m-from-the-environment")
    assert runyard.get_active_model_id() is None  # cleared wins over the environment
    with pytest.raises(InvalidParameterValue, match="either name or model_id"):
        runyard.set_active_model()
    with pytest.raises(InvalidParameterValue, match="is named 'agent', not 'other'"):
        runyard.set_active_model(name="other", model_id=active.model_id)
    assert runyard.set_active_model(name="agent", model_id=active.model_id).name == "agent"


def test_an_external_model_is_ready_tagged_and_registrable(tmp_path) -> None:
    """As MLflow's ``create_external_model``: no files of its own, but an ``MLmodel`` that says
    it is external, so a registry takes it as a version."""
    with runyard.start_run() as run:
        model = runyard.create_external_model(
            name="agent", tags={"team": "search"}, params={"prompt": "v1"}, model_type="agent"
        )
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert model.tags == {"team": "search", "mlflow.model.isExternal": "true"}
    assert model.params == {"prompt": "v1"} and model.model_type == "agent"
    assert model.source_run_id == run.info.run_id
    assert runyard.last_logged_model().model_id == model.model_id
    local = runyard.download_artifacts(f"models:/{model.model_id}", dst_path=tmp_path)
    descriptor = yaml.safe_load((Path(local) / "MLmodel").read_text())
    assert descriptor["flavors"] == {} and descriptor["model_id"] == model.model_id
    assert descriptor["metadata"] == {"mlflow.model.isExternal": True}
    assert descriptor["run_id"] == run.info.run_id
    assert json.loads(descriptor["signature"]["inputs"]) == [{"type": "boolean", "required": True}]
    version = runyard.register_model(f"models:/{model.model_id}", "agent")
    assert int(version.version) == 1 and version.model_id == model.model_id
    # set_active_model(name=...) creates one when the name is new
    created = runyard.set_active_model(name="fresh-agent")
    assert created.tags == {"mlflow.model.isExternal": "true"}
    assert created.status == LoggedModelStatus.LOGGED_MODEL_READY


def test_system_metrics_switches_apply_to_runs_started_afterwards() -> None:
    pytest.importorskip("psutil")
    from runyard import system_metrics

    runyard.enable_system_metrics_logging()
    runyard.set_system_metrics_sampling_interval(2.5)
    with runyard.start_run() as run:
        monitor = system_metrics.monitor_for(run.info.run_id)
        assert monitor is not None and monitor.interval == 2.5
    assert system_metrics.monitor_for(run.info.run_id) is None  # stopped with the run

    runyard.disable_system_metrics_logging()
    with runyard.start_run() as quiet:
        assert system_metrics.monitor_for(quiet.info.run_id) is None
    with runyard.start_run(log_system_metrics=True) as asked:  # an explicit answer wins
        assert system_metrics.monitor_for(asked.info.run_id) is not None
    for wrong in (0, -1, True):
        with pytest.raises(InvalidParameterValue, match="positive number of seconds"):
            runyard.set_system_metrics_sampling_interval(wrong)
