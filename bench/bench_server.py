"""``runyard server`` against ``mlflow server``: same engine, same worker count, one run.

Each server gets a fresh store (a SQLite file, or a fresh database on the Postgres server named
by ``RUNYARD_BENCH_POSTGRES_URI``; skipped with a message when it cannot be reached) and is
driven through the same REST calls with plain ``requests``:

1. ``ingest``: 200,000 metric points through ``runs/log-batch``, 1000 per call, one client;
2. ``single_calls``: 4 clients making single ``runs/log-metric`` calls (calls/s, median latency);
3. ``search_*``: 5,000 runs x 10 params x 10 metrics x 5 tags, written through each product's
   own store before its server starts (``--populate rest``: through the API), then, with the
   planner statistics autovacuum would have gathered by then (Postgres), searched:
   ordered by a metric (max_results 100), a metric-and-param filter, and paging through every
   run with max_results 1000 (p50 seconds);
4. ``history``: the 200,000-point history of step 1 through ``metrics/get-history``, following
   page tokens with max_results 25000 as the mlflow client does.

Every server gets the same warm-up before it is measured (``server_workloads.warm_up``); each
figure records the load average and the CPU other processes used meanwhile (``bench.load``);
on Postgres a separate pass counts database round trips per operation on the wire
(``bench.pg_wire``) for both products.

Run: ``python -m bench.bench_server [--quick] [--engines sqlite,postgres] [--workers 4]``.
Prints a markdown table and notes, and writes ``bench-output/server.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.common import (
    analyze,
    fresh_postgres_database,
    markdown_table,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)
from bench.load import LoadProbe
from bench.pg_wire import counting_relay
from bench.proc_cpu import tree_cpu_seconds
from bench.proc_memory import PeakMemory, tree_rss
from bench.server_populate import populate_store
from bench.server_procs import ServerProcess, running_server

PRODUCTS = ("runyard", "mlflow")

#: workload -> (unit, higher is better, target ratio or None)
WORKLOADS: dict[str, tuple[str, bool, float | None]] = {
    "ingest": ("points/s", True, 20.0),
    "single_calls": ("calls/s", True, 10.0),
    "single_latency": ("ms median", False, None),
    "search_order": ("s p50", False, 20.0),
    "search_filter": ("s p50", False, 20.0),
    "search_paging": ("s p50", False, 20.0),
    "history": ("s p50", False, 20.0),
}

#: What bounds runyard where it misses a target, found with ``python -m bench.server_profile``
#: (cProfile over the server's app, full sizes, SQLite); printed under the table for every missed
#: row. Times are per request inside the server, measured on a loaded two-core machine.
NOTES: dict[str, str] = {
    "ingest": (
        "per-point Python around a fast insert: JSON decoding, Metric construction and the "
        "summary fold; keys are validated once per distinct key and points go in with one "
        "multi-row INSERT (SQLite) or binary COPY (Postgres). On Postgres a batch is 6 round "
        "trips: BEGIN, the run's stage with its series ids, SAVEPOINT, COPY, the summary fold, "
        "COMMIT."
    ),
    "single_calls": (
        "fixed cost per request: on Postgres one autocommitted statement checks the run, "
        "stores the point and folds the summary (one round trip); on SQLite a transaction of "
        "three statements, and the 4 workers serialise on the database write lock; the "
        "client, the workers and the database share 2 cores."
    ),
    "search_order": (
        "the page's runs come in order from the summaries' (experiment, key, is_nan, value) "
        "index, so nothing sorts the experiment. In process the search takes about 12 ms: the "
        "page query 2.5 ms (0.8 ms of it in the database, the rest building the statement), "
        "loading the page's 1,000 params, 500 tags and 1,000 latest metrics about 8 ms (about 5 "
        "in the database: a probe of each table's key per run), and 2 ms writing 159 KB of "
        "JSON; through gunicorn the headers come after 16-20 ms, and the client takes 3 ms to "
        "decode the body. Six round trips a page (the page, params, tags, metrics, inputs, "
        "outputs). Tried without gain: the three loads as one "
        "statement (4.3-4.7 ms against 4.8), one row of arrays per run, and Postgres writing "
        "the runs' JSON (4.6 ms for 100 runs)."
    ),
    "search_filter": (
        "about 240 of the 5,000 runs match, so the page is every match: the filter query takes "
        "about 7 ms and loading the matches' 6,000 param, tag and metric rows about 20 ms in "
        "process (29 ms while the ids went to Postgres as a constant array, which made it read "
        "params and summaries by sequential scan); then the JSON of 240 runs (6 ms) and its "
        "decoding in the client."
    ),
    "search_paging": (
        "Python time per 1000-run page: loading ~26,000 param, tag and metric rows, building "
        "~25 dicts per run for the JSON reply, and encoding it."
    ),
    "history": (
        "per page of 25,000 points: an index range scan when the series was logged in time "
        "order (else a sort of the series); on Postgres the database writes the page's JSON "
        "text (about 21 ms a page in process, 171 ms for the whole history), elsewhere Python "
        "does (about 35 ms a page); then the client decodes it (about 39 ms per page with the "
        "json module, the same for both servers): decoding alone is 0.31 s of a 200,000-point "
        "history, so a 0.3 s history needs a faster client as much as a faster server."
    ),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- one product on one engine ---------------------------------------------------------------
def measure_product(
    server: ServerProcess,
    size: w.Size,
    label: str,
    populated: dict[str, Any] | None,
    uri: str,
) -> dict[str, dict[str, Any]]:
    """Every workload against ``server``: ``{workload: {"value": ..., "load": ..., ...}}``,
    each with the load the machine carried meanwhile (``bench.load``).

    ``populated`` names the search experiment already written through the store; without it
    the runs are created through the REST API. Before the searches, the database ``uri`` gets
    the planner statistics autovacuum would have gathered by then (``analyze``).
    """
    url = server.url
    ours = [os.getpid()] + ([server.process.pid] if server.process else [])
    figures: dict[str, dict[str, Any]] = {}

    def probed(names: list[str], measure: Any) -> Any:
        probe = LoadProbe(ours)
        memory = PeakMemory(server.process.pid) if server.process else None
        cpu = tree_cpu_seconds(server.process.pid) if server.process else None
        answer = measure()
        sample = probe.stop()
        for name in names:
            figures.setdefault(name, {}).update(load1=sample.load1, others=sample.others_cpu)
        if cpu is not None and server.process:
            figures[names[0]]["server_cpu_s"] = tree_cpu_seconds(server.process.pid) - cpu
        if memory is not None:
            peak = memory.stop()
            figures.setdefault("memory", {})[names[0]] = [peak.largest, peak.total]
        return answer

    log(f"{label}: warm-up ({w.warm_up(url)} rounds of single calls)")
    if server.process:
        rest = tree_rss(server.process.pid).values()
        figures["memory"] = {"at_rest": [max(rest, default=0), sum(rest)]}
    log(f"{label}: ingest {size.ingest_points} points")
    ingest = probed(["ingest"], lambda: w.ingest(url, size))
    figures["ingest"].update(value=ingest["value"], seconds=ingest["seconds"])
    log(f"{label}: {size.single_clients} clients x {size.single_calls} single calls")
    single = probed(["single_calls", "single_latency"], lambda: w.single_calls(url, size))
    figures["single_calls"].update(value=single["value"], digest=single["digest"])
    figures["single_latency"]["value"] = single["median_latency_ms"]
    if populated is None:
        log(f"{label}: populate {size.runs} runs through the API")
        populated = probed(["populate"], lambda: w.populate(url, size))
    figures.setdefault("populate", {}).update(
        value=populated["seconds"], experiment_id=populated["experiment_id"]
    )
    log(f"{label}: search")
    analyze(uri)
    names = ["search_order", "search_filter", "search_paging"]
    searches = probed(names, lambda: w.search_workloads(url, populated["experiment_id"], size))
    for name, figure in searches.items():
        figures[name].update(figure)
    log(f"{label}: history of {ingest['points']} points")
    history = probed(["history"], lambda: w.history_workload(url, ingest["run_id"], size))
    figures["history"].update(history)
    shown = ", ".join(
        f"{name} {figures[name]['value']:.4g}" for name in WORKLOADS if name in figures
    )
    log(f"{label}: {shown}")
    return figures


@contextlib.contextmanager
def engine_uris(engine: str, workdir: Path) -> Iterator[dict[str, str]]:
    """A fresh, empty store URI per product on ``engine``."""
    if engine == "sqlite":
        yield {p: f"sqlite:///{workdir}/{p}.db" for p in PRODUCTS}
        return
    admin = postgres_admin_uri()
    with (
        fresh_postgres_database(admin, "bench_srv_runyard") as ours,
        fresh_postgres_database(admin, "bench_srv_mlflow") as theirs,
    ):
        yield {"runyard": ours, "mlflow": theirs}


def bench_engine(
    engine: str, size: w.Size, workers: int, workdir: Path, populate: str
) -> dict[str, dict[str, dict[str, Any]]]:
    figures = {}
    with engine_uris(engine, workdir) as uris:
        for product in PRODUCTS:
            label = f"[{engine}] {product}"
            populated = None
            if populate == "store":
                log(f"{label}: populate {size.runs} runs through its own store")
                artifacts = workdir / engine / f"{product}-store-artifacts"
                populated = populate_store(product, uris[product], size, artifacts)
            log(f"{label}: starting the server ({workers} workers)")
            with running_server(product, uris[product], workdir / engine, workers) as server:
                figures[product] = measure_product(server, size, label, populated, uris[product])
            if engine == "postgres" and product == "runyard":
                log(f"[{engine}] COPY baseline: {size.ingest_points} points, {COPY_BATCH} a COPY")
                figures["copy_baseline"] = copy_rate(uris[product], size.ingest_points)
            if engine == "postgres":
                log(f"{label}: counting database round trips per operation")
                figures[product]["round_trips"] = count_round_trips(
                    product,
                    uris[product],
                    size,
                    workdir / engine / "counted",
                    figures[product]["populate"]["experiment_id"],
                )
    return figures


#: Points per COPY of the baseline, as ingest sends them per ``log-batch``.
COPY_BATCH = 1000


def copy_rate(uri: str, points: int) -> float:
    """Rows/s of ``points`` rows COPYed in batches of ``COPY_BATCH``, each committed, from this
    process into a table shaped as runyard's ``metrics`` (same columns and primary key, binary
    format): what Postgres itself takes to store points one batch at a time, the bound that
    ingest through the API is measured against."""
    import psycopg2
    from runyard.store.sql.drivers.postgres import _copy_binary

    conn = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE copy_baseline (series_id bigint, step bigint, timestamp bigint,"
                " value float8, is_nan boolean,"
                " PRIMARY KEY (series_id, step, timestamp, value, is_nan))"
            )
        conn.commit()
        batches = [
            _copy_binary([(1, s, w.BASE_TS + s, s / 7, False) for s in range(b, b + COPY_BATCH)])
            for b in range(0, points, COPY_BATCH)
        ]
        started = time.perf_counter()
        for data in batches:
            with conn.cursor() as cur:
                cur.copy_expert(
                    "COPY copy_baseline (series_id, step, timestamp, value, is_nan) FROM STDIN "
                    "WITH (FORMAT binary)",
                    io.BytesIO(data),
                )
            conn.commit()
        return len(batches) * COPY_BATCH / (time.perf_counter() - started)
    finally:
        conn.close()


def count_round_trips(
    product: str, uri: str, size: w.Size, workdir: Path, search_experiment_id: str
) -> dict[str, float]:
    """Round trips per operation, counted on the wire (``bench.pg_wire``) in a pass of its
    own (the relay costs time, so it never sits under a timed figure); the search is counted
    on the experiment the timed searches read."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (
        counting_relay(uri) as (relayed, counter),
        running_server(product, relayed, workdir, 1) as server,
    ):
        return w.counted_operations(server.url, size, lambda: counter.count, search_experiment_id)


