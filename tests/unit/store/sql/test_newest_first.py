"""Pages of the default order seek past the last run shown: every page size walks the same
order (ties on start time, runs without one last), a run deleted meanwhile shifts nothing, the
token is still a plain offset token for any server, and a deep page is an index range on both
engines."""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa
from runyard.errors import InvalidParameterValue
from runyard.search.paging import decode_offset_token, encode_offset_token
from runyard.store.sql import SqlStore, newest_first
from runyard.store.sql import models as m
from runyard.store.sql.runs import RUN_COLUMNS


@pytest.fixture
def store(fresh_sql_store: SqlStore) -> SqlStore:
    """A store of its own per test, on SQLite and on Postgres (conftest)."""
    return fresh_sql_store


def walk(store: SqlStore, experiment_id: str, page_size: int, **kwargs: object) -> list[str]:
    seen, token = [], None
    while True:
        page = store.search_runs([experiment_id], max_results=page_size, page_token=token, **kwargs)
        seen += [run.info.run_id for run in page]
        token = page.token
        if not token:
            return seen


def make_runs(store: SqlStore, experiment_id: str) -> list[str]:
    """25 runs, start times with ties, three without a start time; the expected order."""
    starts = {}
    for i in range(25):
        start = None if i % 9 == 4 else 100 + i // 3
        run_id = store.create_run(experiment_id, "u", start or 1, [], f"r{i}").info.run_id
        starts[run_id] = start
    with store.engine.begin() as conn:  # create_run fills a missing start time in
        nulls = [run_id for run_id, start in starts.items() if start is None]
        conn.execute(sa.update(m.runs).where(m.runs.c.run_uuid.in_(nulls)).values(start_time=None))
    return sorted(starts, key=lambda r: (starts[r] is None, -(starts[r] or 0), r))


def test_every_page_size_walks_the_default_order(store: SqlStore) -> None:
    experiment_id = store.create_experiment("pages")
    expected = make_runs(store, experiment_id)
    assert [r.info.run_id for r in store.search_runs([experiment_id])] == expected
    for page_size in (1, 2, 5, 21, 24, 25, 100):
        assert walk(store, experiment_id, page_size) == expected, page_size
    filtered = walk(store, experiment_id, 4, filter_string="attributes.run_name LIKE 'r1%'")
    assert filtered == [r for r in expected if store.get_run(r).info.run_name.startswith("r1")]


def test_a_run_deleted_between_pages_shifts_nothing(store: SqlStore) -> None:
    experiment_id = store.create_experiment("pages")
    expected = make_runs(store, experiment_id)
    first = store.search_runs([experiment_id], max_results=5)
    store.delete_run(expected[0])  # an offset would now skip expected[5]
    second = store.search_runs([experiment_id], max_results=5, page_token=first.token)
    assert [run.info.run_id for run in second] == expected[5:10]


def test_the_token_is_an_offset_token_and_an_offset_alone_still_pages(store: SqlStore) -> None:
    experiment_id = store.create_experiment("pages")
    expected = make_runs(store, experiment_id)
    token = store.search_runs([experiment_id], max_results=5).token
    assert decode_offset_token(token) == 5
    assert json.loads(base64.b64decode(token))["offset"] == 5  # what MLflow's servers read
    plain = base64.b64encode(json.dumps({"offset": 10}).encode()).decode()  # as MLflow makes it
    page = store.search_runs([experiment_id], max_results=5, page_token=plain)
    assert [run.info.run_id for run in page] == expected[10:15]


@pytest.mark.parametrize(
    "after",
    [
        [1, 2],
        ["x", "abc"],
        [True, "abc"],
        [1.5, "abc"],
        [2**63, "abc"],
        [1],
        [1, ""],
        [1, "a" * 33],
        "abc",
    ],
)
def test_a_malformed_seek_is_refused(store: SqlStore, after: object) -> None:
    experiment_id = store.create_experiment("pages")
    token = base64.b64encode(json.dumps({"offset": 5, "after": after}).encode()).decode()
    with pytest.raises(InvalidParameterValue, match="Invalid page token"):
        store.search_runs([experiment_id], page_token=token)


def test_a_deep_page_seeks_in_the_index(store: SqlStore) -> None:
    experiment_id = store.create_experiment("many")
    eid = int(experiment_id)
    with store.engine.begin() as conn:  # enough runs that skipping half of them would cost more
        conn.execute(m.runs.insert(), [
            {"run_uuid": f"{i:032x}", "experiment_id": eid, "name": f"bulk{i}",
             "status": "FINISHED", "start_time": 10 + i, "artifact_uri": "/a"}
            for i in range(20_000)
        ])  # fmt: skip
        conn.exec_driver_sql("ANALYZE")
    middle = encode_offset_token(10_000, [10 + 9_999, f"{9_999:032x}"])
    page = store.search_runs([experiment_id], max_results=3, page_token=middle)
    assert [run.info.run_name for run in page] == ["bulk9998", "bulk9997", "bulk9996"]
    where = [m.runs.c.experiment_id.in_([eid]), m.runs.c.lifecycle_stage.in_(["active"])]
    stmt = newest_first.started_after(RUN_COLUMNS, where, 10_009, f"{9_999:032x}").limit(101)
    with store.engine.begin() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " / ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_runs_experiment_stage_start" in plan and "start_time<" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # only ties on run_uuid
        else:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_runs_experiment_stage_start_desc" in plan, plan
            assert "start_time <= " in plan.split("Index Cond")[1].split("\n")[0], plan
            sorts = [line for line in plan.splitlines() if "Sort" in line and "Key" not in line]
            assert all("Incremental Sort" in line for line in sorts), plan
