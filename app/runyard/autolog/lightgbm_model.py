"""LightGBM models saved, logged and loaded as MLflow's ``mlflow.lightgbm`` does:
``runyard.lightgbm.log_model(booster, name="model", input_example=X[:5])`` writes the files
MLflow writes (``MLmodel`` with the ``lightgbm`` and ``python_function`` flavors, the model, the
input example and the signature inferred from it, the environment), so
``mlflow.lightgbm.load_model`` and ``mlflow.pyfunc.load_model`` read it, and
``runyard.lightgbm.load_model`` reads a model MLflow logged.

A ``Booster`` is saved in LightGBM's own text format (``model.lgb``); a model of LightGBM's
scikit-learn API (``LGBMClassifier``, ...) is pickled (``model.pkl``), as MLflow does."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from runyard.autolog import saved_model
from runyard.autolog.model_environment import EnvironmentRequest
from runyard.autolog.model_files import save_input_example, write_environment
from runyard.autolog.record import write_mlmodel
from runyard.tracking.model_logging import ModelInfo, model_directory
from runyard.tracking.registry_client import DEFAULT_AWAIT_SECONDS

INSTALL_HINT = "LightGBM models need lightgbm: pip install runyard[lightgbm]"
BOOSTER_CLASS = "lightgbm.basic.Booster"
BOOSTER_FILE = "model.lgb"
PICKLED_FILE = "model.pkl"


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Any = None,
    mlflow_model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_files: Any = None,
) -> None:
    """Write the model's files to ``path``, a directory that must not exist or be empty, with
    MLflow's arguments in MLflow's order (``saved_model.ModelOptions`` says which are
    refused)."""
    options = saved_model.ModelOptions(
        EnvironmentRequest(conda_env, pip_requirements, extra_pip_requirements),
        metadata,
        code_paths=code_paths,
        extra_files=extra_files,
        mlflow_model=mlflow_model,
    )
    saved_model.save_flavor_model(
        write_model_files, lgb_model, path, input_example, signature, options
    )


def log_model(
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Any = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_files: Any = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Log the model as a logged model of the active experiment (the output of the active run,
    if any), and register it as a new version of ``registered_model_name`` when given;
    ``model_id``: a logged model created beforehand to fill instead of a new one. MLflow's
    arguments, in MLflow's order (a scikit-learn API model is pickled: MLflow's
    ``serialization_format`` for it is not taken)."""
    options = saved_model.ModelOptions(
        EnvironmentRequest(conda_env, pip_requirements, extra_pip_requirements),
        metadata,
        code_paths=code_paths,
        extra_files=extra_files,
    )
    return saved_model.log_flavor_model(
        write_model_files,
        lgb_model,
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
        options,
        await_registration_for,
    )


def write_model_files(
    lgb_model: Any,
    directory: str,
    model_id: str | None,
    run_id: str | None,
    artifact_path: str,
    input_example: Any = None,
    signature: Any = None,
) -> dict[str, Any]:
    """The model's file, its example and signature, the environment and the ``MLmodel``
    descriptor, which is returned."""
    lgb = _lightgbm()
    is_booster = isinstance(lgb_model, lgb.Booster)
    data_file = BOOSTER_FILE if is_booster else PICKLED_FILE
    if is_booster:
        lgb_model.save_model(os.path.join(directory, data_file))
    else:
        saved_model.dump_pickled(lgb_model, os.path.join(directory, data_file))
    example_info = None
    if input_example is not None:
        example_info = save_input_example(directory, input_example)
    signature_dict = saved_model.signature_for(signature, lgb_model.predict, input_example)
    packages = ["lightgbm", "numpy", "scipy"] if is_booster else ["lightgbm", "scikit-learn"]
    write_environment(directory, packages)
    model_class = type(lgb_model)
    return write_mlmodel(
        directory,
        run_id,
        "lightgbm",
        {
            "lgb_version": lgb.__version__,
            "data": data_file,
            "model_class": f"{model_class.__module__}.{model_class.__qualname__}",
            "code": None,
            "serialization_format": "pickle",
        },
        loader="mlflow.lightgbm",
        data_file=data_file,
        artifact_path=artifact_path,
        model_id=model_id,
        signature=signature_dict,
        example_info=example_info,
        with_environment=True,
    )


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The ``Booster`` or scikit-learn API model behind ``model_uri`` (``models:/<id>``,
    ``models:/<name>@<alias>``, ``runs:/<run>/model``, a URI of its directory, or a local
    path)."""
    with model_directory(model_uri, dst_path) as directory:
        return load_local(directory)


def load_local(directory: str) -> Any:
    """The model saved in a local directory."""
    conf = saved_model.flavor_conf(directory, "lightgbm")
    lgb = _lightgbm()
    model_file = os.path.join(directory, str(conf.get("data", BOOSTER_FILE)))
    if conf.get("model_class", BOOSTER_CLASS) == BOOSTER_CLASS:
        return lgb.Booster(model_file=model_file)
    kind = conf.get("serialization_format", "cloudpickle")  # MLflow's reading of old models
    return saved_model.load_pickled(model_file, kind, conf.get("skops_trusted_types"))


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return lightgbm
