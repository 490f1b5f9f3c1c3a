"""Param and tag equality filters on Postgres use the (key, md5(value)) indexes of migration
0004, and values longer than a b-tree entry may be still index and match exactly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from runyard.entities import Param, RunTag
from runyard.search import parser
from runyard.store.sql import SqlStore
from runyard.store.sql import models as m
from runyard.store.sql import search as sql_search

from tests.postgres import fresh_postgres_database

LONG = "x" * 5999


def test_equality_filters_use_the_hash_indexes_and_long_values_match(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path))
        try:
            experiment_id = store.create_experiment("indexed")
            for i in range(20):
                run_id = store.create_run(experiment_id, "u", i, [], f"r{i}").info.run_id
                params = [Param("p", f"v{i % 4}"), Param("long", LONG + str(i % 2))]
                store.log_batch(run_id, params=params, tags=[RunTag("t", "x" * 8000)])
            both = f"params.p = 'v1' and params.long = '{LONG}1' and tags.t = '{'x' * 8000}'"
            assert len(store.search_runs([experiment_id], both)) == 5
            assert store.search_runs([experiment_id], "params.p = 'v9'") == []

            where = sql_search.run_filter(parser.parse_filter("params.p = 'v1' and tags.t = 'a'"))
            with store.engine.connect() as conn:
                names = conn.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE tablename IN ('params', 'tags')"
                ).scalars()
                assert {"ix_params_key_value_md5", "ix_tags_key_value_md5"} <= set(names)
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                sql = (
                    sa.select(m.runs.c.run_uuid)
                    .where(where)
                    .compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
                )
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_params_key_value_md5" in plan or "ix_tags_key_value_md5" in plan, plan
        finally:
            store.close()


def test_equality_filters_read_the_key_value_indexes_on_sqlite(tmp_path: Path) -> None:
    """The comparison is a plain one on SQLite (not ``value = 'v' = 1``, which no index serves),
    so the subquery looks up key and value in ``ix_params_key_value`` and ``ix_tags_key_value``."""
    store = SqlStore(f"sqlite:///{tmp_path / 'values.db'}", str(tmp_path))
    try:
        experiment_id = store.create_experiment("indexed")
        for i in range(8):
            run_id = store.create_run(experiment_id, "u", i, [], f"r{i}").info.run_id
            store.log_batch(run_id, params=[Param("p", f"v{i % 4}")], tags=[RunTag("t", "a")])
        assert len(store.search_runs([experiment_id], "params.p = 'v1' and tags.t = 'a'")) == 2
        where = sql_search.run_filter(parser.parse_filter("params.p = 'v1' and tags.t = 'a'"))
        with store.engine.connect() as conn:
            sql = (
                sa.select(m.runs.c.run_uuid)
                .where(where)
                .compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            )
            plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        for index in ("ix_params_key_value", "ix_tags_key_value"):
            assert any(f"{index} (key=? AND value=?)" in step for step in plan), plan
    finally:
        store.close()
