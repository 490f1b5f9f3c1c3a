"""The server benchmark at a tiny size, so it cannot rot: both real servers, every workload.

Also checks the ``make bench`` summary: rows from differently shaped benchmark outputs land in
one table, stale outputs are left out.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bench import run_all
from bench import server_workloads as w
from bench.bench_server import (
    MEMORY_PHASES,
    WORKLOADS,
    cpu_rows,
    memory_rows,
    render,
    run_benchmark,
)
from bench.server_procs import mlflow_uri, server_argv
from tests.requirements import installed_or_skip

TINY = w.TINY


@pytest.mark.slow
def test_both_servers_run_every_workload_and_return_the_same_data(tmp_path: Path) -> None:
    installed_or_skip("mlflow", "mlflow")  # the other server of the comparison
    result = run_benchmark(TINY, ["sqlite"], workers=1, workdir=tmp_path)

    rows = {row["workload"]: row for row in result["rows"]}
    assert set(rows) == set(WORKLOADS)
    assert all(row["engine"] == "sqlite" for row in rows.values())
    for workload in ("single_calls", "search_order", "search_filter", "search_paging", "history"):
        assert rows[workload]["same_data"] == "yes", rows[workload]
    raw = result["raw"]["sqlite"]
    for product in ("runyard", "mlflow"):
        figures = raw[product]
        assert all(figures[name]["value"] > 0 for name in WORKLOADS), figures
        assert figures["history"]["n"] == TINY.ingest_points
        assert figures["search_paging"]["n"] == TINY.runs
        assert figures["search_order"]["n"] == TINY.runs  # fewer runs than max_results 100
        assert 0 < figures["search_filter"]["n"] < TINY.runs
        memory = figures["memory"]
        assert set(memory) == {"at_rest", "ingest", "single_calls", "search_order", "history"}
        for worker, tree in memory.values():  # a Python web server holds tens of MiB
            assert 20 * 2**20 < worker <= tree < 4 * 2**30, memory
    assert [row["when"] for row in memory_rows(result["raw"])] == list(MEMORY_PHASES)
    cpu = {row["operation"]: row for row in cpu_rows(result["raw"], TINY)}
    assert set(cpu) == {"log-batch of 1,000 points", "log-metric"}  # populated by the stores
    for row in cpu.values():  # every request costs its server some CPU, far below a second
        assert 0 < row["runyard ms"] < 1000 and 0 < row["mlflow ms"] < 1000, row
    assert rows["ingest"]["met"] in ("yes", "no")
    assert set(result["notes"]) == {r["workload"] for r in result["rows"] if r["met"] == "no"}
    assert "| ingest | sqlite |" in render(result)
    assert "| at rest (after warm-up) | sqlite |" in render(result)


def test_mlflow_gets_the_installed_postgres_driver_and_the_same_flags() -> None:
    uri = "postgresql://u:p@127.0.0.1:5432/db"
    assert mlflow_uri(uri) == "postgresql+psycopg2://u:p@127.0.0.1:5432/db"
    assert mlflow_uri("sqlite:///x.db") == "sqlite:///x.db"
    ours = server_argv("runyard", uri, "/tmp/a", 5001, 4)
    theirs = server_argv("mlflow", uri, "/tmp/a", 5001, 4)
    assert ours[1:2] == theirs[1:2] == ["server"]
    assert ours[-8:] == theirs[-8:]  # artifact root, host, port, workers
    assert ours[ours.index("--workers") + 1] == "4"
    with pytest.raises(ValueError, match="unknown product"):
        server_argv("other", uri, "/tmp/a", 5001, 4)


def test_summary_gathers_fresh_rows_of_every_shape(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(run_all, "OUTPUT_DIR", tmp_path)
    server = {
        "results": [
            {
                "workload": "ingest",
                "engine": "sqlite",
                "unit": "points/s",
                "runyard": 100.0,
                "mlflow": 5.0,
                "ratio": "20.0x",
                "target": "20x",
                "met": "yes",
            }
        ]
    }
    ui = {
        "results": {"runyard": {}},
        "rows": [
            {
                "workload": "chart",
                "runyard_ms": 3.0,
                "mlflow_ms": 90.0,
                "ratio": "30.0x",
                "target_ms": 500,
                "meets": "no",
            }
        ],
    }
    (tmp_path / "server.json").write_text(json.dumps(server))
    (tmp_path / "ui.json").write_text(json.dumps(ui))
    stale = tmp_path / "stores.json"
    stale.write_text(json.dumps({"results": [{"workload": "old"}]}))
    os.utime(stale, (time.time() - 3600, time.time() - 3600))

    rows = run_all.gather(["stores", "server", "ui"], since=time.time() - 60)

    assert [(r["bench"], r["workload"]) for r in rows] == [("server", "ingest"), ("ui", "chart")]
    assert rows[0]["runyard"] == "100.0 points/s" and rows[0]["met"] == "yes"
    assert rows[1]["mlflow"] == 90.0 and rows[1]["target"] == 500 and rows[1]["met"] == "no"
    text = run_all.render_summary(rows, {"server": "ran", "client": "not present"})
    assert "| server | ingest | sqlite |" in text
    assert "- client: not present" in text
    assert "1 target(s) missed" in text


def test_run_all_rejects_an_unknown_benchmark() -> None:
    with pytest.raises(SystemExit):
        run_all.main(["--only", "nonsense"])


@pytest.mark.slow
def test_auth_benchmark_compares_auth_on_with_off(tmp_path: Path) -> None:
    from bench.bench_auth import run_benchmark as run_auth_benchmark

    rows = run_auth_benchmark(TINY, ["sqlite"], workers=1, workdir=tmp_path)["rows"]
    assert {r["workload"] for r in rows} == {"auth_ingest", "auth_single_calls"}
    assert all(r["auth_on"] > 0 and r["auth_off"] > 0 and r["met"] in ("yes", "no") for r in rows)


def test_copy_baseline_stores_every_point_and_reports_a_rate() -> None:
    """The ingest target's yardstick: Postgres' own COPY of the same points, batch by batch."""
    import psycopg2

    from bench.bench_server import copy_rate, copy_rows
    from tests.postgres import fresh_postgres_database

    with fresh_postgres_database() as uri:
        rate = copy_rate(uri, 3_000)
        conn = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT step) FROM copy_baseline")
            assert cur.fetchone() == (3_000, 3_000)
        conn.close()
    assert rate > 0
    raw = {"postgres": {"copy_baseline": 1000.0, "runyard": {"ingest": {"value": 700.0}}}}
    assert copy_rows(raw) == [
        {
            "engine": "postgres",
            "runyard ingest": "700 points/s",
            "copy": "1,000 rows/s",
            "share": "70%",
            "met": "yes",
        }
    ]
