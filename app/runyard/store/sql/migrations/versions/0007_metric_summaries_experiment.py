"""Metric summaries carry their run's experiment, indexed with the key and the value, so a
search ordered by a metric reads the experiment's values in order instead of sorting every run.

Without it, ``order_by metrics.x`` joined every run of the experiment to its summary and sorted
them all for each page: a page's time grew linearly with the experiment. Runs never move
between experiments, so the copy never goes stale; ``series_ids`` fills it when a series is
created. This migration copies it once for the series already stored (one pass over
``metric_summaries``; allow a minute per ten million series).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NAME = "ix_metric_summaries_experiment_key_value"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STORED_SERIES = (
    "UPDATE metric_summaries SET experiment_id = "
    "(SELECT experiment_id FROM runs WHERE runs.run_uuid = metric_summaries.run_uuid)"
)


def upgrade() -> None:
    with op.batch_alter_table("metric_summaries") as batch:
        batch.add_column(sa.Column("experiment_id", _ID, nullable=True))
    op.execute(_STORED_SERIES)
    with op.batch_alter_table("metric_summaries") as batch:
        batch.alter_column("experiment_id", existing_type=_ID, nullable=False)
        batch.create_index(NAME, ["experiment_id", "key", "is_nan", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metric_summaries") as batch:
        batch.drop_index(NAME)
        batch.drop_column("experiment_id")
