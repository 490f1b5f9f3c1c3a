"""The files beside a saved model, in MLflow's format (recorded from ``mlflow.sklearn.save_model``
of MLflow 3.17): the input example and its serving form, the signature inferred from it, and
the environment files, so MLflow's ``pyfunc.load_model`` and model serving read a model saved
by runyard as one of their own."""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
from importlib import metadata
from typing import Any

import yaml

from runyard.errors import InvalidParameterValue

INPUT_EXAMPLE = "input_example.json"
SERVING_INPUT_EXAMPLE = "serving_input_example.json"

#: pandas dtype kind -> MLflow's column type.
_COLUMN_TYPES = {"f8": "double", "f4": "float", "i8": "long", "i4": "integer", "b1": "boolean"}


def save_input_example(directory: str, example: Any) -> dict[str, Any]:
    """Write ``example`` (a pandas DataFrame or a numpy array) as MLflow does; returns the
    ``saved_input_example_info`` of the MLmodel file."""
    if is_dataframe(example):
        split = json.loads(example.to_json(orient="split", index=False, double_precision=15))
        stored: Any = {"columns": split["columns"], "data": split["data"]}
        serving: Any = {"dataframe_split": stored}
        info = {"artifact_path": INPUT_EXAMPLE, "pandas_orient": "split", "type": "dataframe"}
    elif is_ndarray(example):
        stored = example.tolist()
        serving = {"inputs": stored}
        info = {"artifact_path": INPUT_EXAMPLE, "type": "ndarray"}
    else:
        raise InvalidParameterValue(
            "An input example must be a pandas DataFrame or a numpy array, "
            f"not {type(example).__name__}."
        )
    with open(os.path.join(directory, INPUT_EXAMPLE), "w", encoding="utf-8") as fh:
        json.dump(stored, fh)
    with open(os.path.join(directory, SERVING_INPUT_EXAMPLE), "w", encoding="utf-8") as fh:
        json.dump(serving, fh, indent=2)
    return {**info, "serving_input_path": SERVING_INPUT_EXAMPLE}


def infer_signature(example: Any, prediction: Any) -> dict[str, Any]:
    """MLflow's signature of a model taking ``example`` and answering ``prediction``: columns
    for a DataFrame, a tensor for an array; a one-dimensional answer to a DataFrame is a
    column."""
    inputs = column_specs(example) if is_dataframe(example) else [tensor_spec(example)]
    if is_dataframe(example) and is_ndarray(prediction) and prediction.ndim == 1:
        outputs = [{"type": column_type(prediction), "required": True}]
    elif is_ndarray(prediction):
        outputs = [tensor_spec(prediction)]
    else:
        outputs = None
    return {
        "inputs": json.dumps(inputs),
        "outputs": None if outputs is None else json.dumps(outputs),
        "params": None,
    }


def write_environment(directory: str, packages: list[str]) -> None:
    """``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``: the installed versions of
    ``packages`` that are installed (MLflow's loader module first, unpinned: runyard does not
    depend on it)."""
    installed = [(name, _version(name)) for name in packages]
    requirements = ["mlflow", *(f"{name}=={version}" for name, version in installed if version)]
    with open(os.path.join(directory, "requirements.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(requirements) + "\n")
    python = platform.python_version()
    env = {
        "python": python,
        "build_dependencies": ["pip", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": requirements}],
        "name": "mlflow-env",
    }
    for name, content in (("python_env.yaml", env), ("conda.yaml", conda)):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as fh:
            yaml.safe_dump(content, fh, default_flow_style=False, sort_keys=False)


@functools.cache  # installed versions do not change while a process runs; lookups scan
def _version(package: str) -> str | None:
    """The installed distribution's version; else, for a library installed under another
    distribution's name (``xgboost`` from ``xgboost-cpu``), its imported module's version."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        module = sys.modules.get(package)
        version = getattr(module, "__version__", None)
        return version if isinstance(version, str) else None


def column_specs(frame: Any) -> list[dict[str, Any]]:
    """MLflow's column specs of a DataFrame: each column's name and type, required unless it
    holds a missing value."""
    return [
        {
            "type": column_type(frame[name]),
            "name": str(name),
            "required": not bool(frame[name].isna().any()),
        }
        for name in frame.columns
    ]


def tensor_spec(array: Any) -> dict[str, Any]:
    """MLflow's tensor spec of an array: its dtype and shape, any number of rows."""
    return {
        "type": "tensor",
        "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]},
    }


def column_type(values: Any) -> str:
    dtype = values.dtype
    if dtype.kind in "OSUT" or str(dtype) in ("str", "string"):
        return "string"
    if dtype.kind == "M":
        return "datetime"
    fallback = "double" if dtype.kind == "f" else "long"
    return _COLUMN_TYPES.get(f"{dtype.kind}{dtype.itemsize}", fallback)


def is_example(value: Any) -> bool:
    """True for what an input example can be: a pandas DataFrame or a numpy array."""
    return is_dataframe(value) or is_ndarray(value)


def is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_json")


def is_ndarray(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ == "ndarray"
