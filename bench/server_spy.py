"""Where a live runyard server spends its CPU in each workload of ``bench.bench_server``.

``bench.server_profile`` runs the app in process, without gunicorn or sockets; this attaches
py-spy to the worker of a real ``runyard server`` (one worker, so every request lands in the
sampled process) while the benchmark's own workloads run against it. py-spy samples only the
thread holding the GIL (``--gil``), so a sample is Python (or C called from Python) on the CPU,
not a thread waiting on the database or a socket. Beside the frames it reports, per operation,
the worker's user and system CPU and the database server's CPU (the tree under PostgreSQL's
postmaster, "not measured" when it runs elsewhere; SQLite runs inside the worker), so the
share left to Python is plain.

For each workload it prints the samples' own time by package, the frames with the most
samples including what they call (leaving out the threads, gunicorn's worker loop and the
command line, which hold every request), the frames with the most samples of their own, and
the worker's resident memory before the workload and at its peak.

Run: ``python -m bench.server_spy [--engines sqlite,postgres] [--quick]
[--workload single_calls ...] [--top 15] [--setting RUNYARD_NAME=VALUE ...]``; writes
``bench-output/server_spy.json``. Needs py-spy (the ``test`` extra) and the right to trace the
worker (root, or ptrace allowed). The server runs with runyard's defaults, whatever the
caller's environment holds, except for each ``--setting``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.common import (
    analyze,
    fresh_postgres_database,
    markdown_table,
    postgres_admin_uri,
    postgres_reachable,
    postmaster_of,
    write_json,
)
from bench.proc_cpu import tree_cpu_seconds, user_system_seconds
from bench.proc_memory import PeakMemory, tree_rss
from bench.proc_stat import descendants
from bench.server_procs import running_server

SAMPLE_RATE = 500  # per second; py-spy's default is 100
MIB = 1024 * 1024
#: Frames that hold every request (threads, gunicorn's worker loop, the command line): left
#: out of the inclusive table, where they would stand first with nothing to say.
SCAFFOLDING = (
    "threading.py",
    "concurrent/futures/",
    "gunicorn/arbiter.py",
    "gunicorn/app/",
    "gunicorn/workers/base.py",
    "click/",
    "runyard/cli.py",
    "runyard/server/serve.py",
    "<module>",
)


# ---- py-spy -----------------------------------------------------------------------------------
@contextlib.contextmanager
def spying(pid: int, output: Path) -> Iterator[None]:
    """py-spy sampling ``pid``'s GIL holder into ``output`` (raw, collapsed stacks) while the
    block runs; stopped with SIGINT, on which it writes what it has."""
    command = [
        shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
        "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", str(SAMPLE_RATE),
        "--format", "raw", "--output", str(output),
    ]  # fmt: skip
    said = output.with_suffix(".log")  # a file, not a pipe nobody reads while it samples
    with open(said, "wb") as stderr:
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    time.sleep(0.5)  # attached before the workload starts
    if spy.poll() is not None:
        raise RuntimeError(f"py-spy could not attach: {said.read_text()[:500]}")
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            raise


def _function(frame: str) -> str:
    """``name (path:line)`` -> ``name (path)``: a function's samples add up over its lines."""
    name, _, place = frame.rpartition(" (")
    return f"{name} ({place.rsplit(':', 1)[0]})" if name else frame


@dataclass
class Profile:
    samples: int
    inclusive: list[tuple[str, int]]
    own: list[tuple[str, int]]
    by_package: list[tuple[str, int]]


def package_of(function: str) -> str:
    """``name (runyard/store/sql/runs.py)`` -> ``runyard.store``; ``… (flask/app.py)`` ->
    ``flask``; the standard library's modules by their own name."""
    path = function.rpartition(" (")[2].rstrip(")")
    parts = path.split("/")
    if parts[0] == "runyard" and len(parts) > 2:
        return f"runyard.{parts[1]}"
    return parts[0].removesuffix(".py")


