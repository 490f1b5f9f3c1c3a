"""Stores for the SQL store tests: SQLite in a temp dir, Postgres in a fresh database, each test
of this directory run on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.store.sql import SqlStore

from tests.postgres import fresh_postgres_database


@pytest.fixture(scope="module")
def pg_module_uri() -> Iterator[str]:
    """One fresh Postgres database for the whole test module, dropped afterwards."""
    with fresh_postgres_database() as uri:
        yield uri


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    else:
        uri = request.getfixturevalue("pg_module_uri")
    store = SqlStore(uri, str(tmp_path / "artifacts"))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """As ``sql_store``, but on Postgres in a database of the test's own: for tests that load
    tables in bulk with fixed ids and read the planner's choices from fresh statistics."""
    if request.param == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'runyard.db'}", str(tmp_path / "artifacts"))
        yield store
        store.close()
        return
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path / "artifacts"))
        yield store
        store.close()


@pytest.fixture
def sql_run_id(sql_store: SqlStore) -> str:
    import secrets

    experiment_id = sql_store.create_experiment(f"e-{secrets.token_hex(5)}")
    return sql_store.create_run(experiment_id, "tester", 1_000).info.run_id
