"""SQLite: (key, value) indexes on params and tags, so a filter on a param or tag value reads
only the matching rows instead of probing every run of the experiment.

Postgres is left alone: its planner already hash-joins these filters, and a b-tree entry for a
long param value (up to 6000 characters) could exceed its index row size limit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = (("ix_params_key_value", "params"), ("ix_tags_key_value", "tags"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in _INDEXES:
        op.create_index(name, table, ["key", "value"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in _INDEXES:
        op.drop_index(name, table_name=table)