def read_profile(raw: str, top: int) -> Profile:
    """The top frames of py-spy's raw output (``frame;frame;… count`` per line)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        functions = [_function(f) for f in stack.split(";")]
        for function in set(functions):
            inclusive[function] += n
        own[functions[-1]] += n
    working = [(f, n) for f, n in inclusive.most_common() if not any(s in f for s in SCAFFOLDING)]
    packages: collections.Counter[str] = collections.Counter()
    for function, n in own.items():
        packages[package_of(function)] += n
    return Profile(total, working[:top], own.most_common(top), packages.most_common(top))


# ---- CPU of the worker and of the database ------------------------------------------------------
@dataclass(frozen=True)
class DatabaseCpu:
    """Where the database's CPU is read. SQLite has no process of its own (it runs inside the
    worker: 0); PostgreSQL's is its postmaster's whole tree, so backends that exited meanwhile
    still count (in the postmaster's children's time); a PostgreSQL server elsewhere (another
    host, a container's pid namespace) cannot be read here: None, never another process's."""

    postmaster: int | None = None
    readable: bool = True

    @classmethod
    def of(cls, uri: str) -> DatabaseCpu:
        if not uri.startswith("postgresql"):
            return cls()
        postmaster = postmaster_of(uri)
        if postmaster is None:
            log("PostgreSQL's processes are not on this machine: its CPU is not measured")
        return cls(postmaster, readable=postmaster is not None)

    def seconds(self) -> float | None:
        if not self.readable:
            return None
        return tree_cpu_seconds(self.postmaster) if self.postmaster is not None else 0.0


def cpu_now(worker: int, database: DatabaseCpu) -> dict[str, float | None]:
    """The worker's user and system CPU so far, and the database server's."""
    user, system = user_system_seconds(worker)
    return {"user": user, "system": system, "database": database.seconds()}


def per_operation_ms(
    before: dict[str, float | None], after: dict[str, float | None], operations: int
) -> dict[str, float | None]:
    """Milliseconds per operation of each CPU figure; None where a figure was not measured."""
    per: dict[str, float | None] = {}
    for key, end in after.items():
        start = before[key]
        per[key] = (
            None if end is None or start is None else 1000 * (end - start) / max(operations, 1)
        )
    return per


# ---- the workloads ----------------------------------------------------------------------------
@dataclass
class Workload:
    name: str
    operation: str  # what one operation is
    run: Callable[[], int]  # does the work; returns how many operations it did


def first_workloads(url: str, size: w.Size, made: dict[str, str]) -> list[Workload]:
    """Ingest and populate, which also make what the others read (``made``)."""

    def ingest() -> int:
        made["run_id"] = w.ingest(url, size)["run_id"]
        return size.ingest_points // w.BATCH

    def populate() -> int:
        made["experiment_id"] = w.populate(url, size)["experiment_id"]
        return size.runs

    return [
        Workload("ingest", "log-batch of 1,000", ingest),
        Workload("populate", "created run", populate),
    ]


def reading_workloads(url: str, size: w.Size, made: dict[str, str]) -> list[Workload]:
    """Single calls, the searches (repeated so each gathers enough samples) and the history."""
    api = w.Api(url)
    experiment_id, run_id = made["experiment_id"], made["run_id"]
    searches = max(10, size.repeats * 4)

    def single_calls() -> int:
        w.single_calls(url, size)
        return size.single_clients * size.single_calls

    def ordered() -> int:
        for _ in range(searches):
            w.search_page(api, experiment_id, order_by=w.SEARCH_ORDER, max_results=100)
        return searches

    def filtered() -> int:
        for _ in range(searches):
            w.search_page(api, experiment_id, filter=w.SEARCH_FILTER, max_results=1000)
        return searches

    def paged() -> int:
        pages = 0
        for _ in range(size.paging_repeats):
            token = None
            while True:
                pages += 1
                fields = {"max_results": 1000, **({"page_token": token} if token else {})}
                _, token = w.search_page(api, experiment_id, **fields)
                if not token:
                    break
        return pages

    def history() -> int:
        for _ in range(size.history_repeats):
            w.history(api, run_id, w.INGEST_KEY)
        return -(-size.ingest_points // w.HISTORY_PAGE) * size.history_repeats

    return [
        Workload("single_calls", "log-metric", single_calls),
        Workload("search_order", "search of 100 runs", ordered),
        Workload("search_filter", "filtered search", filtered),
        Workload("search_paging", "page of 1,000 runs", paged),
        Workload("history", "page of 25,000 points", history),
    ]


def measured(
    workload: Workload, worker: int, database: DatabaseCpu, workdir: Path, top: int
) -> dict[str, Any]:
    raw = workdir / f"{workload.name}.txt"
    rss_before = tree_rss(worker).get(worker, 0)
    before = cpu_now(worker, database)
    started = time.perf_counter()
    peak = PeakMemory(worker)
    with spying(worker, raw):
        operations = workload.run()
    seconds = time.perf_counter() - started
    after = cpu_now(worker, database)
    peak.stop()
    profile = read_profile(raw.read_text() if raw.exists() else "", top)
    return {
        "workload": workload.name,
        "operation": workload.operation,
        "operations": operations,
        "seconds": seconds,
        "cpu_ms_per_operation": per_operation_ms(before, after, operations),
        "worker_rss_mib": {"before": rss_before / MIB, "peak": peak.largest / MIB},
        "samples": profile.samples,
        "inclusive": profile.inclusive,
        "own": profile.own,
        "by_package": profile.by_package,
    }


def spy_server(
    uri: str,
    size: w.Size,
    workdir: Path,
    names: list[str] | None,
    top: int,
    settings: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every workload (or those named) against one fresh single-worker server on ``uri``,
    started with ``settings`` on top of its defaults; ingest and populate run in any case,
    unsampled unless named."""
    database = DatabaseCpu.of(uri)
    results = []
    made: dict[str, str] = {}
    with running_server("runyard", uri, workdir, workers=1, settings=settings) as server:
        assert server.process is not None
        workers = sorted(descendants(server.process.pid) - {server.process.pid})
        if len(workers) != 1:
            raise RuntimeError(f"expected one worker under the server, found {workers}")
        w.warm_up(server.url)
        for workload in first_workloads(server.url, size, made):
            log(workload.name)
            if names is None or workload.name in names:
                results.append(measured(workload, workers[0], database, workdir, top))
            else:
                workload.run()
        analyze(uri)
        for workload in reading_workloads(server.url, size, made):
            if names is None or workload.name in names:
                log(workload.name)
                results.append(measured(workload, workers[0], database, workdir, top))
    return results


# ---- output -----------------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def report(result: dict[str, Any]) -> str:
    cpu, rss = result["cpu_ms_per_operation"], result["worker_rss_mib"]
    samples = max(result["samples"], 1)
    database = "not measured" if cpu["database"] is None else f"{cpu['database']:.2f} ms"
    head = (
        f"### {result['workload']}: {result['operations']} x {result['operation']} in "
        f"{result['seconds']:.2f} s; per {result['operation']}: worker "
        f"{cpu['user']:.2f} ms user + {cpu['system']:.2f} ms system, database {database}"
        f"; worker RSS {rss['before']:.0f} MiB before, peak "
        f"{rss['peak']:.0f} MiB; {result['samples']} samples of the GIL holder\n\n"
    )

    def table(rows: list[tuple[str, int]], title: str) -> str:
        return markdown_table(
            [{title: frame, "share": f"{100 * n / samples:.1f} %"} for frame, n in rows],
            [title, "share"],
        )

    return "\n\n".join(
        [
            head.rstrip(),
            table(result["by_package"], "own time by package"),
            table(result["inclusive"], "with what it calls"),
            table(result["own"], "own time"),
        ]
    )


def profile_engine(
    engine: str, size: w.Size, names: list[str] | None, top: int, settings: dict[str, str]
) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="runyard-spy-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        if engine == "postgres":
            uri = stack.enter_context(fresh_postgres_database(postgres_admin_uri(), "bench_spy"))
        else:
            uri = f"sqlite:///{workdir / 'spy.db'}"
        return spy_server(uri, size, workdir, names, top, settings)


def server_settings(pairs: list[str]) -> dict[str, str]:
    """``RUNYARD_NAME=VALUE`` pairs from the command line; the server sees no other variable of
    the caller's, so a figure taken with them is plainly not the defaults'."""
    settings = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.startswith("RUNYARD_"):
            raise SystemExit(f"--setting takes RUNYARD_NAME=VALUE, not {pair!r}")
        settings[name] = value
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="the benchmark's quick sizes")
    parser.add_argument("--workload", action="append", help="only these (repeatable)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="RUNYARD_NAME=VALUE",
        help="a setting the server gets on top of its defaults (repeatable)",
    )
    args = parser.parse_args(argv)
    settings = server_settings(args.setting)
    size = w.QUICK if args.quick else w.FULL
    profiles: dict[str, list[dict]] = {}
    for engine in args.engines.split(","):
        if engine not in ("sqlite", "postgres"):
            raise SystemExit(f"unknown engine {engine!r} (sqlite, postgres)")
        reason = postgres_reachable(postgres_admin_uri()) if engine == "postgres" else None
        if reason:
            log(f"Postgres skipped: {postgres_admin_uri().split('@')[-1]} ({reason})")
            continue
        log(f"[{engine}] profiling a single-worker runyard server")
        profiles[engine] = profile_engine(engine, size, args.workload, args.top, settings)
        changed = ", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"
        print(f"## {engine} ({changed})\n")
        for result in profiles[engine]:
            print(report(result) + "\n", flush=True)
    write_json("server_spy.json", {"settings": settings, "profiles": profiles})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
