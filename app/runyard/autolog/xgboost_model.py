"""XGBoost models saved, logged and loaded as MLflow's ``mlflow.xgboost`` does:
``runyard.xgboost.log_model(booster, name="model", input_example=X[:5])`` writes the files
MLflow writes (``MLmodel`` with the ``xgboost`` and ``python_function`` flavors, the model in
XGBoost's own format, the input example and the signature inferred from it, the environment),
so ``mlflow.xgboost.load_model`` and ``mlflow.pyfunc.load_model`` read it, and
``runyard.xgboost.load_model`` reads a model MLflow logged.

Both a ``Booster`` and a model of XGBoost's scikit-learn API (``XGBClassifier``, ...) are saved
with XGBoost's ``save_model`` (``model.ubj`` by default; ``model_format`` ``json`` or ``xgb``),
never pickled; loading makes an instance of the class ``MLmodel`` names, which must be an
XGBoost model class, and reads the file into it."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from runyard.autolog import saved_model
from runyard.autolog.model_environment import EnvironmentRequest
from runyard.autolog.model_files import save_input_example, write_environment
from runyard.autolog.record import write_mlmodel
from runyard.errors import InvalidParameterValue
from runyard.tracking.model_logging import ModelInfo, model_directory
from runyard.tracking.registry_client import DEFAULT_AWAIT_SECONDS

INSTALL_HINT = "XGBoost models need xgboost: pip install runyard[xgboost]"
BOOSTER_CLASS = "xgboost.core.Booster"
#: The formats XGBoost's ``save_model`` writes, named by the file's extension (MLflow's list).
MODEL_FORMATS = ("ubj", "json", "xgb")
DEFAULT_FORMAT = "ubj"


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Any = None,
    mlflow_model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = DEFAULT_FORMAT,
    metadata: Mapping[str, Any] | None = None,
    extra_files: Any = None,
    **kwargs: Any,
) -> None:
    """Write the model's files to ``path``, a directory that must not exist or be empty, with
    MLflow's arguments in MLflow's order; ``kwargs`` go to XGBoost's ``save_model``."""
    options = saved_model.ModelOptions(
        EnvironmentRequest(conda_env, pip_requirements, extra_pip_requirements),
        metadata,
        code_paths=code_paths,
        extra_files=extra_files,
        mlflow_model=mlflow_model,
    )
    saved_model.save_flavor_model(
        _files_writer(model_format, kwargs), xgb_model, path, input_example, signature, options
    )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Any = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = DEFAULT_FORMAT,
    metadata: Mapping[str, Any] | None = None,
    extra_files: Any = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log the model as a logged model of the active experiment (the output of the active run,
    if any), and register it as a new version of ``registered_model_name`` when given;
    ``model_id``: a logged model created beforehand to fill instead of a new one. MLflow's
    arguments, in MLflow's order; ``kwargs`` go to XGBoost's ``save_model``."""
    options = saved_model.ModelOptions(
        EnvironmentRequest(conda_env, pip_requirements, extra_pip_requirements),
        metadata,
        code_paths=code_paths,
        extra_files=extra_files,
    )
    return saved_model.log_flavor_model(
        _files_writer(model_format, kwargs),
        xgb_model,
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


def check_model_format(model_format: str) -> None:
    """Refuse a format XGBoost cannot save to, before anything is trained or written."""
    if model_format not in MODEL_FORMATS:
        allowed = ", ".join(MODEL_FORMATS)
        raise InvalidParameterValue(f"model_format is one of {allowed}, not {model_format!r}.")


def _files_writer(model_format: str, save_kwargs: Mapping[str, Any]) -> saved_model.FlavorFiles:
    """``write_model_files`` for one format, checked before any file is written."""
    check_model_format(model_format)

    def write(model: Any, directory: str, *rest: Any) -> Mapping[str, Any]:
        return write_model_files(model, directory, *rest, model_format, save_kwargs)

    return write


def write_model_files(
    xgb_model: Any,
    directory: str,
    model_id: str | None,
    run_id: str | None,
    artifact_path: str,
    input_example: Any = None,
    signature: Any = None,
    model_format: str = DEFAULT_FORMAT,
    save_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The model's file, its example and signature, the environment and the ``MLmodel``
    descriptor, which is returned."""
    xgb = _xgboost()
    if not isinstance(xgb_model, xgb.Booster | xgb.XGBModel):
        raise InvalidParameterValue(
            "runyard.xgboost saves an xgboost.Booster or a model of XGBoost's scikit-learn API, "
            f"not {type(xgb_model).__name__}."
        )
    data_file = f"model.{model_format}"
    xgb_model.save_model(os.path.join(directory, data_file), **dict(save_kwargs or {}))
    example_info = None
    if input_example is not None:
        example_info = save_input_example(directory, input_example)
    signature_dict = saved_model.signature_for(
        signature, lambda data: predict(xgb_model, data), input_example
    )
    packages = ["xgboost", "numpy", "scipy"]
    write_environment(
        directory, packages if isinstance(xgb_model, xgb.Booster) else [*packages, "scikit-learn"]
    )
    model_class = type(xgb_model)
    return write_mlmodel(
        directory,
        run_id,
        "xgboost",
        {
            "xgb_version": xgb.__version__,
            "data": data_file,
            "model_class": f"{model_class.__module__}.{model_class.__qualname__}",
            "model_format": model_format,
            "code": None,
        },
        loader="mlflow.xgboost",
        data_file=data_file,
        artifact_path=artifact_path,
        model_id=model_id,
        signature=signature_dict,
        example_info=example_info,
        with_environment=True,
    )


def predict(model: Any, data: Any) -> Any:
    """The model's answer to ``data`` (a DataFrame or an array), as MLflow's ``pyfunc`` gives
    it: a ``Booster`` reads it through a ``DMatrix``."""
    xgb = _xgboost()
    if isinstance(model, xgb.Booster):
        return model.predict(xgb.DMatrix(data))
    return model.predict(data)


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The ``Booster`` or scikit-learn API model behind ``model_uri`` (``models:/<id>``,
    ``models:/<name>@<alias>``, ``runs:/<run>/model``, a URI of its directory, or a local
    path)."""
    with model_directory(model_uri, dst_path) as directory:
        return load_local(directory)


def load_local(directory: str) -> Any:
    """The model saved in a local directory."""
    conf = saved_model.flavor_conf(directory, "xgboost")
    data = str(conf.get("data") or "")
    if not data or os.path.basename(data) != data:
        raise InvalidParameterValue("The xgboost flavor's data is not a file of the model.")
    model = _model_class(str(conf.get("model_class") or BOOSTER_CLASS))()
    model.load_model(os.path.join(directory, data))
    return model


def _model_class(qualified: str) -> type:
    """The class ``MLmodel`` names, which must be XGBoost's ``Booster`` or a scikit-learn API
    model: the name comes from a file, and only an XGBoost model can read the model file."""
    xgb = _xgboost()
    module_name, _, class_name = qualified.rpartition(".")
    found = None
    if module_name.split(".")[0] == "xgboost":
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    if not (isinstance(found, type) and issubclass(found, xgb.Booster | xgb.XGBModel)):
        raise InvalidParameterValue(f"The model's class {qualified!r} is not an XGBoost model.")
    return found


def _xgboost() -> Any:
    try:
        import xgboost
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return xgboost
