"""Postgres: tell the planner that a value's md5 and the value itself say the same thing.

An equality filter on a param or tag compares ``md5(value)`` (for the 0004 index) and then
``value`` (so a hash collision cannot match). The planner took the two for independent and
multiplied their selectivities, so it expected a value shared by one run in eleven to match one
run in 121. Expecting few matches, it read every match, joined and sorted them all before the
first page: a filtered page's time grew with the experiment (10 ms at 1,000 runs, 89 ms at
100,000). A functional-dependency statistic on ``(value, md5(value))`` gives the true estimate,
and with it the planner walks the runs newest first and probes each one's filter rows until the
page is full, which costs the same at any size when matches are common; rare values still read
their few matches through the index.

Expression statistics need PostgreSQL 14; on older servers this migration does nothing. The
statistics are gathered here once (ANALYZE samples a fixed number of rows, whatever the table's
size) and then by autovacuum with the table's other statistics.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLES = ("params", "tags")
#: CREATE STATISTICS on an expression arrived in PostgreSQL 14.
_EXPRESSION_STATISTICS = 140000


def statistic_name(table: str) -> str:
    return f"st_{table}_value_md5"


def _applies() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return int(bind.exec_driver_sql("SHOW server_version_num").scalar_one()) >= (
        _EXPRESSION_STATISTICS
    )


def upgrade() -> None:
    if not _applies():
        return
    for table in _TABLES:
        op.execute(
            f"CREATE STATISTICS IF NOT EXISTS {statistic_name(table)} (dependencies) "
            f"ON value, md5(value) FROM {table}"
        )
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if not _applies():
        return
    for table in _TABLES:
        op.execute(f"DROP STATISTICS IF EXISTS {statistic_name(table)}")
