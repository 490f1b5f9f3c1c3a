"""The UI's data endpoints against MLflow's, served by each project's own Flask app.

The same experiment goes into two SQLite files: runyard's through ``SqlStore.log_batch`` and
MLflow's through ``SqlAlchemyStore.log_batch`` (N runs x 20 metrics x 20 params, plus one run
holding a long metric). Then each app answers, in process through Flask's test client (server
time: routing, store, JSON; no network):

* ``first_page``: the first 100 runs of the experiment (runyard ``GET runyard/runs``, MLflow
  ``POST runs/search``), default order;
* ``sorted_filtered``: a page of 100 filtered by a metric and a param, ordered by a metric;
* ``chart``: the long metric downsampled to 1000 points (runyard ``GET runyard/chart``, MLflow
  ``GET metrics/get-history-bulk-interval``);
* ``chart_view``: what the chart view asks for one panel: one metric of 100 runs of 10,000
  points each (1,000 with --quick), downsampled to 500 points per run (its budget of 50,000
  points over 100 runs); the bytes sent are reported too.

Targets: first page <= 300 ms, chart <= 500 ms, chart view <= 1 s, each >= 10x faster than
MLflow.

Run: ``python -m bench.bench_ui [--quick]``. Prints a markdown table and writes
``bench-output/ui.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import markdown_table, p50, write_json


@dataclass(frozen=True)
class Size:
    runs: int
    chart_points: int
    metrics: int = 20
    params: int = 20
    repeats: int = 7
    mlflow_repeats: int = 3
    view_runs: int = 100
    view_points: int = 10_000


FULL = Size(runs=10_000, chart_points=1_000_000)
QUICK = Size(runs=1_000, chart_points=100_000, repeats=5, mlflow_repeats=3, view_points=1_000)
PAGE = 100
CHART_POINTS = 1000
BATCH = 1000
FILTER = "metrics.m1 > 0.5 AND params.p2 = 'v3'"
ORDER = "metrics.m0 DESC"
LONG_KEY = "long_metric"
VIEW_KEY = "view_loss"
#: Points per run the chart view asks for with 100 runs (50,000 in all).
VIEW_POINTS_PER_RUN = 500
TARGETS_MS = {"first_page": 300.0, "sorted_filtered": None, "chart": 500.0, "chart_view": 1000.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the data -----------------------------------------------------------------------------------
def run_payload(index: int, size: Size, rng: random.Random) -> tuple[list, list]:
    """(metrics, params) of one run as plain tuples: (key, value, timestamp, step), (key, value)."""
    now = 1_700_000_000_000 + index
    metrics = [(f"m{k}", rng.random(), now, 0) for k in range(size.metrics)]
    params = [(f"p{k}", f"v{rng.randrange(10)}") for k in range(size.params)]
    return metrics, params


def long_metric(size: Size) -> list[tuple]:
    rng = random.Random(7)
    return [
        (
            LONG_KEY,
            rng.gauss(0, 1) + (50.0 if step % 99_991 == 0 else 0.0),
            1_700_000_000_000 + step,
            step,
        )
        for step in range(size.chart_points)
    ]


def view_metric(index: int, size: Size) -> list[tuple]:
    """One run's curve for the chart view: a decaying loss with noise."""
    rng = random.Random(index)
    return [
        (VIEW_KEY, 1.0 / (step + 1) + 0.01 * rng.random(), 1_700_000_000_000 + step, step)
        for step in range(size.view_points)
    ]


