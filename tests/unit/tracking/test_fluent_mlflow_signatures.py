"""MLflow's call signatures, kept: every fluent function runyard shares with ``mlflow`` takes
MLflow's parameters in MLflow's order (a script passing them by position or by name runs
unchanged), and the parameters behind the latest gaps do what MLflow's do."""

from __future__ import annotations

import inspect
import json

import pytest
import runyard
from runyard.errors import (
    InvalidParameterValue,
    NotImplementedByBackend,
    ResourceDoesNotExist,
    RunyardError,
)
from runyard.registry.entities import STATUS_FAILED, STATUS_PENDING, STATUS_READY
from runyard.tracking.registry_client import RegistryClientMixin

from tests.requirements import import_or_skip

#: MLflow parameters runyard does not take, and why: they place traces, which runyard does not
#: record.
NOT_TAKEN = {("create_experiment", "trace_location"), ("set_experiment", "trace_location")}


def _assert_takes_mlflows_parameters(
    label: str, ours: object, theirs: object, not_taken: set[str]
) -> None:
    """``ours`` takes every parameter of ``theirs`` (but ``not_taken``) in the same order, and
    the positional ones at MLflow's positions."""
    wanted = [
        p
        for p in inspect.signature(theirs).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in not_taken
    ]
    taken = inspect.signature(ours).parameters
    assert [p.name for p in wanted if p.name in taken] == [p.name for p in wanted], label
    positional = [p.name for p in wanted if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [n for n in taken if n in positional] == positional, label


def _left_out(pairs: set[tuple[str, str]], name: str) -> set[str]:
    return {parameter for owner, parameter in pairs if owner == name}


def test_shared_functions_take_mlflows_parameters_in_mlflows_order() -> None:
    mlflow = import_or_skip("mlflow", "mlflow")
    checked = 0
    for name in runyard.__all__:
        ours, theirs = getattr(runyard, name), getattr(mlflow, name, None)
        if theirs is None or not inspect.isfunction(ours) or not callable(theirs):
            continue
        _assert_takes_mlflows_parameters(name, ours, theirs, _left_out(NOT_TAKEN, name))
        checked += 1
    assert checked > 40


#: MlflowClient parameters runyard's client does not take: a hosted platform's deployment jobs
#: and workspaces.
CLIENT_NOT_TAKEN = {
    ("__init__", "workspace_store_uri"),
    ("create_registered_model", "deployment_job_id"),
    ("update_registered_model", "deployment_job_id"),
}


def test_client_methods_take_mlflows_parameters_in_mlflows_order() -> None:
    mlflow = import_or_skip("mlflow", "mlflow")
    checked = 0
    for name in ["__init__", *(n for n in dir(runyard.Client) if not n.startswith("_"))]:
        ours, theirs = getattr(runyard.Client, name), getattr(mlflow.MlflowClient, name, None)
        if theirs is None or not inspect.isfunction(ours):
            continue
        _assert_takes_mlflows_parameters(name, ours, theirs, _left_out(CLIENT_NOT_TAKEN, name))
        checked += 1
    assert checked > 60


def test_client_calls_by_mlflows_positions_and_stages(tmp_path) -> None:
    client = runyard.MlflowClient()
    with runyard.start_run() as run:
        pass
    client.log_metric(run.info.run_id, "loss", 0.5, 1, 0, None, "train", "abc123")
    (point,) = client.get_metric_history(run.info.run_id, "loss")
    assert (point.dataset_name, point.dataset_digest) == ("train", "abc123")
    model = runyard.initialize_logged_model("model")
    client.create_registered_model("churn")
    client.create_model_version("churn", f"models:/{model.model_id}", await_creation_for=0)
    client.transition_model_version_stage("churn", 1, "Production")
    client.set_model_version_tag("churn", key="approved", value="yes", stage="production")
    assert client.get_model_version("churn", 1).tags == {"approved": "yes"}
    client.delete_model_version_tag("churn", key="approved", stage="Production")
    assert client.get_model_version("churn", 1).tags == {}
    with pytest.raises(InvalidParameterValue, match="Exactly one"):
        client.set_model_version_tag("churn", 1, "k", "v", stage="Production")
    with pytest.raises(ResourceDoesNotExist, match="Staging"):
        client.set_model_version_tag("churn", key="k", value="v", stage="Staging")
    local = tmp_path / "files"
    local.mkdir()
    (local / "weights.txt").write_text("w")
    client.log_model_artifacts(model.model_id, local, "inner")
    files = runyard.artifacts.list_artifacts(f"models:/{model.model_id}")
    assert [f.path for f in files] == ["inner"]
    client.log_model_artifact(model.model_id, local / "weights.txt")
    client.log_model_artifact(model.model_id, local / "weights.txt", "inner/deeper")
    listed = client.list_logged_model_artifacts(model.model_id)
    assert [(f.path, f.is_dir) for f in listed] == [("inner", True), ("weights.txt", False)]
    inner = client.list_logged_model_artifacts(model.model_id, "inner")
    assert sorted(f.path for f in inner) == ["inner/deeper", "inner/weights.txt"]
    with pytest.raises(InvalidParameterValue, match="No such file"):
        client.log_model_artifact(model.model_id, local / "missing.txt")
    with pytest.raises(InvalidParameterValue):
        client.list_logged_model_artifacts(model.model_id, "../outside")


#: Defaults that differ from MLflow's on purpose: searches return lists (README says so), the
#: view type is runyard's enum for the same value, and None means the same as MLflow's value.
DEFAULTS_KEPT = {
    ("search_runs", "output_format"),
    ("search_logged_models", "output_format"),
    ("search_runs", "run_view_type"),
    ("search_experiments", "view_type"),
    ("log_image", "synchronous"),  # None: the async-logging setting, off unless set
    ("Client.search_runs", "run_view_type"),
    ("Client.search_experiments", "view_type"),
    ("Client.search_logged_models", "max_results"),  # a page of 100, MLflow's server default
    ("Client.set_terminated", "status"),  # FINISHED, what MLflow's None means
}


def test_defaults_are_mlflows() -> None:
    """A default that differs changes what the same call does: ``search_runs()`` returned
    1,000 runs where MLflow returns up to 100,000."""
    mlflow = import_or_skip("mlflow", "mlflow")
    pairs = [(n, getattr(runyard, n), getattr(mlflow, n, None)) for n in runyard.__all__]
    pairs += [
        (f"Client.{n}", getattr(runyard.Client, n), getattr(mlflow.MlflowClient, n, None))
        for n in ["__init__", *(n for n in dir(runyard.Client) if not n.startswith("_"))]
    ]
    differing = []
    for name, ours, theirs in pairs:
        if theirs is None or not inspect.isfunction(ours) or not callable(theirs):
            continue
        taken = inspect.signature(ours).parameters
        for param in inspect.signature(theirs).parameters.values():
            if param.name not in taken or param.default is inspect.Parameter.empty:
                continue
            if taken[param.name].default != param.default and (
                (name, param.name) not in DEFAULTS_KEPT
            ):
                differing.append((name, param.name, param.default, taken[param.name].default))
    assert differing == []


#: Flavor arguments not taken: a LightGBM scikit-learn API model is always pickled.
FLAVOR_NOT_TAKEN = {
    ("lightgbm.log_model", "serialization_format"),
    ("lightgbm.log_model", "skops_trusted_types"),
    ("lightgbm.save_model", "serialization_format"),
    ("lightgbm.save_model", "skops_trusted_types"),
}


@pytest.mark.parametrize("flavor", ["sklearn", "lightgbm", "xgboost"])
def test_flavor_calls_take_mlflows_parameters_in_mlflows_order(flavor: str) -> None:
    import_or_skip("mlflow", "mlflow")
    import_or_skip(flavor, flavor)
    import importlib

    theirs_module = importlib.import_module(f"mlflow.{flavor}")
    ours_module = getattr(runyard, flavor)
    for name in ("autolog", "log_model", "save_model", "load_model"):
        label = f"{flavor}.{name}"
        ours, theirs = getattr(ours_module, name), getattr(theirs_module, name)
        _assert_takes_mlflows_parameters(label, ours, theirs, _left_out(FLAVOR_NOT_TAKEN, label))


def test_search_runs_by_experiment_names_or_across_all() -> None:
    first = runyard.create_experiment("first")
    second = runyard.create_experiment("second")
    for experiment_id in (first, second):
        with runyard.start_run(experiment_id=experiment_id):
            pass
    by_name = runyard.search_runs(experiment_names=["first", "no-such-experiment"])
    assert [r.info.experiment_id for r in by_name] == [first]
    everywhere = runyard.search_runs(search_all_experiments=True)
    assert {r.info.experiment_id for r in everywhere} == {first, second}
    assert runyard.search_runs(experiment_names=["no-such-experiment"]) == []
    frame = runyard.search_runs(experiment_names=["nothing"], output_format="pandas")
    assert len(frame) == 0
    with pytest.raises(InvalidParameterValue, match="not both"):
        runyard.search_runs([first], experiment_names=["first"])


def test_start_run_under_a_parent_given_by_id() -> None:
    with runyard.start_run() as parent:
        pass
    with runyard.start_run(parent_run_id=parent.info.run_id) as child:
        runyard.log_params({"lr": 0.1}, run_id=parent.info.run_id)
    assert runyard.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id
    assert runyard.get_run(parent.info.run_id).data.params == {"lr": "0.1"}
    with runyard.start_run() as other:  # with an active run, only that one can be the parent
        with pytest.raises(InvalidParameterValue, match="does not match"):
            runyard.start_run(nested=True, parent_run_id=parent.info.run_id)
        with runyard.start_run(nested=True, parent_run_id=other.info.run_id) as nested:
            pass
    assert runyard.get_parent_run(nested.info.run_id).info.run_id == other.info.run_id
    runyard.delete_run(parent.info.run_id)
    with pytest.raises(InvalidParameterValue, match="deleted"):
        runyard.start_run(parent_run_id=parent.info.run_id)
    with pytest.raises(ResourceDoesNotExist):
        runyard.start_run(parent_run_id="0" * 32)
    assert runyard.active_run() is None


def test_register_model_takes_mlflows_wait_by_position(tmp_path) -> None:
    with runyard.start_run() as run:
        runyard.log_text("weights", "model/weights.txt")
    version = runyard.register_model(f"runs:/{run.info.run_id}/model", "churn", 0, tags={"a": 1})
    assert (version.version, version.status, version.tags) == (1, STATUS_READY, {"a": "1"})
    with pytest.raises(NotImplementedByBackend):
        runyard.register_model(f"runs:/{run.info.run_id}/model", "churn", env_pack="serving")
    client = runyard.MlflowClient()
    made = client.create_model_version("churn", version.source, await_creation_for=0)
    assert made.version == 2


class _SlowRegistry:
    """A server whose versions become ready (or fail) after a few reads: not what runyard's
    stores do, which is why it is stood in for here."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses

    def get_model_version(self, name: str, version: int) -> object:
        return _version(self.statuses.pop(0))


def _version(status: str) -> object:
    from runyard.registry.entities import ModelVersion

    return ModelVersion(
        name="m",
        version=1,
        creation_timestamp=0,
        last_updated_timestamp=0,
        source="models:/m-1",
        status=status,
        status_message="disk full",
    )


@pytest.mark.parametrize(
    ("later", "seconds", "outcome"),
    [
        ([STATUS_PENDING, STATUS_READY], 30, STATUS_READY),
        ([STATUS_FAILED], 30, "failed: disk full"),
        ([STATUS_PENDING] * 50, 1, "not ready after 1 seconds"),
        ([], 0, STATUS_PENDING),  # not waited for
    ],
)
def test_a_pending_version_is_waited_for(monkeypatch, later, seconds, outcome) -> None:
    monkeypatch.setattr("runyard.tracking.registry_client.AWAIT_POLL_SECONDS", 0.05)
    client = RegistryClientMixin()
    client._store = _SlowRegistry(list(later))
    if outcome in (STATUS_READY, STATUS_PENDING):
        assert client._await_ready(_version(STATUS_PENDING), seconds).status == outcome
    else:
        with pytest.raises(RunyardError, match=outcome):
            client._await_ready(_version(STATUS_PENDING), seconds)


def test_mlflows_exception_and_registry_names(tracking_uri: str) -> None:
    from runyard.exceptions import MlflowException

    assert MlflowException is runyard.MlflowException is RunyardError
    try:
        runyard.get_run("0" * 32)
    except runyard.MlflowException as error:
        assert error.get_http_status_code() == 404
    assert runyard.is_tracking_uri_set()
    assert runyard.get_registry_uri() == tracking_uri
    runyard.set_registry_uri(tracking_uri)  # the same store: accepted
    with pytest.raises(NotImplementedByBackend, match="tracking store"):
        runyard.set_registry_uri("sqlite:///elsewhere.db")
    assert runyard.MlflowClient(tracking_uri, registry_uri=tracking_uri).tracking_uri == (
        tracking_uri
    )
    with pytest.raises(NotImplementedByBackend):
        runyard.MlflowClient(tracking_uri, registry_uri="sqlite:///elsewhere.db")


def test_no_tracking_uri_is_set_by_default(monkeypatch) -> None:
    from runyard.tracking import context

    context.set_tracking_uri(None)
    assert not runyard.is_tracking_uri_set()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///x.db")
    assert runyard.is_tracking_uri_set()


def test_entities_turn_into_mlflows_dictionaries(tmp_path, monkeypatch) -> None:
    """``run.to_dictionary()`` and ``dict(run.info)`` / ``dict(experiment)``, which scripts use
    to dump runs as JSON, have MLflow's keys (runyard's experiment lacks only tracing's)."""
    mlflow = import_or_skip("mlflow", "mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

    def shapes(lib, client, run_id: str) -> dict:
        run = client.get_run(run_id)
        whole = run.to_dictionary()
        json.dumps(whole)  # plain data
        return {
            "run": sorted(whole),
            "info": sorted(whole["info"]),
            "data": sorted(whole["data"]),
            "inputs": sorted(whole["inputs"]),
            "dataset": sorted(whole["inputs"]["dataset_inputs"][0]),
            "outputs": sorted(whole["outputs"]),
            "metric": sorted(client.get_metric_history(run_id, "m")[0].to_dictionary()),
            "experiment": set(dict(client.get_experiment(run.info.experiment_id))),
        }

    found = {}
    for lib in (mlflow, runyard):
        client = lib.MlflowClient(tracking_uri=(tmp_path / lib.__name__).as_uri())
        experiment_id = client.create_experiment("shapes")
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "m", 1.0)
        client.log_param(run.info.run_id, "p", "1")
        dataset = runyard.Dataset("d", "abc") if lib is runyard else None
        if lib is mlflow:
            from mlflow.entities import Dataset, DatasetInput, InputTag

            entry = DatasetInput(Dataset("d", "abc", "code", "{}"), [InputTag("c", "train")])
        else:
            from runyard.entities import DatasetInput

            entry = DatasetInput(dataset, {"c": "train"})
        client.log_inputs(run.info.run_id, [entry])
        found[lib.__name__] = shapes(lib, client, run.info.run_id)
    theirs, ours = found["mlflow"], found["runyard"]
    assert ours["experiment"] <= theirs["experiment"]
    assert theirs["experiment"] - ours["experiment"] <= {
        "trace_location",
        "workspace",
        "effective_trace_archival_retention",
    }
    del ours["experiment"], theirs["experiment"]
    assert ours == theirs


def test_copy_model_version_promotes_a_version_under_another_name() -> None:
    client = runyard.Client()
    with runyard.start_run() as run:
        model = runyard.initialize_logged_model("model")
    client.create_registered_model("churn-staging")
    client.create_model_version(
        "churn-staging",
        f"models:/{model.model_id}",
        run.info.run_id,
        tags={"owner": "ml"},
        description="nightly",
        model_id=model.model_id,
    )
    client.set_registered_model_alias("churn-staging", "candidate", 1)
    copied = client.copy_model_version("models:/churn-staging@candidate", "churn-prod")
    assert (copied.name, copied.version, copied.source) == (
        "churn-prod",
        1,
        "models:/churn-staging/1",
    )
    assert (copied.run_id, copied.model_id) == (run.info.run_id, model.model_id)
    assert (copied.tags, copied.description) == ({"owner": "ml"}, "nightly")
    again = client.copy_model_version("models:/churn-staging/1", "churn-prod")
    assert again.version == 2  # the registered model exists now: a new version of it
    assert client.get_model_version_stages("churn-prod", 2) == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]
    for uri in (f"runs:/{run.info.run_id}/model", "models:/churn-staging/1/MLmodel"):
        with pytest.raises(InvalidParameterValue, match="Unsupported source model URI"):
            client.copy_model_version(uri, "churn-prod")
    with pytest.raises(ResourceDoesNotExist):
        client.copy_model_version("models:/churn-staging/7", "churn-prod")
