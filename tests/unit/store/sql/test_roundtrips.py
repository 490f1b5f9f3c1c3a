"""What the SQL store asks of its database, counted: one round trip per ``log_metric`` on
Postgres, and the same number of statements for every created run whatever its params, tags
and metrics, on both engines."""

from __future__ import annotations

import secrets

import pytest
from runyard.entities import Metric, Param, RunTag
from runyard.store.sql import SqlStore, roundtrips


def _populate_one_run(store: SqlStore, experiment_id: str, n: int) -> int:
    """Round trips to create a run and log ``n`` params, tags and metrics, as ``populate``
    does."""
    with roundtrips.counting() as tally:
        run = store.create_run(experiment_id, "tester", 1_000, [], f"run-{n}")
        store.log_batch(
            run.info.run_id,
            [Metric(f"m{i}", i / 7, 1_000 + i, 0) for i in range(n)],
            [Param(f"p{i}", f"v{i}") for i in range(n)],
            [RunTag(f"t{i}", f"w{i}") for i in range(n)],
        )
    return tally.count


def test_statements_per_created_run_do_not_grow_with_its_data(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment(f"e-{secrets.token_hex(5)}")
    counts = {n: _populate_one_run(sql_store, experiment_id, n) for n in (2, 10, 100)}
    assert counts[2] == counts[10] == counts[100], counts
    assert counts[2] <= 18, counts
    if sql_store.engine.dialect.name == "postgresql":
        # the run and its tags; then BEGIN, the run's stage and series, the new params, the
        # new series, SAVEPOINT and COPY of the points, the summaries, the tags, COMMIT
        assert counts[2] == 1 + 9, counts
    run = sql_store.search_runs([experiment_id], "params.p99 = 'v99' and tags.t99 = 'w99'")
    assert len(run) == 1 and run[0].data.metrics["m99"] == 99 / 7


def test_log_metric_is_one_round_trip_on_postgres(sql_store: SqlStore, sql_run_id: str) -> None:
    sql_store.log_metric(sql_run_id, Metric("loss", 1.0, 1, 0))  # the series exists from now
    with roundtrips.counting() as tally:
        sql_store.log_metric(sql_run_id, Metric("loss", 0.5, 2, 1))
    if sql_store.engine.dialect.name == "postgresql":
        assert tally.count == 1
    else:  # in-process: BEGIN, one lookup, the point, the summary, COMMIT
        assert tally.count <= 5
    summary = sql_store.get_metric_summaries([sql_run_id])[sql_run_id][0]
    assert (summary.count, summary.latest.value, summary.min_value) == (2, 0.5, 0.5)


def test_taking_a_pooled_connection_sends_nothing(sql_store: SqlStore, sql_run_id: str) -> None:
    """No SELECT 1 per request: checking a connection out of the pool costs no round trip."""
    sql_store.get_run(sql_run_id)  # the pool holds a used connection now
    with roundtrips.counting() as tally:
        for _ in range(3):
            with sql_store.engine.connect():
                pass
    assert tally.count == 0


def test_summaries_of_a_batch_fold_in_one_statement(sql_store: SqlStore, sql_run_id: str) -> None:
    counts = {}
    for keys in (1, 30):
        names = [f"k{keys}-{i}" for i in range(keys)]
        sql_store.log_batch(sql_run_id, [Metric(name, 1.0, 1, 0) for name in names])
        batch = [Metric(name, float(step), 1, step) for name in names for step in (1, 2)]
        with roundtrips.counting() as tally:
            sql_store.log_batch(sql_run_id, batch)
        counts[keys] = tally.count
    assert counts[1] == counts[30], counts
    sql_store.log_batch(sql_run_id, [Metric("k30-0", -1.0, 1, 5)])
    summaries = {s.key: s for s in sql_store.get_metric_summaries([sql_run_id])[sql_run_id]}
    assert summaries["k30-0"].count == 4 and summaries["k30-0"].min_value == -1.0
    assert all(summaries[f"k30-{i}"].max_value == 2.0 for i in range(30))


def _in_transaction(conn) -> bool:  # type: ignore[no-untyped-def]
    """Whether the driver connection under ``conn`` has a transaction open right now."""
    dbapi_conn = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        return dbapi_conn.in_transaction
    from psycopg2 import extensions

    return dbapi_conn.get_transaction_status() == extensions.TRANSACTION_STATUS_INTRANS


def test_reads_open_no_transaction_on_postgres_and_writes_do(sql_store: SqlStore) -> None:
    """A read on Postgres costs no BEGIN and no COMMIT (at READ COMMITTED each statement has its
    own snapshot anyway); SQLite reads keep theirs, one snapshot for all their statements; a
    write after a read, even a failed read, is still one transaction."""
    postgres = sql_store.engine.dialect.name == "postgresql"
    with sql_store._read() as conn:
        conn.exec_driver_sql("SELECT 1")
        assert _in_transaction(conn) is not postgres
    with pytest.raises(KeyError), sql_store._read() as conn:
        conn.exec_driver_sql("SELECT 1")
        raise KeyError("a read that fails")
    for _ in range(3):
        with sql_store._write() as conn:
            conn.exec_driver_sql("SELECT 1")
            assert _in_transaction(conn)
    if postgres:
        run_id = sql_store.create_run(sql_store.create_experiment("reads"), "u", 1).info.run_id
        with roundtrips.counting() as tally:
            sql_store.get_run(run_id)
        assert tally.count == 6  # run, params, tags, metric summaries, inputs, outputs


def test_creating_a_run_is_one_round_trip_on_postgres(sql_store: SqlStore) -> None:
    """One statement reads the experiment and inserts the run and its tags; the artifact URI
    the database builds is the one the general path builds (trailing slashes dropped)."""
    location = f"file:///srv/artifacts/{secrets.token_hex(4)}//"
    experiment_id = sql_store.create_experiment(f"e-{secrets.token_hex(5)}", location)
    tags = [RunTag("team", "vision"), RunTag("note", "x" * 5000)]
    with roundtrips.counting() as tally:
        run = sql_store.create_run(experiment_id, "alice", 1_000, tags, "named")
    if sql_store.engine.dialect.name == "postgresql":
        assert tally.count == 1
    stored = sql_store.get_run(run.info.run_id)
    assert stored.info == run.info
    assert run.info.artifact_uri == f"{location.rstrip('/')}/{run.info.run_id}/artifacts"
    assert (
        dict(stored.data.tags)
        == dict(run.data.tags)
        == {
            "team": "vision",
            "note": "x" * 5000,
            "mlflow.runName": "named",
        }
    )


def test_a_batch_on_existing_series_is_six_round_trips_on_postgres(
    sql_store: SqlStore, sql_run_id: str
) -> None:
    """The ingest path: BEGIN, the run's stage and its series ids (one statement), SAVEPOINT,
    COPY, the summaries, COMMIT."""
    keys = [f"ingest-{i}" for i in range(5)]
    sql_store.log_batch(sql_run_id, [Metric(k, 0.0, 1, 0) for k in keys])
    batch = [Metric(k, float(step), 1 + step, step) for k in keys for step in range(1, 201)]
    with roundtrips.counting() as tally:
        sql_store.log_batch(sql_run_id, batch)
    if sql_store.engine.dialect.name == "postgresql":
        assert tally.count == 6
    summaries = {s.key: s for s in sql_store.get_metric_summaries([sql_run_id])[sql_run_id]}
    assert all(summaries[k].count == 201 and summaries[k].latest.step == 200 for k in keys)
