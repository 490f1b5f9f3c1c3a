"""URI handling, per-connection settings, readiness and error mapping of the SQL store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.errors import InvalidParameterValue, TemporarilyUnavailable
from runyard.store import store_for_uri
from runyard.store.sql import SqlStore
from runyard.store.sql.engine import create_engine, normalize_uri


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_uri_normalisation(given: str, expected: str) -> None:
    assert normalize_uri(given) == expected


def test_plain_postgresql_uri_uses_psycopg2() -> None:
    engine = create_engine("postgresql://u:p@127.0.0.1:1/db")  # no connection is made
    try:
        assert engine.dialect.driver == "psycopg2"
    finally:
        engine.dispose()


@pytest.mark.parametrize("uri", ["mysql://h/db", "no-scheme"])
def test_unsupported_uri_is_a_clear_error(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="URI"):
        normalize_uri(uri)


@pytest.mark.parametrize(
    "uri", ["postgresql+psycopg://u@127.0.0.1:1/db", "sqlite+pysqlcipher:///x.db"]
)
def test_a_driver_runyard_does_not_speak_is_refused_with_the_ones_it_does(uri: str) -> None:
    """Only sqlite3 and psycopg2 have the store's hot paths; another driver is refused when
    the engine is made, not met halfway through a request."""
    with pytest.raises(InvalidParameterValue, match=r"not supported.*postgresql://"):
        create_engine(uri)
    with pytest.raises(InvalidParameterValue, match=r"[Uu]nsupported|not supported"):
        store_for_uri(uri, default_artifact_root="/tmp")


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}", str(tmp_path))
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
            assert conn.exec_driver_sql("SELECT 'A' LIKE 'a'").scalar() == 0
            # 32 MiB (a negative size is in KiB), not SQLite's 2 MiB
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -32 * 1024
    finally:
        store.close()


def test_sqlite_page_cache_follows_its_setting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_SQLITE_CACHE_MIB", "8")
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -8 * 1024
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_sqlite_page_cache_setting_is_refused_when_the_engine_is_made(
    tmp_path: Path, monkeypatch, value: str
) -> None:
    monkeypatch.setenv("RUNYARD_SQLITE_CACHE_MIB", value)
    with pytest.raises(InvalidParameterValue, match="RUNYARD_SQLITE_CACHE_MIB"):
        create_engine(f"sqlite:///{tmp_path / 'x.db'}")


def test_in_memory_sqlite_keeps_its_data_across_calls(tmp_path: Path) -> None:
    store = store_for_uri("sqlite:///:memory:", default_artifact_root=str(tmp_path))
    try:
        experiment_id = store.create_experiment("kept")
        assert store.get_experiment(experiment_id).name == "kept"
        assert store.get_experiment("0").artifact_location == f"{tmp_path}/0"
    finally:
        store.close()


def test_unreachable_postgres_is_temporarily_unavailable(tmp_path: Path) -> None:
    with pytest.raises(TemporarilyUnavailable) as info:
        SqlStore("postgresql://runyard:runyard@127.0.0.1:1/nothing", str(tmp_path))
    assert "SELECT" not in info.value.message


def test_check_ready_and_close(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'r.db'}", str(tmp_path))
    store.check_ready()
    store.close()


def test_duplicate_name_errors_carry_no_sql(tmp_path: Path) -> None:
    from runyard.errors import ResourceAlreadyExists

    store = SqlStore(f"sqlite:///{tmp_path / 'd.db'}", str(tmp_path))
    try:
        store.create_experiment("taken")
        other = store.create_experiment("other")
        for call in (
            lambda: store.create_experiment("taken"),
            lambda: store.rename_experiment(other, "taken"),
        ):
            with pytest.raises(ResourceAlreadyExists) as info:
                call()
            assert "INSERT" not in info.value.message and "UPDATE" not in info.value.message
            assert "taken" in info.value.message
    finally:
        store.close()


def test_schema_matches_models(tmp_path: Path) -> None:
    """The migration creates exactly the tables models.py declares."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from runyard.store.sql.models import POSTGRES_ONLY_INDEXES, metadata

    def on_sqlite(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)

    store = SqlStore(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path))
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": on_sqlite})
            diff = compare_metadata(context, metadata)
            assert diff == []
            tables = set(sa.inspect(conn).get_table_names())
        assert {"metrics", "metric_summaries", "runs", "alembic_version"} <= tables
    finally:
        store.close()


def test_driver_errors_from_the_fast_paths_are_temporarily_unavailable() -> None:
    """The fast paths use the driver's cursor, so a lost connection there is the driver's own
    exception, not SQLAlchemy's; it still means 503, never a 500."""
    import sqlite3

    from runyard.errors import TemporarilyUnavailable
    from runyard.store.sql.engine import translated_errors

    with pytest.raises(TemporarilyUnavailable), translated_errors():
        raise sqlite3.OperationalError("disk I/O error")
    psycopg2 = pytest.importorskip("psycopg2")
    with pytest.raises(TemporarilyUnavailable), translated_errors():
        raise psycopg2.OperationalError("server closed the connection unexpectedly")
    with pytest.raises(ValueError), translated_errors():
        raise ValueError("not a database error")


def test_a_value_the_database_cannot_hold_is_an_invalid_parameter(
    pg_module_uri: str, tmp_path: Path
) -> None:
    """A DataError (too long for its column, not a number) is the request's fault: 400, with
    the driver's reason and no SQL, whether SQLAlchemy or a fast path's cursor raised it; the
    stores check the lengths they know first, this is the net under them. (SQLite stores any
    value in any column, so only Postgres raises these.)"""
    from runyard.store.sql.engine import translated_errors

    store = SqlStore(pg_module_uri, str(tmp_path))
    try:
        with (
            pytest.raises(InvalidParameterValue) as info,
            translated_errors(),
            store.engine.connect() as conn,
        ):
            conn.exec_driver_sql("SELECT CAST('not a number' AS integer)")
        assert "invalid input syntax" in info.value.message
        assert "SELECT" not in info.value.message
        raw = store.engine.raw_connection()
        try:
            with pytest.raises(InvalidParameterValue) as info, translated_errors():
                raw.cursor().execute("SELECT CAST('12345678901' AS integer)")
            assert "out of range" in info.value.message
        finally:
            raw.close()
    finally:
        store.close()


def test_a_nul_character_is_an_invalid_parameter_on_postgres(
    pg_module_uri: str, tmp_path: Path
) -> None:
    """psycopg2 refuses to send a string holding NUL with a ValueError; an embedded store
    (no server edge to refuse it first) answers InvalidParameterValue and writes nothing."""
    from runyard.entities import RunTag

    store = SqlStore(pg_module_uri, str(tmp_path))
    try:
        run_id = store.create_run(store.create_experiment("nul"), "u", 1).info.run_id
        with pytest.raises(InvalidParameterValue, match="NUL character"):
            store.set_tag(run_id, RunTag("note", "a\x00b"))
        assert "note" not in store.get_run(run_id).data.tags
    finally:
        store.close()
