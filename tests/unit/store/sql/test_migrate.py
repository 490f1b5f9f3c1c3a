"""Migrations: a fresh database reaches head, and many processes starting at once on the same
fresh database all succeed with the schema migrated exactly once."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.store.sql import SqlStore, upgrade_database
from runyard.store.sql.engine import create_engine
from runyard.store.sql.migrate import current_revision, head_revision

from tests.postgres import fresh_postgres_database

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


def test_writes_landing_while_a_sqlite_migration_checks_its_tables_do_not_fail_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other processes' writes (a default experiment, a first administrator, another chain's
    tables) landing between the migration's check for its version table and the table's
    creation. In WAL, a transaction that read before such a write may not write after it, and
    SQLite fails it at once ("database is locked") instead of waiting: one of two server
    workers starting on a fresh database died so. The migration holds the write lock from its
    first statement, so the other writers wait instead (here they give up at once: they run on
    the migration's thread)."""
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect

    path = tmp_path / "raced.db"
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
    original = SQLiteDialect.has_table
    attempts: list[str] = []

    def checked_then_a_write(self, connection, table_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = original(self, connection, table_name, *args, **kwargs)
        if table_name == "alembic_version":
            with contextlib.closing(sqlite3.connect(path, timeout=0.2)) as other:
                try:
                    other.execute(f"CREATE TABLE written_meanwhile_{len(attempts)} (x INTEGER)")
                    attempts.append("written")
                except sqlite3.OperationalError as error:
                    attempts.append(str(error))
        return found

    monkeypatch.setattr(SQLiteDialect, "has_table", checked_then_a_write)
    upgrade_database(f"sqlite:///{path}")
    assert "database is locked" in attempts  # the other writer waited on the migration
    monkeypatch.undo()
    assert _revisions(f"sqlite:///{path}") == [head_revision()]


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


def _upgrade_to(uri: str, revision: str) -> None:
    _migrate(uri, revision, downgrade=False)


def _downgrade_to(uri: str, revision: str) -> None:
    _migrate(uri, revision, downgrade=True)


def _migrate(uri: str, revision: str, downgrade: bool) -> None:
    from alembic import command
    from runyard.store.sql.migrate import alembic_config

    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            (command.downgrade if downgrade else command.upgrade)(cfg, revision)
            conn.commit()
    finally:
        engine.dispose()


def insert_old_runs(conn: sa.Connection, run_ids: list[str]) -> None:
    """Experiment 7 and active runs ``run_ids`` in it, written as rows at an old revision."""
    conn.exec_driver_sql(
        "INSERT INTO experiments (experiment_id, name, artifact_location, "
        "lifecycle_stage) VALUES (7, 'old', '/tmp/a', 'active')"
    )
    names = ["one", "two", "three"]
    rows = ", ".join(
        f"('{rid}', 7, '{names[i]}', 'u', 'RUNNING', {i + 1}, '/tmp/a/{rid}', 'active')"
        for i, rid in enumerate(run_ids)
    )
    conn.exec_driver_sql(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
        f"artifact_uri, lifecycle_stage) VALUES {rows}"
    )


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_upgrade_from_0001_keeps_data_and_adds_sqlite_indexes(
    tmp_path: Path, engine_name: str
) -> None:
    with contextlib.ExitStack() as stack:
        if engine_name == "sqlite":
            uri = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            uri = stack.enter_context(fresh_postgres_database())
        _upgrade_to(uri, "0001")
        engine = create_engine(uri)  # rows written at 0001, before the later migrations
        with engine.begin() as conn:
            insert_old_runs(conn, ["r1", "r2"])
            conn.exec_driver_sql(
                "INSERT INTO params (run_uuid, key, value) VALUES ('r1', 'lr', '0.1'), "
                "('r2', 'lr', '0.2')"
            )
            conn.exec_driver_sql("INSERT INTO tags (run_uuid, key, value) VALUES ('r2', 't', 'x')")
        engine.dispose()
        store = SqlStore(uri, str(tmp_path))
        stack.callback(store.close)
        assert _revisions(uri) == [head_revision()]
        with store.engine.connect() as conn:
            names = {i["name"] for t in ("params", "tags") for i in sa.inspect(conn).get_indexes(t)}
        expected = {"ix_params_key_value", "ix_tags_key_value"}
        assert (names >= expected) if engine_name == "sqlite" else not (names & expected)
        found = store.search_runs(["7"], "params.lr = '0.2' and tags.t = 'x'")
        assert [r.info.run_id for r in found] == ["r2"]
        assert store.get_run("r1").data.params == {"lr": "0.1"}
