"""scikit-learn models saved, logged and loaded as MLflow's ``mlflow.sklearn`` does:
``runyard.sklearn.log_model(model, name="model", input_example=X[:5])`` writes the files
MLflow writes (``MLmodel``, the model, the input example and the signature inferred from it, the
environment), so ``mlflow.pyfunc.load_model`` and ``mlflow.sklearn.load_model`` read it, and
``runyard.sklearn.load_model`` reads a model MLflow logged. Both write and read pickle,
cloudpickle and skops (MLflow's ``serialization_format``)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from runyard.autolog import saved_model
from runyard.autolog.model_environment import EnvironmentRequest
from runyard.autolog.model_files import save_input_example, write_environment
from runyard.autolog.record import write_mlmodel
from runyard.errors import InvalidParameterValue
from runyard.tracking.model_logging import ModelInfo, model_directory
from runyard.tracking.registry_client import DEFAULT_AWAIT_SECONDS

INSTALL_HINT = "scikit-learn models need scikit-learn: pip install runyard[sklearn]"
MODEL_FILE = "model.pkl"
SKOPS_FILE = "model.skops"
PICKLE, CLOUDPICKLE, SKOPS = "pickle", "cloudpickle", "skops"
#: How a model can be serialized, as MLflow's ``serialization_format`` names them.
FORMATS = (PICKLE, CLOUDPICKLE, SKOPS)


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Any = None,
    mlflow_model: Any = None,
    serialization_format: str = PICKLE,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: Mapping[str, Any] | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    extra_files: Any = None,
) -> None:
    """Write the model's files to ``path``, a directory that must not exist or be empty, with
    MLflow's arguments in MLflow's order (``saved_model.ModelOptions`` says which are refused).
    ``serialization_format``: ``pickle`` (the default), ``cloudpickle`` or ``skops``."""
    write = _writer(serialization_format, skops_trusted_types)
    options = _options(
        conda_env, pip_requirements, extra_pip_requirements, metadata, pyfunc_predict_fn
    )
    options = replace(options, code_paths=code_paths, extra_files=extra_files)
    options = replace(options, mlflow_model=mlflow_model)
    saved_model.save_flavor_model(write, sk_model, path, input_example, signature, options)


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Any = None,
    serialization_format: str = PICKLE,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: Mapping[str, Any] | None = None,
    extra_files: Any = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> ModelInfo:
    """Log the model as a logged model of the active experiment (the output of the active run,
    if any), and register it as a new version of ``registered_model_name`` when given;
    ``model_id``: a logged model created beforehand to fill instead of a new one;
    ``serialization_format``: ``pickle`` (the default), ``cloudpickle`` or ``skops``. MLflow's
    arguments, in MLflow's order."""
    options = _options(
        conda_env, pip_requirements, extra_pip_requirements, metadata, pyfunc_predict_fn
    )
    options = replace(options, code_paths=code_paths, extra_files=extra_files)
    return saved_model.log_flavor_model(
        _writer(serialization_format, skops_trusted_types),
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
        options,
        await_registration_for,
    )


def _options(
    conda_env: Any,
    pip_requirements: Any,
    extra_pip_requirements: Any,
    metadata: Mapping[str, Any] | None,
    pyfunc_predict_fn: str,
) -> saved_model.ModelOptions:
    environment = EnvironmentRequest(conda_env, pip_requirements, extra_pip_requirements)
    method = None if pyfunc_predict_fn == "predict" else pyfunc_predict_fn  # written already
    return saved_model.ModelOptions(environment, metadata, method)


def check_format(kind: str) -> None:
    if kind not in FORMATS:
        raise InvalidParameterValue(
            f"Unknown serialization_format {kind!r}: use one of {', '.join(FORMATS)}."
        )


def _writer(kind: str, trusted_types: Sequence[str] | None) -> saved_model.FlavorFiles:
    """``write_model_files`` serializing as ``kind``, checked before anything is written."""
    check_format(kind)
    return functools.partial(
        write_model_files, serialization_format=kind, skops_trusted_types=trusted_types
    )


def write_model_files(
    sk_model: Any,
    directory: str,
    model_id: str | None,
    run_id: str | None,
    artifact_path: str,
    input_example: Any = None,
    signature: Any = None,
    *,
    serialization_format: str = PICKLE,
    skops_trusted_types: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The serialized model, its example and signature, the environment and the ``MLmodel``
    descriptor, which is returned."""
    sklearn = _sklearn()
    model_file = SKOPS_FILE if serialization_format == SKOPS else MODEL_FILE
    packages = ["scikit-learn", "numpy", "scipy"]
    if serialization_format == PICKLE:
        saved_model.dump_pickled(sk_model, os.path.join(directory, model_file))
    elif serialization_format == CLOUDPICKLE:
        _dump_cloudpickled(sk_model, os.path.join(directory, model_file))
        packages.append("cloudpickle")
    else:
        _dump_skops(sk_model, os.path.join(directory, model_file), skops_trusted_types)
        packages.append("skops")
    example_info = None
    if input_example is not None:
        example_info = save_input_example(directory, input_example)
    signature_dict = saved_model.signature_for(signature, sk_model.predict, input_example)
    write_environment(directory, packages)
    conf: dict[str, Any] = {
        "pickled_model": model_file,
        "serialization_format": serialization_format,
        "sklearn_version": sklearn.__version__,
        "code": None,
    }
    if serialization_format == SKOPS:
        conf["skops_trusted_types"] = list(skops_trusted_types) if skops_trusted_types else None
    return write_mlmodel(
        directory,
        run_id,
        "sklearn",
        conf,
        loader="mlflow.sklearn",
        data_file=model_file,
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


def _dump_cloudpickled(model: Any, path: str) -> None:
    try:
        import cloudpickle
    except ImportError:
        raise InvalidParameterValue(
            "serialization_format='cloudpickle' needs cloudpickle: pip install cloudpickle"
        ) from None
    with open(path, "wb") as fh:
        cloudpickle.dump(model, fh)


def _dump_skops(model: Any, path: str, trusted_types: Sequence[str] | None) -> None:
    """The model in skops' format, loaded back once as MLflow does: a model whose types are
    neither skops' defaults nor in ``trusted_types`` could not be loaded later, so it is
    refused now, naming them."""
    try:
        from skops import io as skops_io
    except ImportError:
        raise InvalidParameterValue(
            "serialization_format='skops' needs skops: pip install skops"
        ) from None
    skops_io.dump(model, path)
    trusted = set(trusted_types or ())
    untrusted = [t for t in skops_io.get_untrusted_types(file=path) if t not in trusted]
    if untrusted:
        raise InvalidParameterValue(
            f"The model holds types skops does not trust: {', '.join(untrusted)}. "
            "Pass them as skops_trusted_types if you trust them."
        )


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return sklearn
