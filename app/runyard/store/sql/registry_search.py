"""Registry searches compiled to SQL: the filter becomes one WHERE clause (tags as EXISTS
subqueries), the order one ORDER BY, the page LIMIT/OFFSET, so no model or version outside the
page is loaded. Semantics are those of ``runyard.search.evaluate`` (the file store's), which the
contract suite checks on both.
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from runyard import search
from runyard.registry.entities import STAGE_DELETED
from runyard.search.ast import And, Comparison, Expr, Identifier, Or, OrderKey
from runyard.search.evaluate import PROMPT_TAG
from runyard.store.sql import models as m
from runyard.store.sql.search import compare

_RM = m.registered_models.c
_MV = m.model_versions.c
_RMT = m.registered_model_tags.c
_MVT = m.model_version_tags.c

MODEL_COLUMNS = {
    "name": _RM.name,
    "creation_timestamp": _RM.creation_time,
    "last_updated_timestamp": _RM.last_updated_time,
}
VERSION_COLUMNS = {
    "name": _MV.name,
    "run_id": _MV.run_id,
    "source_path": _MV.source,
    "version_number": _MV.version,
    "creation_timestamp": _MV.creation_time,
    "last_updated_timestamp": _MV.last_updated_time,
}
_NO_TAGS = SimpleNamespace(tags={})
#: Tie-breakers after the caller's keys (MLflow's).
MODEL_FALLBACK = [OrderKey(Identifier("attribute", "name"), ascending=True)]
VERSION_FALLBACK = [*MODEL_FALLBACK, OrderKey(Identifier("attribute", "version_number"), False)]


def model_filter(expr: Expr | None) -> ColumnElement[bool]:
    """WHERE over ``registered_models`` for a parsed filter."""
    return _compile(expr, MODEL_COLUMNS, _model_tag)


def version_filter(expr: Expr | None) -> ColumnElement[bool]:
    """WHERE over ``model_versions`` for a parsed filter; deleted versions never match."""
    return sa.and_(
        _MV.current_stage != STAGE_DELETED, _compile(expr, VERSION_COLUMNS, _version_tag)
    )


def order_clauses(keys: list[OrderKey], columns: dict, fallbacks: list[OrderKey]) -> list:
    """ORDER BY for ``keys`` then each fallback not already named (MLflow's tie-breakers)."""
    named = {key.ident for key in keys}
    full = keys + [f for f in fallbacks if f.ident not in named]
    return [
        columns[k.ident.key].asc() if k.ascending else columns[k.ident.key].desc() for k in full
    ]


def _compile(expr: Expr | None, columns: dict, tag) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    if expr is None:
        return sa.true()
    if isinstance(expr, And):
        return sa.and_(*(_compile(item, columns, tag) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(_compile(item, columns, tag) for item in expr.items))
    assert isinstance(expr, Comparison)
    if expr.ident.entity == "tag":
        return tag(expr)
    value = int(expr.value) if expr.ident.key == "version_number" else expr.value  # type: ignore[arg-type]
    return compare(columns[expr.ident.key], expr.op, value)


def _tag_predicate(comp: Comparison, has_tag, tag_value) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """A tag comparison; a missing tag matches only IS NULL, except the prompt marker, which a
    model without it satisfies as ``"false"`` (``runyard.search.evaluate.PROMPT_TAG``)."""
    if comp.op == "IS NULL":
        return ~has_tag(None)
    if comp.op == "IS NOT NULL":
        return has_tag(None)
    matched = has_tag(compare(tag_value, comp.op, comp.value))
    if comp.ident.key == PROMPT_TAG and search.matches_registered_model(comp, _NO_TAGS):
        return sa.or_(matched, ~has_tag(None))
    return matched


def _model_tag(comp: Comparison) -> ColumnElement[bool]:
    def has_tag(condition: ColumnElement[bool] | None) -> ColumnElement[bool]:
        query = sa.select(1).where(_RMT.name == _RM.name, _RMT.key == comp.ident.key)
        return sa.exists(query if condition is None else query.where(condition))

    return _tag_predicate(comp, has_tag, _RMT.value)


def _version_tag(comp: Comparison) -> ColumnElement[bool]:
    def has_tag(condition: ColumnElement[bool] | None) -> ColumnElement[bool]:
        query = sa.select(1).where(
            _MVT.name == _MV.name, _MVT.version == _MV.version, _MVT.key == comp.ident.key
        )
        return sa.exists(query if condition is None else query.where(condition))

    return _tag_predicate(comp, has_tag, _MVT.value)
