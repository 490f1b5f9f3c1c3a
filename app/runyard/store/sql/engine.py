"""Engines for the SQL store: URI normalisation, per-connection SQLite settings, error mapping.

Everything that depends on which database is behind the URI lives here, so the query modules
stay dialect-neutral.
"""

from __future__ import annotations

import contextlib
import select
import time
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
from runyard.store.sql import roundtrips
from runyard.store.sql.drivers import require_supported

#: Seconds a connection waits for a SQLite write lock (or a Postgres connect) before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10
#: Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "runyard_write"
#: A pooled Postgres connection idle longer than this is pinged (SELECT 1) before reuse.
IDLE_PING_SECONDS = 30.0


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


def create_engine(
    db_uri: str, pool_size: int | None = None, max_overflow: int | None = None
) -> Engine:
    """An engine whose pooled connections are checked for liveness without a query per
    request (see ``_check_liveness_on_checkout``), so a restarted database is picked up
    without restarting runyard. The pool's size and overflow default to the tracking pool's
    settings (``db_pool_size``, ``db_max_overflow``)."""
    url = sa.make_url(normalize_uri(db_uri))
    require_supported(url)
    if is_sqlite(url):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if sqlite_file(url) is None:
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = sa.create_engine(
        url,
        pool_size=config.get_int("db_pool_size") if pool_size is None else pool_size,
        max_overflow=config.get_int("db_max_overflow") if max_overflow is None else max_overflow,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "connection_factory": roundtrips.postgres_connection_factory(),
        },
    )
    _check_liveness_on_checkout(engine)
    return engine


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, as the engine's database wants them.

    On Postgres the reads run autocommitted: at READ COMMITTED every statement takes its own
    snapshot whether or not a transaction is open, so a ``BEGIN`` and a ``COMMIT`` around the
    reads would only add two round trips to every request. SQLite keeps a transaction, whose
    snapshot does hold across statements (a page of runs and their params come from one
    state).

    The driver's own ``autocommit`` flag is set, not SQLAlchemy's isolation level, whose reset
    on check-in sends a ``SET`` and would give back one of the two round trips saved."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            with conn.begin():
                yield conn
            return
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.autocommit = True
        try:
            yield conn
        finally:
            # A connection lost meanwhile refuses the flag; the pool discards it anyway.
            with contextlib.suppress(Exception):
                dbapi_conn.autocommit = False


def _check_liveness_on_checkout(engine: Engine) -> None:
    """Hand out only live connections, without a round trip per request.

    A server that closes a connection (restart, ``pg_terminate_backend``, idle timeout) sends a
    last message and EOF, so the idle socket turns readable: one non-blocking ``select`` finds
    that. A connection idle for ``IDLE_PING_SECONDS`` is also pinged, for peers that vanished
    without a word. A dead one makes the pool connect afresh; what is not caught here fails its
    statement, SQLAlchemy sees a disconnect and invalidates the whole pool, and the client gets
    503 with Retry-After and retries.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # a new connection
            return
        if _closed_by_peer(dbapi_conn):
            raise exc.DisconnectionError("the database closed the connection")
        if time.monotonic() - idle_since >= IDLE_PING_SECONDS:
            try:
                cursor = dbapi_conn.cursor()
                try:
                    cursor.execute("SELECT 1")
                finally:
                    cursor.close()
                dbapi_conn.rollback()
            except Exception as err:
                raise exc.DisconnectionError(f"the idle connection is dead: {err}") from err


def _closed_by_peer(dbapi_conn) -> bool:  # type: ignore[no-untyped-def]
    """True when an idle connection's socket has something to read: with no query in flight,
    that can only be the server's goodbye (or EOF)."""
    try:
        if getattr(dbapi_conn, "closed", 0):
            return True
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True
    return bool(readable)


def sqlite_cache_kib() -> int:
    """The page cache of each SQLite connection (``sqlite_cache_mib``), in KiB. A filtered
    search over 1,000,000 runs took 31-35 ms with SQLite's 2 MiB, 21-24 ms with 32 MiB."""
    mib = config.get_int("sqlite_cache_mib")
    if mib < 1:
        raise InvalidParameterValue(
            f"Setting 'sqlite_cache_mib' (RUNYARD_SQLITE_CACHE_MIB) must be at least 1, got {mib}"
        )
    return mib * 1024


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, case-sensitive LIKE, a page cache large enough for a
    large store's indexes; BEGIN IMMEDIATE for writes so two writers queue on the lock instead
    of failing on a read-to-write upgrade."""
    cache_kib = sqlite_cache_kib()  # a bad setting fails here, not at the first query

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
            cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        finally:
            cursor.close()
        roundtrips.watch_sqlite(dbapi_conn)

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
    except exc.DataError as err:  # a value the database cannot hold: the request's, not ours
        raise InvalidParameterValue(f"A value does not fit its field: {_short(err)}") from None
    except exc.DBAPIError as err:
        if err.connection_invalidated:
            raise TemporarilyUnavailable(
                "The connection to the tracking database was lost, try again shortly"
            ) from None
        raise RunyardError(f"Database error: {_short(err)}") from None
    except ValueError as err:
        if _NUL_REFUSED in str(err):  # psycopg2, before sending a string to the database
            raise InvalidParameterValue(
                "A value contains a NUL character, which the database cannot store."
            ) from None
        raise
    except Exception as err:  # a driver cursor's own errors (the fast paths): not wrapped
        if _is_raw_driver_error(err, "OperationalError", "InterfaceError"):
            raise TemporarilyUnavailable(
                f"The tracking database is unavailable, try again shortly: {_short(err)}"
            ) from None
        if _is_raw_driver_error(err, "DataError"):
            raise InvalidParameterValue(f"A value does not fit its field: {_short(err)}") from None
        raise


#: What psycopg2 says when a parameter holds a NUL character.
_NUL_REFUSED = "cannot contain NUL (0x00) characters"


def _is_raw_driver_error(err: Exception, *kinds: str) -> bool:
    """Whether ``err`` is one of the DB-API error ``kinds`` raised by the driver itself, on a
    driver cursor (the fast paths) rather than through SQLAlchemy. An OperationalError or
    InterfaceError there is a lost connection or an unreachable database; the pooled
    connection is closed, so the next checkout replaces it."""
    module = type(err).__module__.split(".")[0]
    if module not in ("psycopg2", "sqlite3"):
        return False
    driver = __import__(module)
    return isinstance(err, tuple(getattr(driver, kind) for kind in kinds))


def _short(err: Exception) -> str:
    """The driver's first message line, without SQL text or parameters."""
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
