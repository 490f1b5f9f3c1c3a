"""How search time grows with the runs of one experiment, runyard's store next to MLflow's.

One experiment grows in place through the sizes (1,000 / 10,000 / 100,000 / 1,000,000 runs;
``--quick``: 1,000 and 10,000) on SQLite and on Postgres. Each run has 10 params, 10 metrics and
5 tags, as in ``bench.bench_server``. The rows are written straight into each product's tables
in bulk (``COPY`` on Postgres, ``executemany`` on SQLite), not through the API: at a million runs
the API would take hours, and search reads only these tables. runyard gets its runs, params,
tags and metric summaries; MLflow its runs, params, tags, metrics and latest metrics. Each
product's store is made first, so its own migrations create the tables and indexes.

At each size, p50 over a few calls of each product's ``search_runs`` (in process, no HTTP):

* ``first_page``: the first 100 runs in the default order (newest first);
* ``ordered``: 100 runs ordered by ``metrics.m0 DESC``;
* ``filtered``: ``metrics.m1 > 0.5 AND params.p2 = 'v3'`` (about 1 run in 22), 100 runs;
* ``deep_page``: the 100 runs from the middle of the experiment, with the page token each
  product hands out for it (MLflow's: an offset; runyard's also names the last run before it);
* ``ordered_deep``: the 100 runs from the middle of the order by ``metrics.m0 DESC``, the same
  way (runyard's token names the last run's value, start time and id).

``growth`` is the time at a size over the time at the smallest size: flat stays near 1,
logarithmic grows by a constant per tenfold, linear by ten per tenfold. MLflow is measured up to
``--mlflow-max`` runs (default 100,000).

Run: ``python -m bench.bench_growth [--quick] [--engines sqlite,postgres] [--sizes 1000,...]``;
writes ``bench-output/growth.json``. Do not run the full size on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    analyze,
    fresh_postgres_database,
    markdown_table,
    p50,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
TINY_SIZES = (50, 200)
PAGE = 100
PARAMS, METRICS, TAGS = 10, 10, 5
FILTER = "metrics.m1 > 0.5 AND params.p2 = 'v3'"
ORDER = "metrics.m0 DESC"
WORKLOADS = ("first_page", "ordered", "filtered", "deep_page", "ordered_deep")
#: Rows per bulk statement (and per COPY).
CHUNK = 20_000
T0 = 1_700_000_000_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the runs, as plain rows ----------------------------------------------------------------
def run_rows(start: int, stop: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Runs ``start``..``stop`` of the experiment, the same for both products."""
    for i in range(start, stop):
        rng = random.Random(seed * 1_000_003 + i)
        yield {
            "run_uuid": uuid.UUID(int=rng.getrandbits(128)).hex,
            "name": f"run-{i:07d}",
            "start_time": T0 + i,
            "params": [(f"p{k}", f"v{(i + k) % 11}") for k in range(PARAMS)],
            "metrics": [(f"m{k}", rng.random()) for k in range(METRICS)],
            "tags": [(f"t{k}", f"tag-{i % (k + 2)}") for k in range(TAGS)],
        }


