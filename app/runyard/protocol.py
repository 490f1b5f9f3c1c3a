"""Entities <-> MLflow REST JSON, in one place.

The server renders responses with the ``*_to_json`` functions and ``RestStore`` reads them back
with the ``*_from_json`` ones, so the two sides cannot drift apart. Conventions (MLflow's wire
format): empty and unset fields are omitted, enums travel as names, int64 fields as JSON numbers,
and non-finite doubles as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

Request parsing is lenient where MLflow is (unknown fields are ignored, int64 may arrive as a
numeric string from a query string) and strict where a wrong type would store garbage: a bad
value raises ``InvalidParameterValue`` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runyard.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    HistoryRow,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    ViewType,
)
from runyard.errors import InvalidParameterValue

Json = dict[str, Any]

_NON_FINITE_IN = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}
_NON_FINITE_IN["-inf"] = -math.inf


# ---- scalar helpers -----------------------------------------------------------------------------
def missing_message(field: str) -> str:
    """MLflow's wording for an absent required field (clients match on it)."""
    return (
        f"Missing value for required parameter '{field}'. See the API docs for more "
        "information about request parameters."
    )


def invalid_message(field: str, value: object) -> str:
    shown = value if isinstance(value, str) else repr(value)
    return (
        f"Invalid value \"{shown}\" for parameter '{field}' supplied:  Hint: Value was of type "
        f"'{type(value).__name__}'. See the API docs for more information about request "
        "parameters."
    )


def require_field(payload: Mapping[str, Any], field: str, *, allow_empty: bool = False) -> Any:
    """``payload[field]``, or ``InvalidParameterValue`` with MLflow's "Missing value" text."""
    value = payload.get(field)
    if value is None or (value == "" and not allow_empty) or value == []:
        raise InvalidParameterValue(missing_message(field))
    return value


