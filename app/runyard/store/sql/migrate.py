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
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from runyard.errors import InvalidParameterValue, RunyardError, SchemaTooNew
from runyard.store.sql.engine import (
    WRITE_OPTION,
    create_engine,
    sqlite_file,
    translated_errors,
)

_HERE = Path(__file__).resolve().parent
#: A fixed 64-bit key, so every runyard process takes the same Postgres advisory lock.
_ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"runyard-migrations").digest()[:8], "big") >> 1
_LOCK_TIMEOUT_S = 300


@dataclass(frozen=True)
class MigrationChain:
    """One Alembic chain: its scripts and the table that records its revision. The tracking
    tables and the auth tables each have one, so either can live without the other."""

    script_location: Path
    version_table: str = "alembic_version"


TRACKING_CHAIN = MigrationChain(_HERE / "migrations")


def alembic_config(chain: MigrationChain = TRACKING_CHAIN) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(chain.script_location))
    return cfg


def head_revision(chain: MigrationChain = TRACKING_CHAIN) -> str:
    head = ScriptDirectory.from_config(alembic_config(chain)).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection, chain: MigrationChain = TRACKING_CHAIN) -> str | None:
    """The database's revision of ``chain``. A revision this runyard does not know is refused:
    another application's schema (MLflow's) with the way to bring its history over, anything
    else as ``SchemaTooNew``. runyard never rewrites tables it does not own."""
    context = MigrationContext.configure(conn, opts={"version_table": chain.version_table})
    revision = context.get_current_revision()
    if revision is not None and revision not in _known_revisions(chain):
        raise _unknown_schema(conn, revision, chain)
    return revision


def _known_revisions(chain: MigrationChain) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(chain))
    return {rev.revision for rev in script.walk_revisions()}


def _unknown_schema(conn: Connection, revision: str, chain: MigrationChain) -> RunyardError:
    if chain == TRACKING_CHAIN and "latest_metrics" in inspect(conn).get_table_names():
        url = conn.engine.url.render_as_string(hide_password=True)
        return InvalidParameterValue(
            f"The database {url} holds MLflow's schema (Alembic revision {revision!r}), not "
            "runyard's, and runyard does not change another application's tables. Copy its "
            f"history into a new runyard database with `runyard import --from {url} --to "
            "<new database URI>` and point runyard at the new database."
        )
    return SchemaTooNew(
        f"database schema {revision} is newer than this runyard ({head_revision(chain)}); "
        "upgrade runyard"
    )


def refuse_unknown_schema(db_uri: str) -> None:
    """``current_revision``'s refusal for ``db_uri``, checked once before a server forks its
    workers, so the operator reads one line instead of a traceback per worker; a database that
    cannot be reached yet is left for the workers to wait for."""
    engine = create_engine(db_uri)
    try:
        with engine.connect() as conn:
            current_revision(conn)
    except (SchemaTooNew, InvalidParameterValue):
        raise
    except Exception:
        return
    finally:
        engine.dispose()


def upgrade_database(db_uri: str, chain: MigrationChain = TRACKING_CHAIN) -> None:
    """Create or upgrade the schema of ``db_uri`` to the newest revision."""
    engine = create_engine(db_uri)
    try:
        upgrade_engine(engine, chain)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine, chain: MigrationChain = TRACKING_CHAIN) -> None:
    """Upgrade through an existing engine; a no-op (one small query) when already at head."""
    head = head_revision(chain)
    with translated_errors():
        with engine.connect() as conn:
            at_head = current_revision(conn, chain) == head
            conn.rollback()
        if at_head:
            return
        # On SQLite every transaction of the migration takes the write lock at BEGIN: one that
        # reads first cannot write once another process has committed a write meanwhile (a
        # first administrator, a default experiment), and SQLite fails it without waiting.
        with (
            engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
            _migration_lock(conn),
        ):
            if current_revision(conn, chain) == head:
                return
            conn.rollback()
            cfg = alembic_config(chain)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()


@contextlib.contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """One migrating process at a time. On Postgres a session advisory lock, held on the
    connection that migrates (it outlives the migration's commits), so migrating takes one
    connection of the pool, not two: the accounts' pool may be a single connection."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_ADVISORY_KEY})")
        conn.commit()
        try:
            yield
        finally:
            _unlock(conn)
        return
    path = sqlite_file(conn.engine.url)
    if path is None:  # in-memory: one process only
        yield
        return
    with FileLock(f"{path}.migrate.lock", timeout=_LOCK_TIMEOUT_S):
        yield


def _unlock(conn: Connection) -> None:
    """Release the advisory lock, even after a failed migration; a connection that cannot is
    closed, which releases the lock with its session, so no other process waits forever."""
    try:
        conn.rollback()
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_ADVISORY_KEY})")
        conn.commit()
    except Exception:
        conn.invalidate()
