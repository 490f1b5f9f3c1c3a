"""scikit-learn models saved, logged and loaded as MLflow's ``mlflow.sklearn`` does:
``runyard.sklearn.log_model(model, name="model", input_example=X[:5])`` writes the files
MLflow writes (``MLmodel``, the model, the input example and the signature inferred from it, the
environment), so ``mlflow.pyfunc.load_model`` and ``mlflow.sklearn.load_model`` read it, and
``runyard.sklearn.load_model`` reads a model MLflow logged (pickle, cloudpickle or skops)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from runyard.autolog import saved_model
from runyard.autolog.model_files import save_input_example, write_environment
from runyard.autolog.record import write_mlmodel
from runyard.tracking.model_logging import ModelInfo, model_directory

INSTALL_HINT = "scikit-learn models need scikit-learn: pip install runyard[sklearn]"
MODEL_FILE = "model.pkl"


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    input_example: Any = None,
    signature: Any = None,
) -> None:
    """Write the model's files to ``path``, a directory that must not exist or be empty."""
    saved_model.save_flavor_model(write_model_files, sk_model, path, input_example, signature)


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
    model_id: str | None = None,
) -> ModelInfo:
    """Log the model as a logged model of the active experiment (the output of the active run,
    if any), and register it as a new version of ``registered_model_name`` when given;
    ``model_id``: a logged model created beforehand to fill instead of a new one."""
    return saved_model.log_flavor_model(
        write_model_files,
        sk_model,
        input_example,
        signature,
        name,
        artifact_path,
        registered_model_name,
        params,
        tags,
        model_type,
        step,
        model_id,
    )


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
    saved_model.dump_pickled(sk_model, os.path.join(directory, MODEL_FILE))
    example_info = None
    if input_example is not None:
        example_info = save_input_example(directory, input_example)
    signature_dict = saved_model.signature_for(signature, sk_model.predict, input_example)
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


def load_local(directory: str) -> Any:
    """The estimator saved in a local directory."""
    conf = saved_model.flavor_conf(directory, "sklearn")
    _sklearn()
    model_file = os.path.join(directory, str(conf.get("pickled_model", MODEL_FILE)))
    kind = conf.get("serialization_format", "pickle")
    return saved_model.load_pickled(model_file, kind, conf.get("skops_trusted_types"))


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return sklearn
