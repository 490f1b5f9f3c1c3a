"""``runyard.models``: MLflow's ``infer_signature`` and ``ModelSignature``, so model code written
``from mlflow.models import infer_signature`` switches with its import alone.

The signature is MLflow's JSON form (what ``ModelSignature.to_dict()`` gives and the ``MLmodel``
file holds): column specs for a DataFrame or Series, tensor specs for a numpy array, and a
param schema for inference params. ``log_model(signature=...)`` of every flavor takes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runyard.autolog.model_files import (
    column_specs,
    column_type,
    is_dataframe,
    is_ndarray,
    tensor_spec,
)
from runyard.errors import InvalidParameterValue

_SIGNATURE_KEYS = ("inputs", "outputs", "params")


class Schema(list):
    """A signature's inputs or outputs: MLflow's specs (``{"type": ..., "name": ...}`` for a
    column, ``{"type": "tensor", "tensor-spec": ...}`` for a tensor), with the calls of MLflow's
    ``Schema`` that code reads a signature by."""

    def has_input_names(self) -> bool:
        return bool(self) and all("name" in spec for spec in self)

    def input_names(self) -> list[str | int]:
        """Each column's name; positions where they have none (tensors, unnamed columns)."""
        return [spec.get("name", index) for index, spec in enumerate(self)]

    def is_tensor_spec(self) -> bool:
        return bool(self) and all(spec.get("type") == "tensor" for spec in self)

    def to_dict(self) -> list[dict[str, Any]]:
        return [dict(spec) for spec in self]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


class ModelSignature:
    """A model's inputs, outputs and params, each MLflow's specs (or None)."""

    def __init__(
        self,
        inputs: list[dict[str, Any]] | None = None,
        outputs: list[dict[str, Any]] | None = None,
        params: list[dict[str, Any]] | None = None,
    ) -> None:
        self.inputs = None if inputs is None else Schema(inputs)
        self.outputs = None if outputs is None else Schema(outputs)
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's form: each part as a JSON string, None where there is none."""
        return {key: _json_or_none(getattr(self, key)) for key in _SIGNATURE_KEYS}

    @classmethod
    def from_dict(cls, signature: Mapping[str, Any]) -> ModelSignature:
        """From ``to_dict()``'s form (an ``MLmodel`` file's ``signature``)."""
        if not isinstance(signature, Mapping) or "inputs" not in signature:
            raise InvalidParameterValue("A signature dict holds 'inputs' (and 'outputs').")
        parts = {}
        for key in _SIGNATURE_KEYS:
            value = signature.get(key)
            try:
                parts[key] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                raise InvalidParameterValue(f"The signature's {key} is not JSON.") from None
            if parts[key] is not None and not isinstance(parts[key], list):
                raise InvalidParameterValue(f"The signature's {key} is a list of specs.")
        return cls(**parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        return f"ModelSignature({self.to_dict()!r})"


def infer_signature(
    model_input: Any, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """The signature of a model taking ``model_input`` and answering ``model_output``, as
    MLflow's ``infer_signature`` gives it: a DataFrame's columns (required unless a value is
    missing), an array's dtype and shape (any number of rows), a Series as one column, and
    ``params`` (scalars, or lists of them) with their values as defaults."""
    return ModelSignature(
        _schema(model_input, "model_input"),
        None if model_output is None else _schema(model_output, "model_output"),
        None if params is None else _param_schema(params),
    )


def get_model_info(model_uri: str) -> Any:
    """The ``ModelInfo`` of the model at ``model_uri`` (``models:/<id>``, ``models:/<name>/<v>``,
    ``runs:/<run>/<path>``, or a model's directory URI), read from its ``MLmodel`` file, as
    MLflow's ``get_model_info`` gives it: ``model_uri`` as given, ``registered_model_version``
    None."""
    import yaml

    from runyard.tracking.fluent import _client
    from runyard.tracking.fluent_artifacts import load_text
    from runyard.tracking.model_logging import ModelInfo

    if not isinstance(model_uri, str) or not model_uri:
        raise InvalidParameterValue("A model URI is required.")
    # The model's own location: "models:/<id>/MLmodel" would read as a registered model's stage.
    location, path = _client().resolve_artifact_uri(model_uri)
    files = location.rstrip("/") + (f"/{path.strip('/')}" if path else "")
    descriptor = yaml.safe_load(load_text(f"{files}/MLmodel"))
    if not isinstance(descriptor, Mapping) or not isinstance(descriptor.get("flavors"), Mapping):
        raise InvalidParameterValue(f"{model_uri} holds no model: its MLmodel has no flavors.")
    signature = descriptor.get("signature")
    model_id = descriptor.get("model_id")
    artifact_path = str(descriptor.get("artifact_path") or "")
    return ModelInfo(
        model_id=model_id,
        name=str(descriptor.get("name") or artifact_path),
        model_uri=model_uri,
        run_id=descriptor.get("run_id"),
        artifact_path=artifact_path,
        flavors=descriptor["flavors"],
        signature=None if signature is None else ModelSignature.from_dict(signature),
        registered_model_version=None,
    )


def _schema(data: Any, what: str) -> list[dict[str, Any]]:
    if is_dataframe(data):
        return column_specs(data)
    if is_ndarray(data):
        return [tensor_spec(data)]
    if type(data).__name__ == "Series" and hasattr(data, "isna"):
        spec: dict[str, Any] = {"type": column_type(data)}
        if data.name is not None:
            spec["name"] = str(data.name)
        spec["required"] = not bool(data.isna().any())
        return [spec]
    raise InvalidParameterValue(
        f"{what} must be a pandas DataFrame or Series or a numpy array, not {type(data).__name__}."
    )


def _param_schema(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(params, Mapping):
        raise InvalidParameterValue("params is a dict of parameter names to default values.")
    specs = []
    for name, default in params.items():
        values = default if isinstance(default, list) else [default]
        types = {_param_type(name, value) for value in values}
        if len(types) != 1:
            raise InvalidParameterValue(
                f"Param {name!r}: a list default needs values of one type, and at least one."
            )
        shape = [-1] if isinstance(default, list) else None
        specs.append({"name": str(name), "default": default, "shape": shape, "type": types.pop()})
    return specs


def _param_type(name: str, value: Any) -> str:
    if isinstance(value, bool):  # before int: a bool is an int to Python
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    raise InvalidParameterValue(
        f"Param {name!r}: a default is a bool, int, float or str (or a list of one of them), "
        f"not {type(value).__name__}."
    )


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


__all__ = ["ModelSignature", "Schema", "get_model_info", "infer_signature"]
