"""The auth store's plumbing: its engine, transactions that stamp every change, remembered reads,
and the user lookups every part needs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard import config
from runyard.auth import credentials
from runyard.auth.entities import User
from runyard.auth.memo import ReadMemo
from runyard.auth.models import state, users
from runyard.errors import ResourceDoesNotExist
from runyard.store.sql.engine import WRITE_OPTION, create_engine, reading, translated_errors
from runyard.store.sql.migrate import MigrationChain, upgrade_engine

AUTH_CHAIN = MigrationChain(
    Path(__file__).resolve().parent / "migrations", "runyard_auth_alembic_version"
)
#: How stale a server process may be about changes made elsewhere (another worker, the CLI).
REFRESH_SECONDS = 1.0
#: A token's last-used time is written at most this often, so using it is a read, not a write.
LAST_USED_RESOLUTION_MS = 60_000


class StoreBase:
    """Engine, migrations, transactions and remembered reads shared by the store's parts."""

    def __init__(self, db_uri: str) -> None:
        self._verified = credentials.VerifiedPasswords()
        self._memo = ReadMemo()
        self._engine = create_engine(
            db_uri,
            pool_size=config.get_int("auth_db_pool_size"),
            max_overflow=config.get_int("auth_db_max_overflow"),
        )
        try:
            upgrade_engine(self._engine, AUTH_CHAIN)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._engine.dispose()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated_errors(), reading(self._engine) as conn:
            yield conn

    @contextlib.contextmanager
    def _write(self, bump: bool = True) -> Iterator[Connection]:
        """A write transaction; it also moves the version stamp on (``bump``), so every server
        process drops what it remembered (a revoked token stops working at once).

        The stamp moves first: its row's lock makes such writes take turns on PostgreSQL, as
        SQLite's write lock does, so each reads what the one before it wrote. Otherwise two
        first grants of one user would both create the user's own role, and one would fail
        on its unique name; a grant racing the user's deletion would fail on a foreign key."""
        with (
            translated_errors(),
            self._engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
            conn.begin(),
        ):
            if bump:
                conn.execute(
                    state.update().where(state.c.id == 1).values(version=state.c.version + 1)
                )
            yield conn
        if bump:
            self._memo.forget()

    # ---- remembering reads between changes ----------------------------------------------------
    def remember_reads(self) -> None:
        """Keep token, user and grant lookups in memory until the next change (the server)."""
        self._memo.enabled = True

    def refresh(self, now: bool = False) -> bool:
        """Forget remembered reads if anything changed since they were read: one small query,
        at most once per ``REFRESH_SECONDS`` (``now``: at once). Changes made through this
        store are seen at once; changes made elsewhere (another worker, the CLI) within that
        bound. True when something had changed, so remembered reads were dropped."""
        if not self._memo.enabled or not (now or self._memo.due(REFRESH_SECONDS)):
            return False
        with self._read() as conn:
            version = conn.exec_driver_sql("SELECT version FROM auth_state WHERE id = 1").scalar()
        return self._memo.at_version(version)

    def read_version(self) -> object:
        """The version stamp of what this process remembers now; a decision made from grants
        read at an older stamp may be stale."""
        return self._memo.version

    @staticmethod
    def _user(row: sa.Row) -> User:
        return User(row.id, row.username, bool(row.is_admin), row.password_hash is not None)

    def _user_row(self, conn: Connection, username: str) -> sa.Row:
        row = conn.execute(sa.select(users).where(users.c.username == str(username))).first()
        if row is None:
            raise ResourceDoesNotExist(f"User with username={username} not found")
        return row
