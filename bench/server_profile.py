"""Where runyard's server spends a request: cProfile over the server's app, in process.

The app of ``runyard server`` (``create_app``) on a fresh SQLite file (or the URI given) is
driven through Flask's test client with the benchmark's own request bodies, so what shows up is
the server's code (routing, protocol, store, JSON), without sockets or gunicorn. For each
workload it prints the wall time per call and the functions with the most cumulative and own
time.

Run: ``python -m bench.server_profile [--workload ingest|single|search|history] [--top 25]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.common import analyze

API = w.API


class InProcess:
    """The REST calls of ``server_workloads`` against a Flask test client."""

    def __init__(self, uri: str, artifacts: str) -> None:
        from runyard.server.app import create_app

        settings = {"backend_store_uri": uri, "artifacts_destination": artifacts}
        app = create_app({**settings, "log_level": "WARNING"})  # no access log lines
        self.client = app.test_client()

    def post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = self.client.post(API + path, data=data, content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get(API + path, query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()

    def create_run(self, experiment_id: str, name: str, start: int) -> str:
        body = {"experiment_id": experiment_id, "run_name": name, "start_time": start}
        return self.post("/runs/create", body)["run"]["info"]["run_id"]

    def create_experiment(self, name: str) -> str:
        return self.post("/experiments/create", {"name": name})["experiment_id"]


def profiled(label: str, calls: int, fn: Callable[[], Any], top: int) -> None:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(fn)
    seconds = time.perf_counter() - started
    print(
        f"\n## {label}: {seconds:.3f} s for {calls} call(s), {seconds / calls * 1000:.2f} ms each"
    )
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"\n### by {order}\n" + "\n".join(lines[start:]))


def profile_all(api: InProcess, uri: str, size: w.Size, workloads: list[str], top: int) -> None:
    ingest_run = api.create_run(api.create_experiment("ingest"), "ingest", w.BASE_TS)
    bodies = w.ingest_bodies(ingest_run, size.ingest_points)
    if "ingest" in workloads or "history" in workloads:
        profiled(
            "ingest (log-batch x1000)",
            len(bodies),
            lambda: [api.post("/runs/log-batch", b) for b in bodies],
            top,
        )
    if "single" in workloads:
        run_id = api.create_run(api.create_experiment("single"), "single", w.BASE_TS)
        one = [
            json.dumps({"run_id": run_id, "key": "m", "value": 1.0, "timestamp": s, "step": s})
            for s in range(size.single_calls)
        ]
        profiled(
            "single log-metric",
            len(one),
            lambda: [api.post("/runs/log-metric", b.encode()) for b in one],
            top,
        )
    if "search" in workloads:
        eid = api.create_experiment("search")
        for i in range(size.runs):
            rid = api.create_run(eid, f"run-{i:05d}", w.BASE_TS + i)
            api.post("/runs/log-batch", {"run_id": rid, **w.run_batch(i, size)})
        analyze(uri)
        base = {"experiment_ids": [eid]}
        for label, body in (
            (
                "search ordered by a metric",
                {**base, "order_by": w.SEARCH_ORDER, "max_results": 100},
            ),
            ("search filtered", {**base, "filter": w.SEARCH_FILTER, "max_results": 1000}),
            ("search one page of 1000", {**base, "max_results": 1000}),
        ):
            api.post("/runs/search", body)  # warm
            profiled(label, 3, lambda b=body: [api.post("/runs/search", b) for _ in range(3)], top)
    if "history" in workloads:
        profiled(
            "history",
            max(1, size.ingest_points // w.HISTORY_PAGE),
            lambda: w.history(api, ingest_run, w.INGEST_KEY),  # type: ignore[arg-type]
            top,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", help="ingest, single, search, history")
    parser.add_argument("--uri", default=None, help="a backend store URI (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="the benchmark's quick sizes")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    size = w.QUICK if args.quick else w.FULL
    workloads = args.workload or ["ingest", "single", "search", "history"]
    with tempfile.TemporaryDirectory(prefix="runyard-profile-") as tmp:
        uri = args.uri or f"sqlite:///{Path(tmp) / 'profile.db'}"
        api = InProcess(uri, str(Path(tmp) / "artifacts"))
        profile_all(api, uri, size, workloads, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
