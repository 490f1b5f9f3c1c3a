"""``runyard.lightgbm.log_model`` / ``save_model`` / ``load_model``: MLflow 3's logged models
and the files ``mlflow.lightgbm.save_model`` writes (a Booster in LightGBM's text format, a
scikit-learn API model pickled), read back by runyard's loaders and by ``runyard.pyfunc``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import runyard
import yaml
from runyard.entities import LoggedModelStatus
from runyard.errors import InvalidParameterValue

from tests.requirements import import_or_skip

lgb = import_or_skip("lightgbm", "lightgbm")
import_or_skip("sklearn", "sklearn")

FRAME = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8] * 10, "b": [1.0, 2.0, 3.0, 4.0] * 10})
LABELS = [0, 1, 0, 1] * 10
PARAMS = {"objective": "binary", "num_leaves": 3, "min_data_in_leaf": 1, "verbose": -1}


def _booster() -> object:
    return lgb.train(PARAMS, lgb.Dataset(FRAME, LABELS), num_boost_round=5)


def _model_files(model_id: str, tmp_path: Path) -> Path:
    destination = tmp_path / "downloaded" / model_id
    return Path(runyard.artifacts.download_artifacts(f"models:/{model_id}", dst_path=destination))


def test_a_booster_is_logged_with_mlflows_files_and_loads_back_by_every_uri(
    tmp_path: Path,
) -> None:
    booster = _booster()
    with runyard.start_run() as run:
        info = runyard.lightgbm.log_model(
            booster, name="gbm", input_example=FRAME.head(2), registered_model_name="risk"
        )
    logged = runyard.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert (logged.name, logged.source_run_id) == ("gbm", run.info.run_id)
    assert [o.model_id for o in runyard.get_run(run.info.run_id).outputs.model_outputs] == [
        info.model_id
    ]
    assert info.registered_model_version == 1
    assert runyard.last_logged_model().model_id == info.model_id

    files = _model_files(info.model_id, tmp_path)
    assert {p.name for p in files.iterdir()} == {
        "MLmodel",
        "model.lgb",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    flavor = descriptor["flavors"]["lightgbm"]
    assert flavor["data"] == "model.lgb" and flavor["model_class"] == "lightgbm.basic.Booster"
    assert flavor["lgb_version"] == lgb.__version__
    function = descriptor["flavors"]["python_function"]
    assert (function["loader_module"], function["model_path"]) == ("mlflow.lightgbm", "model.lgb")
    assert json.loads(descriptor["signature"]["inputs"]) == [
        {"type": "double", "name": "a", "required": True},
        {"type": "double", "name": "b", "required": True},
    ]
    assert json.loads(descriptor["signature"]["outputs"]) == [{"type": "double", "required": True}]
    requirements = (files / "requirements.txt").read_text().splitlines()
    assert f"lightgbm=={lgb.__version__}" in requirements

    expected = booster.predict(FRAME).tolist()
    for uri in (info.model_uri, "models:/risk/1", f"runs:/{run.info.run_id}/gbm"):
        loaded = runyard.lightgbm.load_model(uri)
        assert isinstance(loaded, lgb.Booster), uri
        assert loaded.predict(FRAME).tolist() == expected, uri
    served = runyard.pyfunc.load_model(info.model_uri)
    assert served.predict(FRAME).tolist() == expected
    assert served.model_id == info.model_id


def test_a_scikit_learn_api_model_is_pickled_and_keeps_its_class(tmp_path: Path) -> None:
    classifier = lgb.LGBMClassifier(n_estimators=5, num_leaves=3, min_child_samples=1, verbose=-1)
    classifier.fit(FRAME, LABELS)
    info = runyard.lightgbm.log_model(classifier, artifact_path="clf")
    assert info.run_id is None and info.name == "clf"
    descriptor = yaml.safe_load((_model_files(info.model_id, tmp_path) / "MLmodel").read_text())
    flavor = descriptor["flavors"]["lightgbm"]
    assert flavor["data"] == "model.pkl"
    assert flavor["model_class"] == "lightgbm.sklearn.LGBMClassifier"
    assert flavor["serialization_format"] == "pickle"
    loaded = runyard.lightgbm.load_model(info.model_uri)
    assert isinstance(loaded, lgb.LGBMClassifier)
    assert loaded.predict(FRAME).tolist() == classifier.predict(FRAME).tolist()
    assert runyard.pyfunc.load_model(info.model_uri).predict(FRAME).tolist() == (
        classifier.predict(FRAME).tolist()
    )


def test_save_and_load_a_local_directory_and_refuse_what_is_not_lightgbm(tmp_path: Path) -> None:
    booster = _booster()
    runyard.lightgbm.save_model(booster, tmp_path / "saved")
    loaded = runyard.lightgbm.load_model(str(tmp_path / "saved"))
    assert loaded.predict(FRAME).tolist() == booster.predict(FRAME).tolist()
    with pytest.raises(InvalidParameterValue, match="not empty"):
        runyard.lightgbm.save_model(booster, tmp_path / "saved")
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    linear = sklearn_linear.LogisticRegression().fit(FRAME, LABELS)
    runyard.sklearn.save_model(linear, tmp_path / "sk")
    with pytest.raises(InvalidParameterValue, match="no lightgbm flavor"):
        runyard.lightgbm.load_model(str(tmp_path / "sk"))


def test_a_model_that_cannot_be_written_is_marked_failed() -> None:
    with pytest.raises(InvalidParameterValue, match="DataFrame or a numpy array"):
        runyard.lightgbm.log_model(_booster(), name="bad", input_example=[[1.0, 2.0]])
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED


def test_log_model_fills_a_model_initialized_beforehand() -> None:
    pending = runyard.initialize_logged_model(name="gbm", params={"rounds": 5})
    info = runyard.lightgbm.log_model(_booster(), name="gbm", model_id=pending.model_id)
    assert info.model_id == pending.model_id
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert model.params == {"rounds": "5"}
    assert runyard.lightgbm.load_model(info.model_uri).predict(FRAME).tolist() == (
        _booster().predict(FRAME).tolist()
    )


def test_save_model_takes_mlflows_environment_and_metadata(tmp_path: Path) -> None:
    runyard.lightgbm.save_model(
        _booster(),
        tmp_path / "saved",
        extra_pip_requirements=["pyarrow"],
        metadata={"source": "nightly"},
    )
    lines = (tmp_path / "saved" / "requirements.txt").read_text().splitlines()
    assert lines[0] == "mlflow" and lines[-1] == "pyarrow"
    assert any(line.startswith("lightgbm==") for line in lines)
    descriptor = yaml.safe_load((tmp_path / "saved" / "MLmodel").read_text())
    assert descriptor["metadata"] == {"source": "nightly"}
    assert runyard.lightgbm.load_model(str(tmp_path / "saved")).num_trees() > 0
