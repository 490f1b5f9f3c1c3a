"""Search ordered by a metric: finite values by value, then NaN, then runs without the metric
(ties newest first, then by id), whatever the page size and offset; the first page read from
the summaries' (experiment, key, is_nan, value) index on both engines; and migration 0007
filling the experiment of series stored before it."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.entities import Metric, Param
from runyard.errors import InvalidParameterValue
from runyard.search import parser
from runyard.search.paging import encode_offset_token
from runyard.store.sql import SqlStore, metric_order
from runyard.store.sql import models as m
from runyard.store.sql.migrate import head_revision
from runyard.store.sql.runs import RUN_COLUMNS

from tests.postgres import fresh_postgres_database
from tests.unit.store.sql.test_migrate import _revisions, _upgrade_to, insert_old_runs


@pytest.fixture
def store(fresh_sql_store: SqlStore) -> SqlStore:
    """A store of its own per test, on SQLite and on Postgres (conftest)."""
    return fresh_sql_store


def expected_order(runs: dict[str, tuple[int, float | None]], ascending: bool) -> list[str]:
    """The search order worked out in Python: finite values by value, NaN, missing; ties by
    start time, newest first, then by run id."""

    def key(run_id: str) -> tuple:
        start, value = runs[run_id]
        if value is None:
            group, ordered = 2, 0.0
        elif math.isnan(value):
            group, ordered = 1, 0.0
        else:
            group, ordered = 0, (value if ascending else -value)
        return (group, ordered, -start, run_id)

    return sorted(runs, key=key)


def populate(
    store: SqlStore, experiment_id: str, count: int
) -> dict[str, tuple[int, float | None]]:
    """Runs with values drawn from a few (so ties), some NaN, some without the metric, and a
    deleted one that no search may show."""
    rng = random.Random(11)
    runs: dict[str, tuple[int, float | None]] = {}
    for i in range(count):
        start = 1000 + rng.randrange(count // 2)  # ties on start time too
        run_id = store.create_run(experiment_id, "u", start, [], f"r{i}").info.run_id
        value = rng.choice([0.5, 1.0, 1.5, -2.0, math.inf, -math.inf, math.nan, None])
        if value is not None:
            store.log_batch(run_id, [Metric("acc", value, 1, 0)], [], [])
        store.log_batch(run_id, [Metric("loss", 1.0, 1, 0)], [Param("p", str(i % 3))], [])
        runs[run_id] = (start, value)
    deleted = store.create_run(experiment_id, "u", 5000, [], "gone").info.run_id
    store.log_batch(deleted, [Metric("acc", 9.0, 1, 0)], [], [])
    store.delete_run(deleted)
    return runs


@pytest.mark.parametrize("direction", ["DESC", "ASC"])
def test_every_page_size_walks_the_same_order(store: SqlStore, direction: str) -> None:
    experiment_id = store.create_experiment("by-metric")
    other = store.create_experiment("other")  # its runs must never show
    store.log_batch(
        store.create_run(other, "u", 1, [], "x").info.run_id, [Metric("acc", 0.1, 1, 0)], [], []
    )
    runs = populate(store, experiment_id, 60)
    expected = expected_order(runs, ascending=direction == "ASC")
    order_by = [f"metrics.acc {direction}"]
    for page_size in (1, 4, 7, 60, 100):
        seen, token = [], None
        while True:
            page = store.search_runs([experiment_id], max_results=page_size, order_by=order_by,
                                     page_token=token)  # fmt: skip
            seen += [run.info.run_id for run in page]
            token = page.token
            if not token:
                break
        assert seen == expected, page_size
    # a deep offset that starts in the NaN or the missing part skips the parts before it
    for offset in (len(expected) - 3, len(expected) - 1, len(expected) + 5):
        page = store.search_runs([experiment_id], max_results=2, order_by=order_by,
                                 page_token=encode_offset_token(offset))  # fmt: skip
        assert [run.info.run_id for run in page] == expected[offset : offset + 2]


def test_later_keys_and_filters_still_apply(store: SqlStore) -> None:
    experiment_id = store.create_experiment("by-metric-then-param")
    runs = populate(store, experiment_id, 30)
    found = store.search_runs(
        [experiment_id], "params.p = '1'", max_results=100,
        order_by=["metrics.acc ASC", "params.p DESC", "attributes.run_name ASC"],
    )  # fmt: skip
    params = {run_id: store.get_run(run_id).data.params["p"] for run_id in runs}
    names = {run_id: store.get_run(run_id).info.run_name for run_id in runs}
    chosen = {run_id: runs[run_id] for run_id in runs if params[run_id] == "1"}

    def key(run_id: str) -> tuple:
        _start, value = chosen[run_id]
        group = 2 if value is None else 1 if math.isnan(value) else 0
        return (group, value if group == 0 else 0.0, names[run_id])

    assert [run.info.run_id for run in found] == sorted(chosen, key=key)


def first_part_sql(conn: sa.Connection, experiment_id: str) -> str:
    keys = parser.parse_order_by(["metrics.m0 DESC"])
    where = [
        m.runs.c.experiment_id.in_([int(experiment_id)]),
        m.runs.c.lifecycle_stage.in_(["active"]),
    ]
    finite = next(metric_order.parts(RUN_COLUMNS, where, [int(experiment_id)], keys[0], keys[1:]))
    stmt = finite.limit(101)
    return str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def test_the_first_page_is_read_from_the_index(store: SqlStore) -> None:
    """Ten experiments share the metric's key, as on a team's server: the page reads this
    experiment's values in order and sorts only ties."""
    experiment_id = store.create_experiment("many")
    eids = [int(experiment_id)] + [int(store.create_experiment(f"n{i}")) for i in range(9)]
    owner = [eids[0]] * 5_000 + [eids[1 + i % 9] for i in range(18_000)]
    rng = random.Random(3)
    with store.engine.begin() as conn:  # enough runs that sorting them all would cost more
        conn.execute(m.runs.insert(), [
            {"run_uuid": f"{i:032x}", "experiment_id": owner[i], "name": f"bulk{i}",
             "status": "FINISHED", "start_time": 10 + i, "artifact_uri": "/a"}
            for i in range(len(owner))
        ])  # fmt: skip
        conn.execute(m.metric_summaries.insert(), [
            {"run_uuid": f"{i:032x}", "experiment_id": owner[i], "key": "m0",
             "value": rng.random(), "is_nan": False, "step": 0, "timestamp": 0, "count": 1,
             "in_time_order": True}
            for i in range(len(owner))
        ])  # fmt: skip
        conn.exec_driver_sql("ANALYZE")
    top = store.search_runs([experiment_id], max_results=3, order_by=["metrics.m0 DESC"])
    with store.engine.connect() as conn:
        best = conn.execute(
            sa.select(m.metric_summaries.c.run_uuid)
            .where(m.metric_summaries.c.experiment_id == eids[0])
            .order_by(m.metric_summaries.c.value.desc())
            .limit(3)
        ).scalars().all()  # fmt: skip
    assert [run.info.run_id for run in top] == best
    with store.engine.begin() as conn:
        sql = first_part_sql(conn, experiment_id)
        if conn.dialect.name == "sqlite":
            plan = " / ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_metric_summaries_experiment_key_value" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # only ties are sorted
        else:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_metric_summaries_experiment_key_value" in plan, plan
            sorts = [line for line in plan.splitlines() if "Sort" in line and "Key" not in line]
            assert all("Incremental Sort" in line for line in sorts), plan


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_migration_gives_stored_series_their_experiment(tmp_path: Path, engine_name: str) -> None:
    with contextlib.ExitStack() as stack:
        if engine_name == "sqlite":
            uri = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            uri = stack.enter_context(fresh_postgres_database())
        _upgrade_to(uri, "0006")
        engine = sa.create_engine(uri.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.begin() as conn:
            insert_old_runs(conn, ["r1", "r2", "r3"])
            conn.exec_driver_sql(
                "INSERT INTO metric_summaries (run_uuid, key, value, is_nan, step, timestamp, "
                "count, in_time_order) VALUES ('r1', 'acc', 0.2, false, 0, 1, 1, true), "
                "('r2', 'acc', 0.9, false, 0, 1, 1, true), ('r3', 'acc', 0, true, 0, 1, 1, true)"
            )
        engine.dispose()
        store = SqlStore(uri, str(tmp_path))
        stack.callback(store.close)
        assert _revisions(uri) == [head_revision()]
        with store.engine.connect() as conn:
            stored = conn.execute(sa.select(m.metric_summaries.c.experiment_id)).scalars().all()
        assert stored == [7, 7, 7]
        found = store.search_runs(["7"], order_by=["metrics.acc DESC"])
        assert [run.info.run_id for run in found] == ["r2", "r1", "r3"]
        new_run = store.create_run("7", "u", 9, [], "new").info.run_id
        store.log_batch(new_run, [Metric("acc", 0.5, 1, 0)], [], [])
        found = store.search_runs(["7"], order_by=["metrics.acc DESC"])
        assert [run.info.run_id for run in found] == ["r2", new_run, "r1", "r3"]


def test_pages_seek_past_the_last_run_so_a_deletion_shifts_nothing(store: SqlStore) -> None:
    experiment_id = store.create_experiment("by-metric-seek")
    runs = populate(store, experiment_id, 40)
    expected = expected_order(runs, ascending=False)
    order_by = ["metrics.acc DESC"]
    for boundary in (5, len([r for r in runs if runs[r][1] is not None]) - 2, len(expected) - 3):
        first = store.search_runs([experiment_id], max_results=boundary, order_by=order_by)
        payload = json.loads(base64.b64decode(first.token))
        assert payload["offset"] == boundary and len(payload["after"]) == 4
        store.delete_run(expected[0])  # an offset would now skip expected[boundary]
        second = store.search_runs([experiment_id], max_results=2, order_by=order_by,
                                   page_token=first.token)  # fmt: skip
        assert [run.info.run_id for run in second] == expected[boundary : boundary + 2]
        store.restore_run(expected[0])
    two_keys = store.search_runs([experiment_id], max_results=5,
                                 order_by=["metrics.acc DESC", "params.p ASC"])  # fmt: skip
    assert "after" not in json.loads(base64.b64decode(two_keys.token))  # pages by offset


@pytest.mark.parametrize(
    "after",
    [[0, None, 1, "abc"], [1, 0.5, 1, "abc"], [3, None, 1, "abc"], [0, "x", 1, "abc"],
     [0, 2**60, 1, "abc"], [True, 1.0, 1, "abc"], [0, 1.0, 1], [0, 1.0, 1.5, "abc"],
     [2, None, None, ""], {"a": 1}],
)  # fmt: skip
def test_a_malformed_seek_is_refused(store: SqlStore, after: object) -> None:
    experiment_id = store.create_experiment("by-metric-bad")
    token = base64.b64encode(json.dumps({"offset": 5, "after": after}).encode()).decode()
    with pytest.raises(InvalidParameterValue, match="Invalid page token"):
        store.search_runs([experiment_id], order_by=["metrics.acc DESC"], page_token=token)


def test_a_seek_in_the_finite_part_is_an_index_range(store: SqlStore) -> None:
    keys = parser.parse_order_by(["metrics.m0 DESC"])
    where = [m.runs.c.experiment_id.in_([1]), m.runs.c.lifecycle_stage.in_(["active"])]
    after = (metric_order.FINITE, 0.5, 100, "0" * 32)
    finite = next(metric_order.parts(RUN_COLUMNS, where, [1], keys[0], keys[1:], after))
    with store.engine.begin() as conn:
        sql = str(
            finite.limit(101).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        )
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            cond = next(
                line for line in plan.splitlines() if "Index Cond" in line and "key" in line
            )
            assert "value <= '0.5'" in cond or "value <= 0.5" in cond, plan
        else:
            plan = " / ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            seek = "(experiment_id=? AND key=? AND is_nan=? AND value<?)"
            assert f"ix_metric_summaries_experiment_key_value {seek}" in plan, plan
