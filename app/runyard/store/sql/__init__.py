"""The SQL tracking store (SQLite and Postgres) and its migrations."""

from __future__ import annotations

from runyard.store.sql.migrate import upgrade_database
from runyard.store.sql.store import SqlStore

__all__ = ["SqlStore", "upgrade_database"]
