"""``runyard.xgboost.log_model`` / ``save_model`` / ``load_model``: MLflow 3's logged models
and the files ``mlflow.xgboost.save_model`` writes (a Booster or a scikit-learn API model in
XGBoost's own format, never pickled), read back by runyard's loaders, ``runyard.pyfunc`` and
MLflow's own loaders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import runyard
import yaml
from runyard.entities import LoggedModelStatus
from runyard.errors import InvalidParameterValue

from tests.requirements import import_or_skip, installed_or_skip

xgb = import_or_skip("xgboost", "xgboost")
import_or_skip("sklearn", "sklearn")

FRAME = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8] * 10, "b": [1.0, 2.0, 3.0, 4.0] * 10})
LABELS = [0, 1, 0, 1] * 10
PARAMS = {"objective": "binary:logistic", "max_depth": 2}


def _booster() -> object:
    return xgb.train(PARAMS, xgb.DMatrix(FRAME, LABELS), num_boost_round=5)


def _model_files(model_id: str, tmp_path: Path) -> Path:
    destination = tmp_path / "downloaded" / model_id
    return Path(runyard.artifacts.download_artifacts(f"models:/{model_id}", dst_path=destination))


def _booster_answer(booster: object) -> list[float]:
    return booster.predict(xgb.DMatrix(FRAME)).tolist()


def test_a_booster_is_logged_with_mlflows_files_and_loads_back_by_every_uri(
    tmp_path: Path,
) -> None:
    booster = _booster()
    with runyard.start_run() as run:
        info = runyard.xgboost.log_model(
            booster, name="gbm", input_example=FRAME.head(2), registered_model_name="risk"
        )
    logged = runyard.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert (logged.name, logged.source_run_id) == ("gbm", run.info.run_id)
    assert info.registered_model_version == 1

    files = _model_files(info.model_id, tmp_path)
    assert {p.name for p in files.iterdir()} == {
        "MLmodel",
        "model.ubj",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    assert descriptor["flavors"]["xgboost"] == {
        "xgb_version": xgb.__version__,
        "data": "model.ubj",
        "model_class": "xgboost.core.Booster",
        "model_format": "ubj",
        "code": None,
    }
    assert descriptor["flavors"]["python_function"]["loader_module"] == "mlflow.xgboost"
    assert json.loads(descriptor["signature"]["inputs"]) == [
        {"type": "double", "name": "a", "required": True},
        {"type": "double", "name": "b", "required": True},
    ]
    requirements = (files / "requirements.txt").read_text().splitlines()
    assert f"xgboost=={xgb.__version__}" in requirements

    expected = _booster_answer(booster)
    for uri in (info.model_uri, "models:/risk/1", f"runs:/{run.info.run_id}/gbm"):
        loaded = runyard.xgboost.load_model(uri)
        assert isinstance(loaded, xgb.Booster), uri
        assert _booster_answer(loaded) == expected, uri
    served = runyard.pyfunc.load_model(info.model_uri)  # a DataFrame in, as pyfunc is given
    assert served.predict(FRAME).tolist() == expected
    assert served.model_id == info.model_id


@pytest.mark.parametrize("model_format", ["json", "xgb"])
def test_a_scikit_learn_api_model_keeps_its_class_in_each_format(
    tmp_path: Path, model_format: str
) -> None:
    classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(FRAME, LABELS)
    info = runyard.xgboost.log_model(classifier, name="clf", model_format=model_format)
    files = _model_files(info.model_id, tmp_path)
    flavor = yaml.safe_load((files / "MLmodel").read_text())["flavors"]["xgboost"]
    assert (flavor["data"], flavor["model_format"]) == (f"model.{model_format}", model_format)
    assert flavor["model_class"] == "xgboost.sklearn.XGBClassifier"
    assert not (files / "model.pkl").exists()
    loaded = runyard.xgboost.load_model(info.model_uri)
    assert isinstance(loaded, xgb.XGBClassifier)
    assert loaded.predict(FRAME).tolist() == classifier.predict(FRAME).tolist()
    assert runyard.pyfunc.load_model(info.model_uri).predict(FRAME).tolist() == (
        classifier.predict(FRAME).tolist()
    )


def test_what_is_not_an_xgboost_model_is_refused_before_a_file_is_written(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="model_format is one of"):
        runyard.xgboost.save_model(_booster(), tmp_path / "bad", model_format="pickle")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(InvalidParameterValue, match="not dict"):
        runyard.xgboost.save_model({"trees": 3}, tmp_path / "dict")
    runyard.xgboost.save_model(_booster(), tmp_path / "saved")
    with pytest.raises(InvalidParameterValue, match="not empty"):
        runyard.xgboost.save_model(_booster(), tmp_path / "saved")
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    runyard.sklearn.save_model(
        sklearn_linear.LogisticRegression().fit(FRAME, LABELS), tmp_path / "sk"
    )
    with pytest.raises(InvalidParameterValue, match="no xgboost flavor"):
        runyard.xgboost.load_model(str(tmp_path / "sk"))


@pytest.mark.parametrize(
    "model_class",
    ["os.system", "subprocess.Popen", "xgboost.no_such_module.Booster", "xgboost.DMatrix"],
)
def test_loading_makes_only_an_xgboost_model_class(tmp_path: Path, model_class: str) -> None:
    """``model_class`` comes from a file: nothing but an XGBoost model class is imported or
    called from it."""
    runyard.xgboost.save_model(_booster(), tmp_path / "saved")
    mlmodel = tmp_path / "saved" / "MLmodel"
    descriptor = yaml.safe_load(mlmodel.read_text())
    descriptor["flavors"]["xgboost"]["model_class"] = model_class
    mlmodel.write_text(yaml.safe_dump(descriptor))
    with pytest.raises(InvalidParameterValue, match="is not an XGBoost model"):
        runyard.xgboost.load_model(str(tmp_path / "saved"))
    descriptor["flavors"]["xgboost"].update(model_class="xgboost.core.Booster", data="../x.ubj")
    mlmodel.write_text(yaml.safe_dump(descriptor))
    with pytest.raises(InvalidParameterValue, match="not a file of the model"):
        runyard.xgboost.load_model(str(tmp_path / "saved"))


def test_log_model_fills_a_model_initialized_beforehand_and_takes_mlflows_extras(
    tmp_path: Path,
) -> None:
    pending = runyard.initialize_logged_model(name="gbm", params={"rounds": 5})
    info = runyard.xgboost.log_model(
        _booster(),
        name="gbm",
        model_id=pending.model_id,
        extra_pip_requirements=["pyarrow"],
        metadata={"source": "nightly"},
    )
    assert info.model_id == pending.model_id
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert model.params == {"rounds": "5"}
    files = _model_files(info.model_id, tmp_path)
    lines = (files / "requirements.txt").read_text().splitlines()
    assert lines[0] == "mlflow" and lines[-1] == "pyarrow"
    assert yaml.safe_load((files / "MLmodel").read_text())["metadata"] == {"source": "nightly"}


LOAD_WITH_MLFLOW = """
import json, sys
import mlflow.pyfunc, mlflow.xgboost
import pandas as pd
frame = pd.DataFrame({"a": [0.1, 0.9], "b": [1.0, 2.0]})
booster = mlflow.xgboost.load_model(sys.argv[1])
served = mlflow.pyfunc.load_model(sys.argv[1])
print(json.dumps([type(booster).__name__, served.predict(frame).tolist()]))
"""

SAVE_WITH_MLFLOW = """
import sys
import mlflow.xgboost, xgboost as xgb
import pandas as pd
frame = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8] * 10, "b": [1.0, 2.0, 3.0, 4.0] * 10})
classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(frame, [0, 1, 0, 1] * 10)
mlflow.xgboost.save_model(classifier, sys.argv[1])
"""


@pytest.mark.slow
def test_mlflow_reads_runyards_model_and_runyard_reads_mlflows(tmp_path: Path) -> None:
    installed_or_skip("mlflow", "mlflow")
    booster = _booster()
    runyard.xgboost.save_model(booster, tmp_path / "ours")
    done = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_MLFLOW, str(tmp_path / "ours")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    kind, answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert kind == "Booster"
    assert answer == pytest.approx(booster.predict(xgb.DMatrix(FRAME.head(2))).tolist())

    done = subprocess.run(
        [sys.executable, "-c", SAVE_WITH_MLFLOW, str(tmp_path / "theirs")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = runyard.xgboost.load_model(str(tmp_path / "theirs"))
    assert isinstance(loaded, xgb.XGBClassifier)
    assert loaded.predict(FRAME).tolist() == LABELS
    assert runyard.pyfunc.load_model(str(tmp_path / "theirs")).predict(FRAME).tolist() == LABELS
