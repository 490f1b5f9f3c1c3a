"""``make bench``: every benchmark against MLflow in one run, then one summary of all ratios.

Runs ``bench.bench_stores``, ``bench.bench_growth`` (search time from 1,000 to 1,000,000 runs),
``bench.bench_stored_points`` (ingest, single calls, history and charts with 0 to 100,000,000
metric points stored, Postgres),
``bench.bench_server``, ``bench.server_spy`` (py-spy's profile of a live server in each of
its workloads: what bounds the targets it misses), ``bench.bench_scale`` (1, 2 and 4 server
containers behind nginx),
``bench.bench_ui``, ``bench.bench_client``,
``bench.bench_ui_browser`` (the UI in Chromium), ``bench.bench_registry``, ``bench.bench_auth``
(auth on against auth off), ``bench.bench_artifacts`` (against native clients, not MLflow) and
``bench.bench_import`` (``runyard import`` against Postgres' COPY), each only if its module exists,
passing ``--quick`` through (and ``--engines`` to those that take it). Each writes
``bench-output/<name>.json``; the rows written during this run are gathered into one markdown
table, printed and written to ``bench-output/summary.md``.

Run: ``python -m bench.run_all [--quick] [--only stores,server] [--engines sqlite,postgres]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import OUTPUT_DIR, markdown_table

#: Benchmark name -> module; each module has ``main(argv) -> int`` and writes ``<name>.json``.
BENCHMARKS = {
    "stores": "bench.bench_stores",
    "growth": "bench.bench_growth",
    "stored_points": "bench.bench_stored_points",
    "server": "bench.bench_server",
    "server_spy": "bench.server_spy",
    "scale": "bench.bench_scale",
    "ui": "bench.bench_ui",
    "ui_browser": "bench.bench_ui_browser",
    "client": "bench.bench_client",
    "registry": "bench.bench_registry",
    "auth": "bench.bench_auth",
    "artifacts": "bench.bench_artifacts",
    "import": "bench.bench_import",
}
TAKES_ENGINES = {"stores", "growth", "server", "server_spy", "registry", "auth"}
COLUMNS = ["bench", "workload", "engine", "runyard", "mlflow", "ratio", "target", "met"]
COLUMNS += ["round_trips", "load"]
#: Canonical column -> the names benchmarks use for it, in order of preference (the auth
#: benchmark compares runyard with auth on against runyard with auth off, the import benchmark
#: runyard import's rate against Postgres' COPY).
ALIASES = {
    "runyard": ("runyard", "runyard_ms", "runyard_s", "auth_on"),
    "mlflow": ("mlflow", "mlflow_ms", "mlflow_s", "auth_off", "postgres_copy"),
    "target": ("target", "target_ms", "target_ratio"),
    "met": ("met", "meets"),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table_rows(payload: Any) -> list[dict[str, Any]]:
    """The per-workload rows of a benchmark's JSON (``rows`` or ``results``, as a list)."""
    if not isinstance(payload, dict):
        return []
    for key in ("rows", "results"):
        rows = payload.get(key)
        if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
            return rows
    return []


def summary_row(bench: str, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": bench}
    for column in COLUMNS[1:]:
        names = ALIASES.get(column, (column,))
        out[column] = next((row[n] for n in names if n in row), "-")
    unit = row.get("unit")
    if unit:
        for column in ("runyard", "mlflow"):
            if out[column] != "-":
                out[column] = f"{out[column]} {unit}"
    return out


def gather(names: list[str], since: float) -> list[dict[str, Any]]:
    """Rows of every ``<name>.json`` written after ``since`` (older files are stale)."""
    rows: list[dict[str, Any]] = []
    for name in names:
        path = OUTPUT_DIR / f"{name}.json"
        if not path.exists() or path.stat().st_mtime < since:
            continue
        rows += [summary_row(name, r) for r in table_rows(json.loads(path.read_text()))]
    return rows


def render_summary(rows: list[dict[str, Any]], outcomes: dict[str, str]) -> str:
    lines = ["# runyard vs MLflow: benchmark summary", "", markdown_table(rows, COLUMNS), ""]
    lines += [f"- {name}: {outcome}" for name, outcome in outcomes.items()]
    missed = [r for r in rows if r.get("met") == "no"]
    if missed:
        lines += ["", f"{len(missed)} target(s) missed; see each benchmark's notes above."]
    return "\n".join(lines) + "\n"


def run_one(name: str, module_name: str, argv: list[str]) -> str:
    """Run one benchmark's ``main``; the outcome as a short phrase."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return "not present"
        raise
    log(f"==== {name}: python -m {module_name} {' '.join(argv)}")
    try:
        code = module.main(argv)
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        return f"FAILED ({type(exc).__name__}: {exc})".splitlines()[0]
    return "ran" if not code else f"FAILED (exit {code})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes everywhere")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help="comma list of: " + ",".join(BENCHMARKS)
    )
    parser.add_argument("--engines", default=None, help="passed to stores and server")
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {list(BENCHMARKS)}")
    started = time.time()
    outcomes: dict[str, str] = {}
    for name in chosen:
        sub_argv = ["--quick"] if args.quick else []
        if args.engines and name in TAKES_ENGINES:
            sub_argv += ["--engines", args.engines]
        outcomes[name] = run_one(name, BENCHMARKS[name], sub_argv)
    summary = render_summary(gather(chosen, started), outcomes)
    print("\n" + summary)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(OUTPUT_DIR / "summary.md")
    path.write_text(summary)
    log(f"wrote {path}")
    return 1 if any(o.startswith("FAILED") for o in outcomes.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
