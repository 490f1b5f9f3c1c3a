"""Property tests: render -> parse round trips, and the evaluator agrees with SQL.

The reference evaluator translates the same tree to SQL over an in-memory SQLite database
(with case-sensitive LIKE), an independent implementation of the documented semantics:
missing keys behave as SQL NULL, a metric is its latest point, LIKE has ``%`` and ``_``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from runyard.entities import Run
from runyard.search import (
    And,
    Comparison,
    Expr,
    Identifier,
    Or,
    OrderKey,
    matches,
    parse_experiment_filter,
    parse_filter,
    parse_order_by,
    render_filter,
    render_order_key,
    sort_runs,
)
from runyard.search.ast import RUN_NUMERIC_ATTRIBUTES, RUN_STRING_ATTRIBUTES

from .reference import (
    SMALL_KEYS,
    SMALL_NUMBERS,
    SMALL_VALUES,
    run_sets,
    sqlite_matches,
    sqlite_order,
)

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

PATTERNS = st.sampled_from(["x", "X", "x%", "%y", "_", "x_y", "%", "X%", "%_%", ""])


def small_leaves() -> st.SearchStrategy[Comparison]:
    base = comparisons(SMALL_KEYS, SMALL_VALUES, SMALL_NUMBERS, datasets=False)

    def with_pattern(comp: Comparison, pattern: str) -> Comparison:
        if comp.op in ("LIKE", "ILIKE"):
            return Comparison(comp.ident, comp.op, pattern)
        return comp

    return st.builds(with_pattern, base, PATTERNS)


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
@settings(max_examples=100, deadline=None)
def test_combined_filters_agree_with_sql(runs, expr):
    assert_agrees(runs, expr)


# -- ordering against SQLite ------------------------------------------------------------------

ORDER_IDENTIFIERS = st.sampled_from(
    [Identifier(entity, key) for entity in ("metric", "param", "tag") for key in ("a", "b")]
    + [Identifier("attribute", key) for key in RUN_STRING_ATTRIBUTES + RUN_NUMERIC_ATTRIBUTES]
)


@st.composite
def order_keys(draw) -> list[OrderKey]:
    idents = draw(st.lists(ORDER_IDENTIFIERS, max_size=3, unique=True))
    return [OrderKey(ident, draw(st.booleans())) for ident in idents]


@given(run_sets(2, 6), order_keys())
@settings(max_examples=100, deadline=None)
def test_sort_runs_agrees_with_sql(runs, keys):
    clauses = [render_order_key(key) for key in keys]
    assert parse_order_by(clauses) == keys
    assert [r.info.run_id for r in sort_runs(runs, keys)] == sqlite_order(runs, keys), clauses
