"""A search page ordered first by a metric, read from the summaries' index in that order.

The general plan (``search.run_order``) joins every run of the experiment to its summary and
sorts them all for each page, so a page's time grows with the experiment. The search order puts
runs with a finite value first (by value), then those whose latest value is NaN, then those
without the metric; each of these three parts is a query on its own whose first sort term is
either the indexed value (``ix_metric_summaries_experiment_key_value``: experiment, key, is_nan,
value) or the runs' own order, so the database stops after the page instead of sorting the
experiment. A page reads the parts in turn until it is full.

When the metric is the only order key, the page token also names where the last page ended
(the part, the value, the run's start time and id: ``paging.encode_offset_token``'s ``after``),
and the next page seeks there: in the finite part that is a range of the index. With more
order keys pages go by offset, and a page past a whole part counts that part once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from runyard.errors import InvalidParameterValue
from runyard.search.ast import OrderKey
from runyard.store.sql import models as m
from runyard.store.sql import newest_first
from runyard.store.sql import search as sql_search

_R = m.runs.c


FINITE, NAN, MISSING = 0, 1, 2


def applies(order_keys: Sequence[OrderKey]) -> bool:
    return bool(order_keys) and order_keys[0].ident.entity == "metric"


def seeks(order_keys: Sequence[OrderKey]) -> bool:
    """Pages seek (instead of skipping an offset) when the metric is the only order key."""
    return applies(order_keys) and len(order_keys) == 1


Seek = tuple[int, float | None, int | None, str]


def parse_after(after: Any) -> Seek | None:
    """The (part, value, start time, run id) a token's ``after`` names, or None."""
    if after is None:
        return None
    valid = (
        isinstance(after, list)
        and len(after) == 4
        and after[0] in (FINITE, NAN, MISSING)
        and not isinstance(after[0], bool)
        and (_is_value(after[1]) if after[0] == FINITE else after[1] is None)
        and newest_first.is_start_time(after[2])
        and newest_first.is_run_id(after[3])
    )
    if not valid:
        raise InvalidParameterValue(f"Invalid page token, parsed value={{'after': {after!r}}}")
    value = None if after[1] is None else float(after[1])
    return after[0], value, after[2], after[3]


def _is_value(value: Any) -> bool:
    """A stored metric value: a float that is not NaN (NaNs are their own part), or an integer
    that a float holds exactly."""
    if isinstance(value, float):
        return not math.isnan(value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53


def after_of(row: Any) -> list[Any]:
    """What the next page's token carries for the last row of this one."""
    value = row.order_value if row.order_part == FINITE else None
    return [row.order_part, value, row.start_time, row.run_uuid]


def search_page(
    conn: Connection,
    columns: Sequence[Any],
    run_where: Sequence[ColumnElement[bool]],
    experiment_ids: Sequence[int],
    order_keys: Sequence[OrderKey],
    limit: int,
    offset: int,
    after: Seek | None = None,
) -> list[Any]:
    """Up to ``limit`` rows of ``columns`` after ``offset`` (or after the row ``after`` names,
    when the metric is the only key), for runs matching ``run_where``, in the order of
    ``order_keys`` (whose first key is a metric). Rows end with ``order_part`` and
    ``order_value``, for ``after_of``."""
    first, rest = order_keys[0], order_keys[1:]
    rows: list[Any] = []
    skip = 0 if after is not None else offset
    for index, part in enumerate(parts(columns, run_where, experiment_ids, first, rest, after)):
        need = limit - len(rows)
        if need <= 0:
            break
        if after is not None and index < after[0]:
            continue  # the page starts in a later part
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
    after: Seek | None = None,
) -> Iterator[sa.Select]:
    """The finite values, the NaNs and the runs without the metric, each ordered; the part
    ``after`` names starts after the row it names. Each is built when it is asked for: most
    pages end in the first, and building a statement costs more than the database takes to
    answer it."""
    s = m.metric_summaries.alias("first_metric")
    has_metric = [s.c.experiment_id.in_(experiment_ids), s.c.key == first.ident.key]
    joined = s.join(m.runs, _R.run_uuid == s.c.run_uuid)
    value = s.c.value.asc() if first.ascending else s.c.value.desc()

    def ordered(part: int, from_clause: sa.FromClause, where: list, leading: list) -> sa.Select:
        marks = [sa.literal(part).label("order_part")]
        marks.append((s.c.value if part == FINITE else sa.null()).label("order_value"))
        stmt = sa.select(*columns, *marks).where(*run_where, *where)
        stmt, terms = sql_search.run_order(stmt, rest, from_clause)
        return stmt.order_by(*leading, *terms)

    seek: dict[int, list] = {FINITE: [], NAN: [], MISSING: []}
    if after is not None:
        part, last_value, start_time, run_id = after
        tie = newest_first.after_predicate(start_time, run_id)
        if part == FINITE:
            beyond = s.c.value > last_value if first.ascending else s.c.value < last_value
            within = s.c.value >= last_value if first.ascending else s.c.value <= last_value
            seek[FINITE] = [within, sa.or_(beyond, sa.and_(s.c.value == last_value, tie))]
        else:
            seek[part] = [tie]
    yield ordered(FINITE, joined, [*has_metric, s.c.is_nan == sa.false(), *seek[FINITE]], [value])
    yield ordered(NAN, joined, [*has_metric, s.c.is_nan == sa.true(), *seek[NAN]], [])
    other = m.metric_summaries.alias("any_metric")
    without = ~sa.exists().where(other.c.run_uuid == _R.run_uuid, other.c.key == first.ident.key)
    yield ordered(MISSING, m.runs, [without, *seek[MISSING]], [])


__all__ = ["after_of", "applies", "parse_after", "parts", "search_page", "seeks"]
