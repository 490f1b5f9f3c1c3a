"""The auth tables. They carry an ``auth_`` prefix and their own Alembic chain and version table
(``runyard_auth_alembic_version``), so they can share the tracking database or live alone.

A user's direct grants live in a role of their own named ``__user_<id>__``, as in MLflow, so one
mechanism (roles and their permissions) answers every permission question.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "auth_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(128), nullable=False),
    # NULL for accounts that only sign in through the identity proxy.
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("username", name="uq_auth_users_username"),
)

tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("auth_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("last_used_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_auth_tokens_token_hash"),
    sa.UniqueConstraint("user_id", "name", name="uq_auth_tokens_user_name"),
)

roles = sa.Table(
    "auth_roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("workspace", sa.String(256), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.UniqueConstraint("workspace", "name", name="uq_auth_roles_workspace_name"),
)

role_permissions = sa.Table(
    "auth_role_permissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "role_id", sa.Integer, sa.ForeignKey("auth_roles.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("resource_type", sa.String(64), nullable=False),
    sa.Column("resource_pattern", sa.String(512), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
    sa.UniqueConstraint(
        "role_id", "resource_type", "resource_pattern", name="uq_auth_role_permissions_grant"
    ),
)

user_roles = sa.Table(
    "auth_user_roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("auth_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "role_id", sa.Integer, sa.ForeignKey("auth_roles.id", ondelete="CASCADE"), nullable=False
    ),
    sa.UniqueConstraint("user_id", "role_id", name="uq_auth_user_roles"),
    sa.Index("ix_auth_user_roles_user", "user_id"),
)

sessions = sa.Table(
    "auth_sessions",
    metadata,
    # SHA-256 of the random id in the browser's cookie; the id itself is never stored.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("auth_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

#: One row whose version goes up with every change to accounts, tokens or grants, so a server
#: process can keep what it read in memory and know, with one tiny query, when it is stale.
state = sa.Table(
    "auth_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

#: Failed sign-ins, one row per counted key (``user:<name>`` or ``addr:<address>``), so every
#: server process (each gunicorn worker, each replica) sees the same count. Rows older than the
#: counting window are pruned when new ones are written.
login_failures = sa.Table(
    "auth_login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(320), nullable=False),
    sa.Column("failed_at", sa.BigInteger, nullable=False),
    sa.Index("ix_auth_login_failures_key_failed_at", "key", "failed_at"),
    sa.Index("ix_auth_login_failures_failed_at", "failed_at"),
)
