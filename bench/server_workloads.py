"""The REST workloads of the server benchmark, spoken identically to either server.

Every client thread has its own ``requests.Session``; request bodies are encoded before the
clock starts so the figures measure the server, not the client's JSON encoder. Each workload
also returns a ``digest`` of what the server answered, so the benchmark can show that both
servers returned the same data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass
from statistics import median
from typing import Any

import requests

API = "/api/2.0/mlflow"
BATCH = 1000
BASE_TS = 1_700_000_000_000
HISTORY_PAGE = 25_000  # what the mlflow client asks for per page
INGEST_KEY = "loss"
SEARCH_ORDER = ["metrics.m0 DESC"]
SEARCH_FILTER = "metrics.m1 > 0.5 and params.p2 = 'v3'"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Size:
    ingest_points: int
    single_clients: int
    single_calls: int
    runs: int
    params: int = 10
    metrics: int = 10
    tags: int = 5
    repeats: int = 5
    paging_repeats: int = 3
    history_repeats: int = 3


FULL = Size(ingest_points=200_000, single_clients=4, single_calls=1_000, runs=5_000)
QUICK = Size(
    ingest_points=20_000,
    single_clients=4,
    single_calls=200,
    runs=500,
    repeats=3,
    paging_repeats=2,
    history_repeats=2,
)
#: Every workload in seconds: the benchmark's own tests, so it cannot rot.
TINY = Size(
    ingest_points=2_000,
    single_clients=2,
    single_calls=15,
    runs=24,
    repeats=1,
    paging_repeats=1,
    history_repeats=1,
)


class ServerError(RuntimeError):
    """A non-200 answer: the benchmark stops rather than time errors."""


class Api:
    """A tiny REST client over one ``requests.Session`` (one per thread)."""

    def __init__(self, url: str) -> None:
        self.base = url + API
        self.session = requests.Session()

    def post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self._check(self.session.post(self.base + path, data=data, headers=JSON))

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._check(self.session.get(self.base + path, params=params))

    @staticmethod
    def _check(response: requests.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise ServerError(
                f"{response.request.method} {response.url}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else {}

    def create_experiment(self, name: str) -> str:
        return self.post("/experiments/create", {"name": name})["experiment_id"]

    def create_fresh_experiment(self, prefix: str) -> str:
        """An experiment under a name of its own, so a workload can run again on the same
        server (the scale-out benchmark runs each against every server count)."""
        return self.create_experiment(f"{prefix}-{uuid.uuid4().hex[:8]}")

    def create_run(self, experiment_id: str, name: str, start_time: int) -> str:
        body = {"experiment_id": experiment_id, "run_name": name, "start_time": start_time}
        return self.post("/runs/create", body)["run"]["info"]["run_id"]

    def close(self) -> None:
        self.session.close()


def digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def run_threads(target: Any, count: int) -> None:
    """Run ``target(i)`` in ``count`` threads; re-raise the first failure."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---- 1. ingest through log-batch -------------------------------------------------------------
