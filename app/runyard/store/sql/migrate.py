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
from filelock import FileLock
from sqlalchemy.engine import Connection, Engine

from runyard.errors import SchemaTooNew
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
    """The database's schema revision; one this runyard does not know is ``SchemaTooNew``."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is not None and revision not in _known_revisions():
        raise SchemaTooNew(
            f"database schema {revision} is newer than this runyard ({head_revision()}); "
            "upgrade runyard"
        )
    return revision


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def refuse_newer_schema(db_uri: str) -> None:
    """``SchemaTooNew`` when ``db_uri`` holds a schema from a newer runyard. Checked once
    before a server forks its workers, so the operator reads one line instead of a traceback
    per worker; a database that cannot be reached yet is left for the workers to wait for."""
    engine = create_engine(db_uri)
    try:
        with engine.connect() as conn:
            current_revision(conn)
    except SchemaTooNew:
        raise
    except Exception:
        return
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
