"""The search filter AST compiled to SQL: one query per page, whatever the filter.

Each comparison becomes a predicate on the run row, an IN subquery against params, tags or
metric_summaries (metric filters look at the latest value) or an EXISTS against inputs, so AND,
OR and nesting compose freely and no run is ever loaded to be tested in Python. Each
``order_by`` key becomes a LEFT JOIN on that one key; missing values sort last and NaN after
values, in both directions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from runyard import tags as system_tags
from runyard.errors import InvalidFilter
from runyard.search.ast import And, Comparison, Expr, Identifier, Or, OrderKey
from runyard.store.sql import models as m

_RUN_ATTRIBUTE_COLUMNS = {
    "run_id": m.runs.c.run_uuid,
    "run_uuid": m.runs.c.run_uuid,
    "run_name": m.runs.c.name,
    "status": m.runs.c.status,
    "user_id": m.runs.c.user_id,
    "artifact_uri": m.runs.c.artifact_uri,
    "start_time": m.runs.c.start_time,
    "end_time": m.runs.c.end_time,
    "lifecycle_stage": m.runs.c.lifecycle_stage,
    "experiment_id": m.runs.c.experiment_id,
}
_EXPERIMENT_ATTRIBUTE_COLUMNS = {
    "name": m.experiments.c.name,
    "experiment_id": m.experiments.c.experiment_id,
    "creation_time": m.experiments.c.creation_time,
    "last_update_time": m.experiments.c.last_update_time,
}
_DATASET_CONTEXT_TAG = system_tags.DATASET_CONTEXT


def compare(column: ColumnElement, op: str, value: object) -> ColumnElement[bool]:
    """``column op value`` with MLflow's meaning of each comparator."""
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":  # case-sensitive on both engines (SQLite: PRAGMA case_sensitive_like)
        return column.like(value)
    if op == "ILIKE":
        return sa.func.lower(column).like(sa.func.lower(sa.literal(value)))
    if op == "IN":
        return column.in_(list(value))  # type: ignore[arg-type]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[arg-type]
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    raise InvalidFilter(f"Invalid comparator '{op}'")


