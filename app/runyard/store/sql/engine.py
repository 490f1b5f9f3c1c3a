"""Engines for the SQL store: URI normalisation, per-connection SQLite settings, error mapping.

Everything that depends on which database is behind the URI lives here, so the query modules
stay dialect-neutral.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from runyard import config
from runyard.errors import (
    BadRequest,
    InvalidParameterValue,
    RunyardError,
    TemporarilyUnavailable,
)

#: Seconds a connection waits for a SQLite write lock (or a Postgres connect) before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10
#: Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "runyard_write"


def normalize_uri(db_uri: str) -> str:
    """The SQLAlchemy URL for a tracking URI.

    A plain ``postgresql://`` (or ``postgres://``) means psycopg2, runyard's declared driver,
    although SQLAlchemy 2.1 alone would pick psycopg 3. An explicit ``+driver`` is kept.
    """
    scheme, sep, rest = db_uri.partition("://")
    if not sep:
        raise InvalidParameterValue(f"Invalid database URI {db_uri!r}: expected scheme://...")
    lowered = scheme.lower()
    if lowered in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    if lowered.startswith("postgres+"):
        return f"postgresql+{lowered.split('+', 1)[1]}://{rest}"
    if lowered == "sqlite" or lowered.startswith("sqlite+") or lowered.startswith("postgresql+"):
        return f"{lowered}://{rest}"
    raise InvalidParameterValue(
        f"Unsupported database URI {db_uri!r}: use sqlite:/// or postgresql://"
    )


def is_sqlite(url: str | sa.URL) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | sa.URL) -> str | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = sa.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database


def create_engine(db_uri: str) -> Engine:
    """An engine with pre-ping (a restarted database is picked up without a restart)."""
    url = sa.make_url(normalize_uri(db_uri))
    if is_sqlite(url):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if sqlite_file(url) is None:
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    try:
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            pool_size=config.get_int("db_pool_size") or 5,
            max_overflow=config.get_int("db_max_overflow") or 0,
            pool_recycle=1800,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
        )
    except ModuleNotFoundError as err:  # e.g. postgresql+psycopg without psycopg 3 installed
        raise InvalidParameterValue(
            f"The database driver for {url.drivername!r} is not installed: {err.name}"
        ) from None


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, case-sensitive LIKE; BEGIN IMMEDIATE for writes so two
    writers queue on the lock instead of failing on a read-to-write upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            with contextlib.suppress(Exception):  # WAL is persistent: one success suffices
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA case_sensitive_like=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Turn database exceptions into RunyardErrors, never leaking SQL text to a client."""
    try:
        yield
    except RunyardError:
        raise
    except exc.IntegrityError as err:
        raise BadRequest(f"The request conflicts with stored data: {_short(err)}") from None
    except (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError) as err:
        raise TemporarilyUnavailable(
            f"The tracking database is unavailable, try again shortly: {_short(err)}"
        ) from None
    except exc.TimeoutError:
        raise TemporarilyUnavailable(
            "The tracking database is busy (no free connection), try again shortly"
        ) from None
    except exc.DBAPIError as err:
        if err.connection_invalidated:
            raise TemporarilyUnavailable(
                "The connection to the tracking database was lost, try again shortly"
            ) from None
        raise RunyardError(f"Database error: {_short(err)}") from None


def _short(err: exc.DBAPIError) -> str:
    """The driver's first message line, without SQL text or parameters."""
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