class RunyardSide:
    name = "runyard"

    def __init__(self, uri: str, artifacts: str) -> None:
        from runyard.store import store_for_uri

        self.uri, self.artifacts = uri, artifacts
        self.store = store_for_uri(uri, "mlflow-artifacts:/")

    def create(self, experiment_name: str) -> str:
        return self.store.create_experiment(experiment_name)

    def run(self, eid: str, index: int, metrics: list, params: list) -> str:
        from runyard.entities import Metric, Param

        run = self.store.create_run(
            eid, "bench", 1_700_000_000_000 + index, run_name=f"run-{index}"
        )
        self.store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, t, s) for k, v, t, s in metrics],
            params=[Param(k, v) for k, v in params],
        )
        return run.info.run_id

    def points(self, run_id: str, points: list) -> None:
        from runyard.entities import Metric

        for start in range(0, len(points), BATCH):
            chunk = points[start : start + BATCH]
            self.store.log_batch(run_id, metrics=[Metric(k, v, t, s) for k, v, t, s in chunk])

    def client(self):  # type: ignore[no-untyped-def]
        from runyard.server.app import create_app

        app = create_app({"backend_store_uri": self.uri, "artifacts_destination": self.artifacts})
        return app.test_client()

    def first_page(self, client, eid: str) -> Any:  # type: ignore[no-untyped-def]
        return client.get(
            "/ajax-api/2.0/runyard/runs", query_string={"experiment_id": eid, "max_results": PAGE}
        )

    def sorted_filtered(self, client, eid: str) -> Any:  # type: ignore[no-untyped-def]
        query = {"experiment_id": eid, "max_results": PAGE, "filter": FILTER, "order_by": ORDER}
        return client.get("/ajax-api/2.0/runyard/runs", query_string=query)

    def chart(self, client, run_id: str) -> Any:  # type: ignore[no-untyped-def]
        query = {"run_ids": run_id, "metric_key": LONG_KEY, "max_results": CHART_POINTS}
        return client.get("/ajax-api/2.0/runyard/chart", query_string=query)

    def chart_view(self, client, run_ids: list[str]) -> Any:  # type: ignore[no-untyped-def]
        query = {"run_ids": run_ids, "metric_key": VIEW_KEY, "max_results": VIEW_POINTS_PER_RUN}
        return client.get("/ajax-api/2.0/runyard/chart", query_string=query)

    def close(self) -> None:
        self.store.close()


class MlflowSide:
    name = "mlflow"

    def __init__(self, uri: str, artifacts: str) -> None:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        self.uri, self.artifacts = uri, artifacts
        self.store = SqlAlchemyStore(uri, artifacts)

    def create(self, experiment_name: str) -> str:
        return self.store.create_experiment(experiment_name)

    def run(self, eid: str, index: int, metrics: list, params: list) -> str:
        from mlflow.entities import Metric, Param

        run = self.store.create_run(
            eid, "bench", 1_700_000_000_000 + index, tags=[], run_name=f"run-{index}"
        )
        self.store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, t, s) for k, v, t, s in metrics],
            params=[Param(k, v) for k, v in params],
            tags=[],
        )
        return run.info.run_id

    def points(self, run_id: str, points: list) -> None:
        from mlflow.entities import Metric

        for start in range(0, len(points), BATCH):
            chunk = points[start : start + BATCH]
            self.store.log_batch(
                run_id, metrics=[Metric(k, v, t, s) for k, v, t, s in chunk], params=[], tags=[]
            )

    def client(self):  # type: ignore[no-untyped-def]
        os.environ["_MLFLOW_SERVER_FILE_STORE"] = self.uri
        os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = self.artifacts
        from mlflow.server import app

        return app.test_client()

    def first_page(self, client, eid: str) -> Any:  # type: ignore[no-untyped-def]
        body = {"experiment_ids": [eid], "max_results": PAGE, "run_view_type": "ACTIVE_ONLY"}
        return client.post("/ajax-api/2.0/mlflow/runs/search", json=body)

    def sorted_filtered(self, client, eid: str) -> Any:  # type: ignore[no-untyped-def]
        body = {
            "experiment_ids": [eid],
            "max_results": PAGE,
            "filter": FILTER,
            "order_by": [ORDER],
            "run_view_type": "ACTIVE_ONLY",
        }
        return client.post("/ajax-api/2.0/mlflow/runs/search", json=body)

    def chart(self, client, run_id: str) -> Any:  # type: ignore[no-untyped-def]
        query = {"run_ids": run_id, "metric_key": LONG_KEY, "max_results": CHART_POINTS}
        return client.get(
            "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", query_string=query
        )

    def chart_view(self, client, run_ids: list[str]) -> Any:  # type: ignore[no-untyped-def]
        query = {"run_ids": run_ids, "metric_key": VIEW_KEY, "max_results": VIEW_POINTS_PER_RUN}
        return client.get(
            "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", query_string=query
        )

    def close(self) -> None:
        self.store.engine.dispose()


