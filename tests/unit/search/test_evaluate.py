"""Evaluating run filters on hand-built runs."""

from __future__ import annotations

import math

import pytest
from runyard.entities import RunStatus
from runyard.search import like_to_regex, matches, parse_filter
from runyard.search.evaluate import latest_metrics

NAN = math.nan


@pytest.fixture(scope="module")
def runs(make_run):
    return [
        make_run(
            "r1",
            name="Page-one",
            status=RunStatus.FINISHED,
            user="alice",
            start=100,
            end=200,
            metrics={"loss": 0.5, "acc": 0.9},
            params={"model": "cnn", "lr": "0.1"},
            tags={"team": "ml", "mlflow.runName": "Page-one"},
            datasets=[("iris", "d1", "training")],
        ),
        make_run(
            "r2",
            name="page_two",
            status=RunStatus.FAILED,
            user="bob",
            start=300,
            end=None,
            metrics={"loss": 1.5, "acc": NAN},
            params={"model": "RNN"},
            tags={"team": "ML"},
            datasets=[("wine", "d2", "eval"), ("iris", "d3", None)],
        ),
        make_run(
            "r3",
            name="other",
            status=RunStatus.RUNNING,
            user="carol",
            start=None,
            end=None,
            metrics={},
            params={},
            tags={},
        ),
    ]


CASES = [
    # metrics: every comparator; NaN satisfies only !=; a missing metric never matches
    ("metrics.loss = 0.5", {"r1"}),
    ("metrics.loss != 0.5", {"r2"}),
    ("metrics.loss < 1", {"r1"}),
    ("metrics.loss <= 1.5", {"r1", "r2"}),
    ("metrics.loss > 0.5", {"r2"}),
    ("metrics.loss >= 0.5", {"r1", "r2"}),
    ("metrics.acc > 0", {"r1"}),
    ("metrics.acc < 1", {"r1"}),
    ("metrics.acc = 0.9", {"r1"}),
    ("metrics.acc != 0.9", {"r2"}),
    ("metrics.nope != 1", set()),
    # params
    ("params.model = 'cnn'", {"r1"}),
    ("params.model != 'cnn'", {"r2"}),
    ("params.model LIKE 'c%'", {"r1"}),
    ("params.model LIKE 'C%'", set()),
    ("params.model ILIKE 'C%'", {"r1"}),
    ("params.model ILIKE '_nn'", {"r1", "r2"}),
    ("params.model LIKE '_nn'", {"r1"}),
    ("params.model IS NULL", {"r3"}),
    ("params.model IS NOT NULL", {"r1", "r2"}),
    ("params.model IN ('cnn', 'RNN')", {"r1", "r2"}),
    ("params.model NOT IN ('cnn')", {"r2"}),
    ("params.lr = '0.1'", {"r1"}),
    # tags
    ("tags.team = 'ml'", {"r1"}),
    ("tags.team ILIKE 'ml'", {"r1", "r2"}),
    ("tags.team != 'ml'", {"r2"}),
    ("tags.team IS NULL", {"r3"}),
    ("tags.team NOT IN ('x')", {"r1", "r2"}),
    # string attributes
    ("attributes.status = 'FINISHED'", {"r1"}),
    ("status != 'FINISHED'", {"r2", "r3"}),
    ("status IN ('FAILED', 'RUNNING')", {"r2", "r3"}),
    ("user_id LIKE '%o%'", {"r2", "r3"}),
    ("run_id = 'r2'", {"r2"}),
    ("run_id NOT IN ('r1', 'r2')", {"r3"}),
    ("run_name LIKE 'PAGE%'", set()),
    ("run_name ILIKE 'PAGE%'", {"r1", "r2"}),
    ("`Run name` LIKE 'page_t%'", {"r2"}),
    ("run_name ILIKE '%E_O%'", {"r1"}),
    ("artifact_uri LIKE '%/r1/artifacts'", {"r1"}),
    # numeric attributes; a run without the value never matches
    ("start_time >= 100", {"r1", "r2"}),
    ("created < 300", {"r1"}),
    ("start_time != 100", {"r2"}),
    ("end_time = 200", {"r1"}),
    ("end_time != 200", set()),
    # datasets: any of the run's dataset inputs
    ("datasets.name = 'iris'", {"r1", "r2"}),
    ("datasets.name = 'wine'", {"r2"}),
    ("datasets.name != 'iris'", {"r2"}),
    ("datasets.digest IN ('d1', 'd3')", {"r1", "r2"}),
    ("datasets.context = 'eval'", {"r2"}),
    ("datasets.context LIKE 'train%'", {"r1"}),
    ("datasets.name NOT IN ('iris', 'wine')", set()),
    # combinations
    ("metrics.loss < 1 OR params.model = 'RNN'", {"r1", "r2"}),
    ("params.model IS NULL OR (metrics.loss > 1 AND tags.team = 'ML')", {"r2", "r3"}),
    ("params.model IS NOT NULL AND (status = 'FAILED' OR user_id = 'alice')", {"r1", "r2"}),
    ("metrics.loss < 1 AND metrics.loss > 1", set()),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[t for t, _ in CASES])
def test_matches(text, expected, runs):
    expr = parse_filter(text)
    assert {r.info.run_id for r in runs if matches(expr, r)} == expected


def test_no_filter_matches_everything(runs):
    assert all(matches(None, r) for r in runs)


def test_metric_filter_uses_latest_point_not_last_logged(make_run):
    # (step 10, ts 1, 5.0), (step 3, ts 999999, 7.0), (step 10, ts 2, 1.0) -> latest is 1.0
    run = make_run(metrics={"m": [(5.0, 10, 1), (7.0, 3, 999999), (1.0, 10, 2)]})
    assert latest_metrics(run) == {"m": 1.0}
    assert matches(parse_filter("metrics.m = 1"), run)
    assert not matches(parse_filter("metrics.m = 7"), run)
    # on a full tie of step and timestamp the greater value is the latest
    tie = make_run(metrics={"m": [(2.0, 1, 1), (3.0, 1, 1), (1.0, 1, 1)]})
    assert latest_metrics(tie) == {"m": 3.0}


def test_run_name_falls_back_to_the_run_name_tag(make_run):
    run = make_run(name=None, tags={"mlflow.runName": "tagged"})
    assert matches(parse_filter("run_name = 'tagged'"), run)


@pytest.mark.parametrize(
    ("pattern", "case_sensitive", "text", "expected"),
    [
        ("a%", True, "abc", True),
        ("a%", True, "Abc", False),
        ("a%", False, "Abc", True),
        ("%c", True, "abc", True),
        ("%b%", True, "abc", True),
        ("a_c", True, "abc", True),
        ("a_c", True, "abbc", False),
        ("a.c", True, "abc", False),
        ("a.c", True, "a.c", True),
        ("a*", True, "aaa", False),
        ("(x)", True, "(x)", True),
        ("%", True, "", True),
        ("_", True, "", False),
        ("a%", True, "a\nb", True),
        ("", True, "", True),
        ("ÄB%", False, "äbc", True),
    ],
)
def test_like_to_regex(pattern, case_sensitive, text, expected):
    assert (like_to_regex(pattern, case_sensitive).fullmatch(text) is not None) is expected


def test_unknown_node_is_a_type_error(make_run):
    with pytest.raises(TypeError):
        matches("metrics.a < 1", make_run())  # type: ignore[arg-type]
