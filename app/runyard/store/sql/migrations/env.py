"""Alembic environment of the tracking tables: migrate the connection runyard hands over, or a
URL given with ``-x url=...``."""

from __future__ import annotations

from runyard.store.sql.alembic_env import run_migrations
from runyard.store.sql.models import metadata

# The auth tables share the database but have their own chain (runyard.auth).
run_migrations(
    metadata,
    include_name=lambda name, type_, _parents: (
        type_ != "table" or not str(name).startswith("auth_")
    ),
)
