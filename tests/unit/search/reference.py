"""An independent reference for the search semantics: small random runs loaded into SQLite,
and filter trees and orderings translated to plain SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from hypothesis import strategies as st
from runyard.entities import Run
from runyard.search import And, Expr, Identifier, Or, OrderKey

from .builders import build_run

SMALL_KEYS = st.sampled_from(["a", "b"])
SMALL_VALUES = st.sampled_from(["x", "X", "xy", "x_y", "y%", "", "yx"])
SMALL_NUMBERS = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])


@st.composite
def small_runs(draw, run_id: str) -> Run:
    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    metrics = {}
    for key in ["a", "b"]:
        values = draw(st.lists(SMALL_NUMBERS, max_size=3))
        if values:
            # distinct (step, timestamp) per point so the latest is well defined
            metrics[key] = [
                (value, draw(st.integers(0, 2)) * 10 + i, draw(st.integers(0, 3)))
                for i, value in enumerate(values)
            ]
    params = {k: v for k in ["a", "b"] if (v := maybe(SMALL_VALUES)) is not None}
    tags = {k: v for k in ["a", "b"] if (v := maybe(SMALL_VALUES)) is not None}
    return build_run(
        run_id,
        name=draw(SMALL_VALUES),
        status=draw(st.sampled_from(["RUNNING", "FINISHED", "FAILED"])),
        user=draw(SMALL_VALUES),
        start=maybe(st.integers(-1, 2)),
        end=maybe(st.integers(-1, 2)),
        metrics=metrics,
        params=params,
        tags=tags,
    )


def load_sqlite(runs: list[Run]) -> sqlite3.Connection:
    """An in-memory database holding ``runs`` (LIKE made case-sensitive)."""
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA case_sensitive_like = ON")
    db.executescript(
        """
        CREATE TABLE runs (run_id TEXT, run_name TEXT, status TEXT, user_id TEXT,
                           artifact_uri TEXT, start_time INTEGER, end_time INTEGER);
        CREATE TABLE metrics (run_id TEXT, key TEXT, value REAL, step INTEGER, ts INTEGER);
        CREATE TABLE params (run_id TEXT, key TEXT, value TEXT);
        CREATE TABLE tags (run_id TEXT, key TEXT, value TEXT);
        """
    )
    for run in runs:
        info = run.info
        db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                info.run_id,
                info.run_name,
                str(info.status),
                info.user_id,
                info.artifact_uri,
                info.start_time,
                info.end_time,
            ),
        )
        for m in run.data.metric_list:
            db.execute(
                "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)",
                (info.run_id, m.key, m.value, m.step, m.timestamp),
            )
        for table, mapping in (("params", run.data.params), ("tags", run.data.tags)):
            for key, value in mapping.items():
                db.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", (info.run_id, key, value))
    return db


def sqlite_matches(runs: list[Run], expr: Expr) -> set[str]:
    db = load_sqlite(runs)
    args: list[object] = []
    where = to_sql(expr, args.append)
    rows = db.execute(f"SELECT run_id FROM runs r WHERE {where}", args).fetchall()
    return {row[0] for row in rows}


def to_sql(expr: Expr, bind: Callable[[object], None]) -> str:
    if isinstance(expr, And | Or):
        joiner = " AND " if isinstance(expr, And) else " OR "
        return "(" + joiner.join(to_sql(item, bind) for item in expr.items) + ")"
    column = column_sql(expr.ident, bind)
    op, value = expr.op, expr.value
    if op in ("IS NULL", "IS NOT NULL"):
        return f"{column} {op}"
    if op in ("IN", "NOT IN"):
        assert isinstance(value, tuple)
        for item in value:
            bind(item)
        return f"{column} {op} ({', '.join('?' for _ in value)})"
    bind(value)
    if op == "ILIKE":
        return f"lower({column}) LIKE lower(?)"
    return f"{column} {op} ?"


def run_sets(min_size: int, max_size: int) -> st.SearchStrategy[list[Run]]:
    return st.integers(min_size, max_size).flatmap(
        lambda n: st.tuples(*(small_runs(f"run{i}") for i in range(n))).map(list)
    )


def column_sql(ident: Identifier, bind: Callable[[object], None]) -> str:
    """The SQL expression for a run's value of ``ident`` (NULL when it has none)."""
    if ident.entity == "attribute":
        return f"r.{ident.key}"
    bind(ident.key)
    return {
        "metric": "(SELECT value FROM metrics m WHERE m.run_id = r.run_id AND m.key = ? "
        "ORDER BY step DESC, ts DESC, value DESC LIMIT 1)",
        "param": "(SELECT value FROM params p WHERE p.run_id = r.run_id AND p.key = ?)",
        "tag": "(SELECT value FROM tags t WHERE t.run_id = r.run_id AND t.key = ?)",
    }[ident.entity]


def sqlite_order(runs: list[Run], keys: list[OrderKey]) -> list[str]:
    """Run ids in MLflow's SQL order: per key present values, then NULL; then the defaults."""
    db = load_sqlite(runs)
    args: list[object] = []
    terms = []
    for key in keys:
        column = column_sql(key.ident, args.append)
        terms.append(f"({column}) IS NULL")
        terms.append(f"({column_sql(key.ident, args.append)}) {'ASC' if key.ascending else 'DESC'}")
    if not any(k.ident == Identifier("attribute", "start_time") for k in keys):
        terms += ["r.start_time IS NULL", "r.start_time DESC"]
    terms.append("r.run_id ASC")
    rows = db.execute(f"SELECT run_id FROM runs r ORDER BY {', '.join(terms)}", args).fetchall()
    return [row[0] for row in rows]