# ---- the comparison --------------------------------------------------------------------------
def compare(engine: str, figures: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for workload, (unit, higher_is_better, target) in WORKLOADS.items():
        ours, theirs = figures["runyard"][workload], figures["mlflow"][workload]
        a, b = ours["value"], theirs["value"]
        ratio = (a / b if higher_is_better else b / a) if a and b else 0.0
        mine, other = ours.get("digest"), theirs.get("digest")
        same = "-" if mine is None and other is None else ("yes" if mine == other else "NO")
        rows.append(
            {
                "workload": workload,
                "engine": engine,
                "unit": unit,
                "runyard": _fmt(a),
                "mlflow": _fmt(b),
                "ratio": f"{ratio:.1f}x",
                "speedup": round(ratio, 2),
                "target": f"{target:g}x" if target else "-",
                "met": ("yes" if ratio >= target else "no") if target else "-",
                "same_data": same,
                "round_trips": _round_trips(figures, workload),
                "load": f"{_load(ours)}; {_load(theirs)}",
            }
        )
    return rows


def _round_trips(figures: dict[str, dict[str, Any]], workload: str) -> str:
    """Database round trips per operation (runyard; mlflow), where the engine counted them."""
    ours = figures["runyard"].get("round_trips", {}).get(workload)
    theirs = figures["mlflow"].get("round_trips", {}).get(workload)
    return "-" if ours is None or theirs is None else f"{ours:g}; {theirs:g}"


def _load(figure: dict[str, Any]) -> str:
    """The load average and other processes' CPU (cores) while ``figure`` was measured."""
    if "load1" not in figure:
        return "-"
    return f"{figure['load1']:.1f}/{figure['others']:.2f}"


def round_trip_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Database round trips per operation, runyard next to MLflow, where they were counted."""
    rows = []
    for engine, figures in raw.items():
        ours, theirs = figures["runyard"].get("round_trips"), figures["mlflow"].get("round_trips")
        if not ours or not theirs:
            continue
        for operation in ours:
            rows.append(
                {
                    "operation": operation,
                    "engine": engine,
                    "runyard": ours[operation],
                    "mlflow": theirs.get(operation, "-"),
                }
            )
    return rows


#: Workload -> (operation, how many operations it made) for server CPU per operation.
CPU_OPERATIONS: dict[str, tuple[str, Any]] = {
    "ingest": ("log-batch of 1,000 points", lambda size: size.ingest_points // w.BATCH),
    "single_calls": ("log-metric", lambda size: size.single_clients * size.single_calls),
    "populate": ("run created with its data", lambda size: size.runs),
}


def cpu_rows(raw: dict[str, Any], size: w.Size) -> list[dict[str, Any]]:
    """Server CPU (the whole process tree, from ``/proc``) per operation, runyard next to
    MLflow: what a request costs the server whatever else the machine did meanwhile."""
    rows = []
    for engine, figures in raw.items():
        for workload, (operation, count) in CPU_OPERATIONS.items():
            mine = figures["runyard"].get(workload, {}).get("server_cpu_s")
            other = figures["mlflow"].get(workload, {}).get("server_cpu_s")
            if mine is None or other is None:
                continue
            ours, theirs = mine * 1000 / count(size), other * 1000 / count(size)
            rows.append(
                {
                    "operation": operation,
                    "engine": engine,
                    "runyard ms": round(ours, 3),
                    "mlflow ms": round(theirs, 3),
                    "ratio": f"{theirs / ours:.1f}x" if ours else "-",
                }
            )
    return rows


def copy_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """runyard's ingest rate as a share of the COPY baseline measured in the same run."""
    rows = []
    for engine, figures in raw.items():
        baseline = figures.get("copy_baseline")
        if not baseline:
            continue
        ingest = figures["runyard"]["ingest"]["value"]
        rows.append(
            {
                "engine": engine,
                "runyard ingest": f"{ingest:,.0f} points/s",
                "copy": f"{baseline:,.0f} rows/s",
                "share": f"{ingest / baseline:.0%}",
                "met": "yes" if ingest / baseline >= COPY_TARGET else "no",
            }
        )
    return rows


#: Share of the COPY rate ingest through the API should reach on Postgres.
COPY_TARGET = 0.6

#: Memory rows: when, and the workload whose probe sampled it.
MEMORY_PHASES = {
    "at rest (after warm-up)": "at_rest",
    "ingest": "ingest",
    "single calls": "single_calls",
    "search": "search_order",
    "history": "history",
}


def memory_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Server RSS in MiB, runyard next to MLflow: its largest process (one worker) and the
    whole tree (master and every worker), at rest and at the peak of each workload."""
    rows = []
    for engine, figures in raw.items():
        ours, theirs = figures["runyard"].get("memory"), figures["mlflow"].get("memory")
        if not ours or not theirs:
            continue
        for phase, key in MEMORY_PHASES.items():
            if key in ours and key in theirs:
                mine, other = (_mib(ours[key]), _mib(theirs[key]))
                rows.append(
                    {
                        "when": phase,
                        "engine": engine,
                        "runyard worker": mine[0],
                        "mlflow worker": other[0],
                        "runyard tree": mine[1],
                        "mlflow tree": other[1],
                    }
                )
    return rows


def _mib(sizes: list[int]) -> list[float]:
    return [round(size / 2**20, 1) for size in sizes]


def _fmt(value: float) -> float:
    return round(value, 1) if value >= 100 else round(value, 4)


def run_benchmark(
    size: w.Size, engines: list[str], workers: int, workdir: Path, populate: str = "store"
) -> dict[str, Any]:
    """The whole comparison as data: rows, raw figures, skipped engines, notes.

    ``populate`` is ``store`` (search runs written through each product's own store before its
    server starts) or ``rest`` (through the server's API).
    """
    rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for engine in engines:
        if engine == "postgres":
            reason = postgres_reachable(postgres_admin_uri())
            if reason:
                skipped[engine] = reason
                log(f"Postgres skipped: {postgres_admin_uri().split('@')[-1]} ({reason})")
                continue
        elif engine != "sqlite":
            raise SystemExit(f"unknown engine {engine!r} (sqlite, postgres)")
        raw[engine] = bench_engine(engine, size, workers, workdir, populate)
        rows += compare(engine, raw[engine])
    missed = sorted({r["workload"] for r in rows if r["met"] == "no"})
    notes = {name: NOTES.get(name, "not profiled yet") for name in missed}
    return {"rows": rows, "raw": raw, "skipped": skipped, "notes": notes, "size": size}


def render(result: dict[str, Any]) -> str:
    columns = ["workload", "engine", "unit", "runyard", "mlflow", "ratio", "target", "met"]
    columns += ["same_data", "round_trips", "load"]
    parts = [markdown_table(result["rows"], columns)]
    parts.append(
        "load: the 1-minute load average / other processes' CPU in cores during the figure "
        "(runyard; mlflow)."
    )
    trips = round_trip_rows(result["raw"])
    if trips:
        parts.append("Database round trips per operation (counted on the wire):")
        parts.append(markdown_table(trips, ["operation", "engine", "runyard", "mlflow"]))
    cpu = cpu_rows(result["raw"], result["size"])
    if cpu:
        parts.append("Server CPU per operation (its whole process tree, user + system):")
        parts.append(
            markdown_table(cpu, ["operation", "engine", "runyard ms", "mlflow ms", "ratio"])
        )
    copies = copy_rows(result["raw"])
    if copies:
        parts.append(
            "Ingest through the API against Postgres' own COPY of the same points, 1,000 a "
            "COPY, each committed, from Python (target: 60 %):"
        )
        parts.append(markdown_table(copies, ["engine", "runyard ingest", "copy", "share", "met"]))
    memory = memory_rows(result["raw"])
    if memory:
        parts.append(
            "Server memory, RSS in MiB (worker: the largest process of the server's tree; "
            "tree: all of them), at rest and at each workload's peak:"
        )
        columns = ["when", "engine", "runyard worker", "mlflow worker"]
        parts.append(markdown_table(memory, [*columns, "runyard tree", "mlflow tree"]))
    for engine, reason in result["skipped"].items():
        parts.append(f"{engine}: skipped ({reason})")
    if result["notes"]:
        parts.append(
            "Notes (what bounds runyard where a target is missed; `python -m bench.server_spy` "
            "profiles a live server in each workload, docs/performance.md reads its profiles):"
        )
        parts += [f"- {name}: {text}" for name, text in result["notes"].items()]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=4, help="worker processes per server")
    parser.add_argument(
        "--populate",
        choices=("store", "rest"),
        default="store",
        help="write the search runs through each product's own store (fast) or its REST API",
    )
    args = parser.parse_args(argv)
    size = w.QUICK if args.quick else w.FULL
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="runyard-bench-server-") as tmp:
        result = run_benchmark(size, engines, args.workers, Path(tmp), args.populate)
    print(render(result))
    payload = {**result, "size": size.__dict__, "quick": args.quick, "workers": args.workers}
    payload["populate"] = args.populate
    payload["results"] = payload.pop("rows")
    log(f"wrote {write_json('server.json', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
