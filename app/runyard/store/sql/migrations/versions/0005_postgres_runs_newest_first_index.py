"""Postgres: runs of an experiment indexed newest first, so the default order's first page
(``start_time DESC NULLS LAST``) is read from the index instead of sorting every run.

A backward scan of ``ix_runs_experiment_stage_start`` gives ``DESC NULLS FIRST`` on Postgres,
which is not the order search wants (missing start times last). SQLite needs nothing: its
``DESC`` order already ends with NULLs, so the existing index serves it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NAME = "ix_runs_experiment_stage_start_desc"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        NAME,
        "runs",
        ["experiment_id", "lifecycle_stage", sa.text("start_time DESC NULLS LAST")],
        unique=False,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="runs")