# ---- bulk writing --------------------------------------------------------------------------
def bulk_insert(engine: Any, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """``rows`` into ``table``: COPY on Postgres, executemany on SQLite, in chunks."""
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            _write(engine, table, columns, batch)
            batch = []
    if batch:
        _write(engine, table, columns, batch)


def _write(engine: Any, table: str, columns: list[str], rows: list[tuple]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in rows:
                writer.writerow(["\\N" if v is None else v for v in row])
            buffer.seek(0)
            names = ", ".join(f'"{c}"' for c in columns)
            cursor.copy_expert(
                f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
            )
        else:
            marks = ", ".join("?" for _ in columns)
            names = ", ".join(f'"{c}"' for c in columns)
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        raw.commit()
    finally:
        raw.close()


class Product:
    """One product's store on one database: how to grow its experiment and search it."""

    name: str

    def __init__(self, uri: str, artifacts: Path) -> None:
        self.uri = uri
        self.artifacts = artifacts

    def grow(self, start: int, stop: int) -> None:
        raise NotImplementedError

    def search(self, workload: str, size: int) -> Callable[[], int]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Runyard(Product):
    name = "runyard"

    def __init__(self, uri: str, artifacts: Path) -> None:
        super().__init__(uri, artifacts)
        from runyard.store.sql import SqlStore

        self.store = SqlStore(uri, str(artifacts))
        self.experiment_id = self.store.create_experiment("growth")

    def grow(self, start: int, stop: int) -> None:
        engine = self.store.engine
        eid = int(self.experiment_id)
        runs = list(run_rows(start, stop))
        bulk_insert(
            engine,
            "runs",
            ["run_uuid", "experiment_id", "name", "user_id", "status", "start_time", "end_time",
             "artifact_uri", "lifecycle_stage"],
            ((r["run_uuid"], eid, r["name"], "bench", "FINISHED", r["start_time"],
              r["start_time"] + 1, f"{self.artifacts}/{r['run_uuid']}", "active") for r in runs),
        )  # fmt: skip
        bulk_insert(
            engine, "params", ["run_uuid", "key", "value"],
            ((r["run_uuid"], k, v) for r in runs for k, v in r["params"]),
        )  # fmt: skip
        bulk_insert(
            engine, "tags", ["run_uuid", "key", "value"],
            ((r["run_uuid"], k, v) for r in runs for k, v in r["tags"]),
        )  # fmt: skip
        bulk_insert(
            engine,
            "metric_summaries",
            ["run_uuid", "experiment_id", "key", "value", "is_nan", "step", "timestamp",
             "min_value", "max_value", "count"],
            ((r["run_uuid"], eid, k, v, False, 0, r["start_time"], v, v, 1)
             for r in runs for k, v in r["metrics"]),
        )  # fmt: skip
        analyze(engine.url.render_as_string(hide_password=False))

    def search(self, workload: str, size: int) -> Callable[[], int]:
        from runyard.search.paging import encode_offset_token

        eid, store = self.experiment_id, self.store
        token = encode_offset_token(size // 2, seek_after(size))
        ordered_token = encode_offset_token(size // 2, ordered_seek_after(size))
        calls = {
            "first_page": lambda: store.search_runs([eid], max_results=PAGE),
            "ordered": lambda: store.search_runs([eid], max_results=PAGE, order_by=[ORDER]),
            "filtered": lambda: store.search_runs([eid], FILTER, max_results=PAGE),
            "deep_page": lambda: store.search_runs([eid], max_results=PAGE, page_token=token),
            "ordered_deep": lambda: store.search_runs(
                [eid], max_results=PAGE, order_by=[ORDER], page_token=ordered_token
            ),
        }
        return lambda: len(calls[workload]())

    def close(self) -> None:
        self.store.engine.dispose()


def seek_after(size: int) -> list[Any]:
    """The (start time, run id) of the last run on the page before the middle one, as
    runyard's page tokens carry it (newest first: run ``size - size // 2``)."""
    last = next(run_rows(size - size // 2, size - size // 2 + 1))
    return [last["start_time"], last["run_uuid"]]


def ordered_seek_after(size: int) -> list[Any]:
    """The (part, value, start time, run id) of the last run on the page before the middle one
    of the ``ORDER`` (``metrics.m0 DESC``, ties newest first), as runyard's tokens carry it.
    The values are finite, so every run is in the first part."""
    assert ORDER == "metrics.m0 DESC"
    runs = sorted(
        run_rows(0, size),
        key=lambda r: (-dict(r["metrics"])["m0"], -r["start_time"], r["run_uuid"]),
    )
    last = runs[size // 2 - 1]
    return [0, dict(last["metrics"])["m0"], last["start_time"], last["run_uuid"]]


class Mlflow(Product):
    name = "mlflow"

    def __init__(self, uri: str, artifacts: Path) -> None:
        super().__init__(uri, artifacts)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        if uri.startswith("postgresql://"):  # MLflow would pick psycopg 3, which is absent
            uri = "postgresql+psycopg2://" + uri[len("postgresql://") :]
        self.store = SqlAlchemyStore(uri, str(artifacts))
        self.experiment_id = self.store.create_experiment("growth")

    def grow(self, start: int, stop: int) -> None:
        engine = self.store.engine
        eid = int(self.experiment_id)
        runs = list(run_rows(start, stop))
        bulk_insert(
            engine,
            "runs",
            ["run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id",
             "status", "start_time", "end_time", "source_version", "lifecycle_stage",
             "artifact_uri", "experiment_id"],
            ((r["run_uuid"], r["name"], "LOCAL", "", "", "bench", "FINISHED", r["start_time"],
              r["start_time"] + 1, "", "active", f"{self.artifacts}/{r['run_uuid']}", eid)
             for r in runs),
        )  # fmt: skip
        bulk_insert(
            engine, "params", ["key", "value", "run_uuid"],
            ((k, v, r["run_uuid"]) for r in runs for k, v in r["params"]),
        )  # fmt: skip
        bulk_insert(
            engine, "tags", ["key", "value", "run_uuid"],
            ((k, v, r["run_uuid"]) for r in runs for k, v in r["tags"]),
        )  # fmt: skip
        metric_columns = ["key", "value", "timestamp", "step", "is_nan", "run_uuid"]
        for table in ("metrics", "latest_metrics"):
            bulk_insert(
                engine, table, metric_columns,
                ((k, v, r["start_time"], 0, False, r["run_uuid"])
                 for r in runs for k, v in r["metrics"]),
            )  # fmt: skip
        analyze(engine.url.render_as_string(hide_password=False))

    def search(self, workload: str, size: int) -> Callable[[], int]:
        from mlflow.entities import ViewType
        from mlflow.utils.search_utils import SearchUtils

        eid, store = [self.experiment_id], self.store
        token = SearchUtils.create_page_token(size // 2)
        active = ViewType.ACTIVE_ONLY
        calls = {
            "first_page": lambda: store.search_runs(eid, "", active, PAGE),
            "ordered": lambda: store.search_runs(eid, "", active, PAGE, [ORDER]),
            "filtered": lambda: store.search_runs(eid, FILTER, active, PAGE),
            "deep_page": lambda: store.search_runs(eid, "", active, PAGE, None, token),
            "ordered_deep": lambda: store.search_runs(eid, "", active, PAGE, [ORDER], token),
        }
        return lambda: len(calls[workload]())

    def close(self) -> None:
        self.store.engine.dispose()


# ---- measuring -----------------------------------------------------------------------------
def p50_ms(call: Callable[[], int], repeats: int) -> tuple[float, int]:
    found = call()  # warm: the first call pays for caches and query planning
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return round(p50(samples), 2), found


@contextlib.contextmanager
def databases(engine: str, workdir: Path) -> Iterator[Callable[[str], Any]]:
    """A maker of fresh databases (one per product) on ``engine``."""
    with contextlib.ExitStack() as stack:

        def make(product: str) -> str:
            if engine == "sqlite":
                return f"sqlite:///{workdir / f'{product}.db'}"
            return stack.enter_context(
                fresh_postgres_database(postgres_admin_uri(), f"growth_{product}")
            )

        yield make


def measure_engine(
    engine: str, sizes: tuple[int, ...], mlflow_max: int, repeats: int, workdir: Path
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with databases(engine, workdir) as make:
        for cls in (Runyard, Mlflow):
            reach = [s for s in sizes if cls is Runyard or s <= mlflow_max]
            if not reach:
                continue
            product = cls(make(cls.name), workdir / f"{engine}-{cls.name}-artifacts")
            try:
                have = 0
                for size in reach:
                    started = time.perf_counter()
                    product.grow(have, size)
                    have = size
                    log(f"  {engine} {cls.name}: {size:,} runs written in "
                        f"{time.perf_counter() - started:.0f}s")  # fmt: skip
                    for workload in WORKLOADS:
                        ms, found = p50_ms(product.search(workload, size), repeats)
                        rows.append({"engine": engine, "product": cls.name, "runs": size,
                                     "workload": workload, "ms": ms, "found": found})  # fmt: skip
            finally:
                product.close()
    return rows


def growth_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per engine, workload and size: both products' p50 and their growth."""
    index = {(r["engine"], r["product"], r["workload"], r["runs"]): r["ms"] for r in rows}
    smallest: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r["engine"], r["product"], r["workload"])
        smallest[key] = min(smallest.get(key, r["runs"]), r["runs"])
    lines = []
    cells = sorted(
        {(r["engine"], r["workload"], r["runs"]) for r in rows},
        key=lambda k: (k[0], WORKLOADS.index(k[1]), k[2]),
    )
    for engine, workload, runs in cells:
        line: dict[str, Any] = {"engine": engine, "workload": workload, "runs": f"{runs:,}"}
        for product in ("runyard", "mlflow"):
            ms = index.get((engine, product, workload, runs))
            first = smallest.get((engine, product, workload), 0)
            base = index.get((engine, product, workload, first))
            line[f"{product}_ms"] = ms if ms is not None else "-"
            line[f"{product}_growth"] = round(ms / base, 1) if ms and base else "-"
        mlflow_ms, runyard_ms = line["mlflow_ms"], line["runyard_ms"]
        line["ratio"] = round(mlflow_ms / runyard_ms, 1) if mlflow_ms != "-" and runyard_ms else "-"
        lines.append(line)
    return lines


def summary_rows(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The largest size of each workload, in ``make bench``'s summary shape."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        last[(line["engine"], line["workload"])] = line
    return [
        {"workload": f"search_{line['workload']}_at_{line['runs']}_runs", "engine": engine,
         "runyard": line["runyard_ms"], "mlflow": line["mlflow_ms"], "unit": "ms p50",
         "ratio": line["ratio"], "growth": line["runyard_growth"]}
        for (engine, _), line in last.items()
    ]  # fmt: skip


def run_benchmark(
    engines: list[str], sizes: tuple[int, ...], mlflow_max: int, repeats: int, workdir: Path
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for engine in engines:
        if engine == "postgres":
            reason = postgres_reachable(postgres_admin_uri())
            if reason:
                skipped[engine] = f"Postgres not reachable: {reason}"
                log(f"skipping postgres: {reason}")
                continue
        rows += measure_engine(engine, sizes, mlflow_max, repeats, workdir / engine)
    lines = growth_table(rows)
    return {"sizes": list(sizes), "measurements": rows, "table": lines,
            "rows": summary_rows(lines), "skipped": skipped}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 runs")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sizes", default=None, help="comma list of run counts")
    parser.add_argument("--mlflow-max", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.sizes:
        sizes = tuple(sorted(int(s) for s in args.sizes.split(",") if s.strip()))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="runyard-bench-growth-") as tmp:
        workdir = Path(tmp)
        for engine in engines:
            os.makedirs(workdir / engine, exist_ok=True)
        result = run_benchmark(engines, sizes, args.mlflow_max, args.repeats, workdir)
    columns = ["engine", "workload", "runs", "runyard_ms", "runyard_growth", "mlflow_ms",
               "mlflow_growth", "ratio"]  # fmt: skip
    print(markdown_table(result["table"], columns))
    for engine, reason in result["skipped"].items():
        print(f"\n{engine}: skipped ({reason})")
    log(f"wrote {write_json('growth.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
