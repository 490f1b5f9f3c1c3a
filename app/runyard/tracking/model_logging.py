"""Logging a model as MLflow 3 does: a logged model in the active experiment (linked to the
active run as its output), its files uploaded, then marked ready, and optionally registered.
Each flavor (``runyard.sklearn``, ...) only says how to write the files."""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from runyard.entities import LoggedModel, LoggedModelStatus, Metric, ModelOutput, Run
from runyard.models import ModelSignature
from runyard.tags import MODEL_IS_EXTERNAL
from runyard.tracking import fluent_state
from runyard.tracking.fluent import _active_experiment_id, _client, active_run
from runyard.tracking.registry_client import DEFAULT_AWAIT_SECONDS


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns, with the fields of MLflow's ``ModelInfo`` that code reads."""

    model_id: str
    name: str
    model_uri: str
    run_id: str | None
    artifact_path: str
    flavors: Mapping[str, Any]
    #: ``runyard.models.ModelSignature``, as MLflow's; ``to_dict()`` is the ``MLmodel`` form.
    signature: ModelSignature | None
    registered_model_version: int | None


def log_model_files(
    name: str,
    write: Callable[[str, str, str | None], Mapping[str, Any]],
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
) -> ModelInfo:
    """``write(directory, model_id, run_id)`` writes the model's files and returns its MLmodel
    descriptor. A model whose files could not be written or uploaded is marked failed.
    ``model_id`` names a logged model created beforehand (``initialize_logged_model``, as
    autologging does to link metrics to it while training) to fill instead of a new one."""
    client = _client()
    run = active_run()
    run_id = run.info.run_id if run is not None else None
    experiment_id = run.info.experiment_id if run is not None else _active_experiment_id()
    source = client.get_run(run_id) if run_id is not None else None  # as stored now
    if model_id is not None:  # an unknown id is refused by the first call that uses it
        if params:
            client.log_model_params(model_id, params)
        if tags:
            client.set_logged_model_tags(model_id, tags)
    else:
        # As MLflow: a new model carries its run's params (the run's win over ``params``).
        merged = {**(params or {}), **(source.data.params if source is not None else {})}
        created = client.create_logged_model(experiment_id, name, run_id, tags, merged, model_type)
        model_id = created.model_id
    fluent_state.current().last_logged_model_id = model_id
    try:
        with tempfile.TemporaryDirectory(prefix="runyard-model-") as directory:
            descriptor = write(directory, model_id, run_id)
            client.log_model_artifacts(model_id, directory)
    except BaseException:
        client.finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED)
        raise
    client.finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    if source is not None:
        client.log_outputs(source.info.run_id, [ModelOutput(model_id, step)])
        _link_run_metrics(client, source, model_id, step)
    uri = f"models:/{model_id}"
    version = None
    if registered_model_name is not None:
        registered = client.register_model(
            uri, registered_model_name, await_registration_for=await_registration_for
        )
        version = int(registered.version)
    return ModelInfo(
        model_id=model_id,
        name=name,
        model_uri=uri,
        run_id=run_id,
        artifact_path=name,
        flavors=descriptor.get("flavors", {}),
        signature=_signature(descriptor.get("signature")),
        registered_model_version=version,
    )


def _signature(written: Mapping[str, Any] | None) -> ModelSignature | None:
    return None if written is None else ModelSignature.from_dict(written)


def _link_run_metrics(client: Any, run: Run, model_id: str, step: int) -> None:
    """The run's points at the model's ``step`` that belong to no model become the model's
    too, as MLflow links them: ``rmse`` logged before ``log_model`` is the model's ``rmse``,
    which ``search_logged_models`` filters and orders by. The run's history gains no point
    (the stores keep one copy of an identical point)."""
    points = []
    for latest in run.data.metric_list:
        if latest.step < step:  # the latest point has the greatest step: none at ``step``
            continue
        points += [
            Metric(
                p.key,
                p.value,
                p.timestamp,
                p.step,
                None,
                model_id,
                p.dataset_name,
                p.dataset_digest,
            )
            for p in client.get_metric_history(run.info.run_id, latest.key)
            if p.step == step and p.model_id is None
        ]
    if points:
        client.log_batch(run.info.run_id, metrics=points, synchronous=True)


#: MLflow's placeholder signature for an external model, one boolean in and one out: some
#: registries take no version without a signature.
_EXTERNAL_SIGNATURE = '[{"type": "boolean", "required": true}]'


def mlmodel_time() -> str:
    """``utc_time_created`` of an ``MLmodel`` file, in MLflow's format."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def write_external_mlmodel(directory: str, model: LoggedModel) -> None:
    """The ``MLmodel`` file MLflow writes for an external model: no flavors, marked external."""
    descriptor = {
        "artifact_path": model.artifact_location,
        "flavors": {},
        "metadata": {MODEL_IS_EXTERNAL: True},
        "model_id": model.model_id,
        "model_uuid": model.model_id,
        "run_id": model.source_run_id,
        "signature": {
            "inputs": _EXTERNAL_SIGNATURE,
            "outputs": _EXTERNAL_SIGNATURE,
            "params": None,
        },
        "utc_time_created": mlmodel_time(),
    }
    with open(os.path.join(directory, "MLmodel"), "w", encoding="utf-8") as fh:
        yaml.safe_dump(descriptor, fh, default_flow_style=False, sort_keys=False)


@contextlib.contextmanager
def model_directory(
    model_uri: str | os.PathLike[str], dst_path: str | os.PathLike[str] | None = None
) -> Iterator[str]:
    """A local directory holding the model's files: ``model_uri`` itself when it is one, else
    a download of it (into ``dst_path``, or a temporary directory removed afterwards)."""
    local = os.fspath(model_uri)
    if os.path.isdir(local):
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="runyard-model-") as tmp:
        yield _client().download_artifacts_from_uri(local, dst_path or tmp)
