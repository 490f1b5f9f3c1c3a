"""Evaluate parsed filters and orderings on entities in Python (the file store's search).

Semantics, shared with the SQL store's compiled queries:

* A metric compares by the run's latest value (greatest ``(step, timestamp, value)``).
* A key the run lacks never matches, except ``IS NULL`` (so ``!=`` and ``NOT IN`` on a missing
  key are false, as in SQL). A NaN metric satisfies only ``!=``.
* ``LIKE`` is case-sensitive with ``%`` (any run) and ``_`` (one character); ``ILIKE`` ignores
  case. There is no escape character.
* Ordering: within each key, entities with a value come first, then NaN, then those lacking the
  key, in both directions. Runs then fall back to ``start_time DESC`` (unless already ordered by
  it) and ``run_id ASC``; experiments default to ``creation_time DESC`` and break ties by
  ``experiment_id`` (as numbers).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from runyard import tags as system_tags
from runyard.entities import Experiment, Run
from runyard.search.ast import (
    EXPERIMENT_NUMERIC_ATTRIBUTES,
    RUN_NUMERIC_ATTRIBUTES,
    And,
    Comparison,
    Expr,
    Identifier,
    Or,
    OrderKey,
)

__all__ = [
    "DATASET_CONTEXT_TAG",
    "DEFAULT_VERSION_ORDER",
    "latest_metrics",
    "like_to_regex",
    "matches",
    "matches_experiment",
    "matches_model_version",
    "matches_registered_model",
    "sort_experiments",
    "sort_model_versions",
    "sort_registered_models",
    "sort_runs",
]

#: The dataset input tag holding the dataset's context (``training``, ``eval``...).
DATASET_CONTEXT_TAG = system_tags.DATASET_CONTEXT
_RUN_NAME_TAG = system_tags.RUN_NAME
#: MLflow's clients add ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every registered-model
#: search; a model without the tag is not a prompt, so it reads as "false".
PROMPT_TAG = "mlflow.prompt.is_prompt"
#: Registry filter attributes that name a differently called field.
_REGISTRY_FIELDS = {"source_path": "source", "version_number": "version"}

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "LIKE": lambda value, pattern: like_to_regex(pattern, True).fullmatch(value) is not None,
    "ILIKE": lambda value, pattern: like_to_regex(pattern, False).fullmatch(value) is not None,
    "IN": lambda value, options: value in options,
    "NOT IN": lambda value, options: value not in options,
}


@functools.lru_cache(maxsize=256)
def like_to_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """A regex for SQL ``LIKE`` ``pattern``; use ``fullmatch``. ``%`` is any run of characters
    (newlines included) and ``_`` exactly one; everything else is literal."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile("".join(parts), flags)


def latest_metrics(run: Run) -> dict[str, float]:
    """Each metric key's latest value: the point with the greatest (step, timestamp, value)."""
    latest: dict[str, tuple[tuple[int, int, float], float]] = {}
    for metric in run.data.metric_list:
        order = metric.order_key
        current = latest.get(metric.key)
        if current is None or _order_after(order, current[0]):
            latest[metric.key] = (order, metric.value)
    return {key: value for key, (_, value) in latest.items()}


