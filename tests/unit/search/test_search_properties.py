"""Property tests: render -> parse round trips, and the evaluator agrees with SQL.

The reference evaluator translates the same tree to SQL over an in-memory SQLite database
(with case-sensitive LIKE), an independent implementation of the documented semantics:
missing keys behave as SQL NULL, a metric is its latest point, LIKE has ``%`` and ``_``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st
from runyard.entities import Run
from runyard.search import (
    And,
    Comparison,
    Expr,
    Identifier,
    Or,
    matches,
    parse_experiment_filter,
    parse_filter,
    render_filter,
)
from runyard.search.ast import RUN_NUMERIC_ATTRIBUTES, RUN_STRING_ATTRIBUTES

from .builders import build_run

NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">="]
STRING_OPS = ["=", "!=", "LIKE", "ILIKE"]


def node(kind: type[And] | type[Or], items: list[Expr]) -> Expr:
    """A normalised And/Or: nested nodes of the same kind are flattened, as the parser does."""
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


def trees(leaves: st.SearchStrategy[Comparison]) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        kinds = st.sampled_from([And, Or])
        return st.builds(node, kinds, st.lists(children, min_size=2, max_size=3))

    return st.recursive(leaves, extend, max_leaves=8)


def comparisons(
    keys: st.SearchStrategy[str],
    strings: st.SearchStrategy[str],
    numbers: st.SearchStrategy[float],
    datasets: bool = True,
) -> st.SearchStrategy[Comparison]:
    def string_comparison(entity: str, key_strategy, ops, nullable: bool):
        op_list = ops + ["IN", "NOT IN"] + (["IS NULL", "IS NOT NULL"] if nullable else [])

        @st.composite
        def build(draw):
            key = draw(key_strategy)
            op = draw(st.sampled_from(op_list))
            if op in ("IS NULL", "IS NOT NULL"):
                value = None
            elif op in ("IN", "NOT IN"):
                value = tuple(draw(st.lists(strings, min_size=1, max_size=3)))
            else:
                value = draw(strings)
            return Comparison(Identifier(entity, key), op, value)

        return build()

    def numeric_comparison(entity: str, key_strategy):
        return st.builds(
            lambda key, op, value: Comparison(Identifier(entity, key), op, value),
            key_strategy,
            st.sampled_from(NUMERIC_OPS),
            numbers,
        )

    dataset = string_comparison(
        "dataset", st.sampled_from(["name", "digest", "context"]), STRING_OPS, False
    )
    return st.one_of(
        numeric_comparison("metric", keys),
        string_comparison("param", keys, STRING_OPS, True),
        string_comparison("tag", keys, STRING_OPS, True),
        string_comparison("attribute", st.sampled_from(RUN_STRING_ATTRIBUTES), STRING_OPS, False),
        numeric_comparison("attribute", st.sampled_from(RUN_NUMERIC_ATTRIBUTES)),
        *([dataset] if datasets else []),
    )


any_filter = trees(
    comparisons(
        keys=st.text(min_size=1, max_size=12),
        strings=st.text(max_size=12),
        numbers=st.floats(allow_nan=False, allow_infinity=False),
    )
)


@given(any_filter)
@settings(max_examples=200)
def test_render_then_parse_is_identity(expr):
    text = render_filter(expr)
    assert parse_filter(text) == expr


experiment_leaf = st.one_of(
    st.builds(
        lambda key, op, value: Comparison(Identifier("attribute", key), op, value),
        st.sampled_from(["creation_time", "last_update_time"]),
        st.sampled_from(NUMERIC_OPS),
        st.integers(min_value=-(2**53), max_value=2**53).map(float),
    ),
    st.builds(
        lambda key, op, value: Comparison(Identifier("attribute", key), op, value),
        st.sampled_from(["name", "experiment_id"]),
        st.sampled_from(STRING_OPS),
        st.text(max_size=8),
    ),
    st.builds(
        lambda key, op: Comparison(Identifier("tag", key), op, None),
        st.text(min_size=1, max_size=8),
        st.sampled_from(["IS NULL", "IS NOT NULL"]),
    ),
)


@given(trees(experiment_leaf))
def test_experiment_filters_round_trip(expr):
    assert parse_experiment_filter(render_filter(expr)) == expr


# -- evaluation against SQLite --------------------------------------------------------------

SMALL_KEYS = st.sampled_from(["a", "b"])
SMALL_VALUES = st.sampled_from(["x", "X", "xy", "x_y", "y%", "", "yx"])
PATTERNS = st.sampled_from(["x", "X", "x%", "%y", "_", "x_y", "%", "X%", "%_%", ""])
SMALL_NUMBERS = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])


def small_leaves() -> st.SearchStrategy[Comparison]:
    base = comparisons(SMALL_KEYS, SMALL_VALUES, SMALL_NUMBERS, datasets=False)

    def with_pattern(comp: Comparison, pattern: str) -> Comparison:
        if comp.op in ("LIKE", "ILIKE"):
            return Comparison(comp.ident, comp.op, pattern)
        return comp

    return st.builds(with_pattern, base, PATTERNS)


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


def sqlite_matches(runs: list[Run], expr: Expr) -> set[str]:
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
    args: list[object] = []
    where = to_sql(expr, args.append)
    rows = db.execute(f"SELECT run_id FROM runs r WHERE {where}", args).fetchall()
    return {row[0] for row in rows}


def to_sql(expr: Expr, bind: Callable[[object], None]) -> str:
    if isinstance(expr, And | Or):
        joiner = " AND " if isinstance(expr, And) else " OR "
        return "(" + joiner.join(to_sql(item, bind) for item in expr.items) + ")"
    entity, key = expr.ident.entity, expr.ident.key
    if entity == "attribute":
        column = f"r.{key}"
    else:
        bind(key)
        column = {
            "metric": "(SELECT value FROM metrics m WHERE m.run_id = r.run_id AND m.key = ? "
            "ORDER BY step DESC, ts DESC, value DESC LIMIT 1)",
            "param": "(SELECT value FROM params p WHERE p.run_id = r.run_id AND p.key = ?)",
            "tag": "(SELECT value FROM tags t WHERE t.run_id = r.run_id AND t.key = ?)",
        }[entity]
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


def assert_agrees(runs: list[Run], expr: Expr) -> None:
    parsed = parse_filter(render_filter(expr))
    assert parsed == expr
    ours = {run.info.run_id for run in runs if matches(parsed, run)}
    assert ours == sqlite_matches(runs, expr), render_filter(expr)


@given(run_sets(3, 6), small_leaves())
@settings(max_examples=200, deadline=None)
def test_each_comparison_agrees_with_sql(runs, comparison):
    assert_agrees(runs, comparison)


@given(run_sets(1, 4), trees(small_leaves()))
@settings(max_examples=150, deadline=None)
def test_combined_filters_agree_with_sql(runs, expr):
    assert_agrees(runs, expr)
