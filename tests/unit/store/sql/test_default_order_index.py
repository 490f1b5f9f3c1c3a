"""The runs table's default order (newest first, missing start times last) is read in order
from an index on both engines, so its first page does not sort every run of the experiment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from runyard.search import parser
from runyard.store.sql import SqlStore
from runyard.store.sql import models as m
from runyard.store.sql import search as sql_search
from runyard.store.sql.runs import RUN_COLUMNS


@pytest.fixture
def store(fresh_sql_store: SqlStore) -> SqlStore:
    """A store of its own per test, on SQLite and on Postgres (conftest)."""
    return fresh_sql_store


def default_order_sql(conn: sa.Connection, experiment_id: str) -> str:
    """The statement ``search_runs`` runs for the first page in the default order."""
    stmt = sa.select(*RUN_COLUMNS).where(
        m.runs.c.experiment_id == int(experiment_id), m.runs.c.lifecycle_stage.in_(["active"])
    )
    stmt, terms = sql_search.run_order(stmt, parser.parse_order_by([]))
    stmt = stmt.order_by(*terms).limit(101)
    return str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def test_newest_first_missing_start_last_and_read_from_an_index(store: SqlStore) -> None:
    experiment_id = store.create_experiment("ordered")
    ids = [
        store.create_run(experiment_id, "u", 1000 + i, [], f"r{i}").info.run_id for i in range(30)
    ]
    with store.engine.begin() as conn:  # a run imported without a start time
        conn.execute(sa.update(m.runs).where(m.runs.c.run_uuid == ids[5]).values(start_time=None))
    names = [run.info.run_name for run in store.search_runs([experiment_id], max_results=100)]
    assert names == [f"r{i}" for i in range(29, -1, -1) if i != 5] + ["r5"]
    ascending = store.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
    assert [run.info.run_name for run in ascending][-1] == "r5"  # missing last both ways

    with store.engine.begin() as conn:  # enough runs that sorting them all would cost more
        many = [
            {"run_uuid": f"{i:032x}", "experiment_id": int(experiment_id), "name": f"bulk{i}",
             "status": "FINISHED", "start_time": 10 + i, "artifact_uri": "/a"}
            for i in range(5000)
        ]  # fmt: skip
        conn.execute(m.runs.insert(), many)
        conn.exec_driver_sql("ANALYZE")
    with store.engine.begin() as conn:
        sql = default_order_sql(conn, experiment_id)
        if conn.dialect.name == "sqlite":
            plan = " / ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_runs_experiment_stage_start" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # only ties on run_uuid
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_runs_experiment_stage_start_desc" in plan, plan
            sorts = [line for line in plan.splitlines() if "Sort" in line and "Key" not in line]
            assert all("Incremental Sort" in line for line in sorts), plan
