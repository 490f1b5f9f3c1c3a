"""Migrations: a fresh database reaches head, and many processes starting at once on the same
fresh database all succeed with the schema migrated exactly once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.store.sql import SqlStore, upgrade_database
from runyard.store.sql.engine import create_engine
from runyard.store.sql.migrate import current_revision, head_revision

from tests.conftest import fresh_postgres_database

PROCESSES = 4


def _open_store(uri: str, artifact_root: str) -> str:
    store = SqlStore(uri, artifact_root)
    try:
        return store.get_experiment("0").name
    finally:
        store.close()


def _revisions(uri: str) -> list[str]:
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    finally:
        engine.dispose()


def _start_many(uri: str, artifact_root: str) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        return pool.starmap(_open_store, [(uri, artifact_root)] * PROCESSES)


def test_upgrade_fresh_sqlite_to_head(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade_database(uri)
    upgrade_database(uri)  # a second run is a no-op
    assert _revisions(uri) == [head_revision()]
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert "metric_summaries" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_upgrade_fresh_postgres_to_head(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        upgrade_database(uri)
        assert _revisions(uri) == [head_revision()]
        store = SqlStore(uri, str(tmp_path))
        try:
            assert store.get_experiment("0").artifact_location == f"{tmp_path}/0"
        finally:
            store.close()


def test_concurrent_start_on_fresh_sqlite(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'race.db'}"
    assert _start_many(uri, str(tmp_path)) == ["Default"] * PROCESSES
    assert _revisions(uri) == [head_revision()]


@pytest.mark.postgres
def test_concurrent_start_on_fresh_postgres(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        assert _start_many(uri, str(tmp_path)) == ["Default"] * PROCESSES
        assert _revisions(uri) == [head_revision()]
        engine = create_engine(uri)
        try:
            with engine.connect() as conn:
                count = conn.exec_driver_sql("SELECT count(*) FROM experiments").scalar()
            assert count == 1
        finally:
            engine.dispose()