def ingest_bodies(run_id: str, points: int) -> list[bytes]:
    rng = random.Random(7)
    bodies = []
    for b in range(points // BATCH):
        metrics = [
            {"key": INGEST_KEY, "value": rng.random(), "timestamp": BASE_TS + s, "step": s}
            for s in range(b * BATCH, (b + 1) * BATCH)
        ]
        bodies.append(json.dumps({"run_id": run_id, "metrics": metrics}).encode())
    return bodies


def ingest(url: str, size: Size) -> dict[str, Any]:
    """One client logs ``size.ingest_points`` points of one key, 1000 per call."""
    api = Api(url)
    run_id = api.create_run(api.create_fresh_experiment("ingest"), "ingest", BASE_TS)
    bodies = ingest_bodies(run_id, size.ingest_points)
    started = time.perf_counter()
    for body in bodies:
        api.post("/runs/log-batch", body)
    seconds = time.perf_counter() - started
    api.close()
    points = len(bodies) * BATCH
    return {"run_id": run_id, "points": points, "seconds": seconds, "value": points / seconds}


# ---- 2. concurrent single log-metric calls ---------------------------------------------------
def single_calls(
    url: str, size: Size, around: contextlib.AbstractContextManager[Any] | None = None
) -> dict[str, Any]:
    """``single_clients`` threads, each logging ``single_calls`` points one call at a time;
    ``around`` is entered for the calls alone (not the setup, not the check afterwards)."""
    setup = Api(url)
    experiment_id = setup.create_fresh_experiment("single-calls")
    run_ids = [
        setup.create_run(experiment_id, f"client-{i}", BASE_TS + i)
        for i in range(size.single_clients)
    ]
    latencies: list[list[float]] = [[] for _ in run_ids]
    bodies = [
        [
            json.dumps(
                {"run_id": rid, "key": "m", "value": s / 7, "timestamp": BASE_TS + s, "step": s}
            ).encode()
            for s in range(size.single_calls)
        ]
        for rid in run_ids
    ]

    def client(i: int) -> None:
        api = Api(url)
        api.post("/runs/log-metric", bodies[i][0])  # open the connection before timing
        for body in bodies[i][1:]:
            start = time.perf_counter()
            api.post("/runs/log-metric", body)
            latencies[i].append(time.perf_counter() - start)
        api.close()

    with around or contextlib.nullcontext():
        started = time.perf_counter()
        run_threads(client, len(run_ids))
        seconds = time.perf_counter() - started
    counts = [
        len(history(setup, rid, "m")) for rid in run_ids
    ]  # every call landed, in both servers
    setup.close()
    calls = sum(len(x) for x in latencies)
    return {
        "calls": calls,
        "seconds": seconds,
        "value": calls / seconds,
        "median_latency_ms": median(x for xs in latencies for x in xs) * 1000,
        "digest": digest(counts),
    }


# ---- 3. search -------------------------------------------------------------------------------
def run_batch(i: int, size: Size) -> dict[str, Any]:
    rng = random.Random(i)
    return {
        "metrics": [
            {"key": f"m{j}", "value": rng.random(), "timestamp": BASE_TS + i, "step": 0}
            for j in range(size.metrics)
        ],
        "params": [{"key": f"p{j}", "value": f"v{(i + j) % 10}"} for j in range(size.params)],
        "tags": [{"key": f"t{j}", "value": f"tag-{i % 7}-{j}"} for j in range(size.tags)],
    }


def populate(url: str, size: Size, clients: int = 4) -> dict[str, Any]:
    """``size.runs`` runs with params, metrics and tags, written through the REST API."""
    setup = Api(url)
    experiment_id = setup.create_experiment("search")
    setup.close()

    def client(c: int) -> None:
        api = Api(url)
        for i in range(c, size.runs, clients):
            run_id = api.create_run(experiment_id, f"run-{i:05d}", BASE_TS + i)
            api.post("/runs/log-batch", {"run_id": run_id, **run_batch(i, size)})
        api.close()

    started = time.perf_counter()
    run_threads(client, clients)
    return {"experiment_id": experiment_id, "seconds": time.perf_counter() - started}


def search_page(api: Api, experiment_id: str, **fields: Any) -> tuple[list[dict], str | None]:
    answer = api.post("/runs/search", {"experiment_ids": [experiment_id], **fields})
    return answer.get("runs", []), answer.get("next_page_token") or None


def run_summary(run: dict[str, Any]) -> list[Any]:
    """A run as plain data without ids and system tags, to compare servers."""
    data = run.get("data", {})
    return [
        run["info"].get("run_name"),
        sorted((m["key"], round(float(m["value"]), 9)) for m in data.get("metrics", [])),
        sorted((x["key"], x["value"]) for x in data.get("params", [])),
        sorted(
            (t["key"], t["value"])
            for t in data.get("tags", [])
            if not t["key"].startswith("mlflow.")
        ),
    ]


def search_workloads(url: str, experiment_id: str, size: Size) -> dict[str, dict[str, Any]]:
    """p50 seconds of: order by a metric (100), a metric-and-param filter, paging through all."""
    api = Api(url)

    def ordered() -> list[Any]:
        runs, _ = search_page(api, experiment_id, order_by=SEARCH_ORDER, max_results=100)
        return [run_summary(r) for r in runs]

    def filtered() -> list[Any]:
        runs, _ = search_page(api, experiment_id, filter=SEARCH_FILTER, max_results=1000)
        return [r["info"].get("run_name") for r in runs]

    def paged() -> list[Any]:
        names, token = [], None
        while True:
            fields = {"max_results": 1000, **({"page_token": token} if token else {})}
            runs, token = search_page(api, experiment_id, **fields)
            names += [r["info"].get("run_name") for r in runs]
            if not token:
                return names

    results = {}
    for name, fn, repeats in (
        ("search_order", ordered, size.repeats),
        ("search_filter", filtered, size.repeats),
        ("search_paging", paged, size.paging_repeats),
    ):
        seen = fn()  # warm caches; also what the digest is taken of
        results[name] = {"value": median(timed(fn) for _ in range(repeats)), "n": len(seen)}
        results[name]["digest"] = digest(seen)
    api.close()
    return results


# ---- 4. metric history -----------------------------------------------------------------------
def history(api: Api, run_id: str, key: str) -> list[tuple[int, int, float]]:
    """Every point of ``key``, following page tokens as the mlflow client does."""
    points: list[tuple[int, int, float]] = []
    token = None
    while True:
        params = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        if token:
            params["page_token"] = token
        answer = api.get("/metrics/get-history", params)
        points += [
            (int(m["step"]), int(m["timestamp"]), float(m["value"]))
            for m in answer.get("metrics", [])
        ]
        token = answer.get("next_page_token") or None
        if not token:
            return points


def history_workload(url: str, run_id: str, size: Size) -> dict[str, Any]:
    api = Api(url)
    seen = history(api, run_id, INGEST_KEY)
    value = median(
        timed(lambda: history(api, run_id, INGEST_KEY)) for _ in range(size.history_repeats)
    )
    api.close()
    rounded = [(s, t, round(v, 9)) for s, t, v in seen]
    return {"value": value, "n": len(seen), "digest": digest(rounded)}


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---- warm-up and the counting pass -----------------------------------------------------------
WARM_UP_ROUNDS = 10
WARM_UP_SETTLED = 0.15  # two rounds whose rates differ by less than this: warm


def warm_up(url: str, clients: int = 4) -> int:
    """The same warm-up for every server before it is measured: each kind of request through
    ``clients`` connections (so every worker sees them), then rounds of single calls until
    two rounds' rates agree. Returns the rounds it took."""
    setup = Api(url)
    experiment_id = setup.create_fresh_experiment("warm-up")
    run_ids = [setup.create_run(experiment_id, f"warm-{i}", BASE_TS + i) for i in range(clients)]

    def every_kind(i: int) -> None:
        api = Api(url)
        for body in ingest_bodies(run_ids[i], 3 * BATCH):
            api.post("/runs/log-batch", body)
        api.post("/runs/log-batch", {"run_id": run_ids[i], **run_batch(i, QUICK)})
        search_page(api, experiment_id, max_results=10, order_by=SEARCH_ORDER)
        history(api, run_ids[i], INGEST_KEY)
        api.close()

    run_threads(lambda i: _patiently(lambda: every_kind(i)), clients)
    step = [0]

    def single_round(i: int) -> None:
        api = Api(url)
        for s in range(50):
            body = {"run_id": run_ids[i], "key": "w", "value": 1.0, "timestamp": BASE_TS}
            api.post("/runs/log-metric", {**body, "step": step[0] * 100 + s})
        api.close()

    previous = 0.0
    for rounds in range(1, WARM_UP_ROUNDS + 1):
        step[0] = rounds
        started = time.perf_counter()
        run_threads(lambda i: _patiently(lambda: single_round(i)), clients)
        rate = 1 / (time.perf_counter() - started)
        if previous and abs(rate - previous) / previous < WARM_UP_SETTLED:
            break
        previous = rate
    setup.close()
    return rounds


def _patiently(work: Any, tries: int = 5) -> None:
    """``work()``, tried again when a cold server drops the connection (a worker restarting
    after a timeout): warming up is what the measured figures must not include."""
    for attempt in range(1, tries + 1):
        try:
            work()
            return
        except requests.ConnectionError:
            if attempt == tries:
                raise
            time.sleep(2.0 * attempt)


def counted_operations(
    url: str, size: Size, count: Any, search_experiment_id: str | None = None
) -> dict[str, float]:
    """Database round trips per operation, ``count()`` reading a round-trip counter: a single
    ``log-metric`` on an existing series, a created run with its params, tags and metrics (as
    ``populate``), an ingest batch, an ordered search. One client, so nothing overlaps.

    The search is the timed one (a page of 100 ordered by a metric) on
    ``search_experiment_id``, the populated experiment, when given: on the handful of runs
    created here the page also reads the runs without the metric, which a page of the
    populated experiment never reaches."""
    api = Api(url)
    experiment_id = api.create_experiment(f"counted-{time.time_ns()}")
    run_id = api.create_run(experiment_id, "counted", BASE_TS)
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": BASE_TS}
    api.post("/runs/log-metric", {**body, "step": 0})
    result: dict[str, float] = {}

    def per_op(name: str, n: int, op: Any) -> None:
        before = count()
        for i in range(n):
            op(i)
        result[name] = round((count() - before) / n, 1)

    per_op("single_calls", 20, lambda i: api.post("/runs/log-metric", {**body, "step": i + 1}))

    def create(i: int) -> None:
        rid = api.create_run(experiment_id, f"run-{i}", BASE_TS + i)
        api.post("/runs/log-batch", {"run_id": rid, **run_batch(i, size)})

    per_op("populate", 5, create)
    bodies = ingest_bodies(run_id, 5 * BATCH)
    per_op("ingest", len(bodies), lambda i: api.post("/runs/log-batch", bodies[i]))
    searched = search_experiment_id or experiment_id
    per_op(
        "search_order",
        5,
        lambda i: search_page(api, searched, max_results=100, order_by=SEARCH_ORDER),
    )
    api.close()
    return result
