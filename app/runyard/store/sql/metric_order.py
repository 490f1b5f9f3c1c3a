"""A search page ordered first by a metric, read from the summaries' index in that order.

The general plan (``search.run_order``) joins every run of the experiment to its summary and
sorts them all for each page, so a page's time grows with the experiment. The search order puts
runs with a finite value first (by value), then those whose latest value is NaN, then those
without the metric; each of these three parts is a query on its own whose first sort term is
either the indexed value (``ix_metric_summaries_experiment_key_value``: experiment, key, is_nan,
value) or the runs' own order, so the database stops after the page instead of sorting the
experiment. A page reads the parts in turn until it is full.

Offsets stay the paging scheme (the token is MLflow's opaque offset): a page past a whole part
counts that part once, so deep pages cost what they cost before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from runyard.search.ast import OrderKey
from runyard.store.sql import models as m
from runyard.store.sql import search as sql_search

_R = m.runs.c


def applies(order_keys: Sequence[OrderKey]) -> bool:
    return bool(order_keys) and order_keys[0].ident.entity == "metric"


def search_page(
    conn: Connection,
    columns: Sequence[Any],
    run_where: Sequence[ColumnElement[bool]],
    experiment_ids: Sequence[int],
    order_keys: Sequence[OrderKey],
    limit: int,
    offset: int,
) -> list[Any]:
    """Up to ``limit`` rows of ``columns`` after ``offset``, for runs matching ``run_where``,
    in the order of ``order_keys`` (whose first key is a metric)."""
    first, rest = order_keys[0], order_keys[1:]
    rows: list[Any] = []
    skip = offset
    for part in parts(columns, run_where, experiment_ids, first, rest):
        need = limit - len(rows)
        if need <= 0:
            break
        found = conn.execute(part.limit(need).offset(skip)).all()
        if found:
            rows += found
            skip = 0
        elif skip:  # the offset lies past this part: skip the whole of it
            counted = part.order_by(None).with_only_columns(sa.func.count())
            skip = max(0, skip - int(conn.execute(counted).scalar_one()))
    return rows


def parts(
    columns: Sequence[Any],
    run_where: Sequence[ColumnElement[bool]],
    experiment_ids: Sequence[int],
    first: OrderKey,
    rest: Sequence[OrderKey],
) -> list[sa.Select]:
    """The finite values, the NaNs and the runs without the metric, each ordered."""
    s = m.metric_summaries.alias("first_metric")
    has_metric = [s.c.experiment_id.in_(experiment_ids), s.c.key == first.ident.key]
    joined = s.join(m.runs, _R.run_uuid == s.c.run_uuid)
    value = s.c.value.asc() if first.ascending else s.c.value.desc()

    def ordered(from_clause: sa.FromClause, where: list, leading: list) -> sa.Select:
        stmt = sa.select(*columns).where(*run_where, *where)
        stmt, terms = sql_search.run_order(stmt, rest, from_clause)
        return stmt.order_by(*leading, *terms)

    other = m.metric_summaries.alias("any_metric")
    without = ~sa.exists().where(other.c.run_uuid == _R.run_uuid, other.c.key == first.ident.key)
    return [
        ordered(joined, [*has_metric, s.c.is_nan == sa.false()], [value]),
        ordered(joined, [*has_metric, s.c.is_nan == sa.true()], []),
        ordered(m.runs, [without], []),
    ]


__all__ = ["applies", "parts", "search_page"]
