"""A filtered page on Postgres: the planner estimates a param or tag equality from the value's
statistics (migration 0008), so when matches are common it walks the runs newest first and
probes each run's filter rows until the page is full, instead of joining and sorting every
match; the cost of a page then stays flat as the experiment grows."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from runyard.store.sql import SqlStore
from runyard.store.sql import models as m
from runyard.store.sql.drivers.postgres import PostgresDriver
from runyard.store.sql.engine import create_engine
from runyard.store.sql.loading import load_runs

from tests.postgres import fresh_postgres_database
from tests.unit.store.sql.test_migrate import _downgrade_to, _upgrade_to

RUNS = 20_000
#: One run in SHARE holds each value of a param or tag.
SHARE = 11
FILTER = "metrics.m1 > 0.5 AND params.p2 = 'v3'"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """One experiment of RUNS runs with three params, two tags and a metric each, loaded in
    bulk and analysed, as autovacuum would after a day's logging."""
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path_factory.mktemp("artifacts")))
        experiment_id = int(store.create_experiment("many"))
        rng = random.Random(5)
        ids = [f"{i:032x}" for i in range(RUNS)]
        with store.engine.begin() as conn:
            conn.execute(m.runs.insert(), [
                {"run_uuid": run_id, "experiment_id": experiment_id, "name": f"r{i}",
                 "status": "FINISHED", "start_time": 10 + i, "artifact_uri": "/a"}
                for i, run_id in enumerate(ids)
            ])  # fmt: skip
            for table, prefix, count in ((m.params, "p", 3), (m.tags, "t", 2)):
                conn.execute(table.insert(), [
                    {"run_uuid": run_id, "key": f"{prefix}{k}", "value": f"v{(i + k) % SHARE}"}
                    for i, run_id in enumerate(ids) for k in range(count)
                ])  # fmt: skip
            conn.execute(m.metric_summaries.insert(), [
                {"run_uuid": run_id, "experiment_id": experiment_id, "key": "m1",
                 "value": rng.random(), "is_nan": False, "step": 0, "timestamp": 0,
                 "count": 1, "in_time_order": True}
                for run_id in ids
            ])  # fmt: skip
            # Statistics from every row, not a random sample of 30,000: the planner's choice
            # the tests read must not change from one run to the next.
            conn.exec_driver_sql("SET LOCAL default_statistics_target = 1000")
            conn.exec_driver_sql("ANALYZE")
        yield store
        store.close()


def executed_search(store: SqlStore, filter_string: str) -> tuple[str, int]:
    """The runs query a first page of 100 sends, with its parameters in place, and the number
    of runs on the page."""
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append(cursor.mogrify(statement, parameters).decode())

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        experiment_id = store.get_experiment_by_name("many").experiment_id
        page = store.search_runs([experiment_id], filter_string, max_results=100)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    return next(sql for sql in sent if "FROM runs" in sql), len(page)


def plan_of(store: SqlStore, sql: str) -> dict:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()[0]


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.parametrize("entity", ["params", "tags"])
def test_an_equality_is_estimated_from_the_value(store: SqlStore, entity: str) -> None:
    """The value and its md5 are one condition to the planner, not two independent ones: the
    estimate is near the RUNS / SHARE true matches, not their square."""
    key = "p2" if entity == "params" else "t1"
    sql = (
        f"SELECT run_uuid FROM {entity} WHERE key = '{key}' "
        "AND md5(value) = md5('v3') AND value = 'v3'"
    )
    with store.engine.connect() as conn:
        matches = conn.exec_driver_sql(f"SELECT count(*) FROM ({sql}) AS found").scalar_one()
    estimate = plan_of(store, sql)["Plan"]["Plan Rows"]
    assert matches == pytest.approx(RUNS / SHARE, rel=0.01)
    assert matches / 2 <= estimate <= matches * 2, (estimate, matches)


@pytest.mark.parametrize(
    "filter_string", [FILTER, "params.p2 = 'v3'", "tags.t1 = 'v3' AND metrics.m1 <= 0.8"]
)
def test_a_common_match_walks_the_runs_in_order(store: SqlStore, filter_string: str) -> None:
    """The page reads the experiment's runs from the newest-first index and sorts only ties;
    no node sorts the matches, and no node reads a table whole."""
    sql, found = executed_search(store, filter_string)
    assert found == 100
    plan = plan_of(store, sql)["Plan"]
    seen = list(nodes(plan))
    indexes = {node.get("Index Name") for node in seen}
    assert "ix_runs_experiment_stage_start_desc" in indexes, json.dumps(plan)
    assert not [node for node in seen if node["Node Type"] == "Sort"], json.dumps(plan)
    assert not [node for node in seen if node["Node Type"] == "Seq Scan"], json.dumps(plan)


def test_a_rare_value_reads_its_few_matches_through_the_index(store: SqlStore) -> None:
    """A value no run holds is found absent from the (key, md5(value)) index, without walking
    the experiment."""
    with store.engine.connect() as conn:
        conn.execute(m.params.insert(), [{"run_uuid": f"{7:032x}", "key": "p9", "value": "x"}])
        conn.commit()
    sql, found = executed_search(store, "params.p9 = 'x'")
    assert found == 1
    indexes = {node.get("Index Name") for node in nodes(plan_of(store, sql)["Plan"])}
    assert "ix_params_key_value_md5" in indexes, indexes


@pytest.mark.parametrize("table", ["params", "tags", "metric_summaries"])
def test_a_page_of_some_hundred_runs_is_loaded_through_the_index(
    store: SqlStore, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's params, tags and latest metrics are read by run id through each table's key,
    also for a page of a few hundred runs: given as a constant array, that many ids once made
    the planner choose a scan of the whole table instead."""
    page = [f"{i:032x}" for i in range(0, RUNS, RUNS // 600)]
    sent: list[str] = []
    real_rows = PostgresDriver.rows

    def capture(driver, conn, sql, args=()):  # type: ignore[no-untyped-def]
        cursor = conn.connection.cursor()
        sent.append(cursor.mogrify(sql, args).decode())
        cursor.close()
        return real_rows(driver, conn, sql, args)

    monkeypatch.setattr(PostgresDriver, "rows", capture)
    with store.engine.connect() as conn:
        runs = load_runs(conn, [(run_id, *["x"] * 8) for run_id in page])
    assert [len(run.data.params) for run in runs] == [3] * len(page)
    sql = next(sql for sql in sent if f"FROM {table} " in sql)
    seen = list(nodes(plan_of(store, sql)["Plan"]))
    assert not [node for node in seen if node["Node Type"] == "Seq Scan"], sql[:200]
    keys = {f"{table}_pkey", "uq_metric_summaries_run_key"}
    assert {node.get("Index Name") for node in seen} & keys, sql[:200]


def test_the_migration_can_be_undone() -> None:
    """Downgrading past 0008 drops the statistics it created."""
    with fresh_postgres_database() as uri:
        _upgrade_to(uri, "0008")
        engine = create_engine(uri)
        names = "SELECT stxname FROM pg_statistic_ext ORDER BY stxname"
        with engine.connect() as conn:
            assert conn.exec_driver_sql(names).scalars().all() == [
                "st_params_value_md5", "st_tags_value_md5",
            ]  # fmt: skip
        _downgrade_to(uri, "0007")
        with engine.connect() as conn:
            assert conn.exec_driver_sql(names).scalars().all() == []
        engine.dispose()
