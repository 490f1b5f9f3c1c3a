"""Run inputs and outputs, and logged models, in MLflow's file layout.

    <exp>/datasets/<md5(name+digest)>/meta.yaml       a dataset, shared by the runs that use it
    <run>/inputs/<md5(source_id+run_id)>/meta.yaml    a dataset or model the run consumed
    <run>/outputs/<model_id>/meta.yaml                a model the run produced
    <exp>/models/<model_id>/{meta.yaml,metrics/,params/,tags/,artifacts/}

MLflow writes ``destination_id`` equal to ``source_id`` in input and output records; that is
copied as is so both tools read each other's files the same way.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from typing import Any

from runyard import validation
from runyard.clock import now_ms
from runyard.entities import (
    Dataset,
    DatasetInput,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOrder,
    ModelOutput,
    PagedList,
    Param,
    RunInputs,
    RunOutputs,
    RunTag,
    ViewType,
)
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.names import generate_run_name
from runyard.search.logged_models import latest_metric_value, matches_logged_model, on_datasets
from runyard.search.parser import parse_logged_model_filter
from runyard.store.file import metrics as file_metrics
from runyard.store.file.base import FileStoreBase
from runyard.store.file.layout import (
    DATASETS,
    INPUTS,
    META,
    METRICS,
    MODELS,
    OUTPUTS,
    PARAMS,
    TAGS,
    TEMP_MARK,
    create_exclusive,
    dump_yaml,
    is_temp_name,
    key_path,
    list_keys,
    locked,
    read_values,
    read_yaml,
    remove_empty_parents,
    write_atomic,
)
from runyard.store.file.queries import page_of

_MODEL_NAME_BAD_CHARS = ("/", ":", ".", "%", '"', "'")
MAX_RESULTS_LOGGED_MODELS = 50000


def _md5(*parts: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def _status(value: LoggedModelStatus | str | int) -> LoggedModelStatus:
    if isinstance(value, int):
        return LoggedModelStatus.from_number(value)
    text = str(value)
    if not text.startswith("LOGGED_MODEL_"):
        text = "LOGGED_MODEL_" + text
    try:
        return LoggedModelStatus(text)
    except ValueError:
        raise InvalidParameterValue(f"Invalid logged model status {value!r}.") from None


class ModelsMixin(FileStoreBase):
    """Inputs, outputs and logged models."""

    # ---- inputs and outputs ------------------------------------------------------------------
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        validation.validate_run_id(run_id)
        for item in datasets:
            validation.validate_dataset_input(item)
        for model in models:
            validation.validate_model_id(model.model_id)
        _, run_dir, _ = self._active_run(run_id)
        exp_dir = os.path.dirname(run_dir)
        with self._writing_to(run_id):
            for item in datasets:
                dataset = item.dataset
                dataset_id = _md5(dataset.name, dataset.digest)
                dataset_meta = {
                    "digest": dataset.digest,
                    "name": dataset.name,
                    "profile": dataset.profile,
                    "schema": dataset.schema,
                    "source": dataset.source,
                    "source_type": dataset.source_type,
                }
                datasets_dir = os.path.join(exp_dir, DATASETS, dataset_id)
                self._write_once(datasets_dir, dataset_meta, exp_dir)
                self._write_once(
                    os.path.join(run_dir, INPUTS, _md5(dataset_id, run_id)),
                    {
                        "destination_id": dataset_id,
                        "destination_type": "RUN",
                        "source_id": dataset_id,
                        "source_type": "DATASET",
                        "tags": dict(item.tags),
                    },
                    run_dir,
                )
            for model in models:
                self._write_once(
                    os.path.join(run_dir, INPUTS, _md5(model.model_id, run_id)),
                    {
                        "destination_id": model.model_id,
                        "destination_type": "RUN",
                        "source_id": model.model_id,
                        "source_type": "MODEL",
                        "tags": {},
                    },
                    run_dir,
                )

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        validation.validate_run_id(run_id)
        for model in models:
            validation.validate_model_output(model)
        _, run_dir, _ = self._active_run(run_id)
        with self._writing_to(run_id):
            for model in models:
                self._write_once(
                    os.path.join(run_dir, OUTPUTS, model.model_id),
                    {
                        "destination_id": model.model_id,
                        "destination_type": "MODEL_OUTPUT",
                        "source_id": model.model_id,
                        "source_type": "RUN_OUTPUT",
                        "step": model.step,
                        "tags": {},
                    },
                    run_dir,
                )

    @staticmethod
    def _write_once(directory: str, meta: dict[str, Any], within: str) -> None:
        """``directory``'s meta.yaml unless it has one, making directories only ``within``."""
        create_exclusive(os.path.join(directory, META), dump_yaml(meta), within=within)

    @staticmethod
    def _records(directory: str) -> list[dict[str, Any]]:
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return []
        records = []
        for name in names:
            if is_temp_name(name):
                continue
            meta = read_yaml(os.path.join(directory, name, META))
            if meta is not None:
                records.append(meta)
        return records

    def _read_inputs(self, run_dir: str, exp_dir: str) -> RunInputs:
        datasets, models = [], []
        for record in self._records(os.path.join(run_dir, INPUTS)):
            if record.get("source_type") == "MODEL":
                models.append(ModelInput(model_id=str(record["source_id"])))
                continue
            if record.get("source_type") != "DATASET":
                continue
            meta = read_yaml(os.path.join(exp_dir, DATASETS, str(record["source_id"]), META))
            if meta is None:
                continue
            dataset = Dataset(
                name=str(meta.get("name", "")),
                digest=str(meta.get("digest", "")),
                source_type=str(meta.get("source_type") or ""),
                source=str(meta.get("source") or ""),
                schema=meta.get("schema"),
                profile=meta.get("profile"),
            )
            datasets.append(DatasetInput(dataset=dataset, tags=record.get("tags") or {}))
        return RunInputs(dataset_inputs=tuple(datasets), model_inputs=tuple(models))

    def _read_outputs(self, run_dir: str) -> RunOutputs:
        outputs = [
            ModelOutput(model_id=str(r["destination_id"]), step=int(r.get("step") or 0))
            for r in self._records(os.path.join(run_dir, OUTPUTS))
            if r.get("destination_type") == "MODEL_OUTPUT"
        ]
        return RunOutputs(model_outputs=tuple(outputs))

    # ---- logged models -----------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        params: Sequence[tuple[str, str]] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        experiment_id = str(experiment_id)
        validation.validate_logged_model_fields(name, model_type)
        if name is not None and (not name or any(c in name for c in _MODEL_NAME_BAD_CHARS)):
            raise InvalidParameterValue(
                f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
                f"and cannot contain the following characters: {_MODEL_NAME_BAD_CHARS}"
            )
        checked_params = [validation.validate_param(Param(k, str(v))) for k, v in params]
        checked_tags = [validation.validate_tag(RunTag(k, str(v))) for k, v in tags]
        if source_run_id is not None:
            validation.validate_run_id(source_run_id)
        self._active_experiment_dir(experiment_id)  # refuses a deleted one before any work
        experiment = self.get_experiment(experiment_id)
        model_id = f"m-{uuid.uuid4().hex}"
        created = now_ms()
        location = experiment.artifact_location.rstrip("/")
        meta = {
            "artifact_location": f"{location}/{MODELS}/{model_id}/artifacts",
            "creation_timestamp": created,
            "experiment_id": experiment_id,
            "last_updated_timestamp": created,
            "lifecycle_stage": "active",
            "model_id": model_id,
            "model_type": model_type,
            "name": name or generate_run_name(),
            "source_run_id": source_run_id,
            "status": LoggedModelStatus.LOGGED_MODEL_PENDING.number,
            "status_message": None,
        }
        # built under the lock that deleting the experiment takes, as a run is
        with locked(self._layout.root):
            models_dir = os.path.join(self._active_experiment_dir(experiment_id), MODELS)
            staging = os.path.join(models_dir, f".{TEMP_MARK}{model_id}")
            for sub in (METRICS, PARAMS):  # tags/ appears with the first tag, as in MLflow
                os.makedirs(os.path.join(staging, sub))
            for param in checked_params:
                write_atomic(key_path(os.path.join(staging, PARAMS), param.key), param.value)
            for tag in checked_tags:
                write_atomic(key_path(os.path.join(staging, TAGS), tag.key), tag.value)
            write_atomic(os.path.join(staging, META), dump_yaml(meta))
            os.rename(staging, os.path.join(models_dir, model_id))
        return self.get_logged_model(model_id)

    def _model_dir(self, model_id: str) -> tuple[str, dict[str, Any]]:
        validation.validate_model_id(model_id)
        found = self._layout.find_model(model_id)
        meta = read_yaml(os.path.join(found[1], META)) if found else None
        if found is None or meta is None or meta.get("lifecycle_stage") == "deleted":
            raise ResourceDoesNotExist(f"Logged model with id={model_id} not found")
        return found[1], meta

    @staticmethod
    def _model_from_dir(model_dir: str, meta: dict[str, Any]) -> LoggedModel:
        model_id = str(meta["model_id"])
        metrics_dir = os.path.join(model_dir, METRICS)
        metrics: list[Metric] = []
        for key in list_keys(metrics_dir):
            lines = file_metrics.read_lines(key_path(metrics_dir, key))
            metrics.extend(file_metrics.latest_model_points(key, lines, model_id))
        return LoggedModel(
            model_id=model_id,
            experiment_id=str(meta["experiment_id"]),
            name=str(meta.get("name") or ""),
            artifact_location=str(meta.get("artifact_location") or ""),
            creation_timestamp=int(meta.get("creation_timestamp") or 0),
            last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
            status=_status(meta.get("status", 1)),
            source_run_id=meta.get("source_run_id"),
            model_type=meta.get("model_type"),
            status_message=meta.get("status_message"),
            tags=read_values(os.path.join(model_dir, TAGS)),
            params=read_values(os.path.join(model_dir, PARAMS)),
            metrics=metrics,
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        model_dir, meta = self._model_dir(model_id)
        return self._model_from_dir(model_dir, meta)

    def _update_model_meta(self, model_id: str, **changes: Any) -> None:
        model_dir, meta = self._model_dir(model_id)
        meta.update(changes)
        if meta.get("lifecycle_stage") == "active":
            meta.pop("lifecycle_stage")  # MLflow writes the stage at creation and deletion only
        meta["last_updated_timestamp"] = now_ms()
        write_atomic(os.path.join(model_dir, META), dump_yaml(meta))

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        self._update_model_meta(model_id, status=_status(status).number)
        return self.get_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        checked = [validation.validate_tag(RunTag(k, str(v))) for k, v in tags]
        model_dir, _ = self._model_dir(model_id)
        for tag in checked:
            write_atomic(key_path(os.path.join(model_dir, TAGS), tag.key), tag.value)

    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        checked = [validation.validate_param(Param(k, str(v))) for k, v in params]
        model_dir, _ = self._model_dir(model_id)
        for param in checked:
            write_atomic(key_path(os.path.join(model_dir, PARAMS), param.key), param.value)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        validation.validate_key(key, "key")
        model_dir, _ = self._model_dir(model_id)
        target = key_path(os.path.join(model_dir, TAGS), key)
        try:
            os.remove(target)
        except FileNotFoundError:
            raise ResourceDoesNotExist(
                f"No tag with key {key!r} found for model with ID {model_id!r}."
            ) from None
        remove_empty_parents(target, os.path.join(model_dir, TAGS))

    def delete_logged_model(self, model_id: str) -> None:
        self._update_model_meta(model_id, lifecycle_stage="deleted")

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[Sequence[Any]] | None = None,
        datasets: Sequence[tuple[str, str | None]] | None = None,
    ) -> PagedList[LoggedModel]:
        from runyard.search.paging import decode_offset_token

        ordering = validation.validate_model_order_by(order_by)
        expr = parse_logged_model_filter(filter_string)
        validation.validate_max_results(max_results, MAX_RESULTS_LOGGED_MODELS)
        offset = decode_offset_token(page_token)
        ids = [validation.validate_experiment_id(e) for e in experiment_ids]
        found: list[LoggedModel] = []
        for experiment_id in dict.fromkeys(ids):
            exp_dir = self._layout.experiment_dir(experiment_id, ViewType.ALL)
            if exp_dir is None:
                continue
            for meta, model_dir in self._model_metas(os.path.join(exp_dir, MODELS)):
                if meta.get("lifecycle_stage") == "deleted":
                    continue
                if str(meta.get("experiment_id")) != experiment_id:
                    continue
                model = self._model_from_dir(model_dir, meta)
                if matches_logged_model(expr, model, datasets) and _on_datasets(model, datasets):
                    found.append(model)
        found.sort(key=lambda m: m.model_id)
        found.sort(key=lambda m: m.creation_timestamp, reverse=True)
        for order in reversed(ordering):  # stable sorts: the first key sorts last
            if order.field.startswith(validation.METRIC_ORDER_PREFIX):
                found.sort(key=lambda m, o=order: _metric_order(m, o))
            else:
                found.sort(
                    key=lambda m, f=order.field: _model_attribute(m, f),
                    reverse=not order.ascending,
                )
        return page_of(found, offset, max_results)

    @staticmethod
    def _model_metas(models_dir: str) -> list[tuple[dict[str, Any], str]]:
        try:
            names = sorted(os.listdir(models_dir))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if is_temp_name(name):
                continue
            meta = read_yaml(os.path.join(models_dir, name, META))
            if meta is not None and "model_id" in meta:
                out.append((meta, os.path.join(models_dir, name)))
        return out


__all__ = ["ModelsMixin"]


def _metric_order(model: LoggedModel, order: ModelOrder) -> tuple[bool, float]:
    """Models by their latest value of the metric (on the order's dataset, when it names one);
    those without one last, in either direction."""
    key = order.field.removeprefix(validation.METRIC_ORDER_PREFIX)
    value = latest_metric_value(model, key, order.dataset_name, order.dataset_digest)
    if value is None:
        return (True, 0.0)
    return (False, value if order.ascending else -value)


def _model_attribute(model: LoggedModel, field: str) -> Any:
    """A logged model's attribute by its MLflow name (the entity uses the same names)."""
    return getattr(model, field)


def _on_datasets(model: LoggedModel, datasets: Sequence[tuple[str, str | None]] | None) -> bool:
    """Whether the model has a metric logged on one of ``datasets`` (name and digest both
    match, as in MLflow); all models when no datasets are given."""
    return not datasets or any(on_datasets(metric, datasets) for metric in model.metrics)
