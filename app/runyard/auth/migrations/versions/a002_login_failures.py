"""Failed sign-ins shared by every server process, so the limit does not grow with workers.

Revision ID: a002
Revises: a001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a002"
down_revision = "a001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("failed_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_auth_login_failures_key_failed_at", "auth_login_failures", ["key", "failed_at"]
    )
    op.create_index("ix_auth_login_failures_failed_at", "auth_login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("auth_login_failures")
