"""scikit-learn models saved, logged and loaded as MLflow's ``mlflow.sklearn`` does:
``runyard.sklearn.log_model(model, name="model", input_example=X[:5])`` writes the files
MLflow writes (``MLmodel``, the model, the input example and the signature inferred from it, the
environment), so ``mlflow.pyfunc.load_model`` and ``mlflow.sklearn.load_model`` read it, and
``runyard.sklearn.load_model`` reads a model MLflow logged (pickle, cloudpickle or skops)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from typing import Any

import yaml

from runyard.autolog.model_files import infer_signature, save_input_example, write_environment
from runyard.autolog.record import write_mlmodel
from runyard.errors import InvalidParameterValue
from runyard.tracking.model_logging import ModelInfo, log_model_files, model_directory

INSTALL_HINT = "scikit-learn models need scikit-learn: pip install runyard[sklearn]"
MODEL_FILE = "model.pkl"


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    input_example: Any = None,
    signature: Any = None,
) -> None:
    """Write the model's files to ``path``, a directory that must not exist or be empty."""
    directory = os.fspath(path)
    if os.path.exists(directory) and os.listdir(directory):
        raise InvalidParameterValue(f"Path '{directory}' already exists and is not empty.")
    os.makedirs(directory, exist_ok=True)
    write_model_files(sk_model, directory, None, None, "model", input_example, signature)


def log_model(
    sk_model: Any,
    name: str | None = None,
    artifact_path: str | None = None,
    input_example: Any = None,
    signature: Any = None,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
) -> ModelInfo:
    """Log the model as a logged model of the active experiment (the output of the active run,
    if any), and register it as a new version of ``registered_model_name`` when given."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidParameterValue("Give 'name' ('artifact_path' is its older spelling).")
    model_name = name or artifact_path or "model"

    def write(directory: str, model_id: str, run_id: str | None) -> Mapping[str, Any]:
        return write_model_files(
            sk_model, directory, model_id, run_id, model_name, input_example, signature
        )

    return log_model_files(model_name, write, registered_model_name, params, tags, model_type, step)


def write_model_files(
    sk_model: Any,
    directory: str,
    model_id: str | None,
    run_id: str | None,
    artifact_path: str,
    input_example: Any = None,
    signature: Any = None,
) -> dict[str, Any]:
    """The pickled model, its example and signature, the environment and the ``MLmodel``
    descriptor, which is returned."""
    sklearn = _sklearn()
    with open(os.path.join(directory, MODEL_FILE), "wb") as fh:
        pickle.dump(sk_model, fh, protocol=pickle.DEFAULT_PROTOCOL)
    example_info = None
    if input_example is not None:
        example_info = save_input_example(directory, input_example)
    signature_dict = _signature(signature, sk_model, input_example)
    write_environment(directory, ["scikit-learn", "numpy", "scipy"])
    return write_mlmodel(
        directory,
        run_id,
        "sklearn",
        {
            "pickled_model": MODEL_FILE,
            "serialization_format": "pickle",
            "sklearn_version": sklearn.__version__,
            "code": None,
        },
        loader="mlflow.sklearn",
        data_file=MODEL_FILE,
        artifact_path=artifact_path,
        model_id=model_id,
        signature=signature_dict,
        example_info=example_info,
        with_environment=True,
    )


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The estimator behind ``model_uri`` (``models:/<id>``, ``models:/<name>@<alias>``,
    ``runs:/<run>/model``, a URI of its directory, or a local path)."""
    with model_directory(model_uri, dst_path) as directory:
        return load_local(directory)


def read_descriptor(directory: str) -> dict[str, Any]:
    """The ``MLmodel`` file of a saved model's directory."""
    try:
        with open(os.path.join(directory, "MLmodel"), encoding="utf-8") as fh:
            descriptor = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise InvalidParameterValue(f"No MLmodel file in {directory}: not a saved model.") from None
    if not isinstance(descriptor, dict):
        raise InvalidParameterValue(f"The MLmodel file in {directory} is not a mapping.")
    return descriptor


def load_local(directory: str) -> Any:
    """The estimator saved in a local directory."""
    descriptor = read_descriptor(directory)
    conf = (descriptor.get("flavors") or {}).get("sklearn")
    if not isinstance(conf, dict):
        raise InvalidParameterValue("The model has no sklearn flavor.")
    _sklearn()
    model_file = os.path.join(directory, str(conf.get("pickled_model", MODEL_FILE)))
    kind = conf.get("serialization_format", "pickle")
    if kind in ("pickle", "cloudpickle"):
        with open(model_file, "rb") as fh:
            return pickle.load(fh)  # a model is code: load only what you trust, as in MLflow
    if kind == "skops":
        try:
            from skops import io as skops_io
        except ImportError:
            raise InvalidParameterValue(
                "This model was saved with skops: pip install skops to load it."
            ) from None
        return skops_io.load(model_file, trusted=conf.get("skops_trusted_types"))
    raise InvalidParameterValue(f"Unknown serialization format {kind!r} of an sklearn model.")


def _signature(signature: Any, sk_model: Any, input_example: Any) -> dict[str, Any] | None:
    """A given signature (MLflow's ``ModelSignature`` or its dict), else one inferred from the
    input example and the model's answer to it, else none."""
    if signature is not None:
        as_dict = signature.to_dict() if hasattr(signature, "to_dict") else signature
        if not isinstance(as_dict, dict) or "inputs" not in as_dict:
            raise InvalidParameterValue("A signature is MLflow's ModelSignature or its to_dict().")
        return dict(as_dict)
    if input_example is None:
        return None
    return infer_signature(input_example, sk_model.predict(input_example))


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return sklearn
