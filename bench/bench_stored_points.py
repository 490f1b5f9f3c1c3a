"""Does runyard's server slow down as metric points pile up? Postgres, 0 / 10,000,000 /
100,000,000 points already stored.

The stored points are long histories (10,000,000 points each at full size) of runs in one
experiment, written straight into runyard's ``metrics`` table inside Postgres
(``INSERT … SELECT`` over ``generate_series``: no API, no per-row Python), with each run's
metric summary set as ingest would have left it, then ``VACUUM ANALYZE`` as autovacuum would
soon do. At each level a fresh ``runyard server`` (2 workers) is warmed up the same way as in
``bench.bench_server`` and measured:

* ``ingest``: points/s through ``runs/log-batch``, 1,000 per call, one client (a new run);
* ``single``: 4 clients making single ``runs/log-metric`` calls: calls/s and median latency;
* ``history``: every point of one stored 10,000,000-point history through
  ``metrics/get-history``, paged as the mlflow client pages (25,000 per page): seconds;
* ``chart``: ``metrics/get-history-bulk-interval`` of that history, 500 points (p50, ms);
* ``rss``: the peak RSS of the server's largest process (one worker) over the level.

Flat figures down a column mean the stored points cost nothing per new point or call: ingest
appends to its own series' end of the primary key, and every read seeks by series.

Run: ``python -m bench.bench_stored_points [--quick]`` (full size: about 10 GB of table and
index on disk, built in tens of minutes); writes ``bench-output/stored_points.json``.
Needs Postgres (``RUNYARD_BENCH_POSTGRES_URI``); skipped with the reason without it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.common import (
    fresh_postgres_database,
    markdown_table,
    p50,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)
from bench.proc_memory import PeakMemory
from bench.server_procs import running_server

KEY = "stored"
#: Points per INSERT … SELECT statement (one transaction each, to bound the WAL in flight).
CHUNK = 5_000_000
CHART_POINTS = 500


@dataclass(frozen=True)
class Size:
    series_points: int
    levels: tuple[int, ...]
    ingest_points: int
    single_clients: int = 4
    single_calls: int = 250
    chart_repeats: int = 3


FULL = Size(series_points=10_000_000, levels=(0, 10_000_000, 100_000_000), ingest_points=100_000)
QUICK = Size(series_points=1_000_000, levels=(0, 1_000_000, 10_000_000), ingest_points=20_000)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the stored points ------------------------------------------------------------------------
class StoredPoints:
    """Long histories in one experiment of runyard's store, added a whole history at a time."""

    def __init__(self, uri: str, artifacts: Path, series_points: int) -> None:
        from runyard.store.sql import SqlStore

        self.store = SqlStore(uri, str(artifacts))
        self.experiment_id = self.store.create_experiment("stored-points")
        self.series_points = series_points
        self.run_ids: list[str] = []

    @property
    def stored(self) -> int:
        return len(self.run_ids) * self.series_points

    def grow_to(self, points: int) -> None:
        while self.stored < points:
            self._add_history()
        with self.store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE metrics"
            )

    def _add_history(self) -> None:
        """One run whose ``KEY`` has ``series_points`` points: the first through the store
        (which makes the series and its summary), the rest inside the database."""
        import sqlalchemy as sa
        from runyard.entities import Metric

        started = time.perf_counter()
        run_id = self.store.create_run(self.experiment_id, "bench", w.BASE_TS).info.run_id
        self.store.log_batch(run_id, metrics=[Metric(KEY, _value(0), w.BASE_TS, 0)])
        last = self.series_points - 1
        with self.store.engine.begin() as conn:
            series_id = conn.execute(
                sa.text("SELECT series_id FROM metric_summaries WHERE run_uuid = :r AND key = :k"),
                {"r": run_id, "k": KEY},
            ).scalar_one()
        for first in range(1, last + 1, CHUNK):
            with self.store.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO metrics (series_id, step, timestamp, value, is_nan)"
                        " SELECT :sid, g, :t0 + g, sin(g * 0.001) + g * 1e-7, false"
                        " FROM generate_series(CAST(:first AS bigint), :last) AS g"
                    ),
                    {"sid": series_id, "t0": w.BASE_TS, "first": first,
                     "last": min(last, first + CHUNK - 1)},
                )  # fmt: skip
        with self.store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE metric_summaries SET count = :n, step = :last,"
                    " timestamp = :t0 + :last, value = :latest,"
                    " (min_value, max_value) = (SELECT min(value), max(value) FROM metrics"
                    "  WHERE series_id = :sid)"
                    " WHERE series_id = :sid"
                ),
                {"n": self.series_points, "last": last, "t0": w.BASE_TS,
                 "latest": _value(last), "sid": series_id},
            )  # fmt: skip
        self.run_ids.append(run_id)
        log(f"  history {len(self.run_ids)}: {time.perf_counter() - started:.0f}s")

    def set_aside(self, level: int) -> None:
        """Rename the experiments a level's workloads made (the workloads name theirs), so the
        next level can make them again."""
        for name in ("warm-up", "ingest", "single-calls"):
            experiment = self.store.get_experiment_by_name(name)
            if experiment is not None:
                self.store.rename_experiment(experiment.experiment_id, f"{name} at {level}")

    def table_bytes(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT pg_total_relation_size('metrics')").scalar())

    def close(self) -> None:
        self.store.engine.dispose()


def _value(step: int) -> float:
    import math

    return math.sin(step * 0.001) + step * 1e-7


# ---- one level --------------------------------------------------------------------------------
def count_history(api: w.Api, run_id: str) -> int:
    """Every point of the history, paged as the mlflow client pages, counted and let go."""
    seen, token = 0, None
    while True:
        params = {"run_id": run_id, "metric_key": KEY, "max_results": w.HISTORY_PAGE}
        if token:
            params["page_token"] = token
        answer = api.get("/metrics/get-history", params)
        seen += len(answer.get("metrics", []))
        token = answer.get("next_page_token") or None
        if not token:
            return seen


def chart(api: w.Api, run_id: str) -> int:
    params = {"run_ids": run_id, "metric_key": KEY, "max_results": CHART_POINTS}
    return len(api.get("/metrics/get-history-bulk-interval", params).get("metrics", []))


def measure_level(url: str, root_pid: int, stored: StoredPoints, size: Size) -> dict[str, Any]:
    memory = PeakMemory(root_pid)
    w.warm_up(url)
    sizes = w.Size(
        ingest_points=size.ingest_points,
        single_clients=size.single_clients,
        single_calls=size.single_calls,
        runs=0,
    )
    ingest = w.ingest(url, sizes)
    single = w.single_calls(url, sizes)
    figures: dict[str, Any] = {
        "stored": stored.stored,
        "ingest_points_per_s": round(ingest["value"]),
        "single_calls_per_s": round(single["value"]),
        "single_median_ms": round(single["median_latency_ms"], 2),
    }
    if stored.run_ids:
        api, run_id = w.Api(url), stored.run_ids[0]
        started = time.perf_counter()
        figures["history_points"] = count_history(api, run_id)
        figures["history_s"] = round(time.perf_counter() - started, 2)
        samples, shown = [], 0
        for _ in range(size.chart_repeats):
            started = time.perf_counter()
            shown = chart(api, run_id)
            samples.append((time.perf_counter() - started) * 1000)
        figures["chart_ms"], figures["chart_points"] = round(p50(samples), 1), shown
        api.close()
    figures["worker_rss_mib"] = round(memory.stop().largest / 2**20, 1)
    figures["table_mib"] = round(stored.table_bytes() / 2**20, 1)
    return figures


def run_benchmark(size: Size, workdir: Path, admin_uri: str) -> dict[str, Any]:
    reason = postgres_reachable(admin_uri)
    if reason:
        log(f"Postgres skipped: {reason}")
        return {"levels": [], "skipped": reason}
    levels = []
    with fresh_postgres_database(admin_uri, "bench_stored") as uri:
        stored = StoredPoints(uri, workdir / "artifacts", size.series_points)
        try:
            for level in size.levels:
                log(f"storing {level:,} points")
                stored.grow_to(level)
                with running_server("runyard", uri, workdir, 2, home_name=f"at-{level}") as srv:
                    assert srv.process is not None
                    levels.append(measure_level(srv.url, srv.process.pid, stored, size))
                stored.set_aside(level)
                log(f"  {levels[-1]}")
        finally:
            stored.close()
    return {"levels": levels, "skipped": None}


COLUMNS = ["stored", "ingest_points_per_s", "single_calls_per_s", "single_median_ms"]
COLUMNS += ["history_s", "history_points", "chart_ms", "worker_rss_mib", "table_mib"]


def render(result: dict[str, Any]) -> str:
    if result["skipped"]:
        return f"postgres: skipped ({result['skipped']})"
    rows = [{**row, "stored": f"{row['stored']:,}"} for row in result["levels"]]
    return markdown_table(rows, COLUMNS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000-point histories")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="runyard-bench-stored-") as tmp:
        result = run_benchmark(size, Path(tmp), postgres_admin_uri())
    print(render(result))
    write_json("stored_points.json", {"size": asdict(size), "quick": args.quick, **result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
