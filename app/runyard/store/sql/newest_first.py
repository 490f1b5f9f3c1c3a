"""Pages of the default run order (newest first, missing start times last, then by run id)
that start after the last run of the page before, instead of at an offset.

An offset page reads and throws away every run before it, so a page deep in a big experiment
cost time in proportion to its depth. The page token also carries the last run's start time and
id (``paging.encode_offset_token``'s ``after``); the next page then seeks to them in the runs'
newest-first index. The offset stays in the token, so the token still works on any server.

The order is two ranges of that index: runs with a start time, newest first, then runs without
one, by id; each page reads the first range from the seek position and goes on into the second
when it runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from runyard.errors import InvalidParameterValue
from runyard.search.ast import OrderKey
from runyard.store.sql import models as m

_R = m.runs.c
#: A run id as stored: 32 characters or fewer, hex for the runs runyard makes.
_MAX_RUN_ID = 32
#: Start times are BIGINT: a token naming one outside it is not ours.
_BIGINT = 2**63


def applies(order_keys: Sequence[OrderKey]) -> bool:
    """Only the default order: other orders page by offset."""
    return not order_keys


def parse_after(after: Any) -> tuple[int | None, str] | None:
    """The (start time, run id) a token's ``after`` names, or None when it names none."""
    if after is None:
        return None
    valid = (
        isinstance(after, list)
        and len(after) == 2
        and is_start_time(after[0])
        and is_run_id(after[1])
    )
    if not valid:
        raise InvalidParameterValue(f"Invalid page token, parsed value={{'after': {after!r}}}")
    return after[0], after[1]


def _is_bigint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -_BIGINT <= value < _BIGINT


def after_of(row: Any) -> list[Any]:
    """What the next page's token carries for the last row of this one."""
    return [row.start_time, row.run_uuid]


def search_page(
    conn: Connection,
    columns: Sequence[Any],
    run_where: Sequence[ColumnElement[bool]],
    after: tuple[int | None, str],
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows of ``columns`` for runs matching ``run_where`` that come after
    ``after`` in the default order."""
    start_time, run_id = after
    rows: list[Any] = []
    if start_time is not None:
        stmt = started_after(columns, run_where, start_time, run_id)
        rows = conn.execute(stmt.limit(limit)).all()
    if len(rows) < limit:
        stmt = never_started_after(columns, run_where, None if start_time is not None else run_id)
        rows += conn.execute(stmt.limit(limit - len(rows))).all()
    return rows


def started_after(
    columns: Sequence[Any], run_where: Sequence[ColumnElement[bool]], start_time: int, run_id: str
) -> sa.Select:
    """Runs with a start time after (start_time, run_id), newest first: the seek is
    ``start_time <= ?``, an index range, and the tie-break a filter on it."""
    return (
        sa.select(*columns)
        .where(
            *run_where,
            _R.start_time <= start_time,
            sa.or_(_R.start_time < start_time, _R.run_uuid > run_id),
        )
        .order_by(_R.start_time.desc().nulls_last(), _R.run_uuid.asc())
    )


def after_predicate(start_time: int | None, run_id: str) -> ColumnElement[bool]:
    """Runs after (start_time, run_id) in the default order, as one predicate: the tie-break
    of orders that end with it (``metric_order`` seeks with it within a value)."""
    if start_time is None:
        return sa.and_(_R.start_time.is_(None), _R.run_uuid > run_id)
    return sa.or_(
        _R.start_time < start_time,
        sa.and_(_R.start_time == start_time, _R.run_uuid > run_id),
        _R.start_time.is_(None),
    )


def is_run_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_RUN_ID


def is_start_time(value: Any) -> bool:
    """None (a run imported without one) or a BIGINT."""
    return value is None or _is_bigint(value)


def never_started_after(
    columns: Sequence[Any], run_where: Sequence[ColumnElement[bool]], run_id: str | None
) -> sa.Select:
    """Runs without a start time, by id, after ``run_id`` when one is given."""
    where = [_R.start_time.is_(None)]
    if run_id is not None:
        where.append(_R.run_uuid > run_id)
    return sa.select(*columns).where(*run_where, *where).order_by(_R.run_uuid.asc())


__all__ = [
    "after_of",
    "after_predicate",
    "applies",
    "is_run_id",
    "is_start_time",
    "never_started_after",
    "parse_after",
    "search_page",
    "started_after",
]
