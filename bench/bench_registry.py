"""The model registry: ``runyard server`` against ``mlflow server`` on the same engine, one run.

Each product gets a fresh store populated through its own store API before its server starts
(``models`` registered models x ``versions`` versions, every fourth version tagged
``validated=true``, every model with a ``team`` tag and a ``champion`` alias), then the same
REST calls are timed with plain ``requests`` (p50 over ``repeats``):

* ``search_models``: ``registered-models/search`` with a name filter, max_results 100;
* ``search_models_tag``: a tag filter (``tags.team = 'team-3'``), max_results 100;
* ``search_versions``: ``model-versions/search`` of one model (``name = '...'``);
* ``search_versions_tag``: ``tags.validated = 'true'`` over every model, max_results 1000;
* ``latest_versions``: ``registered-models/get-latest-versions`` of one model.

Both servers must return the same models and versions (``same_data``). Target: runyard at least
10x faster (MLflow's median latency / runyard's).

Run: ``python -m bench.bench_registry [--quick] [--engines sqlite,postgres] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    fresh_postgres_database,
    markdown_table,
    p50,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)
from bench.server_procs import mlflow_uri, running_server

PRODUCTS = ("runyard", "mlflow")
TARGET = 10.0
API = "/api/2.0/mlflow"


@dataclass(frozen=True)
class Size:
    models: int
    versions: int
    repeats: int


FULL = Size(models=1000, versions=20, repeats=20)
QUICK = Size(models=100, versions=20, repeats=10)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def model_name(i: int) -> str:
    return f"model-{i:05d}"


# ---- populating through each product's own store -------------------------------------------
def populate(product: str, uri: str, size: Size, artifact_root: Path) -> float:
    started = time.perf_counter()
    if product == "runyard":
        from runyard.store.sql import SqlStore

        store: Any = SqlStore(uri, str(artifact_root))
        tracking = store
    else:
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking

        logging.disable(logging.WARNING)
        tracking = Tracking(mlflow_uri(uri), str(artifact_root))
        store = Registry(mlflow_uri(uri))
        logging.disable(logging.NOTSET)
    try:
        experiment_id = tracking.create_experiment("registry")
        run = tracking.create_run(experiment_id, "bench", 1_700_000_000_000, [], "source")
        run_id = run.info.run_id
        for i in range(size.models):
            _populate_model(product, store, model_name(i), i, size, run_id)
    finally:
        if product == "runyard":
            store.close()
        else:
            store.engine.dispose()
            tracking.engine.dispose()
    return time.perf_counter() - started


def _populate_model(product: str, store: Any, name: str, i: int, size: Size, run_id: str) -> None:
    if product == "runyard":
        store.create_registered_model(name, tags=[("team", f"team-{i % 10}")])
    else:
        from mlflow.entities.model_registry import RegisteredModelTag

        store.create_registered_model(name, tags=[RegisteredModelTag("team", f"team-{i % 10}")])
    for v in range(size.versions):
        validated = v % 4 == 0
        if product == "runyard":
            tags = [("validated", "true")] if validated else []
            store.create_model_version(name, f"runs:/{run_id}/model", run_id, tags=tags)
        else:
            from mlflow.entities.model_registry import ModelVersionTag

            tags = [ModelVersionTag("validated", "true")] if validated else []
            store.create_model_version(name, f"runs:/{run_id}/model", run_id, tags=tags)
    store.set_registered_model_alias(name, "champion", "1")


# ---- workloads -------------------------------------------------------------------------------
def workloads(size: Size) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name -> (method, endpoint, fields)."""
    one = model_name(size.models // 2)
    return {
        "search_models": (
            "GET",
            "registered-models/search",
            {"filter": "name LIKE 'model-000%'", "max_results": 100},
        ),
        "search_models_tag": (
            "GET",
            "registered-models/search",
            {"filter": "tags.team = 'team-3'", "max_results": 100},
        ),
        "search_versions": ("GET", "model-versions/search", {"filter": f"name = '{one}'"}),
        "search_versions_tag": (
            "GET",
            "model-versions/search",
            {"filter": "tags.validated = 'true'", "max_results": 1000},
        ),
        "latest_versions": ("POST", "registered-models/get-latest-versions", {"name": one}),
    }


def _digest(body: dict[str, Any]) -> str:
    """What both servers must agree on: the names and versions returned, in order."""
    items = body.get("registered_models") or body.get("model_versions") or []
    keys = [[item.get("name"), item.get("version")] for item in items]
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:12]


