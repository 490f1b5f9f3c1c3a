"""Experiments, artifact listings, logged models and result pages to and from REST JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runyard.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    LoggedModel,
    ModelOrder,
    PagedList,
)
from runyard.errors import InvalidParameterValue
from runyard.protocol.fields import (
    Json,
    _drop_empty,
    key_values_from_json,
    key_values_to_json,
    optional_int,
    optional_string,
    parse_model_status,
    parse_string,
    require_field,
)
from runyard.protocol.runs import (
    metric_from_json,
    metric_to_json,
)


# ---- experiments --------------------------------------------------------------------------------
def experiment_to_json(experiment: Experiment) -> Json:
    return _drop_empty(
        {
            "experiment_id": experiment.experiment_id,
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "lifecycle_stage": str(experiment.lifecycle_stage),
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "tags": key_values_to_json(experiment.tags),
        }
    )


def experiment_from_json(obj: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(obj["experiment_id"]),
        name=obj.get("name", ""),
        artifact_location=obj.get("artifact_location", ""),
        lifecycle_stage=LifecycleStage(obj.get("lifecycle_stage", "active")),
        creation_time=optional_int(obj, "creation_time"),
        last_update_time=optional_int(obj, "last_update_time"),
        tags=dict(key_values_from_json(obj.get("tags"))),
    )


# ---- artifacts ----------------------------------------------------------------------------------
def file_info_to_json(info: FileInfo) -> Json:
    out: Json = {"path": info.path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        out["file_size"] = info.file_size
    return out


def file_info_from_json(obj: Mapping[str, Any]) -> FileInfo:
    size = obj.get("file_size")
    return FileInfo(
        path=obj["path"],
        is_dir=bool(obj.get("is_dir", False)),
        file_size=None if size is None else int(size),
    )


# ---- logged models ------------------------------------------------------------------------------
def logged_model_to_json(model: LoggedModel) -> Json:
    info = _drop_empty(
        {
            "model_id": model.model_id,
            "experiment_id": model.experiment_id,
            "name": model.name,
            "creation_timestamp_ms": model.creation_timestamp,
            "last_updated_timestamp_ms": model.last_updated_timestamp,
            "artifact_uri": model.artifact_location,
            "status": str(model.status),
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "status_message": model.status_message,
            "tags": key_values_to_json(model.tags),
        }
    )
    data = _drop_empty(
        {
            "params": key_values_to_json(model.params),
            "metrics": [metric_to_json(m, with_run_id=True) for m in model.metrics],
        }
    )
    return {"info": info, "data": data}


def logged_model_from_json(obj: Mapping[str, Any]) -> LoggedModel:
    info = obj.get("info") or {}
    data = obj.get("data") or {}
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri", ""),
        creation_timestamp=optional_int(info, "creation_timestamp_ms") or 0,
        last_updated_timestamp=optional_int(info, "last_updated_timestamp_ms") or 0,
        status=parse_model_status(info.get("status", "LOGGED_MODEL_PENDING")),
        source_run_id=info.get("source_run_id") or None,
        model_type=info.get("model_type") or None,
        status_message=info.get("status_message") or None,
        tags=dict(key_values_from_json(info.get("tags"))),
        params=dict(key_values_from_json(data.get("params"), "params")),
        metrics=tuple(
            metric_from_json(m, f"metrics[{i}].") for i, m in enumerate(data.get("metrics", []))
        ),
    )


def model_order_from_json(item: Mapping[str, Any], index: int = 0) -> ModelOrder:
    """One ``logged-models/search`` order_by entry (``{"field_name": ..., "ascending": ...,
    "dataset_name": ..., "dataset_digest": ...}``); ascending unless it says otherwise."""
    if not isinstance(item, Mapping):
        raise InvalidParameterValue(f"order_by[{index}] must be an object, not {item!r}.")
    field = parse_string(require_field(item, "field_name"), f"order_by[{index}].field_name")
    return ModelOrder(
        field,
        item.get("ascending") is not False,
        optional_string(item, "dataset_name") or None,
        optional_string(item, "dataset_digest") or None,
    )


def model_order_to_json(order: ModelOrder) -> Json:
    """A ``ModelOrder`` as the ``order_by`` entry MLflow's client sends."""
    entry: Json = {"field_name": order.field, "ascending": order.ascending}
    if order.dataset_name:
        entry["dataset_name"] = order.dataset_name
    if order.dataset_digest:
        entry["dataset_digest"] = order.dataset_digest
    return entry


def model_dataset_from_json(item: Mapping[str, Any], index: int = 0) -> tuple[str, str | None]:
    """One ``logged-models/search`` datasets entry as ``(dataset_name, dataset_digest)``."""
    if not isinstance(item, Mapping):
        raise InvalidParameterValue(f"datasets[{index}] must be an object, not {item!r}.")
    name = parse_string(require_field(item, "dataset_name"), f"datasets[{index}].dataset_name")
    return name, optional_string(item, "dataset_digest") or None


# ---- pages --------------------------------------------------------------------------------------
def page_to_json(field: str, items: Sequence[Json], page: PagedList[Any] | None = None) -> Json:
    """``{field: [...], "next_page_token": ...}`` with empty parts omitted (``{}`` if none)."""
    out: Json = {}
    if items:
        out[field] = list(items)
    token = getattr(page, "token", None)
    if token:
        out["next_page_token"] = token
    return out
