"""Postgres: (key, md5(value)) indexes on params and tags, so an equality filter on a param or
tag value reads only the matching rows.

A plain (key, value) b-tree is unsafe on Postgres: a param value may hold 6,000 characters and a
tag value 8,000, beyond its index row size limit. The hash is 32 characters whatever the value;
the search compiler compares ``md5(value)`` (to use the index) and then ``value`` (so a hash
collision cannot match). SQLite has plain (key, value) indexes since 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = (("ix_params_key_value_md5", "params"), ("ix_tags_key_value_md5", "tags"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in _INDEXES:
        op.create_index(name, table, ["key", sa.text("md5(value)")], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in _INDEXES:
        op.drop_index(name, table_name=table)
