"""A database that goes away gives TemporarilyUnavailable (the server's 503), and a database
that comes back is used again without restarting the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from runyard.errors import TemporarilyUnavailable
from runyard.store.sql import SqlStore

from tests.postgres import fresh_postgres_database


def _terminate_other_backends(store: SqlStore, database: str) -> int:
    import psycopg2

    url = store.engine.url
    admin = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname="postgres"
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            return cur.fetchone()[0]
    finally:
        admin.close()


def test_terminated_connections_are_replaced(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path))
        try:
            experiment_id = store.create_experiment("survives")
            assert _terminate_other_backends(store, store.engine.url.database) >= 1
            _wait_until_gone(store, store.engine.url.database)
            # The pooled connection's socket was closed by the server: the checkout notices
            # without a query, and a fresh connection serves the call.
            assert store.get_experiment(experiment_id).name == "survives"
            store.check_ready()
        finally:
            store.close()


def _wait_until_gone(store: SqlStore, database: str) -> None:
    """pg_terminate_backend only signals; wait until the backends have exited."""
    import time

    import psycopg2

    url = store.engine.url
    admin = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname="postgres"
    )
    admin.autocommit = True
    try:
        deadline = time.monotonic() + 10
        with admin.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,))
                if cur.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
    finally:
        admin.close()


def test_dropped_database_is_temporarily_unavailable(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path))
        try:
            store.create_experiment("before")
            _drop_database(uri)
            with pytest.raises(TemporarilyUnavailable):
                store.check_ready()
            with pytest.raises(TemporarilyUnavailable) as info:
                store.create_experiment("during")
            assert "INSERT" not in info.value.message
        finally:
            store.close()


def _drop_database(uri: str) -> None:
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    admin = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname="postgres"
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
    finally:
        admin.close()


def test_unreadable_sqlite_file_is_temporarily_unavailable(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    store = SqlStore(f"sqlite:///{db}", str(tmp_path))
    try:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.mkdir()  # a directory where the database file was: cannot be opened
        with pytest.raises(TemporarilyUnavailable):
            store.check_ready()
    finally:
        store.close()
