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

from bench.proc_cpu import parent_of

DEFAULT_POSTGRES_URI = "postgresql://runyard:runyard@127.0.0.1:5432/runyard"
OUTPUT_DIR = Path("bench-output")


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


def postmaster_of(uri: str) -> int:
    """The pid of the PostgreSQL server behind ``uri``: the parent of the backend that answers
    a connection (the database must run on this machine)."""
    import psycopg2

    conn = psycopg2.connect(_dsn(uri))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            (backend,) = cur.fetchone()
        postmaster = parent_of(backend)  # while the backend lives
    finally:
        conn.close()
    if postmaster is None:
        raise RuntimeError(f"PostgreSQL's backend {backend} is not a process on this machine")
    return postmaster


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
