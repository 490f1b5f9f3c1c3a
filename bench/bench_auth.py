"""What accounts cost the logging path: ``runyard server`` with ``--auth`` against without.

Both servers run in the same process of measurement, on fresh stores of the same engine, with the
same workloads as ``bench.bench_server``: ``ingest`` (points through ``runs/log-batch``, 1000 per
call) and ``single_calls`` (concurrent single ``runs/log-metric`` calls). With auth on, every
request carries an API token of an ordinary (not admin) user who created the experiment, so each
request is authenticated, its grants loaded and its run's experiment checked. Target: at most
10 % slower.

Two figures per workload: throughput, and the server's CPU per request (its whole process tree,
from ``/proc``). On a small machine the client, the server and the database share the cores, so
throughput moves with whatever else runs; CPU per request is what auth itself costs, and it
decides whether the target is met.

Run: ``python -m bench.bench_auth [--quick] [--engines sqlite,postgres] [--workers 4]``; writes
``bench-output/auth.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.common import (
    fresh_postgres_database,
    markdown_table,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)
from bench.proc_cpu import tree_cpu_seconds
from bench.server_procs import running_server

#: Highest accepted slowdown with auth on, in percent.
TARGET_OVERHEAD_PCT = 10.0
WORKLOADS = {"ingest": "points/s", "single_calls": "calls/s"}
BENCH_USER = "bench-user"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def fresh_store(engine: str, workdir: Path, name: str) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    with fresh_postgres_database(postgres_admin_uri(), f"rt_auth_{name}") as uri:
        yield uri


def token_url(store_uri: str, url: str) -> str:
    """The server URL carrying an ordinary user's API token (sent as the basic password)."""
    from runyard.auth.store import AuthStore

    auth = AuthStore(store_uri)
    try:
        auth.create_user(BENCH_USER, "bench-password-1")
        _token, secret = auth.create_token(BENCH_USER, "bench", None)
    finally:
        auth.close()
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{BENCH_USER}:{secret}@{rest}"


def measure(engine: str, auth: bool, size: w.Size, workers: int, workdir: Path) -> dict[str, Any]:
    """Each workload's throughput and the server's CPU milliseconds per request."""
    label = "auth-on" if auth else "auth-off"
    with fresh_store(engine, workdir, label.replace("-", "_")) as store_uri:
        extra = ("--auth",) if auth else ()
        with running_server("runyard", store_uri, workdir, workers, extra, label) as server:
            url = token_url(store_uri, server.url) if auth else server.url
            pid = server.process.pid  # type: ignore[union-attr]
            w.warm_up(url)
            figures: dict[str, Any] = {}
            for workload, requests_of in (
                ("ingest", lambda r: r["points"] / w.BATCH),
                ("single_calls", lambda r: r["calls"]),
            ):
                before = tree_cpu_seconds(pid)
                result = getattr(w, workload)(url, size)
                cpu_ms = (tree_cpu_seconds(pid) - before) * 1000 / requests_of(result)
                figures[workload] = (result["value"], cpu_ms)
            return figures


def run_benchmark(size: w.Size, engines: list[str], workers: int, workdir: Path) -> dict:
    rows: list[dict[str, Any]] = []
    for engine in engines:
        if engine == "postgres" and (reason := postgres_reachable(postgres_admin_uri())):
            log(f"postgres skipped: {reason}")
            continue
        log(f"[auth] {engine}: auth off, then auth on")
        off = measure(engine, False, size, workers, workdir)
        on = measure(engine, True, size, workers, workdir)
        for workload, unit in WORKLOADS.items():
            (rate_off, cpu_off), (rate_on, cpu_on) = off[workload], on[workload]
            cpu_overhead = (cpu_on - cpu_off) / cpu_off * 100
            rows.append(
                {
                    "workload": f"auth_{workload}",
                    "engine": engine,
                    "unit": unit,
                    "auth_off": round(rate_off, 1),
                    "auth_on": round(rate_on, 1),
                    "overhead_pct": round((rate_off - rate_on) / rate_off * 100, 1),
                    "cpu_ms_off": round(cpu_off, 3),
                    "cpu_ms_on": round(cpu_on, 3),
                    "cpu_overhead_pct": round(cpu_overhead, 1),
                    "target": f"<= {TARGET_OVERHEAD_PCT:.0f} % more server CPU per request",
                    "met": "yes" if cpu_overhead <= TARGET_OVERHEAD_PCT else "no",
                }
            )
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=4, help="worker processes per server")
    args = parser.parse_args(argv)
    size = w.QUICK if args.quick else w.FULL
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="runyard-bench-auth-") as tmp:
        result = run_benchmark(size, engines, args.workers, Path(tmp))
    columns = [
        "workload",
        "engine",
        "unit",
        "auth_off",
        "auth_on",
        "overhead_pct",
        "cpu_ms_off",
        "cpu_ms_on",
        "cpu_overhead_pct",
        "met",
    ]
    print(markdown_table(result["rows"], columns))
    payload = {"size": size.__dict__, "quick": args.quick, "workers": args.workers, **result}
    log(f"wrote {write_json('auth.json', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
