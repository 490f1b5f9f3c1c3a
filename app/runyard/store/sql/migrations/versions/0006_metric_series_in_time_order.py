"""Metric series remember whether their points are in time order, so a history page is read
from the primary key instead of sorting the whole series.

History is served in (timestamp, step, value) order. The points' primary key is (series_id,
step, timestamp, value, is_nan); when timestamps never decrease in that order, which is how
training logs them, the two orders agree and keyset pages are index range scans. Writes keep
``in_time_order`` current (``drivers.base.set_clause``); this migration works it out once for
the series already stored, with one pass over their points in key order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_STORED_SERIES = (
    "UPDATE metric_summaries SET in_time_order = NOT EXISTS ("
    " SELECT 1 FROM (SELECT timestamp < lag(timestamp) OVER ("
    "  ORDER BY step, timestamp, value, is_nan) AS earlier"
    "  FROM metrics WHERE metrics.series_id = metric_summaries.series_id) AS points"
    " WHERE earlier)"
)


def upgrade() -> None:
    with op.batch_alter_table("metric_summaries") as batch:
        batch.add_column(
            sa.Column("in_time_order", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(_STORED_SERIES)


def downgrade() -> None:
    with op.batch_alter_table("metric_summaries") as batch:
        batch.drop_column("in_time_order")
