"""What every flavor's ``save_model``, ``log_model`` and ``load_model`` share (``runyard.sklearn``,
``runyard.lightgbm``): the target directory's check, the name MLflow's two spellings give, the
signature (given, or inferred from the input example), the ``MLmodel`` descriptor and the
pickled forms MLflow writes. A flavor module only says how its model's own file is written and
read."""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from runyard.autolog import model_environment
from runyard.autolog.model_environment import EnvironmentRequest
from runyard.autolog.model_files import infer_signature, is_example
from runyard.errors import InvalidParameterValue, NotImplementedByBackend
from runyard.tracking.model_logging import ModelInfo, log_model_files
from runyard.tracking.registry_client import DEFAULT_AWAIT_SECONDS

#: Rows of the training data autologging infers a signature from, as MLflow's autologging does.
SIGNATURE_ROWS = 5
#: A flavor's ``write_model_files(model, directory, model_id, run_id, artifact_path,
#: input_example, signature)``: the model's files in ``directory``; returns the MLmodel.
FlavorFiles = Callable[[Any, str, str | None, str | None, str, Any, Any], Mapping[str, Any]]


@dataclass(frozen=True)
class ModelOptions:
    """MLflow's ``save_model``/``log_model`` arguments every flavor shares beyond the model:
    its environment, ``metadata`` (kept in ``MLmodel``) and, for flavors that have one,
    ``pyfunc_predict_fn`` (the method ``pyfunc``'s ``predict`` calls). ``code_paths``,
    ``extra_files`` and ``mlflow_model`` are refused when given: runyard's loaders would not
    use them."""

    environment: EnvironmentRequest = field(default_factory=EnvironmentRequest)
    metadata: Mapping[str, Any] | None = None
    pyfunc_predict_fn: str | None = None
    code_paths: Any = None
    extra_files: Any = None
    mlflow_model: Any = None

    def check(self) -> None:
        """Everything refused before a file is written."""
        for name in ("code_paths", "extra_files", "mlflow_model"):
            if getattr(self, name) is not None:
                raise NotImplementedByBackend(f"runyard does not save models with {name}.")
        self.environment.check()
        if self.metadata is not None:
            if not isinstance(self.metadata, Mapping):
                raise InvalidParameterValue("metadata is a mapping.")
            try:
                yaml.safe_dump(dict(self.metadata))
            except yaml.YAMLError as error:
                message = f"metadata cannot be written to MLmodel: {error}"
                raise InvalidParameterValue(message) from None
        if self.pyfunc_predict_fn is not None and not isinstance(self.pyfunc_predict_fn, str):
            raise InvalidParameterValue("pyfunc_predict_fn is the name of a method.")

    def finish(self, directory: str, descriptor: Mapping[str, Any]) -> Mapping[str, Any]:
        """The flavor's files in ``directory`` as the options ask; returns the MLmodel."""
        model_environment.apply(directory, self.environment)
        if self.metadata is None and self.pyfunc_predict_fn is None:
            return descriptor
        updated = dict(descriptor)
        if self.metadata is not None:
            updated["metadata"] = dict(self.metadata)
        if self.pyfunc_predict_fn is not None:
            flavors = dict(updated.get("flavors") or {})
            flavors["python_function"] = {
                **(flavors.get("python_function") or {}),
                "predict_fn": self.pyfunc_predict_fn,
            }
            updated["flavors"] = flavors
        with open(os.path.join(directory, "MLmodel"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(updated, fh, default_flow_style=False, sort_keys=False)
        return updated


def save_flavor_model(
    write_files: FlavorFiles,
    model: Any,
    path: str | os.PathLike[str],
    input_example: Any,
    signature: Any,
    options: ModelOptions | None = None,
) -> None:
    """``save_model`` of any flavor: the files in ``path``, a directory that must not exist or
    be empty (MLflow refuses it too: a save must not mix two models' files)."""
    chosen = options or ModelOptions()
    chosen.check()
    directory = os.fspath(path)
    if os.path.exists(directory) and os.listdir(directory):
        raise InvalidParameterValue(f"Path '{directory}' already exists and is not empty.")
    os.makedirs(directory, exist_ok=True)
    descriptor = write_files(model, directory, None, None, "model", input_example, signature)
    chosen.finish(directory, descriptor)


def log_flavor_model(
    write_files: FlavorFiles,
    model: Any,
    input_example: Any,
    signature: Any,
    name: str | None,
    artifact_path: str | None,
    registered_model_name: str | None,
    params: Mapping[str, Any] | None,
    tags: Mapping[str, Any] | None,
    model_type: str | None,
    step: int,
    model_id: str | None,
    options: ModelOptions | None = None,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
) -> ModelInfo:
    """``log_model`` of any flavor: ``name`` (or its older spelling ``artifact_path``) names the
    logged model, whose files ``write_files`` produces; ``model_id``: an existing one to fill."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidParameterValue("Give 'name' ('artifact_path' is its older spelling).")
    model_name = name or artifact_path or "model"
    chosen = options or ModelOptions()
    chosen.check()

    def write(directory: str, model_id: str, run_id: str | None) -> Mapping[str, Any]:
        descriptor = write_files(
            model, directory, model_id, run_id, model_name, input_example, signature
        )
        return chosen.finish(directory, descriptor)

    return log_model_files(
        model_name,
        write,
        registered_model_name,
        params,
        tags,
        model_type,
        step,
        model_id,
        await_registration_for,
    )


def signature_for(
    signature: Any, predict: Callable[[Any], Any], input_example: Any
) -> dict[str, Any] | None:
    """A given signature (MLflow's ``ModelSignature`` or its dict), else one inferred from the
    input example and the model's answer to it, else none; ``False`` (as in MLflow): none."""
    if signature is False:
        return None
    if signature is not None:
        as_dict = signature.to_dict() if hasattr(signature, "to_dict") else signature
        if not isinstance(as_dict, dict) or "inputs" not in as_dict:
            raise InvalidParameterValue("A signature is MLflow's ModelSignature or its to_dict().")
        return dict(as_dict)
    if input_example is None:
        return None
    return infer_signature(input_example, predict(input_example))


def training_sample(data: Any) -> Any:
    """The first rows of the training data, which autologging infers a signature from and
    logs as the input example when asked; None when the data is not a DataFrame or array."""
    return data[:SIGNATURE_ROWS] if is_example(data) else None


def training_signature(predict: Callable[[Any], Any], data: Any) -> dict[str, Any] | None:
    """The signature MLflow's autologging gives a model: inferred from the model's answer to the
    first rows of its training data, when those are a DataFrame or an array. A model that
    cannot answer them is still logged, without a signature, and a warning says why."""
    sample = training_sample(data)
    if sample is None:
        return None
    try:
        return infer_signature(sample, predict(sample))
    except Exception as error:  # the model's own predict: anything it raises
        warnings.warn(f"No signature for the autologged model: {error}", stacklevel=2)
        return None


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


def flavor_conf(directory: str, flavor: str) -> dict[str, Any]:
    """The settings ``MLmodel`` records for ``flavor``; a model without it is refused."""
    conf = (read_descriptor(directory).get("flavors") or {}).get(flavor)
    if not isinstance(conf, dict):
        raise InvalidParameterValue(f"The model has no {flavor} flavor.")
    return conf


def dump_pickled(model: Any, path: str) -> None:
    """The model as a pickle, which ``pickle`` and MLflow's cloudpickle loader both read."""
    with open(path, "wb") as fh:
        pickle.dump(model, fh, protocol=pickle.DEFAULT_PROTOCOL)


def load_pickled(path: str, kind: str, trusted_types: Any = None) -> Any:
    """A model MLflow or runyard serialized as ``kind``: pickle, cloudpickle or skops."""
    if kind in ("pickle", "cloudpickle"):
        with open(path, "rb") as fh:
            return pickle.load(fh)  # a model is code: load only what you trust, as in MLflow
    if kind == "skops":
        try:
            from skops import io as skops_io
        except ImportError:
            raise InvalidParameterValue(
                "This model was saved with skops: pip install skops to load it."
            ) from None
        return skops_io.load(path, trusted=trusted_types)
    raise InvalidParameterValue(f"Unknown serialization format {kind!r} of a model.")