def _order_after(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    # NaN values compare as neither greater nor smaller; a NaN only wins an exact (step, ts) tie
    # against another NaN, which changes nothing.
    return a[:2] > b[:2] or (a[:2] == b[:2] and a[2] > b[2])


# -- filters ----------------------------------------------------------------------------------


def matches(expr: Expr | None, run: Run) -> bool:
    """Whether ``run`` satisfies the parsed ``search_runs`` filter (None matches all)."""
    return evaluate_tree(expr, lambda comp: _run_comparison(comp, run, _lazy_metrics(run)))


def matches_experiment(expr: Expr | None, exp: Experiment) -> bool:
    """Whether ``exp`` satisfies the parsed ``search_experiments`` filter."""
    return evaluate_tree(expr, lambda comp: compare_value(comp, _experiment_value(exp, comp.ident)))


def evaluate_tree(expr: Expr | None, leaf: Callable[[Comparison], bool]) -> bool:
    """``expr``'s truth, with ``leaf`` deciding each comparison (None is true)."""
    if expr is None:
        return True
    if isinstance(expr, Comparison):
        return leaf(expr)
    if isinstance(expr, And):
        return all(evaluate_tree(item, leaf) for item in expr.items)
    if isinstance(expr, Or):
        return any(evaluate_tree(item, leaf) for item in expr.items)
    raise TypeError(f"not a filter node: {expr!r}")


def _lazy_metrics(run: Run) -> Callable[[], dict[str, float]]:
    return functools.cache(lambda: latest_metrics(run))


def _run_comparison(comp: Comparison, run: Run, metrics: Callable[[], dict[str, float]]) -> bool:
    ident = comp.ident
    if ident.entity == "dataset":
        return any(compare_value(comp, value) for value in _dataset_values(run, ident.key))
    if ident.entity == "metric":
        return compare_value(comp, metrics().get(ident.key))
    return compare_value(comp, _run_value(run, ident))


def compare_value(comp: Comparison, value: Any) -> bool:
    """Whether ``value`` (None: the entity has none) satisfies one comparison."""
    if comp.op == "IS NULL":
        return value is None
    if comp.op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    return _OPERATORS[comp.op](value, comp.value)


def _run_value(run: Run, ident: Identifier) -> Any:
    """The run's value for a param, tag or attribute; None when it has none."""
    if ident.entity == "param":
        return run.data.params.get(ident.key)
    if ident.entity == "tag":
        return run.data.tags.get(ident.key)
    if ident.key == "run_name" and run.info.run_name is None:
        return run.data.tags.get(_RUN_NAME_TAG)
    value = getattr(run.info, ident.key)
    if value is None or ident.key in RUN_NUMERIC_ATTRIBUTES:
        return value
    return str(value)


def _dataset_values(run: Run, key: str) -> list[str]:
    values: list[str] = []
    for dataset_input in run.inputs.dataset_inputs:
        if key == "context":
            context = dataset_input.tags.get(DATASET_CONTEXT_TAG)
            if context is not None:
                values.append(context)
        else:
            values.append(getattr(dataset_input.dataset, key))
    return values


def _experiment_value(exp: Experiment, ident: Identifier) -> Any:
    if ident.entity == "tag":
        return exp.tags.get(ident.key)
    value = getattr(exp, ident.key)
    if value is None or ident.key in EXPERIMENT_NUMERIC_ATTRIBUTES:
        return value
    return str(value)


def matches_registered_model(expr: Expr | None, model: Any) -> bool:
    """Whether a ``RegisteredModel`` satisfies a ``search_registered_models`` filter."""
    return evaluate_tree(expr, lambda comp: compare_value(comp, _registry_value(model, comp.ident)))


def matches_model_version(expr: Expr | None, version: Any) -> bool:
    """Whether a ``ModelVersion`` satisfies a ``search_model_versions`` filter."""
    return evaluate_tree(
        expr, lambda comp: compare_value(comp, _registry_value(version, comp.ident))
    )


def _registry_value(entity: Any, ident: Identifier) -> Any:
    if ident.entity == "tag":
        value = entity.tags.get(ident.key)
        return "false" if value is None and ident.key == PROMPT_TAG else value
    return getattr(entity, _REGISTRY_FIELDS.get(ident.key, ident.key))


# -- ordering ---------------------------------------------------------------------------------

T = TypeVar("T")
_HAS_VALUE, _IS_NAN, _MISSING = 0, 1, 2
_RUN_START = OrderKey(Identifier("attribute", "start_time"), ascending=False)
_RUN_ID = OrderKey(Identifier("attribute", "run_id"), ascending=True)
_EXP_CREATED = OrderKey(Identifier("attribute", "creation_time"), ascending=False)
_EXP_ID = OrderKey(Identifier("attribute", "experiment_id"), ascending=True)
_MODEL_NAME = OrderKey(Identifier("attribute", "name"), ascending=True)
_VERSION_NUMBER = OrderKey(Identifier("attribute", "version_number"), ascending=False)
#: ``search_model_versions`` without ``order_by``: most recently updated first (MLflow's SQL
#: store), then the tie-breakers.
DEFAULT_VERSION_ORDER = (OrderKey(Identifier("attribute", "last_updated_timestamp"), False),)


def sort_runs(runs: Iterable[Run], order_keys: Sequence[OrderKey]) -> list[Run]:
    """``runs`` in the order ``search_runs`` returns them for ``order_keys``."""
    keys = list(order_keys)
    if not any(key.ident == _RUN_START.ident for key in keys):
        keys.append(_RUN_START)
    keys.append(_RUN_ID)

    metrics: dict[int, dict[str, float]] = {}

    def sort_value(run: Run, ident: Identifier) -> Any:
        if ident.entity == "metric":
            if id(run) not in metrics:
                metrics[id(run)] = latest_metrics(run)
            return metrics[id(run)].get(ident.key)
        return _run_value(run, ident)

    return _sort(runs, keys, sort_value)


def sort_experiments(
    exps: Iterable[Experiment], order_keys: Sequence[OrderKey]
) -> list[Experiment]:
    """``exps`` in the order ``search_experiments`` returns them for ``order_keys``."""
    keys = list(order_keys) or [_EXP_CREATED]
    if not any(key.ident == _EXP_ID.ident for key in keys):
        keys.append(_EXP_ID)

    def sort_value(exp: Experiment, ident: Identifier) -> Any:
        value = _experiment_value(exp, ident)
        if ident.key == "experiment_id" and value is not None:
            return _numeric_id(value)
        return value

    return _sort(exps, keys, sort_value)


def sort_registered_models(models: Iterable[T], order_keys: Sequence[OrderKey]) -> list[T]:
    """Registered models in ``search_registered_models`` order: the caller's keys, then name."""
    keys = list(order_keys)
    if not any(key.ident == _MODEL_NAME.ident for key in keys):
        keys.append(_MODEL_NAME)
    return _sort(models, keys, _registry_value)


def sort_model_versions(versions: Iterable[T], order_keys: Sequence[OrderKey]) -> list[T]:
    """Versions in ``search_model_versions`` order: the caller's keys (or
    ``DEFAULT_VERSION_ORDER``), then name ascending and version number descending (MLflow's
    tie-breakers)."""
    keys = list(order_keys or DEFAULT_VERSION_ORDER)
    for fallback in (_MODEL_NAME, _VERSION_NUMBER):
        if not any(key.ident == fallback.ident for key in keys):
            keys.append(fallback)
    return _sort(versions, keys, _registry_value)


def _numeric_id(experiment_id: str) -> tuple[int, int | str]:
    """Numeric ids sort as numbers, before any non-numeric id (which sort as text)."""
    return (0, int(experiment_id)) if experiment_id.isdigit() else (1, experiment_id)


def _sort(
    items: Iterable[T], keys: list[OrderKey], value: Callable[[T, Identifier], Any]
) -> list[T]:
    def ranked(item: T) -> list[tuple[int, Any]]:
        ranks = []
        for key in keys:
            v = value(item, key.ident)
            if v is None:
                ranks.append((_MISSING, None))
            elif isinstance(v, float) and math.isnan(v):
                ranks.append((_IS_NAN, None))
            else:
                ranks.append((_HAS_VALUE, v))
        return ranks

    def compare(a: list[tuple[int, Any]], b: list[tuple[int, Any]]) -> int:
        for key, (rank_a, va), (rank_b, vb) in zip(keys, a, b, strict=True):
            if rank_a != rank_b:
                return -1 if rank_a < rank_b else 1
            if rank_a == _HAS_VALUE and va != vb:
                smaller = va < vb
                return (-1 if smaller else 1) * (1 if key.ascending else -1)
        return 0

    decorated = [(ranked(item), item) for item in items]
    decorated.sort(key=functools.cmp_to_key(lambda x, y: compare(x[0], y[0])))
    return [item for _, item in decorated]
