"""Turning what users pass into what stores accept, the way MLflow's client does.

Metric values become floats (from bools, numeric strings and numpy scalars), steps and
timestamps integers, params and tags strings (``runyard.batching`` packs them into requests).
Everything here raises ``InvalidParameterValue`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runyard.clock import now_ms
from runyard.entities import Metric, Param, RunTag
from runyard.errors import InvalidParameterValue
from runyard.validation import validate_key


def coerce_metric_value(key: str, value: Any) -> float:
    """bool, int, float, numeric strings and numpy scalars become floats; nothing else does."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    else:
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise InvalidParameterValue(
        f"Invalid value {value!r} for metric '{key}': expected a number, got "
        f"{type(value).__name__}."
    )


def coerce_int(key: str, what: str, value: Any) -> int:
    """Integers and integral numpy scalars; bools and floats are refused like MLflow does."""
    if isinstance(value, (bool, float)):
        raise InvalidParameterValue(f"Invalid {what} {value!r} for metric '{key}': expected int.")
    try:
        index = value.__index__()
    except (AttributeError, TypeError):
        raise InvalidParameterValue(
            f"Invalid {what} {value!r} for metric '{key}': expected an integer."
        ) from None
    return int(index)


def make_metric(
    key: str,
    value: Any,
    timestamp: Any = None,
    step: Any = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset_name: str | None = None,
    dataset_digest: str | None = None,
) -> Metric:
    """A checked point: the key is a valid name, the value a float, timestamp and step ints
    (what ``validation.validate_metric`` demands, established here once by construction)."""
    validate_key(key, "name")  # a known name is one set lookup (validation's cache)
    return Metric(
        key,
        value if value.__class__ is float else coerce_metric_value(key, value),
        now_ms() if timestamp is None else coerce_int(key, "timestamp", timestamp),
        0 if step is None else (step if step.__class__ is int else coerce_int(key, "step", step)),
        run_id,
        model_id,
        dataset_name,
        dataset_digest,
    )


def dataset_keys(dataset: Any) -> tuple[str | None, str | None]:
    """``(name, digest)`` of the dataset a metric was measured on (a runyard or an MLflow
    dataset), or ``(None, None)`` for none."""
    return (None, None) if dataset is None else (dataset.name, dataset.digest)


def coerce_metric(metric: Metric) -> Metric:
    return make_metric(
        metric.key,
        metric.value,
        metric.timestamp,
        metric.step,
        metric.run_id,
        metric.model_id,
        metric.dataset_name,
        metric.dataset_digest,
    )


def to_pairs(items: Mapping[str, Any] | Iterable[Any] | None, cls: type) -> list[Any]:
    """Params or tags from a dict, from entities, or from (key, value) pairs; values as str."""
    if items is None:
        return []
    if isinstance(items, Mapping):
        items = items.items()
    out = []
    for item in items:
        key, value = (item.key, item.value) if isinstance(item, (Param, RunTag)) else item
        out.append(cls(key, str(value)))
    return out
