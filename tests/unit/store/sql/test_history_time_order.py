"""A series remembers whether its points are in time order (``metric_summaries.in_time_order``),
and history is read in its key order only then: every way points can arrive gives the same
pages as sorting by (timestamp, step, value)."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.entities import Metric
from runyard.store.sql import SqlStore
from runyard.store.sql.engine import create_engine
from runyard.store.sql.migrate import head_revision

from tests.postgres import fresh_postgres_database
from tests.unit.store.sql.test_migrate import _revisions, _upgrade_to, insert_old_runs


def flag(store: SqlStore, run_id: str, key: str) -> bool:
    with store.engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT in_time_order FROM metric_summaries WHERE run_uuid = :r AND key = :k"
                ),
                {"r": run_id, "k": key},
            ).scalar_one()
        )


def paged(store: SqlStore, run_id: str, key: str, page: int) -> list[tuple]:
    points, token = [], None
    while True:
        got = store.get_metric_history(run_id, key, max_results=page, page_token=token)
        points += [(p.timestamp, p.step, p.value) for p in got]
        token = got.token
        if not token:
            return points


# Each case: batches of (step, timestamp, value) in arrival order, and whether the series ends
# in time order.
CASES = {
    "training order": ([[(s, 100 + s, s / 3) for s in range(0, 40)], [(40, 140, 1.0)]], True),
    "same timestamp for many steps": ([[(s, 100 + s // 10, 1.0) for s in range(30)]], True),
    "a batch out of arrival order": ([[(2, 12, 0.0), (1, 11, 0.0), (3, 13, 0.0)]], True),
    "re-sent points": ([[(1, 10, 0.5), (2, 20, 0.5)], [(1, 10, 0.5)], [(3, 30, 0.5)]], True),
    "a later step at an earlier time": ([[(1, 50, 0.0), (2, 40, 0.0)]], False),
    "a later batch back in time": ([[(5, 50, 0.0)], [(6, 49, 0.0)]], False),
    "a backfilled earlier step": ([[(5, 50, 0.0)], [(4, 51, 0.0)]], False),
    "the same step twice, time going back": ([[(1, 50, 0.0)], [(1, 40, 1.0)]], False),
    "the same step twice, time going on": ([[(1, 40, 0.0)], [(1, 50, 1.0)]], True),
    "several values at one step and time": ([[(1, 40, 0.0), (1, 40, 2.0), (1, 40, 1.0)]], True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_flag_follows_every_arrival_and_history_keeps_its_order(
    sql_store: SqlStore, sql_run_id: str, case: str
) -> None:
    batches, in_order = CASES[case]
    for batch in batches:
        metrics = [Metric("k", v, ts, step) for step, ts, v in batch]
        if len(metrics) == 1:
            sql_store.log_metric(sql_run_id, metrics[0])  # the single-point path
        else:
            sql_store.log_batch(sql_run_id, metrics=metrics)
    assert flag(sql_store, sql_run_id, "k") is in_order
    expected = sorted({(ts, step, float(v)) for batch in batches for step, ts, v in batch})
    assert paged(sql_store, sql_run_id, "k", 1000) == expected
    for page in (1, 3, 7):
        assert paged(sql_store, sql_run_id, "k", page) == expected


def test_random_arrivals_read_back_sorted(sql_store: SqlStore, sql_run_id: str) -> None:
    rng = random.Random(3)
    logged: set[tuple[int, int, float]] = set()
    for _ in range(30):
        start = rng.randrange(0, 50)
        batch = [(start + i, 1000 + start + i + rng.choice((0, 0, 0, -3)), 0.5) for i in range(5)]
        logged |= {(ts, step, v) for step, ts, v in batch}
        sql_store.log_batch(sql_run_id, metrics=[Metric("r", v, ts, s) for s, ts, v in batch])
        assert paged(sql_store, sql_run_id, "r", 4) == sorted(logged)


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_migration_works_out_the_flag_of_stored_series(tmp_path: Path, engine_name: str) -> None:
    with contextlib.ExitStack() as stack:
        if engine_name == "sqlite":
            uri = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            uri = stack.enter_context(fresh_postgres_database())
        _upgrade_to(uri, "0005")
        engine = create_engine(uri)
        with engine.begin() as conn:
            insert_old_runs(conn, ["r1"])
            conn.exec_driver_sql(
                "INSERT INTO metric_summaries (series_id, run_uuid, key, value, is_nan, step, "
                "timestamp, count) VALUES (1, 'r1', 'ordered', 0, false, 2, 30, 3), "
                "(2, 'r1', 'back', 0, false, 2, 5, 3), (3, 'r1', 'empty', 0, false, 0, 0, 0)"
            )
            conn.exec_driver_sql(
                "INSERT INTO metrics (series_id, step, timestamp, value, is_nan) VALUES "
                "(1, 0, 10, 0, false), (1, 1, 10, 0, false), (1, 2, 30, 0, false), "
                "(2, 0, 10, 0, false), (2, 1, 20, 0, false), (2, 2, 5, 0, false)"
            )
        engine.dispose()
        store = SqlStore(uri, str(tmp_path))
        stack.callback(store.close)
        assert _revisions(uri) == [head_revision()]
        assert [flag(store, "r1", k) for k in ("ordered", "back", "empty")] == [True, False, True]
        assert [p.timestamp for p in store.get_metric_history("r1", "back")] == [5, 10, 20]
