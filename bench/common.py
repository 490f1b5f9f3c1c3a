"""Helpers shared by the benchmarks: timing, throwaway Postgres databases, result tables."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.proc_stat import read_stat

DEFAULT_POSTGRES_URI = "postgresql://runyard:runyard@127.0.0.1:5432/runyard"
OUTPUT_DIR = Path("bench-output")
#: What PostgreSQL's server processes are called (``postmaster`` on older releases).
POSTGRES_NAMES = ("postgres", "postmaster")


def postgres_admin_uri() -> str:
    return os.environ.get("RUNYARD_BENCH_POSTGRES_URI", DEFAULT_POSTGRES_URI)


def postgres_reachable(admin_uri: str) -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        import psycopg2

        psycopg2.connect(_dsn(admin_uri), connect_timeout=3).close()
    except Exception as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return None


def _dsn(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else uri


@contextlib.contextmanager
def fresh_postgres_database(admin_uri: str, prefix: str) -> Iterator[str]:
    """A new empty database on the server of ``admin_uri``; dropped afterwards."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(_dsn(admin_uri))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        base = admin_uri.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def analyze(uri: str) -> None:
    """Planner statistics for every table of a Postgres database ``uri`` (nothing elsewhere),
    as autovacuum gathers them within a minute of a bulk change: a benchmark that searches
    seconds after writing thousands of runs would otherwise measure plans made for the empty
    tables, or not, as autovacuum's timing falls. SQLite gathers none by itself, so it is left
    as a user's file would be."""
    if not uri.startswith("postgresql"):
        return
    import psycopg2

    conn = psycopg2.connect(_dsn(uri))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
    finally:
        conn.close()


def postmaster_of(uri: str) -> int | None:
    """The pid of the PostgreSQL server behind ``uri``, found from the backend that answers a
    connection; None when it does not run on this machine."""
    import psycopg2

    conn = psycopg2.connect(_dsn(uri))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid(), extract(epoch FROM pg_postmaster_start_time())")
            backend, started_at = cur.fetchone()
        return postmaster_from_backend(backend, float(started_at))  # while the backend lives
    finally:
        conn.close()


def postmaster_from_backend(backend: int, started_at: float) -> int | None:
    """The parent of the PostgreSQL backend ``backend``, if it is the postmaster that started
    at ``started_at`` (seconds since the epoch). None when that pid is no such process here:
    the server runs on another host, or in a container whose pids are its own and may name
    some other process here, another cluster's included."""
    here = read_stat(backend)
    if here is None or here.name not in POSTGRES_NAMES:
        return None
    parent = read_stat(here.parent)
    if parent is None or parent.name not in POSTGRES_NAMES:
        return None
    # /proc gives a start to the clock tick, from a boot time rounded to the second; a step of
    # the wall clock since the postmaster started fails the match: not measured, never wrong
    return here.parent if abs(parent.started_at - started_at) < 2 else None


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def write_json(name: str, payload: Any) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / name
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path
