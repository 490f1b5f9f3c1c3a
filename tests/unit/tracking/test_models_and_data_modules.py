"""``runyard.models`` and ``runyard.data`` give what ``mlflow.models`` and ``mlflow.data`` give,
checked against the real MLflow on the same inputs, so code written for MLflow switches with its
imports alone; and MLflow's other module import forms (``mlflow.pyfunc``, ``mlflow.client``,
``mlflow.tracking``) have runyard's."""

from __future__ import annotations

import contextlib
import importlib
import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import runyard
import yaml
from runyard.data import from_numpy, from_pandas
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.models import ModelSignature, infer_signature

from tests.requirements import import_or_skip

FRAME = pd.DataFrame(
    {"a": [1, 2, 3], "b": [0.5, None, 2.5], "s": ["x", "y", "z"], "label": [0, 1, 0]}
)
ARRAY = np.arange(12, dtype=np.float32).reshape(4, 3)

SIGNATURE_CASES: dict[str, tuple[Any, Any, Any]] = {
    "frame to array": (FRAME[["a", "b", "s"]], np.array([0, 1, 0]), None),
    "array to array, params": (
        ARRAY,
        np.zeros((4, 2)),
        {"alpha": 0.5, "k": 3, "name": "x", "on": True, "ks": [1, 2]},
    ),
    "frame to named series": (FRAME[["a"]], pd.Series([0, 1, 0], name="pred"), None),
    "frame to unnamed series": (FRAME[["a"]], pd.Series([0.1, 0.2, 0.3]), None),
    "array to frame": (ARRAY, pd.DataFrame({"p": [1, 2, 3, 4]}), None),
    "input only": (FRAME, None, None),
}


@pytest.mark.parametrize("case", list(SIGNATURE_CASES))
def test_infer_signature_gives_what_mlflows_gives(case: str) -> None:
    mlflow_models = import_or_skip("mlflow.models", "mlflow")
    model_input, model_output, params = SIGNATURE_CASES[case]
    ours = infer_signature(model_input, model_output, params)
    with _mlflow_quiet():
        theirs = mlflow_models.infer_signature(model_input, model_output, params)
    assert ours.to_dict() == theirs.to_dict()
    # each side reads the other's form back
    assert mlflow_models.ModelSignature.from_dict(ours.to_dict()) == theirs
    assert ModelSignature.from_dict(theirs.to_dict()) == ours


