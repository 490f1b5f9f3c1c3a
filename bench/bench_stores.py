"""runyard's SqlStore against MLflow's SqlAlchemyStore, in process, on the same engines.

Identical data goes into both stores on SQLite (temporary files) and on Postgres (fresh
databases on the server named by ``RUNYARD_BENCH_POSTGRES_URI``; skipped with a message when it
cannot be reached). Workloads:

* ``ingest``: metric points through ``log_batch``, 1000 per call (points/s, higher is better);
* ``search_a``: no filter, ordered by a metric, max_results 100 (p50 ms);
* ``search_b``: a metric-and-param filter (p50 ms);
* ``search_c``: paging through every run with max_results 1000 (p50 ms for the whole walk);
* ``chart``: runyard only, ``get_metric_history_bulk_interval`` (320 points) of one metric
  with ``chart_points`` points (p50 ms; the target is 500 ms for a million points).

Run: ``python -m bench.bench_stores [--quick] [--engines sqlite,postgres]``. Prints a markdown
table and writes ``bench-output/stores.json``.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    fresh_postgres_database,
    markdown_table,
    p50,
    postgres_admin_uri,
    postgres_reachable,
    timed,
    write_json,
)


@dataclass(frozen=True)
class Size:
    ingest_points: int
    runs: int
    params: int = 10
    metrics: int = 10
    tags: int = 5
    repeats: int = 7
    paging_repeats: int = 3
    chart_points: int = 1_000_000


FULL = Size(ingest_points=200_000, runs=5_000)
QUICK = Size(ingest_points=20_000, runs=500, repeats=5, paging_repeats=2, chart_points=100_000)
CHART_TARGET_MS = 500.0
BATCH = 1000
COLUMNS = ["workload", "engine", "unit", "runyard", "mlflow", "ratio"]
FILTER_B = "metrics.m1 > 0.5 and params.p2 = 'v3'"
ORDER_A = ["metrics.m0 DESC"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the two stores behind one small interface -----------------------------------------------
class RunyardAdapter:
    name = "runyard"

    def __init__(self, uri: str, artifact_root: str) -> None:
        from runyard.store.sql import SqlStore

        self.store = SqlStore(uri, artifact_root)

    def create_experiment(self, name: str) -> str:
        return self.store.create_experiment(name)

    def create_run(self, experiment_id: str) -> str:
        return self.store.create_run(experiment_id, "bench", int(time.time() * 1000)).info.run_id

    def log_batch(self, run_id: str, metrics: list, params: list, tags: list) -> None:
        from runyard.entities import Metric, Param, RunTag

        self.store.log_batch(
            run_id,
            [Metric(k, v, ts, step) for k, v, ts, step in metrics],
            [Param(k, v) for k, v in params],
            [RunTag(k, v) for k, v in tags],
        )

    def search(self, experiment_id: str, filter_string: str, order_by, max_results, token):
        page = self.store.search_runs(
            [experiment_id],
            filter_string,
            max_results=max_results,
            order_by=order_by,
            page_token=token,
        )
        return len(page), page.token

    def close(self) -> None:
        self.store.close()


class MlflowAdapter:
    name = "mlflow"

    def __init__(self, uri: str, artifact_root: str) -> None:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        if uri.startswith("postgresql://"):  # MLflow would pick psycopg 3, which is absent
            uri = "postgresql+psycopg2://" + uri[len("postgresql://") :]
        self.store = SqlAlchemyStore(uri, artifact_root)

    def create_experiment(self, name: str) -> str:
        return self.store.create_experiment(name)

    def create_run(self, experiment_id: str) -> str:
        run = self.store.create_run(experiment_id, "bench", int(time.time() * 1000), [], None)
        return run.info.run_id

    def log_batch(self, run_id: str, metrics: list, params: list, tags: list) -> None:
        from mlflow.entities import Metric, Param, RunTag

        self.store.log_batch(
            run_id,
            [Metric(k, v, ts, step) for k, v, ts, step in metrics],
            [Param(k, v) for k, v in params],
            [RunTag(k, v) for k, v in tags],
        )

    def search(self, experiment_id: str, filter_string: str, order_by, max_results, token):
        from mlflow.entities import ViewType

        page = self.store.search_runs(
            [experiment_id], filter_string, ViewType.ACTIVE_ONLY, max_results, order_by, token
        )
        return len(page), page.token

    def close(self) -> None:
        self.store.engine.dispose()


# ---- data and workloads ----------------------------------------------------------------------
def ingest_batches(points: int) -> list[list[tuple]]:
    """10 keys, steps in order, deterministic values: 1000 points per batch."""
    rng = random.Random(7)
    batches = []
    for b in range(points // BATCH):
        base = 1_700_000_000_000 + b * BATCH
        batches.append(
            [
                (f"m{i % 10}", rng.random(), base + i, b * (BATCH // 10) + i // 10)
                for i in range(BATCH)
            ]
        )
    return batches


def run_payloads(size: Size) -> list[tuple[list, list, list]]:
    rng = random.Random(11)
    payloads = []
    now = 1_700_000_000_000
    for i in range(size.runs):
        metrics = [(f"m{j}", rng.random(), now + i, 0) for j in range(size.metrics)]
        params = [(f"p{j}", f"v{(i + j) % 10}") for j in range(size.params)]
        tags = [(f"t{j}", f"tag-{i % 7}-{j}") for j in range(size.tags)]
        payloads.append((metrics, params, tags))
    return payloads


def populate(store: Any, size: Size, payloads: list) -> str:
    experiment_id = store.create_experiment("search-bench")
    started = time.perf_counter()
    for n, (metrics, params, tags) in enumerate(payloads, 1):
        run_id = store.create_run(experiment_id)
        store.log_batch(run_id, metrics, params, tags)
        if n % 1000 == 0:
            log(f"    {store.name}: {n}/{size.runs} runs ({time.perf_counter() - started:.0f}s)")
    return experiment_id


def measure_ingest(store: Any, batches: list[list[tuple]]) -> float:
    experiment_id = store.create_experiment("ingest-bench")
    run_id = store.create_run(experiment_id)
    seconds = timed(lambda: [store.log_batch(run_id, batch, [], []) for batch in batches])
    return len(batches) * BATCH / seconds


def measure_search(store: Any, experiment_id: str, size: Size) -> dict[str, float]:
    def search_a() -> None:
        n, _ = store.search(experiment_id, "", ORDER_A, 100, None)
        assert n == min(100, size.runs), n

    def search_b() -> None:
        store.search(experiment_id, FILTER_B, None, 1000, None)

    def search_c() -> None:
        token, total = None, 0
        while True:
            n, token = store.search(experiment_id, "", None, 1000, token)
            total += n
            if not token:
                break
        assert total == size.runs, total

    results = {}
    for name, fn, repeats in (
        ("search_a", search_a, size.repeats),
        ("search_b", search_b, size.repeats),
        ("search_c", search_c, size.paging_repeats),
    ):
        fn()  # warm caches and compiled statements
        results[name] = p50([timed(fn) for _ in range(repeats)]) * 1000
    return results


def measure_chart(store: RunyardAdapter, points: int, repeats: int) -> float:
    """p50 ms of the downsampled history of one ``points``-point metric."""
    experiment_id = store.create_experiment("chart-bench")
    run_id = store.create_run(experiment_id)
    rng = random.Random(5)
    for start in range(0, points, BATCH):
        store.log_batch(
            run_id,
            [("loss", rng.random(), 1_700_000_000_000 + i, i) for i in range(start, start + BATCH)],
            [],
            [],
        )

    def chart() -> None:
        found = store.store.get_metric_history_bulk_interval([run_id], "loss", 320)
        assert 2 <= len(found) <= 320, len(found)

    chart()
    return p50([timed(chart) for _ in range(repeats)]) * 1000


# ---- engines ---------------------------------------------------------------------------------
def bench_engine(engine: str, uris: dict[str, str], size: Size, workdir: Path) -> list[dict]:
    batches = ingest_batches(size.ingest_points)
    payloads = run_payloads(size)
    figures: dict[str, dict[str, float]] = {}
    for adapter_cls in (RunyardAdapter, MlflowAdapter):
        name = adapter_cls.name
        log(f"[{engine}] {name}: opening {uris[name].split('@')[-1]}")
        store = adapter_cls(uris[name], str(workdir / f"artifacts-{name}"))
        try:
            log(f"[{engine}] {name}: ingest {size.ingest_points} points")
            figures[name] = {"ingest": measure_ingest(store, batches)}
            log(f"[{engine}] {name}: populate {size.runs} runs")
            experiment_id = populate(store, size, payloads)
            log(f"[{engine}] {name}: search workloads")
            figures[name].update(measure_search(store, experiment_id, size))
            if isinstance(store, RunyardAdapter):
                log(f"[{engine}] {name}: chart over {size.chart_points} points")
                figures[name]["chart"] = measure_chart(store, size.chart_points, size.repeats)
        finally:
            store.close()
    rows = []
    for workload, unit, higher_is_better in (
        ("ingest", "points/s", True),
        ("search_a", "ms p50", False),
        ("search_b", "ms p50", False),
        ("search_c", "ms p50", False),
    ):
        ours, theirs = figures["runyard"][workload], figures["mlflow"][workload]
        ratio = ours / theirs if higher_is_better else theirs / ours
        rows.append(
            {
                "workload": workload,
                "engine": engine,
                "unit": unit,
                "runyard": round(ours, 1),
                "mlflow": round(theirs, 1),
                "ratio": f"{ratio:.1f}x",
                "speedup": round(ratio, 2),
            }
        )
    chart = figures["runyard"]["chart"]
    rows.append(
        {
            "workload": f"chart ({size.chart_points} points)",
            "engine": engine,
            "unit": "ms p50",
            "runyard": round(chart, 1),
            "mlflow": "",
            "ratio": f"target <= {CHART_TARGET_MS:.0f} ms",
            "speedup": None,
        }
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller data set")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # MLflow logs every migration step
    size = QUICK if args.quick else FULL
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="runyard-bench-") as tmp:
        workdir = Path(tmp)
        if "sqlite" in engines:
            uris = {n: f"sqlite:///{workdir}/{n}.db" for n in ("runyard", "mlflow")}
            rows += bench_engine("sqlite", uris, size, workdir)
            log(markdown_table(rows, COLUMNS))
        if "postgres" in engines:
            admin = postgres_admin_uri()
            reason = postgres_reachable(admin)
            if reason:
                skipped["postgres"] = reason
                log(f"Postgres skipped: {admin.split('@')[-1]} is unreachable ({reason})")
            else:
                with (
                    fresh_postgres_database(admin, "bench_runyard") as ours,
                    fresh_postgres_database(admin, "bench_mlflow") as theirs,
                ):
                    uris = {"runyard": ours, "mlflow": theirs}
                    rows += bench_engine("postgres", uris, size, workdir)
    print(markdown_table(rows, COLUMNS))
    for engine, reason in skipped.items():
        print(f"\n{engine}: skipped ({reason})")
    path = write_json(
        "stores.json",
        {"size": size.__dict__, "quick": args.quick, "results": rows, "skipped": skipped},
    )
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