# ---- populate and measure -----------------------------------------------------------------------
def populate(side: Any, size: Size) -> tuple[str, str, list[str]]:
    """The experiment (N runs), the run holding the long metric and the chart view's runs."""
    rng = random.Random(42)
    start = time.perf_counter()
    eid = side.create("ui-bench")
    for index in range(size.runs):
        side.run(eid, index, *run_payload(index, size, rng))
        if index and index % 2000 == 0:
            log(f"  {side.name}: {index} runs ({time.perf_counter() - start:.0f}s)")
    long_eid = side.create("ui-bench-long")
    long_run = side.run(long_eid, 0, [], [])
    side.points(long_run, long_metric(size))
    view_eid = side.create("ui-bench-view")
    view_runs = []
    for index in range(size.view_runs):
        run_id = side.run(view_eid, index, [], [])
        side.points(run_id, view_metric(index, size))
        view_runs.append(run_id)
    log(f"  {side.name}: populated in {time.perf_counter() - start:.0f}s")
    return eid, long_run, view_runs


def measure(
    call: Callable[[], Any], repeats: int, check: Callable[[Any], int]
) -> tuple[float, int, int]:
    """Median milliseconds over ``repeats`` timed calls after one warm-up; the item count and
    the bytes of the reply."""
    response = call()
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
    count = check(response.get_json())
    size = len(response.get_data())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = call()
        response.get_data()
        samples.append((time.perf_counter() - start) * 1000)
    return p50(samples), count, size


def run_count(side_name: str) -> Callable[[Any], int]:
    return lambda body: len(body.get("runs", []))


def point_count(side_name: str) -> Callable[[Any], int]:
    if side_name == "runyard":
        return lambda body: sum(len(s["points"]) for s in body["series"])
    return lambda body: len(body.get("metrics", []))


def bench_side(side: Any, size: Size, repeats: int) -> dict[str, dict[str, float]]:
    eid, long_run, view_runs = populate(side, size)
    client = side.client()
    figures = {}
    for workload, call, check in (
        ("first_page", lambda: side.first_page(client, eid), run_count(side.name)),
        ("sorted_filtered", lambda: side.sorted_filtered(client, eid), run_count(side.name)),
        ("chart", lambda: side.chart(client, long_run), point_count(side.name)),
        ("chart_view", lambda: side.chart_view(client, view_runs), point_count(side.name)),
    ):
        ms, count, nbytes = measure(call, repeats, check)
        figures[workload] = {"ms": round(ms, 2), "items": count, "bytes": nbytes}
        log(f"  {side.name} {workload}: {ms:.1f} ms ({count} items, {nbytes} bytes)")
    side.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 runs and 100,000 points")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    logging.disable(logging.INFO)
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        work = Path(tmp)
        for side_cls, repeats in ((RunyardSide, size.repeats), (MlflowSide, size.mlflow_repeats)):
            name = side_cls.name
            log(
                f"{name}: {size.runs} runs x {size.metrics} metrics x {size.params} params, "
                f"{size.chart_points} chart points"
            )
            side = side_cls(f"sqlite:///{work / name}.db", str(work / f"{name}-artifacts"))
            results[name] = bench_side(side, size, repeats)
    rows = []
    for workload, target in TARGETS_MS.items():
        ours = results["runyard"][workload]["ms"]
        theirs = results["mlflow"][workload]["ms"]
        ratio = theirs / ours if ours else float("inf")
        rows.append(
            {
                "workload": workload,
                "runyard_ms": ours,
                "mlflow_ms": theirs,
                "ratio": f"{ratio:.1f}x",
                "runyard_bytes": results["runyard"][workload]["bytes"],
                "target_ms": target if target is not None else "-",
                "meets": ("yes" if (target is None or ours <= target) and ratio >= 10 else "no"),
            }
        )
    columns = [
        "workload",
        "runyard_ms",
        "mlflow_ms",
        "ratio",
        "runyard_bytes",
        "target_ms",
        "meets",
    ]
    print(markdown_table(rows, columns))
    path = write_json("ui.json", {"size": asdict(size), "results": results, "rows": rows})
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
