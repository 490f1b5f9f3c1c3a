"""Ordering runs: user keys, NaN and missing values last in both directions, tie-breaks."""

from __future__ import annotations

import math

import pytest
from runyard.search import parse_order_by, sort_runs


def ids(runs):
    return [r.info.run_id for r in runs]


def test_default_order_is_start_time_desc_then_run_id(make_run):
    runs = [
        make_run("b", start=100),
        make_run("a", start=100),
        make_run("c", start=300),
        make_run("n", start=None),
        make_run("d", start=200),
    ]
    assert ids(sort_runs(runs, [])) == ["c", "d", "a", "b", "n"]


@pytest.fixture(scope="module")
def metric_runs(make_run):
    return [
        make_run("missing1", start=1),
        make_run("nan", start=2, metrics={"m": math.nan}),
        make_run("two", start=3, metrics={"m": 2.0}),
        make_run("one", start=4, metrics={"m": 1.0}),
        make_run("three", start=5, metrics={"m": 3.0}),
        make_run("missing2", start=6),
        make_run("neg", start=7, metrics={"m": -1.0}),
    ]


def test_metric_ascending_values_then_nan_then_missing(metric_runs):
    ordered = sort_runs(metric_runs, parse_order_by(["metrics.m ASC"]))
    assert ids(ordered) == ["neg", "one", "two", "three", "nan", "missing2", "missing1"]


def test_metric_descending_values_then_nan_then_missing(metric_runs):
    ordered = sort_runs(metric_runs, parse_order_by(["metrics.m DESC"]))
    assert ids(ordered) == ["three", "two", "one", "neg", "nan", "missing2", "missing1"]


def test_metric_order_uses_the_latest_value(make_run):
    runs = [
        make_run("x", metrics={"m": [(100.0, 1, 1), (0.0, 2, 1)]}),  # latest 0.0
        make_run("y", metrics={"m": [(0.0, 1, 1), (50.0, 2, 1)]}),  # latest 50.0
    ]
    assert ids(sort_runs(runs, parse_order_by(["metrics.m DESC"]))) == ["y", "x"]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("params.p", ["a", "b", "c", "n1", "n2"]),
        ("params.p DESC", ["c", "b", "a", "n1", "n2"]),
        ("tags.t", ["c", "a", "b", "n1", "n2"]),
        ("tags.t DESC", ["b", "a", "c", "n1", "n2"]),
    ],
)
def test_strings_sort_as_text_with_missing_last(make_run, clause, expected):
    runs = [
        make_run("n1", start=5),
        make_run("c", start=1, params={"p": "z"}, tags={"t": "10"}),
        make_run("a", start=3, params={"p": "x"}, tags={"t": "2"}),
        make_run("n2", start=4),
        make_run("b", start=2, params={"p": "y"}, tags={"t": "3"}),
    ]
    assert ids(sort_runs(runs, parse_order_by([clause]))) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("start_time", ["early", "late", "none"]),
        ("start_time DESC", ["late", "early", "none"]),
        ("end_time", ["late", "early", "none"]),
        ("end_time DESC", ["early", "late", "none"]),
        ("run_name", ["early", "late", "none"]),
        ("`Run name` DESC", ["none", "late", "early"]),
        ("status", ["late", "early", "none"]),
        ("user_id DESC", ["none", "early", "late"]),
        ("run_id DESC", ["none", "late", "early"]),
    ],
)
def test_attribute_order(make_run, clause, expected):
    runs = [
        make_run("late", name="b", status="FAILED", user="a", start=20, end=5),
        make_run("none", name="c", status="RUNNING", user="z", start=None, end=None),
        make_run("early", name="a", status="FINISHED", user="m", start=10, end=30),
    ]
    assert ids(sort_runs(runs, parse_order_by([clause]))) == expected


def test_numeric_attributes_compare_as_numbers(make_run):
    runs = [make_run("nine", start=9), make_run("ten", start=10)]
    assert ids(sort_runs(runs, parse_order_by(["start_time"]))) == ["nine", "ten"]


def test_ties_fall_back_to_start_time_desc_then_run_id(make_run):
    runs = [
        make_run("b", start=1, params={"p": "same"}),
        make_run("a", start=1, params={"p": "same"}),
        make_run("c", start=2, params={"p": "same"}),
    ]
    assert ids(sort_runs(runs, parse_order_by(["params.p"]))) == ["c", "a", "b"]


def test_start_time_key_is_not_overridden_by_the_default(make_run):
    runs = [make_run("b", start=2), make_run("a", start=2), make_run("c", start=1)]
    assert ids(sort_runs(runs, parse_order_by(["created ASC"]))) == ["c", "a", "b"]


def test_later_keys_break_ties_of_earlier_ones(make_run):
    runs = [
        make_run("r1", params={"a": "1"}, metrics={"m": 2.0}),
        make_run("r2", params={"a": "1"}, metrics={"m": 3.0}),
        make_run("r3", params={"a": "0"}, metrics={"m": 1.0}),
    ]
    order = parse_order_by(["params.a DESC", "metrics.m DESC"])
    assert ids(sort_runs(runs, order)) == ["r2", "r1", "r3"]


def test_sort_accepts_any_iterable_and_returns_a_new_list(make_run):
    runs = (make_run(i, start=int(i)) for i in "123")
    assert ids(sort_runs(runs, [])) == ["3", "2", "1"]
