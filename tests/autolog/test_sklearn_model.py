"""``runyard.sklearn.log_model`` / ``save_model`` / ``load_model``: MLflow 3's logged models
and MLflow's files (the same files ``mlflow.sklearn.save_model`` writes, example and signature
included)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import runyard
import yaml
from runyard.entities import LoggedModelStatus
from runyard.errors import InvalidParameterValue

sklearn_linear = pytest.importorskip("sklearn.linear_model")

FRAME = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8], "b": [1, 2, 3, 4]})
LABELS = [0, 1, 0, 1]


def _fitted() -> object:
    return sklearn_linear.LogisticRegression().fit(FRAME, LABELS)


def _model_files(model_id: str, tmp_path: Path) -> Path:
    destination = tmp_path / "downloaded" / model_id
    return Path(runyard.artifacts.download_artifacts(f"models:/{model_id}", dst_path=destination))


def test_log_model_makes_a_ready_logged_model_of_the_run_with_mlflows_files(
    tmp_path: Path,
) -> None:
    model = _fitted()
    with runyard.start_run() as run:
        info = runyard.sklearn.log_model(
            model, name="clf", input_example=FRAME.head(2), registered_model_name="churn"
        )
    logged = runyard.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert (logged.name, logged.source_run_id) == ("clf", run.info.run_id)
    outputs = runyard.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    assert info.model_uri == f"models:/{info.model_id}" and info.registered_model_version == 1

    files = _model_files(info.model_id, tmp_path)
    assert {p.name for p in files.iterdir()} == {
        "MLmodel",
        "model.pkl",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    assert descriptor["model_id"] == info.model_id and descriptor["run_id"] == run.info.run_id
    assert descriptor["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert json.loads(descriptor["signature"]["inputs"]) == [
        {"type": "double", "name": "a", "required": True},
        {"type": "long", "name": "b", "required": True},
    ]
    assert json.loads(descriptor["signature"]["outputs"]) == [{"type": "long", "required": True}]
    example = json.loads((files / "input_example.json").read_text())
    assert example == {"columns": ["a", "b"], "data": [[0.1, 1], [0.9, 2]]}
    assert info.signature.to_dict() == descriptor["signature"]
    assert info.signature.inputs.input_names() == ["a", "b"]  # MLflow's Schema calls
    assert info.signature.inputs.has_input_names() and not info.signature.inputs.is_tensor_spec()

    for uri in (info.model_uri, "models:/churn/1", f"runs:/{run.info.run_id}/clf"):
        loaded = runyard.sklearn.load_model(uri)
        assert loaded.predict(FRAME).tolist() == model.predict(FRAME).tolist(), uri


def test_an_array_example_gives_a_tensor_signature(tmp_path: Path) -> None:
    model = sklearn_linear.LogisticRegression().fit(FRAME.to_numpy(), LABELS)
    info = runyard.sklearn.log_model(model, name="arr", input_example=FRAME.to_numpy()[:2])
    assert info.run_id is None  # no active run: a model of the experiment alone
    assert info.signature.inputs == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}
    ]
    assert info.signature.inputs.is_tensor_spec() and info.signature.inputs.input_names() == [0]
    assert json.loads(info.signature.to_dict()["outputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    assert json.loads((_model_files(info.model_id, tmp_path) / "input_example.json").read_text())


def test_save_and_load_a_local_directory(tmp_path: Path) -> None:
    model = _fitted()
    runyard.sklearn.save_model(model, tmp_path / "saved")
    loaded = runyard.sklearn.load_model(str(tmp_path / "saved"))
    assert loaded.predict(FRAME).tolist() == model.predict(FRAME).tolist()
    with pytest.raises(InvalidParameterValue, match="not empty"):
        runyard.sklearn.save_model(model, tmp_path / "saved")


def test_a_model_that_cannot_be_written_is_marked_failed_and_not_registered() -> None:
    with (
        runyard.start_run() as run,
        pytest.raises(InvalidParameterValue, match="DataFrame or a numpy array"),
    ):
        runyard.sklearn.log_model(
            _fitted(), name="bad", input_example=[[1, 2]], registered_model_name="nope"
        )
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED
    assert runyard.get_run(run.info.run_id).outputs.model_outputs == ()
    assert runyard.search_registered_models() == []


def test_loading_what_is_not_an_sklearn_model_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidParameterValue, match="No MLmodel file"):
        runyard.sklearn.load_model(str(tmp_path / "empty"))
    with runyard.start_run() as run:
        runyard.log_text("flavors: {python_function: {}}", "other/MLmodel")
    with pytest.raises(InvalidParameterValue, match="no sklearn flavor"):
        runyard.sklearn.load_model(f"runs:/{run.info.run_id}/other")


def test_an_explicit_signature_is_kept() -> None:
    given = {"inputs": '[{"type": "double", "name": "a"}]', "outputs": None, "params": None}
    info = runyard.sklearn.log_model(_fitted(), name="sig", signature=given)
    assert info.signature.to_dict() == given
    with pytest.raises(InvalidParameterValue, match="ModelSignature"):
        runyard.sklearn.log_model(_fitted(), name="sig2", signature="x")
    none = runyard.sklearn.log_model(_fitted(), name="sig3", input_example=FRAME, signature=False)
    assert none.signature is None  # False: not even inferred from the example, as in MLflow


def test_the_environment_pins_what_is_installed_and_skips_what_is_not(tmp_path: Path) -> None:
    from importlib import metadata

    from runyard.autolog.model_files import write_environment

    write_environment(str(tmp_path), ["scikit-learn", "no-such-package-here"])
    lines = (tmp_path / "requirements.txt").read_text().splitlines()
    assert lines == ["mlflow", f"scikit-learn=={metadata.version('scikit-learn')}"]
    env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": lines}


def test_pyfunc_loads_a_scikit_learn_model_to_predict(tmp_path: Path) -> None:
    model = _fitted()
    info = runyard.sklearn.log_model(model, name="clf", registered_model_name="fraud")
    runyard.MlflowClient().set_registered_model_alias("fraud", "champion", 1)
    for uri in (info.model_uri, "models:/fraud@champion"):
        loaded = runyard.pyfunc.load_model(uri)
        assert loaded.predict(FRAME).tolist() == model.predict(FRAME).tolist()
        assert loaded.model_id == info.model_id
        assert type(loaded.unwrap_python_model()) is type(model)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pytorch\n"
    )
    with pytest.raises(InvalidParameterValue, match=r"needs mlflow\.pytorch"):
        runyard.pyfunc.load_model(str(tmp_path / "other"))


def test_logged_models_as_a_dataframe() -> None:
    info = runyard.sklearn.log_model(_fitted(), name="clf", params={"C": 1})
    frame = runyard.search_logged_models(output_format="pandas")
    assert frame["model_id"].tolist() == [info.model_id]
    assert frame["status"].tolist() == ["LOGGED_MODEL_READY"]
    assert frame["params"].tolist() == [{"C": "1"}]
    with pytest.raises(InvalidParameterValue, match="output_format"):
        runyard.search_logged_models(output_format="csv")


@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_a_logged_model_takes_its_runs_params_and_the_metrics_at_its_step(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As MLflow 3 links them, so ``search_logged_models`` filters models by what the run
    logged before ``log_model``; the run's own history gains no point."""
    monkeypatch.chdir(tmp_path)  # SQLite's default artifact root, ./mlruns, is relative
    if store == "sqlite":
        runyard.set_tracking_uri(f"sqlite:///{tmp_path / 'runs.db'}")
    with runyard.start_run() as run:
        runyard.log_param("alpha", "0.5")
        runyard.log_metric("rmse", 0.7)
        runyard.log_metric("rmse", 0.6, step=3)
        runyard.log_metric("mae", 0.1, step=3)
        first = runyard.sklearn.log_model(_fitted(), name="first", params={"alpha": "9"})
        later = runyard.sklearn.log_model(_fitted(), name="later", step=3, params={"extra": 1})
    first_model = runyard.get_logged_model(first.model_id)
    assert dict(first_model.params) == {"alpha": "0.5"}  # the run's value wins, as in MLflow
    assert [(m.key, m.value, m.step) for m in first_model.metrics] == [("rmse", 0.7, 0)]
    later_model = runyard.get_logged_model(later.model_id)
    assert dict(later_model.params) == {"alpha": "0.5", "extra": "1"}
    assert sorted((m.key, m.value, m.step) for m in later_model.metrics) == [
        ("mae", 0.1, 3),
        ("rmse", 0.6, 3),
    ]
    found = runyard.search_logged_models(filter_string="metrics.rmse < 0.65")
    assert [m.model_id for m in found] == [later.model_id]
    history = runyard.Client().get_metric_history(run.info.run_id, "rmse")
    assert sorted((p.value, p.step) for p in history) == [(0.6, 3), (0.7, 0)]


