"""Bring a database to the newest schema, safely when several processes start at once.

``upgrade_database`` is what ``runyard db upgrade <uri>`` and every ``SqlStore`` construction
call. The upgrade runs under a lock that all runyard processes agree on: a Postgres advisory
lock, or a file lock beside the SQLite file; the revision is re-read under the lock, so the
second process to get it finds the work done.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from filelock import FileLock
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from runyard.errors import InvalidParameterValue
from runyard.store.sql.engine import create_engine, sqlite_file, translated_errors

_HERE = Path(__file__).resolve().parent
#: A fixed 64-bit key, so every runyard process takes the same Postgres advisory lock.
_ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"runyard-migrations").digest()[:8], "big") >> 1
_LOCK_TIMEOUT_S = 300


def alembic_config() -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def refuse_foreign_schema(conn: Connection) -> None:
    """Refuse a database whose Alembic revision is not runyard's (MLflow's, typically): runyard
    never rewrites another application's tables, and Alembic would only say it cannot locate
    the revision."""
    revision = current_revision(conn)
    if revision is None:
        return
    try:
        if ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None:
            return
    except CommandError:
        pass
    tables = set(inspect(conn).get_table_names())
    owner = "MLflow's" if {"latest_metrics", "registered_models"} & tables else "a foreign"
    url = conn.engine.url.render_as_string(hide_password=True)
    raise InvalidParameterValue(
        f"The database {url} holds {owner} schema (Alembic revision {revision!r}), not "
        "runyard's, and runyard does not change another application's tables. Copy its "
        f"history into a new runyard database with `runyard import --from {url} --to "
        "<new database URI>` and point runyard at the new database."
    )


def refuse_foreign_database(db_uri: str) -> None:
    """``refuse_foreign_schema`` for a URI: what ``runyard server`` checks before it starts
    workers, so the reason is printed once instead of every worker failing to boot."""
    engine = create_engine(db_uri)
    try:
        with translated_errors(), engine.connect() as conn:
            refuse_foreign_schema(conn)
    finally:
        engine.dispose()


def upgrade_database(db_uri: str) -> None:
    """Create or upgrade the schema of ``db_uri`` to the newest revision."""
    engine = create_engine(db_uri)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine) -> None:
    """Upgrade through an existing engine; a no-op (one small query) when already at head."""
    head = head_revision()
    with translated_errors():
        with engine.connect() as conn:
            at_head = current_revision(conn) == head
            if not at_head:
                refuse_foreign_schema(conn)
            conn.rollback()
        if at_head:
            return
        with _migration_lock(engine), engine.connect() as conn:
            if current_revision(conn) == head:
                return
            conn.rollback()
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            lock_conn.exec_driver_sql(f"SELECT pg_advisory_lock({_ADVISORY_KEY})")
            lock_conn.commit()
            try:
                yield
            finally:
                lock_conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_ADVISORY_KEY})")
                lock_conn.commit()
        return
    path = sqlite_file(engine.url)
    if path is None:  # in-memory: one process only
        yield
        return
    with FileLock(f"{path}.migrate.lock", timeout=_LOCK_TIMEOUT_S):
        yield
