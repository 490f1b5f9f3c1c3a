"""MLflow's module-level calls for the model registry and logged models, on the current
tracking URI: ``runyard.search_registered_models()`` where MLflow code says
``mlflow.search_registered_models()``. Searches follow every page and return lists."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.entities import LoggedModel, LoggedModelStatus
from runyard.errors import InvalidParameterValue
from runyard.registry.entities import ModelVersion, RegisteredModel
from runyard.registry.validation import SEARCH_MODELS_MAX, SEARCH_VERSIONS_MAX
from runyard.search.render import quote_string
from runyard.tags import MODEL_IS_EXTERNAL
from runyard.tracking import fluent_state
from runyard.tracking.fluent import _active_experiment_id, _client, active_run
from runyard.tracking.fluent_search import every_page
from runyard.tracking.model_logging import write_external_mlmodel

#: Page size when ``search_logged_models`` follows pages for the caller.
_LOGGED_MODELS_PAGE_SIZE = 1000


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Every registered model matching ``filter_string`` (``name LIKE 'fraud%'``), or the
    first ``max_results``."""
    client = _client()
    return every_page(
        lambda size, token: client.search_registered_models(filter_string, size, order_by, token),
        max_results,
        SEARCH_MODELS_MAX,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Every model version matching ``filter_string`` (``name = 'fraud'``), or the first
    ``max_results``."""
    client = _client()
    return every_page(
        lambda size, token: client.search_model_versions(filter_string, size, order_by, token),
        max_results,
        SEARCH_VERSIONS_MAX,
    )


def set_model_version_tag(
    name: str,
    version: int | str | None = None,
    key: str | None = None,
    value: Any = None,
    stage: str | None = None,
) -> None:
    _client().set_model_version_tag(name, version, key, value, stage)


def get_logged_model(model_id: str) -> LoggedModel:
    return _client().get_logged_model(model_id)


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    output_format: str = "list",
) -> Any:
    """Logged models of the given experiments (default: the active one), newest first unless
    ``order_by`` says otherwise (``[{"field_name": "metrics.accuracy", "ascending": False}]``),
    as a list or (``output_format="pandas"``) a DataFrame with a column per field; MLflow's
    arguments, in MLflow's order."""
    if output_format not in ("list", "pandas"):
        raise InvalidParameterValue(
            f"Unsupported output_format {output_format!r}; use 'list' or 'pandas'."
        )
    client = _client()
    ids = [str(i) for i in experiment_ids] if experiment_ids else [_active_experiment_id()]
    models = every_page(
        lambda size, token: client.search_logged_models(
            ids, filter_string, datasets, size, order_by, token
        ),
        max_results,
        _LOGGED_MODELS_PAGE_SIZE,
    )
    if output_format == "list":
        return models
    import pandas as pd

    rows = [
        {f.name: _plain(getattr(model, f.name)) for f in dataclasses.fields(model)}
        for model in models
    ]
    return pd.DataFrame(rows, columns=[f.name for f in dataclasses.fields(LoggedModel)])


def _plain(value: Any) -> Any:
    """A field's value as pandas holds it: mappings as dicts, enums as their names."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, LoggedModelStatus) else value


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new logged model in ``LOGGED_MODEL_PENDING``, to fill with files and then
    ``finalize_logged_model``; it belongs to the active run unless ``source_run_id`` says
    otherwise."""
    run = active_run()
    if source_run_id is None and run is not None:
        source_run_id = run.info.run_id
    if experiment_id is None:
        experiment_id = run.info.experiment_id if run is not None else _active_experiment_id()
    model = _client().create_logged_model(
        experiment_id, name, source_run_id, tags, params, model_type
    )
    fluent_state.current().last_logged_model_id = model.model_id
    return model


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A logged model whose files live elsewhere (an agent, a service, a model packaged by
    other tools), ready at once, so its metrics, params and tags can be tracked here. As in
    MLflow, it is tagged external and gets an ``MLmodel`` file saying so, with no flavor and a
    placeholder signature, so that the registry takes it as a version."""
    model = initialize_logged_model(
        name,
        source_run_id,
        {**(tags or {}), MODEL_IS_EXTERNAL: "true"},
        params,
        model_type,
        experiment_id,
    )
    client = _client()
    try:
        with tempfile.TemporaryDirectory(prefix="runyard-model-") as directory:
            write_external_mlmodel(directory, model)
            client.log_model_artifacts(model.model_id, directory)
    except BaseException:
        client.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED)
        raise
    return client.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)


def last_logged_model() -> LoggedModel | None:
    """The model this thread logged last (``log_model`` of any flavor, or
    ``initialize_logged_model``), read afresh; None before the first."""
    model_id = fluent_state.current().last_logged_model_id
    return None if model_id is None else _client().get_logged_model(model_id)


def log_model_params(params: Mapping[str, Any], model_id: str | None = None) -> None:
    """Add params to a logged model: ``model_id``, else the active model."""
    model_id = model_id or get_active_model_id()
    if not model_id:
        raise InvalidParameterValue(
            "Which model? Give model_id, or set_active_model() first; "
            "runyard.last_logged_model() is the one logged last."
        )
    _client().log_model_params(model_id, params)


class ActiveModel:
    """What ``set_active_model`` returns: the logged model (its fields read through), and a
    context manager that puts the previously active model back on exit, as MLflow's does."""

    def __init__(self, model: LoggedModel, previous: str | None) -> None:
        self.logged_model = model
        self._previous = previous

    def __getattr__(self, name: str) -> Any:
        return getattr(self.logged_model, name)

    def __enter__(self) -> ActiveModel:
        return self

    def __exit__(self, *exc: object) -> None:
        fluent_state.current().active_model_id = self._previous


def set_active_model(*, name: str | None = None, model_id: str | None = None) -> ActiveModel:
    """Make a logged model this thread's active one: metrics logged without a ``model_id``
    become its metrics too. By ``model_id`` (whose name must then match ``name``, if given), or
    by ``name``: the newest model of that name in the active experiment, created as an external
    model (``create_external_model``) when there is none."""
    if name is None and model_id is None:
        raise InvalidParameterValue("Give either name or model_id to set_active_model.")
    client = _client()
    if model_id is not None:
        model = client.get_logged_model(model_id)
        if name is not None and model.name != name:
            raise InvalidParameterValue(
                f"Logged model {model_id!r} is named {model.name!r}, not {name!r}."
            )
    else:
        experiment_id = _active_experiment_id()
        newest = client.search_logged_models(
            [experiment_id],
            filter_string=f"name = {quote_string(str(name))}",
            max_results=1,
            order_by=[{"field_name": "creation_timestamp", "ascending": False}],
        )
        if newest:
            model = newest[0]
        else:
            model = create_external_model(name=name, experiment_id=experiment_id)
    state = fluent_state.current()
    previous = state.active_model_id
    state.active_model_id = model.model_id
    return ActiveModel(model, previous)


def get_active_model_id() -> str | None:
    """This thread's active model, else ``RUNYARD_ACTIVE_MODEL_ID`` (MLflow's
    ``MLFLOW_ACTIVE_MODEL_ID``); None if neither."""
    return fluent_state.current().active_model_id


def clear_active_model() -> None:
    """No active model on this thread from now on (the setting's included)."""
    fluent_state.current().active_model_id = None


def finalize_logged_model(model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
    return _client().finalize_logged_model(model_id, status)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    _client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _client().delete_logged_model_tag(model_id, key)