def test_environment_metadata_and_predict_fn_as_mlflows_arguments(tmp_path: Path) -> None:
    """pip_requirements, extra_pip_requirements and conda_env rewrite the environment files,
    metadata lands in MLmodel and pyfunc_predict_fn chooses the method pyfunc calls."""
    listed = tmp_path / "reqs.txt"
    listed.write_text("# pinned for serving\nscikit-learn==1.5.0\n\npandas\n")
    with runyard.start_run():
        exact = runyard.sklearn.log_model(
            _fitted(),
            name="exact",
            pip_requirements=str(listed),
            metadata={"owner": "fraud-team"},
            pyfunc_predict_fn="predict_proba",
        )
        extra = runyard.sklearn.log_model(
            _fitted(), name="extra", extra_pip_requirements=["xgboost>=2"]
        )
        conda = runyard.sklearn.log_model(
            _fitted(),
            name="conda",
            conda_env={"name": "env", "dependencies": ["python=3.11", {"pip": ["numpy"]}]},
        )
    exact_dir = _model_files(exact.model_id, tmp_path)
    assert (exact_dir / "requirements.txt").read_text().splitlines() == [
        "mlflow",
        "scikit-learn==1.5.0",
        "pandas",
    ]
    descriptor = yaml.safe_load((exact_dir / "MLmodel").read_text())
    assert descriptor["metadata"] == {"owner": "fraud-team"}
    assert descriptor["flavors"]["python_function"]["predict_fn"] == "predict_proba"
    probabilities = runyard.pyfunc.load_model(f"models:/{exact.model_id}").predict(FRAME)
    assert probabilities.shape == (4, 2)
    extra_lines = (_model_files(extra.model_id, tmp_path) / "requirements.txt").read_text()
    assert extra_lines.splitlines()[0] == "mlflow" and extra_lines.splitlines()[-1] == "xgboost>=2"
    assert any(line.startswith("scikit-learn==") for line in extra_lines.splitlines())
    conda_dir = _model_files(conda.model_id, tmp_path)
    env = yaml.safe_load((conda_dir / "conda.yaml").read_text())
    assert env["name"] == "env" and env["dependencies"][-1] == {"pip": ["mlflow", "numpy"]}
    assert (conda_dir / "requirements.txt").read_text().splitlines() == ["mlflow", "numpy"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"pip_requirements": ["a"], "extra_pip_requirements": ["b"]}, "Only one of"),
        ({"pip_requirements": ["-r other.txt"]}, "names another file"),
        ({"pip_requirements": 3}, "list of strings"),
        ({"conda_env": "no/such/env.yaml"}, "Cannot read conda environment"),
        ({"code_paths": ["src"]}, "code_paths"),
        ({"metadata": {"when": object()}}, "cannot be written to MLmodel"),
    ],
)
def test_refused_model_arguments_write_nothing(tmp_path: Path, arguments, message) -> None:
    from runyard.errors import RunyardError

    with pytest.raises(RunyardError, match=message):
        runyard.sklearn.save_model(_fitted(), tmp_path / "model", **arguments)
    assert not (tmp_path / "model").exists()
    with runyard.start_run(), pytest.raises(RunyardError, match=message):
        runyard.sklearn.log_model(_fitted(), name="refused", **arguments)
    assert runyard.search_logged_models() == []
