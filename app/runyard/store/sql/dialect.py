"""INSERT ... ON CONFLICT for SQLite and Postgres, which spell it the same way in SQL but
through different SQLAlchemy constructs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT construct (it has ``on_conflict_do_*`` and ``excluded``)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert rows, silently skipping those that would violate a unique constraint."""
    if rows:
        conn.execute(insert_for(conn, table).on_conflict_do_nothing(), list(rows))


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict],
    key_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert rows; where the key exists already, overwrite ``update_columns``."""
    if not rows:
        return
    stmt = insert_for(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: stmt.excluded[name] for name in update_columns},
    )
    conn.execute(stmt, list(rows))