def parse_double(value: object, field: str = "value") -> float:
    """A JSON double: a number, or one of the strings "NaN", "Infinity", "-Infinity".

    Numeric strings ("1.5") are accepted too, as protobuf's JSON parser does.
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        special = _NON_FINITE_IN.get(value.strip().lower())
        if special is not None:
            return special
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise InvalidParameterValue(invalid_message(field, value))


def format_double(value: float) -> float | str:
    """A double for the wire: finite numbers as numbers, the others as MLflow's strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def parse_int(value: object, field: str) -> int:
    """An int64 field: a JSON integer, an integral float, or a decimal string (query strings)."""
    if isinstance(value, bool):
        raise InvalidParameterValue(invalid_message(field, value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    raise InvalidParameterValue(invalid_message(field, value))


def optional_int(payload: Mapping[str, Any], field: str) -> int | None:
    value = payload.get(field)
    return None if value is None or value == "" else parse_int(value, field)


def parse_string(value: object, field: str) -> str:
    """A string field; numbers are stringified (clients already do that for params and tags)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidParameterValue(invalid_message(field, value))


def optional_string(payload: Mapping[str, Any], field: str) -> str | None:
    value = payload.get(field)
    return None if value is None else parse_string(value, field)


def string_list(payload: Mapping[str, Any], field: str) -> list[str]:
    """A repeated string field; a lone string counts as a list of one."""
    value = payload.get(field)
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    if not isinstance(value, list):
        raise InvalidParameterValue(invalid_message(field, value))
    return [parse_string(item, f"{field}[{i}]") for i, item in enumerate(value)]


def object_list(payload: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """A repeated message field: a list of JSON objects."""
    value = payload.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameterValue(invalid_message(field, value))
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidParameterValue(invalid_message(f"{field}[{i}]", item))
    return value


def run_id_from(payload: Mapping[str, Any]) -> str:
    """The run id of a request: ``run_id``, else the legacy ``run_uuid``."""
    value = payload.get("run_id") or payload.get("run_uuid")
    if value is None or value == "":
        raise InvalidParameterValue(missing_message("run_id"))
    return parse_string(value, "run_id")


def parse_view_type(value: object, field: str = "view_type") -> ViewType:
    """A ViewType by name (``ACTIVE_ONLY``) or proto number (1, 2, 3); absent -> ACTIVE_ONLY."""
    if value is None or value == "":
        return ViewType.ACTIVE_ONLY
    by_number = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in by_number:
        return by_number[value]
    if isinstance(value, str):
        try:
            return ViewType(value.strip().upper())
        except ValueError:
            pass
    raise InvalidParameterValue(invalid_message(field, value))


def parse_run_status(value: object) -> RunStatus | None:
    """A RunStatus by name or number; an unknown value gives None (MLflow leaves it unchanged)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return RunStatus.from_number(value)
        except ValueError:
            return None
    if isinstance(value, str):
        try:
            return RunStatus(value.strip().upper())
        except ValueError:
            return None
    return None


def parse_model_status(value: object) -> LoggedModelStatus:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, 2, 3):
        return LoggedModelStatus.from_number(value)
    if isinstance(value, str):
        try:
            return LoggedModelStatus(value.strip().upper())
        except ValueError:
            pass
    raise InvalidParameterValue(invalid_message("status", value))


# ---- key/value lists ----------------------------------------------------------------------------
def key_values_to_json(mapping: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def key_values_from_json(items: object, field: str = "tags") -> list[tuple[str, str]]:
    """``[{"key": k, "value": v}, ...]`` -> ``[(k, v), ...]``; a missing value is ``""``."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidParameterValue(invalid_message(field, items))
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidParameterValue(invalid_message(f"{field}[{i}]", item))
        key = item.get("key")
        if key is None or key == "":
            raise InvalidParameterValue(missing_message(f"{field}[{i}].key"))
        value = item.get("value")
        pairs.append(
            (
                parse_string(key, f"{field}[{i}].key"),
                "" if value is None else parse_string(value, f"{field}[{i}].value"),
            )
        )
    return pairs


def _drop_empty(obj: Json) -> Json:
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != {}}


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


# ---- metrics ------------------------------------------------------------------------------------
def metric_to_json(metric: Metric, *, with_run_id: bool = False) -> Json:
    """A metric point; ``run_id`` only where MLflow sends it (bulk history, model metrics).

    Built field by field rather than through ``_drop_empty``: a history page holds up to 25,000
    points and this is the server's hottest serialisation path. Same fields, same order.
    """
    obj: Json = {
        "key": metric.key,
        "value": format_double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.timestamp is None or metric.step is None or metric.key is None:
        obj = _drop_empty(obj)
    if with_run_id and metric.run_id is not None:
        obj["run_id"] = metric.run_id
    if metric.model_id is not None:
        obj["model_id"] = metric.model_id
    if metric.dataset_name is not None:
        obj["dataset_name"] = metric.dataset_name
    if metric.dataset_digest is not None:
        obj["dataset_digest"] = metric.dataset_digest
    return obj


def history_rows_to_json(key: str, rows: Sequence[HistoryRow]) -> list[Json]:
    """``metric_to_json`` of each point of a history read as bare rows: the same fields in the
    same order, without building a ``Metric`` per point (a page holds up to 25,000)."""
    out = []
    for value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest in rows:
        obj: Json = {
            "key": key,
            "value": "NaN" if is_nan else (value if value - value == 0.0 else format_double(value)),
            "timestamp": timestamp,
            "step": step,
        }
        if model_id is not None:
            obj["model_id"] = model_id
        if dataset_name is not None:
            obj["dataset_name"] = dataset_name
        if dataset_digest is not None:
            obj["dataset_digest"] = dataset_digest
        out.append(obj)
    return out


_PLAIN_METRIC_FIELDS = frozenset(("key", "value", "timestamp", "step"))


def metric_from_json(obj: Mapping[str, Any], field: str = "", run_id: str | None = None) -> Metric:
    """One metric of a request (``field`` prefixes error names, e.g. ``metrics[0].``)."""
    if type(obj) is dict and obj.keys() <= _PLAIN_METRIC_FIELDS:
        # The shape clients send (up to 1000 per log-batch): exact JSON types need no parsing.
        key, value, timestamp = obj.get("key"), obj.get("value"), obj.get("timestamp")
        step = obj.get("step", 0)
        if (
            type(key) is str
            and key
            and type(value) is float
            and type(timestamp) is int
            and type(step) is int
        ):
            return Metric(key, value, timestamp, step, run_id)
    if not isinstance(obj, Mapping):
        raise InvalidParameterValue(invalid_message(field.rstrip(".") or "metric", obj))
    key = _required(obj, "key", field)
    value = _required(obj, "value", field)
    timestamp = _required(obj, "timestamp", field)
    step = obj.get("step")
    return Metric(
        key=parse_string(key, f"{field}key"),
        value=parse_double(value, f"{field}value"),
        timestamp=parse_int(timestamp, f"{field}timestamp"),
        step=0 if step is None or step == "" else parse_int(step, f"{field}step"),
        run_id=optional_string(obj, "run_id") or run_id,
        model_id=optional_string(obj, "model_id") or None,
        dataset_name=optional_string(obj, "dataset_name") or None,
        dataset_digest=optional_string(obj, "dataset_digest") or None,
    )


def _required(obj: Mapping[str, Any], name: str, prefix: str) -> Any:
    value = obj.get(name)
    if value is None or value == "":
        raise InvalidParameterValue(missing_message(f"{prefix}{name}"))
    return value


# ---- runs ---------------------------------------------------------------------------------------
def run_info_to_json(info: RunInfo) -> Json:
    # Every field is a string or a number here, so dropping the unset ones is ``None`` checks.
    obj = {
        "run_uuid": info.run_id,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": str(info.status),
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": str(info.lifecycle_stage),
    }
    if None in obj.values():
        return {k: v for k, v in obj.items() if v is not None}
    return obj


def run_info_from_json(obj: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=obj.get("run_id") or obj["run_uuid"],
        experiment_id=str(obj.get("experiment_id", "")),
        run_name=obj.get("run_name", ""),
        user_id=obj.get("user_id", ""),
        status=parse_run_status(obj.get("status", "RUNNING")) or RunStatus.RUNNING,
        start_time=optional_int(obj, "start_time"),
        end_time=optional_int(obj, "end_time"),
        artifact_uri=obj.get("artifact_uri", ""),
        lifecycle_stage=LifecycleStage(obj.get("lifecycle_stage", "active")),
    )


def _latest_per_key(metrics: Iterable[Metric]) -> list[Metric]:
    latest: dict[str, Metric] = {}
    for metric in metrics:
        current = latest.get(metric.key)
        if current is None or _order(metric) > _order(current):
            latest[metric.key] = metric
    return list(latest.values())


def _order(metric: Metric) -> tuple[int, int, float]:
    value = metric.value
    return (metric.step, metric.timestamp, -math.inf if math.isnan(value) else value)


def dataset_input_to_json(item: DatasetInput) -> Json:
    dataset = item.dataset
    return _drop_empty(
        {
            "tags": key_values_to_json(item.tags),
            "dataset": _drop_empty(
                {
                    "name": dataset.name,
                    "digest": dataset.digest,
                    "source_type": dataset.source_type,
                    "source": dataset.source,
                    "schema": dataset.schema,
                    "profile": dataset.profile,
                }
            ),
        }
    )


def dataset_input_from_json(obj: Mapping[str, Any], field: str = "datasets[0]") -> DatasetInput:
    if not isinstance(obj, Mapping):
        raise InvalidParameterValue(invalid_message(field, obj))
    dataset = obj.get("dataset")
    if not isinstance(dataset, Mapping):
        raise InvalidParameterValue(missing_message(f"{field}.dataset"))
    prefix = f"{field}.dataset."
    return DatasetInput(
        dataset=Dataset(
            name=parse_string(_required(dataset, "name", prefix), f"{prefix}name"),
            digest=parse_string(_required(dataset, "digest", prefix), f"{prefix}digest"),
            source_type=optional_string(dataset, "source_type") or "",
            source=optional_string(dataset, "source") or "",
            schema=optional_string(dataset, "schema"),
            profile=optional_string(dataset, "profile"),
        ),
        tags=dict(key_values_from_json(obj.get("tags"), f"{field}.tags")),
    )


def run_inputs_to_json(inputs: RunInputs) -> Json:
    return _drop_empty(
        {
            "dataset_inputs": [dataset_input_to_json(d) for d in inputs.dataset_inputs],
            "model_inputs": [{"model_id": m.model_id} for m in inputs.model_inputs],
        }
    )


def run_outputs_to_json(outputs: RunOutputs) -> Json:
    return _drop_empty(
        {"model_outputs": [{"model_id": m.model_id, "step": m.step} for m in outputs.model_outputs]}
    )


def run_to_json(run: Run) -> Json:
    """A run as ``runs/get`` returns it; ``data.metrics`` holds the latest point per key.

    Built directly rather than through ``_drop_empty``: a search page holds up to 1000 runs
    with their metrics, params and tags. Same fields, same order as the generic helpers give.
    """
    data: Json = {}
    metrics = [_plain_metric_json(m) for m in _latest_per_key(run.data.metric_list)]
    if metrics:
        data["metrics"] = metrics
    params = run.data.params
    if params:
        data["params"] = [{"key": k, "value": v} for k, v in params.items()]
    tags = run.data.tags
    if tags:
        data["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    inputs = run.inputs
    outputs = run.outputs
    return {
        "info": run_info_to_json(run.info),
        "data": data,
        "inputs": run_inputs_to_json(inputs)
        if inputs.dataset_inputs or inputs.model_inputs
        else {},
        "outputs": run_outputs_to_json(outputs) if outputs.model_outputs else {},
    }


def _plain_metric_json(metric: Metric) -> Json:
    """``metric_to_json`` without the run id, inlined for the common fully-set point."""
    if (
        metric.model_id is None
        and metric.dataset_name is None
        and metric.dataset_digest is None
        and metric.timestamp is not None
        and metric.step is not None
        and metric.key is not None
    ):
        value = metric.value
        return {
            "key": metric.key,
            "value": value if value - value == 0.0 else format_double(value),
            "timestamp": metric.timestamp,
            "step": metric.step,
        }
    return metric_to_json(metric)


def run_from_json(obj: Mapping[str, Any]) -> Run:
    data = obj.get("data") or {}
    inputs = obj.get("inputs") or {}
    outputs = obj.get("outputs") or {}
    return Run(
        info=run_info_from_json(obj["info"]),
        data=RunData(
            metric_list=tuple(
                metric_from_json(m, f"metrics[{i}].") for i, m in enumerate(data.get("metrics", []))
            ),
            params=dict(key_values_from_json(data.get("params"), "params")),
            tags=dict(key_values_from_json(data.get("tags"), "tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=tuple(
                dataset_input_from_json(d, f"dataset_inputs[{i}]")
                for i, d in enumerate(inputs.get("dataset_inputs", []))
            ),
            model_inputs=tuple(ModelInput(m["model_id"]) for m in inputs.get("model_inputs", [])),
        ),
        outputs=RunOutputs(
            model_outputs=tuple(
                ModelOutput(m["model_id"], parse_int(m.get("step", 0), "step"))
                for m in outputs.get("model_outputs", [])
            )
        ),
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


__all__ = [
    "dataset_input_from_json",
    "dataset_input_to_json",
    "experiment_from_json",
    "experiment_to_json",
    "file_info_from_json",
    "file_info_to_json",
    "format_double",
    "invalid_message",
    "key_values_from_json",
    "key_values_to_json",
    "logged_model_from_json",
    "logged_model_to_json",
    "metric_from_json",
    "metric_to_json",
    "missing_message",
    "object_list",
    "optional_int",
    "optional_string",
    "page_to_json",
    "parse_double",
    "parse_int",
    "parse_model_status",
    "parse_run_status",
    "parse_string",
    "parse_view_type",
    "require_field",
    "run_from_json",
    "run_id_from",
    "run_info_from_json",
    "run_info_to_json",
    "run_inputs_to_json",
    "run_outputs_to_json",
    "run_to_json",
    "string_list",
]
