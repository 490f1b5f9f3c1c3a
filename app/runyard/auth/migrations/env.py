"""Alembic environment of the auth tables: their own chain and version table, so they can sit
in the tracking database beside its chain or in a database of their own."""

from __future__ import annotations

from runyard.auth.models import metadata
from runyard.store.sql.alembic_env import run_migrations

AUTH_VERSION_TABLE = "runyard_auth_alembic_version"

run_migrations(
    metadata,
    include_name=lambda name, type_, _parents: type_ != "table" or str(name).startswith("auth_"),
    version_table=AUTH_VERSION_TABLE,
)
