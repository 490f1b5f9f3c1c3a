"""The scale-out benchmark's arithmetic: speed-ups against one server process, and which part
bounds the predicted cluster (the containers themselves run in tests/container)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bench_scale import COLUMNS, Cluster, predict, render, rows


def figure(value: float, servers_ms: float, postgres_ms: float) -> dict[str, Any]:
    return {
        "value": value,
        "seconds": 10.0,
        "cpu_ms_per_op": {
            "servers": servers_ms,
            "postgres": postgres_ms,
            "balancer": 0.5,
            "clients": 1.0,
        },
        "cores": {"servers": 1.2, "postgres": 0.4, "balancer": 0.1, "clients": 0.3},
        "postgres_share": 0.2,
        "load1": 2.0,
        "others": 0.05,
        "load": "load 2.0, others 0.05 cores (dockerd 0.03)",
    }


RESULT = {
    "cores": 2,
    "results": [
        {"servers": 1, "ingest": figure(100_000, 0.01, 0.004),
         "single_calls": figure(800, 1.5, 0.5)},
        {"servers": 2, "ingest": figure(150_000, 0.012, 0.004),
         "single_calls": figure(1_000, 1.8, 0.5)},
    ],
}  # fmt: skip


def test_rows_give_the_speedup_over_one_server_process() -> None:
    table = rows(RESULT)
    by_key = {(row["workload"], row["servers"]): row for row in table}
    assert by_key[("ingest (points/s)", 1)]["speedup"] == 1.0
    assert by_key[("ingest (points/s)", 2)]["speedup"] == 1.5
    assert by_key[("single_calls (calls/s)", 2)]["speedup"] == 1.25
    assert by_key[("single_calls (calls/s)", 2)]["postgres_share"] == "20%"
    assert all(set(COLUMNS) <= set(row) for row in table)


def test_the_prediction_is_bound_by_the_smaller_of_servers_and_database() -> None:
    ingest, single = predict(RESULT, Cluster(nodes=3, node_cores=2, db_cores=2))
    # ingest: servers 6 cores / (0.01 + 0.5) ms; database 2 cores / 0.004 ms
    assert ingest["servers_bound"] == round(6_000 / 0.51)
    assert ingest["database_bound"] == 500_000
    assert ingest["predicted"] == ingest["servers_bound"] and ingest["bound_by"] == "servers"
    # single calls: servers 6,000 / 2.0 = 3,000 per s; database 2,000 / 0.5 = 4,000 per s
    assert (single["predicted"], single["bound_by"]) == (3_000, "servers")
    bigger = predict(RESULT, Cluster(nodes=12, node_cores=2, db_cores=2))[1]
    assert (bigger["predicted"], bigger["bound_by"]) == (4_000, "database")


@pytest.mark.parametrize("nodes", [1, 3])
def test_render_names_the_cluster_it_predicts_for(nodes: int) -> None:
    result = {**RESULT, "rows": rows(RESULT)}
    cluster = Cluster(nodes=nodes, node_cores=4, db_cores=8)
    result["prediction"] = predict(result, cluster)
    text = render(result, cluster)
    assert f"Predicted for {nodes} nodes of 4 cores and a dedicated database of 8 cores" in text
    assert text.count("| ingest (points/s) |") == 3  # two measured rows, one prediction
