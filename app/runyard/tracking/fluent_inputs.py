"""Dataset and model inputs, and model outputs, of the active run: ``log_input`` takes a
``runyard.Dataset`` or a dataset built with ``mlflow.data``, and ``log_outputs`` a
``ModelOutput`` or MLflow's ``LoggedModelOutput``, so code written for MLflow keeps working."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runyard import tags as system_tags
from runyard.entities import Dataset, DatasetInput, ModelInput, ModelOutput
from runyard.errors import InvalidParameterValue
from runyard.tracking.fluent import _target


def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: Mapping[str, Any] | None = None,
    model: Any = None,
) -> None:
    """Record that the active run used ``dataset`` (in ``context``: training, eval, ...) and
    ``model`` (a logged model's id). The dataset is a ``runyard.Dataset`` or an MLflow dataset
    (``mlflow.data.from_pandas(...)``), so code that builds datasets with MLflow keeps working."""
    log_inputs(
        None if dataset is None else [dataset],
        None if context is None else [context],
        None if tags is None else [tags],
        None if model is None else [model],
    )


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[Mapping[str, Any] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    """Several datasets (with their contexts and tags, position by position) and logged models
    as inputs of the active run, in one call."""
    datasets = list(datasets or ())
    for name, given in (("contexts", contexts), ("tags_list", tags_list)):
        if given is not None and len(given) != len(datasets):
            raise InvalidParameterValue(
                f"log_inputs got {len(datasets)} datasets but {len(given)} {name}; "
                "give one per dataset (None where there is none)."
            )
    inputs = [
        _dataset_input(
            dataset,
            contexts[i] if contexts is not None else None,
            tags_list[i] if tags_list is not None else None,
        )
        for i, dataset in enumerate(datasets)
    ]
    model_inputs = [
        m if isinstance(m, ModelInput) else ModelInput(str(getattr(m, "model_id", m)))
        for m in models or ()
    ]  # a logged model's id, or MLflow's LoggedModelInput holding one
    client, run_id = _target(None)
    client.log_inputs(run_id, inputs, model_inputs)


def _dataset_input(
    dataset: Any, context: str | None, tags: Mapping[str, Any] | None
) -> DatasetInput:
    entity = dataset._to_mlflow_entity() if hasattr(dataset, "_to_mlflow_entity") else dataset
    try:
        record = Dataset(
            name=str(entity.name),
            digest=str(entity.digest),
            source_type=str(entity.source_type or ""),
            source=str(entity.source or ""),
            schema=entity.schema,
            profile=entity.profile,
        )
    except AttributeError:
        raise InvalidParameterValue(
            f"log_input needs a runyard.Dataset or an MLflow dataset, not {type(dataset).__name__}."
        ) from None
    input_tags = {k: str(v) for k, v in (tags or {}).items()}
    if context is not None:
        input_tags[system_tags.DATASET_CONTEXT] = context
    return DatasetInput(record, input_tags)


def log_outputs(models: Sequence[Any] | None = None) -> None:
    """Logged models as outputs of the active run (started if there is none), each at its
    ``step``: ``runyard.entities.ModelOutput`` or MLflow's ``LoggedModelOutput``."""
    outputs = []
    for i, model in enumerate(models or ()):
        model_id, step = getattr(model, "model_id", None), getattr(model, "step", 0)
        if not isinstance(model_id, str) or not isinstance(step, int) or isinstance(step, bool):
            raise InvalidParameterValue(
                f"models[{i}] is a ModelOutput (a logged model's id and an integer step)."
            )
        outputs.append(ModelOutput(model_id, step))
    client, run_id = _target(None)
    if outputs:
        client.log_outputs(run_id, outputs)
