"""``search_logged_models`` filters: MLflow 3's language over a logged model's attributes,
metrics, params and tags, parsed once (``parse_logged_model_filter``) and evaluated here for
the file store; the SQL store turns the same tree into SQL (``store/sql/logged_model_search.py``).

As in MLflow, a metric clause holds when any logged point of that metric satisfies it, on one
of the searched datasets when some are given. A status is written in full
(``LOGGED_MODEL_READY``) or short (``READY``); the parser makes every one full
(``with_full_statuses``), so both stores compare one form.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from runyard.entities import LoggedModel, LoggedModelStatus, Metric
from runyard.search.ast import And, Comparison, Expr, Or
from runyard.search.evaluate import compare_value, evaluate_tree

#: ``(dataset_name, dataset_digest)`` pairs a search is limited to.
Datasets = Sequence[tuple[str, str | None]]
_STATUS_PREFIX = "LOGGED_MODEL_"
_STATUSES = frozenset(status.value for status in LoggedModelStatus)


def with_full_statuses(expr: Expr | None) -> Expr | None:
    """``expr`` with each status named in full (``READY`` -> ``LOGGED_MODEL_READY``)."""
    if expr is None:
        return None
    if isinstance(expr, And | Or):
        return type(expr)(tuple(with_full_statuses(item) for item in expr.items))  # type: ignore[misc]
    if expr.ident.entity != "attribute" or expr.ident.key != "status":
        return expr
    value = expr.value
    if isinstance(value, tuple):
        return dataclasses.replace(expr, value=tuple(_full_status(v) for v in value))
    return dataclasses.replace(expr, value=_full_status(value) if isinstance(value, str) else value)


def _full_status(name: str) -> str:
    full = name if name.startswith(_STATUS_PREFIX) else _STATUS_PREFIX + name
    return full if full in _STATUSES else name


def on_datasets(point: Metric, datasets: Datasets | None) -> bool:
    """Whether a model's metric point was logged on one of ``datasets`` (all when None); as in
    MLflow, the name and the digest must both match (a digest of None matches none logged)."""
    if not datasets:
        return True
    return any(
        point.dataset_name == name and point.dataset_digest == digest for name, digest in datasets
    )


def matches_logged_model(
    expr: Expr | None, model: LoggedModel, datasets: Datasets | None = None
) -> bool:
    """Whether ``model`` satisfies the parsed filter (see the module's docstring)."""
    return evaluate_tree(expr, lambda comp: _model_comparison(comp, model, datasets))


def _model_comparison(comp: Comparison, model: LoggedModel, datasets: Datasets | None) -> bool:
    ident = comp.ident
    if ident.entity == "metric":
        return any(
            compare_value(comp, point.value)
            for point in model.metrics
            if point.key == ident.key
            and point.value == point.value
            and on_datasets(point, datasets)
        )
    if ident.entity == "param":
        return compare_value(comp, model.params.get(ident.key))
    if ident.entity == "tag":
        return compare_value(comp, model.tags.get(ident.key))
    value = getattr(model, ident.key)
    if isinstance(value, LoggedModelStatus):
        value = value.value
    return compare_value(comp, value)


def latest_metric_value(
    model: LoggedModel,
    key: str,
    dataset_name: str | None = None,
    dataset_digest: str | None = None,
) -> float | None:
    """What ordering by ``metrics.<key>`` sorts on, as MLflow does: the value of the model's
    latest point of the metric (newest timestamp, then highest step, then first run id), among
    the points on the dataset named (by name, by digest, or both) when one is; None when it has
    none, or when that point is NaN (such models sort last either way)."""
    points = [
        p
        for p in model.metrics
        if p.key == key
        and (not dataset_name or p.dataset_name == dataset_name)
        and (not dataset_digest or p.dataset_digest == dataset_digest)
    ]
    if not points:
        return None
    latest = min(points, key=lambda p: (-p.timestamp, -p.step, p.run_id or ""))
    return None if math.isnan(latest.value) else latest.value
