"""Filtered pages of the default order that probe windows of the newest runs before falling
back to sets (``probe_window``): every page size walks exactly the runs, in exactly the order,
that the sets give in one page, whether matches are common, rare or absent, across runs
without a start time, deleted runs and other experiments; on SQLite a common filter's page
never reads the sets."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from runyard.entities import Metric, Param, RunTag
from runyard.store.sql import SqlStore, probe_window
from runyard.store.sql import models as m

FILTERS = [
    "params.p = 'a'",  # one run in two
    "params.p = 'b'",  # one in ten
    "params.p = 'r'",  # one in a hundred
    "params.p = 'zz'",  # none
    "metrics.m > 0.5",
    "metrics.m != 0.5",
    "params.q IS NULL",
    "params.p != 'a'",
    "tags.t IS NULL",
    "params.p = 'a' OR tags.t = 'x'",
    "params.p = 'b' AND metrics.m >= 0.2",
    "attributes.status = 'FINISHED' AND params.p = 'a'",
]
RUNS = 400


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlStore]:
    """One experiment of RUNS runs (start-time ties, a few without a start time, one deleted)
    and another experiment whose runs hold the same values."""
    from tests.postgres import fresh_postgres_database

    artifacts = str(tmp_path_factory.mktemp("artifacts"))
    if request.param == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path_factory.mktemp('db') / 'r.db'}", artifacts)
        populate(store)
        yield store
        store.close()
        return
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, artifacts)
        populate(store)
        yield store
        store.close()


def populate(store: SqlStore) -> None:
    rng = random.Random(17)
    experiment_id = store.create_experiment("probed")
    other = store.create_experiment("other")
    for i in range(RUNS):
        target = other if i % 40 == 0 else experiment_id
        run_id = store.create_run(target, "u", 1_000 + rng.randrange(RUNS // 3), [], f"r{i}")
        value = rng.choice(["a"] * 50 + ["b"] * 10 + ["r"] + ["c"] * 39)
        metrics = (
            [] if i % 7 == 0 else [Metric("m", rng.choice([0.1, 0.5, 0.9, float("nan")]), 1, 0)]
        )
        tags = [RunTag("t", "x")] if i % 5 == 0 else []
        params = [Param("p", value)] + ([Param("q", "1")] if i % 3 else [])
        store.log_batch(run_id.info.run_id, metrics, params, tags)
        if i % 9 == 0:
            store.update_run_info(run_id.info.run_id, "FINISHED", 5_000, None)
    with store.engine.begin() as conn:  # imported runs without a start time
        conn.execute(m.runs.insert(), [
            {"run_uuid": f"{i:032x}", "experiment_id": int(experiment_id), "name": f"old{i}",
             "status": "FINISHED", "start_time": None, "artifact_uri": "/a"}
            for i in range(12)
        ])  # fmt: skip
    for i in range(12):
        store.log_batch(f"{i:032x}", [], [Param("p", "a" if i % 2 else "b")], [])
    gone = store.create_run(experiment_id, "u", 1_200, [], "gone").info.run_id
    store.log_batch(gone, [Metric("m", 0.9, 1, 0)], [Param("p", "a")], [RunTag("t", "x")])
    store.delete_run(gone)


def experiment(store: SqlStore) -> str:
    return store.get_experiment_by_name("probed").experiment_id


def as_sets(store: SqlStore, filter_string: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every matching run in one page, read the way other orders are: as sets."""
    with monkeypatch.context() as patch:
        patch.setattr(probe_window, "applies", lambda *args: False)
        page = store.search_runs([experiment(store)], filter_string, max_results=RUNS * 2)
    assert page.token is None
    return [run.info.run_id for run in page]


def walk(store: SqlStore, filter_string: str, page_size: int) -> list[str]:
    found, token = [], None
    while True:
        page = store.search_runs(
            [experiment(store)], filter_string, max_results=page_size, page_token=token
        )
        found += [run.info.run_id for run in page]
        token = page.token
        if token is None:
            return found


@pytest.mark.parametrize("filter_string", FILTERS)
@pytest.mark.parametrize("page_size", [1, 4, 25, 1000])
def test_every_page_size_walks_the_runs_of_the_sets(
    store: SqlStore, filter_string: str, page_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = as_sets(store, filter_string, monkeypatch)
    if filter_string != "params.p = 'zz'":
        assert expected  # the filter matches something, so the walk has work to do
    with monkeypatch.context() as patch:  # the probing path on every engine, not only SQLite
        patch.setattr(probe_window, "applies", lambda conn, expr, offset, after: expr is not None)
        assert walk(store, filter_string, page_size) == expected


def test_the_real_choice_gives_the_same_runs(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the patch: SQLite probes, Postgres reads sets; both give the sets' runs."""
    for filter_string in FILTERS[:4]:
        assert walk(store, filter_string, 7) == as_sets(store, filter_string, monkeypatch)


def sent_for(store: SqlStore, filter_string: str) -> list[str]:
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.search_runs([experiment(store)], filter_string, max_results=10)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    return [sql for sql in sent if "FROM runs" in sql]


def test_on_sqlite_a_common_filter_never_reads_the_sets(store: SqlStore) -> None:
    """A filter one run in two matches fills its page from the first window: probes through
    each run's own rows, no IN set of every match; a filter nothing matches falls back."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("Postgres chooses from its statistics (test_filter_plan)")
    common = sent_for(store, "params.p = 'a'")
    assert any("EXISTS" in sql for sql in common), common
    assert not any("IN (SELECT" in sql for sql in common), common
    absent = sent_for(store, "params.p = 'zz'")
    assert any("IN (SELECT" in sql for sql in absent), absent


@pytest.mark.parametrize(
    ("found", "probed", "rest", "window"),
    [(0, 20, 11, None), (10, 20, 11, 28), (1, 1_000, 100, 125_000), (5, 5, 1, 2)],
)
def test_the_next_window_follows_the_rate_seen(
    found: int, probed: int, rest: int, window: int | None
) -> None:
    assert probe_window.next_window(found, probed, rest) == window