@contextlib.contextmanager
def _mlflow_quiet() -> Iterator[None]:
    """MLflow warns about integer columns; what it warns is not compared."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize(
    ("model_input", "model_output", "params", "says"),
    [
        ([[1, 2]], None, None, "model_input must be a pandas DataFrame"),
        (ARRAY, {"p": 1}, None, "model_output must be"),
        (ARRAY, None, {"k": {"nested": 1}}, "Param 'k'"),
        (ARRAY, None, {"k": [1, "a"]}, "values of one type"),
        (ARRAY, None, {"k": []}, "values of one type"),
        (ARRAY, None, ["k"], "params is a dict"),
    ],
)
def test_infer_signature_refuses_what_it_cannot_describe(
    model_input: Any, model_output: Any, params: Any, says: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=says):
        infer_signature(model_input, model_output, params)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ({"outputs": None}, "holds 'inputs'"),
        ({"inputs": "[{not json"}, "inputs is not JSON"),
        ({"inputs": '{"type": "long"}'}, "inputs is a list"),
        ("inputs", "holds 'inputs'"),
    ],
)
def test_a_signature_dict_that_is_not_one_is_refused(written: Any, says: str) -> None:
    with pytest.raises(InvalidParameterValue, match=says):
        ModelSignature.from_dict(written)


def test_a_model_logged_with_an_inferred_signature_carries_it() -> None:
    sklearn = import_or_skip("sklearn.linear_model", "sklearn")
    X, y = FRAME[["a"]], FRAME["label"]
    model = sklearn.LogisticRegression().fit(X, y)
    signature = infer_signature(X, model.predict(X))
    with runyard.start_run():
        info = runyard.sklearn.log_model(model, name="model", signature=signature)
    location = runyard.get_logged_model(info.model_id).artifact_location
    path = runyard.download_artifacts(artifact_uri=f"{location}/MLmodel")
    with open(path, encoding="utf-8") as fh:
        assert yaml.safe_load(fh)["signature"] == signature.to_dict()


def test_get_model_info_reads_a_logged_model_by_any_of_its_uris() -> None:
    sklearn = import_or_skip("sklearn.linear_model", "sklearn")
    X, y = FRAME[["a"]], FRAME["label"]
    model = sklearn.LogisticRegression().fit(X, y)
    with runyard.start_run() as run:
        logged = runyard.sklearn.log_model(model, name="clf", input_example=X)
    for uri in (logged.model_uri, f"runs:/{run.info.run_id}/clf"):
        info = runyard.models.get_model_info(uri)
        assert (info.model_id, info.run_id, info.artifact_path) == (
            logged.model_id,
            run.info.run_id,
            "clf",
        )
        assert info.model_uri == uri and set(info.flavors) == {"python_function", "sklearn"}
        assert info.signature == logged.signature and info.signature.inputs.input_names() == ["a"]
    with pytest.raises(ResourceDoesNotExist):
        runyard.models.get_model_info(f"runs:/{run.info.run_id}/nothing")


DATASET_FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")


@pytest.mark.parametrize(
    "source",
    ["s3://bucket/train.csv", "/data/train.csv", "file:///data/train.csv", "https://h/t.csv"],
)
def test_from_pandas_records_what_mlflows_records(source: str) -> None:
    mlflow_data = import_or_skip("mlflow.data", "mlflow")
    ours = from_pandas(FRAME, source=source, targets="label", name="train")
    with _mlflow_quiet():
        theirs = mlflow_data.from_pandas(FRAME, source=source, targets="label", name="train")
    entity = theirs._to_mlflow_entity()
    assert {f: getattr(ours, f) for f in DATASET_FIELDS} == {
        f: getattr(entity, f) for f in DATASET_FIELDS
    }
    assert ours.df is FRAME and ours.targets == "label"


def test_from_numpy_records_what_mlflows_records_and_code_is_the_default_source() -> None:
    mlflow_data = import_or_skip("mlflow.data", "mlflow")
    targets = np.array([0, 1, 0, 1])
    ours = from_numpy(ARRAY, targets=targets)
    with _mlflow_quiet():
        entity = mlflow_data.from_numpy(ARRAY, targets=targets)._to_mlflow_entity()
    same = ("name", "digest", "source_type", "schema", "profile")
    assert {f: getattr(ours, f) for f in same} == {f: getattr(entity, f) for f in same}
    assert ours.source_type == "code" and "mlflow.source.type" in json.loads(ours.source)["tags"]
    assert from_numpy(ARRAY, digest="given").digest == "given"


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: from_pandas(ARRAY), "needs a pandas DataFrame"),
        (lambda: from_pandas(FRAME, targets="nope"), "targets column 'nope'"),
        (lambda: from_pandas(FRAME, source="runs:/abc/data"), "Unsupported dataset source"),
        (lambda: from_numpy([1, 2]), "numpy arrays"),
        (lambda: from_pandas(FRAME, source="https://u:secret@h/t.csv"), "without a password"),
    ],
)
def test_datasets_refuse_what_cannot_be_recorded(call: Any, says: str) -> None:
    with pytest.raises(InvalidParameterValue, match=says):
        call()


def test_log_input_stores_a_dataset_from_runyard_data() -> None:
    dataset = runyard.data.from_pandas(FRAME, source="s3://bucket/train.csv", targets="label")
    with runyard.start_run() as run:
        runyard.log_input(dataset, context="training")
    [stored] = runyard.get_run(run.info.run_id).inputs.dataset_inputs
    assert {f: getattr(stored.dataset, f) for f in DATASET_FIELDS} == {
        f: getattr(dataset, f) for f in DATASET_FIELDS
    }
    assert dict(stored.tags) == {"mlflow.data.context": "training"}


def test_mlflows_module_import_forms_have_runyards() -> None:
    pyfunc = importlib.import_module("runyard.pyfunc")
    assert pyfunc is runyard.pyfunc is importlib.import_module("runyard.autolog.pyfunc")
    assert callable(pyfunc.load_model)
    from runyard.client import MlflowClient as from_client
    from runyard.tracking import MlflowClient as from_tracking

    assert from_client is from_tracking is runyard.MlflowClient is runyard.Client
    assert runyard.models.infer_signature is infer_signature
    assert runyard.data.from_pandas is from_pandas


def test_mlflows_entity_names_are_runyards_entities() -> None:
    mlflow_entities = import_or_skip("mlflow.entities", "mlflow")
    import runyard.entities as ours

    for name in ("ExperimentTag", "LoggedModelTag", "LoggedModelParameter"):
        theirs = getattr(mlflow_entities, name)("k", "v")
        mine = getattr(ours, name)("k", "v")
        assert (mine.key, mine.value) == (theirs.key, theirs.value)
    assert ours.LoggedModelInput("m-1").model_id == mlflow_entities.LoggedModelInput("m-1").model_id
    output = ours.LoggedModelOutput("m-1", 3)
    assert (output.model_id, output.step) == ("m-1", 3)
    with runyard.start_run() as run:
        model = runyard.initialize_logged_model(name="net")
        runyard.log_inputs(models=[ours.LoggedModelInput(model.model_id)])
        runyard.log_outputs([ours.LoggedModelOutput(model.model_id, 2)])
    stored = runyard.get_run(run.info.run_id)
    assert [m.model_id for m in stored.inputs.model_inputs] == [model.model_id]
    assert [(m.model_id, m.step) for m in stored.outputs.model_outputs] == [(model.model_id, 2)]