def measure(url: str, size: Size) -> dict[str, dict[str, Any]]:
    session = requests.Session()
    figures = {}
    for name, (method, endpoint, fields) in workloads(size).items():
        call: Callable[[], requests.Response]
        if method == "GET":
            call = lambda e=endpoint, f=fields: session.get(f"{url}{API}/{e}", params=f)  # noqa: E731
        else:
            call = lambda e=endpoint, f=fields: session.post(f"{url}{API}/{e}", json=f)  # noqa: E731
        first = call()
        first.raise_for_status()
        samples = []
        for _ in range(size.repeats):
            started = time.perf_counter()
            call().raise_for_status()
            samples.append(time.perf_counter() - started)
        figures[name] = {"value": p50(samples) * 1000, "digest": _digest(first.json())}
    return figures


# ---- the comparison --------------------------------------------------------------------------
@contextlib.contextmanager
def engine_uris(engine: str, workdir: Path) -> Iterator[dict[str, str]]:
    if engine == "sqlite":
        yield {p: f"sqlite:///{workdir}/{p}-registry.db" for p in PRODUCTS}
        return
    admin = postgres_admin_uri()
    with (
        fresh_postgres_database(admin, "bench_reg_runyard") as ours,
        fresh_postgres_database(admin, "bench_reg_mlflow") as theirs,
    ):
        yield {"runyard": ours, "mlflow": theirs}


def bench_engine(engine: str, size: Size, workers: int, workdir: Path) -> list[dict[str, Any]]:
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    with engine_uris(engine, workdir) as uris:
        for product in PRODUCTS:
            label = f"[{engine}] {product}"
            log(f"{label}: populate {size.models} models x {size.versions} versions")
            seconds = populate(product, uris[product], size, workdir / f"{product}-artifacts")
            log(f"{label}: populated in {seconds:.1f}s; starting the server")
            with running_server(product, uris[product], workdir / engine, workers) as server:
                figures[product] = measure(server.url, size)
    rows = []
    for name in workloads(size):
        ours, theirs = figures["runyard"][name], figures["mlflow"][name]
        ratio = theirs["value"] / ours["value"] if ours["value"] else 0.0
        rows.append(
            {
                "workload": name,
                "engine": engine,
                "unit": "ms p50",
                "runyard": round(ours["value"], 2),
                "mlflow": round(theirs["value"], 2),
                "ratio": f"{ratio:.1f}x",
                "speedup": round(ratio, 2),
                "target": f"{TARGET:g}x",
                "met": "yes" if ratio >= TARGET else "no",
                "same_data": "yes" if ours["digest"] == theirs["digest"] else "NO",
            }
        )
    return rows


def run_benchmark(size: Size, engines: list[str], workers: int, workdir: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for engine in engines:
        if engine == "postgres":
            reason = postgres_reachable(postgres_admin_uri())
            if reason:
                skipped[engine] = reason
                continue
        elif engine != "sqlite":
            raise SystemExit(f"unknown engine {engine!r} (sqlite, postgres)")
        rows += bench_engine(engine, size, workers, workdir)
    return {"rows": rows, "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 models instead of 1000")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="runyard-bench-registry-") as tmp:
        result = run_benchmark(size, engines, args.workers, Path(tmp))
    columns = ["workload", "engine", "unit", "runyard", "mlflow", "ratio", "target", "met"]
    print(markdown_table(result["rows"], [*columns, "same_data"]))
    for engine, reason in result["skipped"].items():
        print(f"{engine}: skipped ({reason})")
    payload = {"size": size.__dict__, "quick": args.quick, "workers": args.workers, **result}
    payload["results"] = payload.pop("rows")
    log(f"wrote {write_json('registry.json', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
