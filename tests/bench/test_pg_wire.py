"""The benchmark's round-trip counting: the wire relay agrees with the store's own counter,
and a runyard server on Postgres makes one round trip per ``log-metric`` and the same number
per created run whatever its size."""

from __future__ import annotations

from pathlib import Path

from runyard.entities import Metric, Param, RunTag
from runyard.store.sql import SqlStore, roundtrips

from bench import server_workloads as w
from bench.load import LoadProbe
from bench.pg_wire import counting_relay
from tests.live_server import start_live_server
from tests.postgres import fresh_postgres_database


def test_the_wire_count_matches_the_store_counter(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri, counting_relay(uri) as (relayed, counter):
        store = SqlStore(relayed, str(tmp_path))
        try:
            run_id = store.create_run("0", "u", 1).info.run_id
            before = (counter.count, roundtrips.total())
            store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [Param("p", "v")], [RunTag("t", "v")])
            store.log_metric(run_id, Metric("m", 2.0, 2, 1))
            wire, ours = counter.count - before[0], roundtrips.total() - before[1]
        finally:
            store.close()
    assert wire == ours > 0


def test_a_runyard_server_on_postgres_counted_per_operation(tmp_path: Path) -> None:
    big = w.Size(**{**w.QUICK.__dict__, "params": 60, "metrics": 60, "tags": 40})
    with (
        fresh_postgres_database() as uri,
        counting_relay(uri) as (relayed, counter),
        start_live_server(relayed) as server,
    ):
        probe = LoadProbe([server.process.pid])
        assert w.warm_up(server.url, clients=2) >= 1
        sample = probe.stop()
        small = w.counted_operations(server.url, w.QUICK, lambda: counter.count)
        large = w.counted_operations(server.url, big, lambda: counter.count)
        populated = w.populate(server.url, w.Size(**{**w.QUICK.__dict__, "runs": 120}))
        searched = w.counted_operations(
            server.url, w.QUICK, lambda: counter.count, populated["experiment_id"]
        )
    assert small["single_calls"] == 1, small
    assert small["populate"] == large["populate"], (small, large)
    # A page of 100 runs ordered by a metric all of them have: the page, then its params,
    # tags, latest metrics, inputs and outputs.
    assert searched["search_order"] == 6, searched
    assert sample.load1 >= 0 and sample.others_cpu >= 0
