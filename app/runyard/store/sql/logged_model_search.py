"""``search_logged_models`` filters and orders as SQL: the tree ``parse_logged_model_filter``
gives (the same the file store evaluates, ``runyard.search.logged_models``) over the logged
model's row, and ``EXISTS`` probes of its metrics, params and tags. A metric clause holds when
any logged point of the metric satisfies it, on one of the searched datasets when some are
given; ordering by a metric sorts on the model's latest value of it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from runyard import validation
from runyard.entities import ModelOrder
from runyard.search.ast import And, Comparison, Expr, Or
from runyard.search.logged_models import Datasets
from runyard.store.sql import models as m
from runyard.store.sql.search import compare

_LM = m.logged_models.c
_METRICS = m.logged_model_metrics.c
_PARAMS = m.logged_model_params.c
_TAGS = m.logged_model_tags.c
_ATTRIBUTE_COLUMNS = {
    "name": _LM.name,
    "model_id": _LM.model_id,
    "source_run_id": _LM.source_run_id,
    "status": _LM.status,
    "model_type": _LM.model_type,
    "creation_timestamp": _LM.creation_timestamp,
    "last_updated_timestamp": _LM.last_updated_timestamp,
}


def dataset_filter(datasets: Datasets | None) -> list[ColumnElement[bool]]:
    """Models with a metric logged on one of ``datasets``; as in MLflow, name and digest must
    both match (a digest of None matches metrics logged without one)."""
    if not datasets:
        return []
    return [sa.exists().where(_METRICS.model_id == _LM.model_id, _on_datasets(datasets))]


def _on_datasets(datasets: Datasets) -> ColumnElement[bool]:
    return sa.or_(
        *(
            sa.and_(_METRICS.dataset_name == name, _METRICS.dataset_digest == digest)
            for name, digest in datasets
        )
    )


def model_filter(expr: Expr | None, datasets: Datasets | None = None) -> ColumnElement[bool]:
    """The filter's condition on ``logged_models`` rows (true when there is no filter)."""
    if expr is None:
        return sa.true()
    return _condition(expr, datasets)


def _condition(expr: Expr, datasets: Datasets | None) -> ColumnElement[bool]:
    if isinstance(expr, And):
        return sa.and_(*(_condition(item, datasets) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(_condition(item, datasets) for item in expr.items))
    return _comparison(expr, datasets)


def _comparison(comp: Comparison, datasets: Datasets | None) -> ColumnElement[bool]:
    ident = comp.ident
    if ident.entity == "metric":
        where = [
            _METRICS.model_id == _LM.model_id,
            _METRICS.key == ident.key,
            _METRICS.is_nan.is_(False),
            compare(_METRICS.value, comp.op, comp.value),
        ]
        if datasets:
            where.append(_on_datasets(datasets))
        return sa.exists().where(*where)
    if ident.entity in ("param", "tag"):
        table = _PARAMS if ident.entity == "param" else _TAGS
        keyed = [table.model_id == _LM.model_id, table.key == ident.key]
        if comp.op == "IS NULL":
            return ~sa.exists().where(*keyed)
        if comp.op == "IS NOT NULL":
            return sa.exists().where(*keyed)
        return sa.exists().where(*keyed, compare(table.value, comp.op, comp.value))
    return compare(_ATTRIBUTE_COLUMNS[ident.key], comp.op, comp.value)


def model_order(order: ModelOrder) -> list[ColumnElement]:
    """ORDER BY terms for one ``order_by`` entry: an attribute's column, or for
    ``metrics.<key>`` the model's latest value of the metric (newest timestamp, then highest
    step, then first run, as MLflow), among its points on the entry's dataset when it names
    one; models without one (or whose latest is NaN) last."""
    field, ascending = order.field, order.ascending
    if not field.startswith(validation.METRIC_ORDER_PREFIX):
        column = _LM[field]
        return [column.asc() if ascending else column.desc()]
    on_dataset = []
    if order.dataset_name:
        on_dataset.append(_METRICS.dataset_name == order.dataset_name)
    if order.dataset_digest:
        on_dataset.append(_METRICS.dataset_digest == order.dataset_digest)
    latest = (
        sa.select(sa.case((_METRICS.is_nan, None), else_=_METRICS.value))
        .where(
            _METRICS.model_id == _LM.model_id,
            _METRICS.key == field.removeprefix(validation.METRIC_ORDER_PREFIX),
            *on_dataset,
        )
        .order_by(_METRICS.timestamp.desc(), _METRICS.step.desc(), _METRICS.run_uuid.asc())
        .limit(1)
        .scalar_subquery()
    )
    return [
        sa.case((latest.is_(None), 1), else_=0).asc(),
        latest.asc() if ascending else latest.desc(),
    ]
