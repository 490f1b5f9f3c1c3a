"""Runs and their parts (info, metrics, params, tags, dataset inputs, outputs) to and from
REST JSON; metrics are the server's hottest serialisation path."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runyard.entities import (
    Dataset,
    DatasetInput,
    HistoryRow,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from runyard.errors import InvalidParameterValue
from runyard.protocol.fields import (
    Json,
    _drop_empty,
    format_double,
    invalid_message,
    key_values_from_json,
    key_values_to_json,
    missing_message,
    optional_int,
    optional_string,
    parse_double,
    parse_int,
    parse_run_status,
    parse_string,
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


def history_rows_json_text(key: str, rows: Sequence[HistoryRow]) -> str:
    """The JSON array of ``metric_to_json`` of each point of a history read as bare rows, as
    text: the same fields in the same order, written straight out rather than built as a dict
    per point and encoded (a page holds up to 25,000 points; this takes half the time).
    A finite double's ``repr`` is its JSON spelling, as ``json.dumps`` writes it."""
    head = '{"key":' + json.dumps(key) + ',"value":'
    parts = []
    for value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest in rows:
        if is_nan:
            number = '"NaN"'
        elif value - value == 0.0:
            number = repr(value)
        else:
            number = json.dumps(format_double(value))
        extra = ""
        if model_id is not None:
            extra += ',"model_id":' + json.dumps(model_id)
        if dataset_name is not None:
            extra += ',"dataset_name":' + json.dumps(dataset_name)
        if dataset_digest is not None:
            extra += ',"dataset_digest":' + json.dumps(dataset_digest)
        parts.append(f'{head}{number},"timestamp":{int(timestamp)},"step":{int(step)}{extra}}}')
    return "[" + ",".join(parts) + "]"


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