# ---- runs ------------------------------------------------------------------------------------
def run_filter(expr: Expr | None, correlated: bool = False) -> ColumnElement[bool]:
    """A WHERE clause over ``runs`` for a parsed filter (true when there is none).

    ``correlated``: conditions on params, tags and metrics are EXISTS subqueries probed once per
    run through the run's own rows, instead of IN sets of every matching row; cheaper when a
    query reads only a bounded window of runs (``probe_window``)."""
    if expr is None:
        return sa.true()
    if isinstance(expr, And):
        return sa.and_(*(run_filter(item, correlated) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(run_filter(item, correlated) for item in expr.items))
    return _run_comparison(expr, correlated)


def _run_comparison(node: Comparison, correlated: bool) -> ColumnElement[bool]:
    ident, op, value = node.ident, node.op, node.value
    among = _runs_probed if correlated else _runs_among
    if ident.entity == "metric":
        s = m.metric_summaries.alias()
        where = [s.c.key == ident.key]
        if op in ("IS NULL", "IS NOT NULL"):
            return among(s, where, negate=op == "IS NULL")
        number = float(value)  # type: ignore[arg-type]
        if op == "!=":  # NaN differs from every number
            where.append(sa.or_(s.c.is_nan.is_(True), s.c.value != number))
        else:
            where += [s.c.is_nan.is_(False), compare(s.c.value, op, number)]
        return among(s, where)
    if ident.entity in ("param", "tag"):
        table = (m.params if ident.entity == "param" else m.tags).alias()
        where = [table.c.key == ident.key]
        if op == "IS NULL":
            return among(table, where, negate=True)
        if op == "=" and isinstance(value, str):
            where.append(value_equals(table.c.value, sa.literal(value, sa.Text)))
        elif op != "IS NOT NULL":
            where.append(compare(table.c.value, op, value))
        return among(table, where)
    if ident.entity == "attribute":
        column = _RUN_ATTRIBUTE_COLUMNS.get(ident.key)
        if column is None:
            raise InvalidFilter(f"Invalid attribute key '{ident.key}' specified.")
        if ident.key in ("start_time", "end_time") and isinstance(value, float):
            value = int(value) if value.is_integer() else value
        return compare(column, op, value)
    if ident.entity == "dataset":
        return _dataset_comparison(ident, op, value)
    raise InvalidFilter(f"Invalid entity type '{ident.entity}'")


def value_equals(column: ColumnElement, value: ColumnElement) -> ColumnElement[bool]:
    """``column = value``; on Postgres ``md5(column) = md5(value)`` first, so the planner can use
    the (key, md5(value)) indexes of params and tags (migration 0004). The plain comparison
    stays, so a hash collision cannot match. Both are comparisons, so SQLite (which repeats the
    plain one) reads its (key, value) index: a boolean-typed function here was rendered as
    ``value = 'v' = 1``, which no index serves."""
    return sa.and_(_hashed(column) == _hashed(value), column == value)


class _hashed(FunctionElement):
    """``md5(x)`` on Postgres, ``x`` itself elsewhere."""

    type = sa.Text()
    inherit_cache = True
    name = "runyard_hashed"


@compiles(_hashed)
def _hashed_plain(element: _hashed, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(_hashed, "postgresql")
def _hashed_md5(element: _hashed, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"md5({compiler.process(next(iter(element.clauses)), **kw)})"


def _runs_among(table: sa.FromClause, where: list, negate: bool = False) -> ColumnElement[bool]:
    """``runs.run_uuid [NOT] IN (SELECT run_uuid FROM table WHERE ...)``: the same rows as a
    correlated EXISTS, but SQLite can then read the matching rows through a (key, value) index
    instead of probing the subquery once per run of the experiment."""
    chosen = sa.select(table.c.run_uuid).where(*where)
    column = m.runs.c.run_uuid
    return column.not_in(chosen) if negate else column.in_(chosen)


def _runs_probed(table: sa.FromClause, where: list, negate: bool = False) -> ColumnElement[bool]:
    """``[NOT] EXISTS (SELECT 1 FROM table WHERE run_uuid = runs.run_uuid AND ...)``: the same
    rows as ``_runs_among``, read through the (run_uuid, key) key of the run being tested."""
    found = sa.exists().where(table.c.run_uuid == m.runs.c.run_uuid, *where)
    return ~found if negate else found


def _dataset_comparison(ident: Identifier, op: str, value: object) -> ColumnElement[bool]:
    ri = m.run_inputs.alias()
    where = [ri.c.run_uuid == m.runs.c.run_uuid, ri.c.input_type == "dataset"]
    if ident.key in ("name", "digest"):
        d = m.datasets.alias()
        where += [d.c.dataset_uuid == ri.c.input_id, compare(d.c[ident.key], op, value)]
    elif ident.key == "context":
        t = m.run_input_tags.alias()
        where += [
            t.c.run_uuid == ri.c.run_uuid,
            t.c.input_id == ri.c.input_id,
            t.c.key == _DATASET_CONTEXT_TAG,
            compare(t.c.value, op, value),
        ]
    else:
        raise InvalidFilter(
            f"Invalid dataset key '{ident.key}'. Valid keys are ['name', 'digest', 'context']"
        )
    return sa.exists().where(*where)


def run_order(
    select: sa.Select, order_keys: Sequence[OrderKey], from_clause: sa.FromClause = m.runs
) -> tuple[sa.Select, list[ColumnElement]]:
    """Add the joins ``order_keys`` need to ``select`` (over ``from_clause``, ``runs`` or a
    join that holds it) and return the ORDER BY terms, ending with start_time DESC and
    run_uuid ASC.

    Missing values go last as ``NULLS LAST``, not as a leading ``IS NULL`` term: an expression
    term makes the database sort every run of the experiment, while ``start_time DESC NULLS
    LAST`` is read in order from an index (SQLite's, whose DESC order already ends with NULLs,
    and Postgres' ``ix_runs_experiment_stage_start_desc``), so the first page of the default
    order does not grow with the experiment."""
    terms: list[ColumnElement] = []
    ordered_start_time = False
    for index, key in enumerate(order_keys):
        ident = key.ident
        if ident.entity == "metric":
            s = m.metric_summaries.alias(f"o{index}")
            from_clause = from_clause.outerjoin(
                s, sa.and_(s.c.run_uuid == m.runs.c.run_uuid, s.c.key == ident.key)
            )
            terms += [s.c.run_uuid.is_(None), s.c.is_nan, _direction(s.c.value, key.ascending)]
        elif ident.entity in ("param", "tag"):
            table = (m.params if ident.entity == "param" else m.tags).alias(f"o{index}")
            from_clause = from_clause.outerjoin(
                table, sa.and_(table.c.run_uuid == m.runs.c.run_uuid, table.c.key == ident.key)
            )
            terms.append(_direction(table.c.value, key.ascending).nulls_last())
        elif ident.entity == "attribute":
            column = _RUN_ATTRIBUTE_COLUMNS.get(ident.key)
            if column is None:
                raise InvalidFilter(f"Invalid order_by key 'attributes.{ident.key}'")
            ordered_start_time |= ident.key == "start_time"
            terms.append(_direction(column, key.ascending).nulls_last())
        else:
            raise InvalidFilter(f"Cannot order by entity '{ident.entity}'")
    if not ordered_start_time:
        terms.append(m.runs.c.start_time.desc().nulls_last())
    terms.append(m.runs.c.run_uuid.asc())
    return select.select_from(from_clause), terms


def _direction(column: ColumnElement, ascending: bool) -> ColumnElement:
    return column.asc() if ascending else column.desc()


# ---- experiments ----------------------------------------------------------------------------
def experiment_filter(expr: Expr | None) -> ColumnElement[bool]:
    if expr is None:
        return sa.true()
    if isinstance(expr, And):
        return sa.and_(*(experiment_filter(item) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(experiment_filter(item) for item in expr.items))
    ident, op, value = expr.ident, expr.op, expr.value
    if ident.entity == "tag":
        t = m.experiment_tags.alias()
        where = [t.c.experiment_id == m.experiments.c.experiment_id, t.c.key == ident.key]
        if op == "IS NULL":
            return ~sa.exists().where(*where)
        if op != "IS NOT NULL":
            where.append(compare(t.c.value, op, value))
        return sa.exists().where(*where)
    column = _EXPERIMENT_ATTRIBUTE_COLUMNS.get(ident.key)
    if ident.entity != "attribute" or column is None:
        raise InvalidFilter(f"Invalid attribute key '{ident.key}' specified.")
    if ident.key == "experiment_id":
        value = _experiment_ids(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return compare(column, op, value)


def _experiment_ids(value: object) -> object:
    """Experiment ids compare as integers; an id that is no integer matches nothing."""
    if isinstance(value, tuple):
        return tuple(int(v) for v in value if str(v).isdigit())
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return -1


def experiment_order(order_keys: Sequence[OrderKey]) -> list[ColumnElement]:
    terms: list[ColumnElement] = []
    seen_id = False
    for key in order_keys:
        column = _EXPERIMENT_ATTRIBUTE_COLUMNS.get(key.ident.key)
        if key.ident.entity != "attribute" or column is None:
            raise InvalidFilter(f"Invalid order_by clause '{key.ident.key}'")
        seen_id |= key.ident.key == "experiment_id"
        terms += [column.is_(None), _direction(column, key.ascending)]
    if not order_keys:
        terms.append(m.experiments.c.creation_time.desc())
    if not seen_id:
        terms.append(m.experiments.c.experiment_id.asc())
    return terms
