"""search_runs: every comparator per entity, OR and parentheses, ordering, paging, errors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from runyard.entities import RunStatus, ViewType
from runyard.errors import InvalidFilter, InvalidParameterValue
from runyard.store.base import TrackingStore

from tests.contract import ids, metric, new_run, param, tag


@dataclass
class Runs:
    """Four runs with known values; ``names[i]`` is the run name of ``rid[i]``."""

    experiment_id: str
    rid: list[str]


@pytest.fixture
def runs(store: TrackingStore, experiment_id: str) -> Runs:
    #         name     start  loss  acc   model       lr      team      spaced
    table = [
        ("alpha", 1000, 0.1, 0.9, "rf", "0.1", "vision", "x y"),
        ("Beta", 2000, 0.5, 0.8, "RF-large", "0.01", "nlp", None),
        ("gamma", 3000, 0.9, None, "svm", "0.3", None, None),
        ("delta", 4000, None, 0.7, None, None, "vision", None),
    ]
    rids = []
    for name, start, loss, acc, model, lr, team, spaced in table:
        rid = new_run(store, experiment_id, run_name=name, start_time=start).info.run_id
        metrics = []
        if loss is not None:  # an older, larger point first: filters use the latest value
            metrics += [metric("loss", 100.0, step=0), metric("loss", loss, step=5)]
        if acc is not None:
            metrics.append(metric("acc", acc))
        params = [param(k, v) for k, v in (("model", model), ("lr", lr)) if v is not None]
        tags = [tag(k, v) for k, v in (("team", team), ("a b", spaced)) if v is not None]
        store.log_batch(rid, metrics=metrics, params=params, tags=tags)
        rids.append(rid)
    store.update_run_info(rids[0], status=RunStatus.FINISHED, end_time=1500)
    return Runs(experiment_id, rids)


def _found(store: TrackingStore, runs: Runs, filter_string: str) -> set[int]:
    """Indexes (into ``runs.rid``) of the runs the filter selects."""
    got = ids(store.search_runs([runs.experiment_id], filter_string))
    return {runs.rid.index(r) for r in got}


def _check_all(store: TrackingStore, runs: Runs, cases: list[tuple[str, set[int]]]) -> None:
    """Every case against one set of runs; all mismatches are reported together."""
    wrong = [
        (text, expected, got)
        for text, expected in cases
        if (got := _found(store, runs, text)) != expected
    ]
    assert wrong == [], "filter, expected, got"


def _order(store: TrackingStore, runs: Runs, order_by: list[str]) -> list[int]:
    got = ids(store.search_runs([runs.experiment_id], "", order_by=order_by))
    return [runs.rid.index(r) for r in got]


METRIC_CASES = [
    ("metrics.loss > 0.1", {1, 2}),
    ("metrics.loss >= 0.5", {1, 2}),
    ("metrics.loss = 0.5", {1}),
    ("metrics.loss != 0.5", {0, 2}),
    ("metrics.loss < 0.5", {0}),
    ("metrics.loss <= 0.5", {0, 1}),
    ("metrics.loss > 50", set()),
    ("metric.acc >= 0.8", {0, 1}),
]


def test_metric_comparators(store: TrackingStore, runs: Runs) -> None:
    _check_all(store, runs, METRIC_CASES)


PARAM_CASES = [
    ("params.model = 'rf'", {0}),
    ('params.model = "svm"', {2}),
    ("params.model != 'rf'", {1, 2}),
    ("params.model LIKE 'rf%'", {0}),
    ("params.model ILIKE 'rf%'", {0, 1}),
    ("params.model LIKE '%-lar_e'", {1}),
    ("params.model IS NULL", {3}),
    ("params.model IS NOT NULL", {0, 1, 2}),
    ("params.model IN ('rf', 'svm')", {0, 2}),
    ("parameter.lr = '0.01'", {1}),
]


def test_param_comparators(store: TrackingStore, runs: Runs) -> None:
    _check_all(store, runs, PARAM_CASES)


TAG_CASES = [
    ("tags.team = 'vision'", {0, 3}),
    ("tags.team != 'vision'", {1}),
    ("tags.team LIKE '%isio%'", {0, 3}),
    ("tags.team LIKE 'VISION'", set()),
    ("tags.team ILIKE 'VISION'", {0, 3}),
    ("tags.team IS NULL", {2}),
    ("tags.team IS NOT NULL", {0, 1, 3}),
    ("tags.`a b` = 'x y'", {0}),
    ("tags.\"a b\" = 'x y'", {0}),
    ("tags.mlflow.runName = 'gamma'", {2}),
]


def test_tag_comparators(store: TrackingStore, runs: Runs) -> None:
    _check_all(store, runs, TAG_CASES)


ATTRIBUTE_CASES = [
    ("attributes.run_name = 'alpha'", {0}),
    ("run_name != 'alpha'", {1, 2, 3}),
    ("attributes.run_name LIKE 'B%'", {1}),
    ("attributes.run_name LIKE 'b%'", set()),
    ("attributes.run_name ILIKE 'b%'", {1}),
    ("`run name` = 'delta'", {3}),
    ("attributes.status = 'FINISHED'", {0}),
    ("attributes.status != 'FINISHED'", {1, 2, 3}),
    ("status = 'RUNNING'", {1, 2, 3}),
    ("attributes.start_time > 2000", {2, 3}),
    ("attributes.start_time >= 2000", {1, 2, 3}),
    ("attributes.start_time = 3000", {2}),
    ("attributes.start_time != 3000", {0, 1, 3}),
    ("attributes.start_time < 2000", {0}),
    ("attributes.start_time <= 2000", {0, 1}),
    ("created <= 1000", {0}),
    ("attributes.end_time = 1500", {0}),
    ("attributes.user_id = 'alice'", {0, 1, 2, 3}),
    ("attributes.user_id = 'bob'", set()),
]


def test_attribute_comparators(store: TrackingStore, runs: Runs) -> None:
    _check_all(store, runs, ATTRIBUTE_CASES)


def test_run_id_in_and_not_in(store: TrackingStore, runs: Runs) -> None:
    a, b = runs.rid[0], runs.rid[2]
    assert _found(store, runs, f"attributes.run_id IN ('{a}', '{b}')") == {0, 2}
    assert _found(store, runs, f"attributes.run_id NOT IN ('{a}', '{b}')") == {1, 3}
    assert _found(store, runs, f"attributes.run_id = '{b}'") == {2}
    assert _found(store, runs, f"attributes.artifact_uri LIKE '%{b}%'") == {2}


BOOLEAN_CASES = [
    ("metrics.loss < 0.2 OR tags.team = 'nlp'", {0, 1}),
    ("(params.model = 'rf' OR params.model = 'svm') AND metrics.loss > 0.5", {2}),
    ("params.model = 'rf' OR params.model = 'svm' AND metrics.loss > 0.5", {0, 2}),
    ("tags.team = 'vision' AND (metrics.acc < 0.8 OR metrics.loss < 0.2)", {0, 3}),
    ("((metrics.acc >= 0.9))", {0}),
    ("metrics.loss > 0 and params.lr = '0.3'", {2}),
]


def test_or_and_parentheses(store: TrackingStore, runs: Runs) -> None:
    _check_all(store, runs, BOOLEAN_CASES)


def test_order_by_metric_missing_last(store: TrackingStore, runs: Runs) -> None:
    assert _order(store, runs, ["metrics.loss ASC"]) == [0, 1, 2, 3]
    assert _order(store, runs, ["metrics.loss DESC"]) == [2, 1, 0, 3]
    assert _order(store, runs, ["metrics.loss"]) == [0, 1, 2, 3]


def test_order_by_param_tag_and_attribute(store: TrackingStore, runs: Runs) -> None:
    assert _order(store, runs, ["params.lr ASC"]) == [1, 0, 2, 3]
    assert _order(store, runs, ["params.lr DESC"]) == [2, 0, 1, 3]
    # ties (two "vision" runs) fall back to start_time DESC
    assert _order(store, runs, ["tags.team ASC"]) == [1, 3, 0, 2]
    assert _order(store, runs, ["attributes.start_time ASC"]) == [0, 1, 2, 3]
    assert _order(store, runs, ["start_time DESC"]) == [3, 2, 1, 0]
    assert _order(store, runs, ["attributes.end_time DESC"])[0] == 0
    assert _order(store, runs, ["tags.team DESC", "metrics.acc ASC"]) == [3, 0, 1, 2]


def test_default_order_is_start_time_desc_then_run_id(
    store: TrackingStore, runs: Runs, experiment_id: str
) -> None:
    assert _order(store, runs, []) == [3, 2, 1, 0]
    tied = sorted(new_run(store, experiment_id, start_time=5000).info.run_id for _ in range(3))
    got = ids(store.search_runs([experiment_id], ""))
    assert got[:3] == tied
    assert got[3:] == [runs.rid[3], runs.rid[2], runs.rid[1], runs.rid[0]]


def test_nan_sorts_after_numbers_and_before_missing(
    store: TrackingStore, experiment_id: str
) -> None:
    values = [1.0, math.nan, None, 2.0]
    rids = []
    for i, value in enumerate(values):
        rid = new_run(store, experiment_id, start_time=1000 + i).info.run_id
        if value is not None:
            store.log_metric(rid, metric("x", value))
        rids.append(rid)
    asc = ids(store.search_runs([experiment_id], "", order_by=["metrics.x ASC"]))
    desc = ids(store.search_runs([experiment_id], "", order_by=["metrics.x DESC"]))
    assert [rids.index(r) for r in asc] == [0, 3, 1, 2]
    assert [rids.index(r) for r in desc] == [3, 0, 1, 2]


def test_paging_returns_every_run_once(store: TrackingStore, experiment_id: str) -> None:
    made = {new_run(store, experiment_id, start_time=1000 + i % 3).info.run_id for i in range(7)}
    everything = ids(store.search_runs([experiment_id], ""))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_runs([experiment_id], "", max_results=3, page_token=token)
        assert len(page) <= 3
        seen.extend(ids(page))
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert seen == everything
    assert set(seen) == made and len(seen) == 7


def test_max_results_limits_and_bounds(store: TrackingStore, runs: Runs) -> None:
    first_two = store.search_runs([runs.experiment_id], "", max_results=2)
    assert [runs.rid.index(r) for r in ids(first_two)] == [3, 2]
    assert first_two.token
    with pytest.raises(InvalidParameterValue, match="max_results"):
        store.search_runs([runs.experiment_id], "", max_results=0)
    with pytest.raises(InvalidParameterValue, match="max_results"):
        store.search_runs([runs.experiment_id], "", max_results=50001)
    with pytest.raises(InvalidParameterValue, match="page token"):
        store.search_runs([runs.experiment_id], "", page_token="garbage")


def test_run_view_type(store: TrackingStore, runs: Runs) -> None:
    store.delete_run(runs.rid[3])
    exp = [runs.experiment_id]
    active = store.search_runs(exp, "", run_view_type=ViewType.ACTIVE_ONLY)
    deleted = store.search_runs(exp, "", run_view_type=ViewType.DELETED_ONLY)
    every = store.search_runs(exp, "", run_view_type=ViewType.ALL)
    assert {runs.rid.index(r) for r in ids(active)} == {0, 1, 2}
    assert ids(deleted) == [runs.rid[3]]
    assert {runs.rid.index(r) for r in ids(every)} == {0, 1, 2, 3}


def test_several_experiments_and_unknown_ones(
    store: TrackingStore, runs: Runs, unique: str
) -> None:
    other = store.create_experiment(f"{unique}-other")
    extra = new_run(store, other, start_time=9000).info.run_id
    both = ids(store.search_runs([runs.experiment_id, other], ""))
    assert both[0] == extra and len(both) == 5
    assert list(store.search_runs(["999999999"], "")) == []


def test_results_carry_latest_metrics_params_and_tags(store: TrackingStore, runs: Runs) -> None:
    [found] = store.search_runs([runs.experiment_id], "attributes.run_name = 'alpha'")
    assert found.info.status == RunStatus.FINISHED and found.info.end_time == 1500
    assert dict(found.data.metrics) == {"loss": 0.1, "acc": 0.9}
    assert dict(found.data.params) == {"model": "rf", "lr": "0.1"}
    assert found.data.tags["team"] == "vision"
    assert found.data.tags["mlflow.runName"] == "alpha"


@pytest.mark.parametrize(
    ("filter_string", "fragment"),
    [
        ("metrics.loss <<< 2", "<<<"),
        ("foo.bar = 1", "foo"),
        ("metrics.loss = 'abc'", "numeric"),
        ("params.model = 3", "quoted"),
        ("params.model < 'a'", "<"),
        ("params.model = rf", "rf"),
        ("(metrics.loss > 1", "arenthes"),
        ("metrics.loss > 1 AND", ""),
    ],
)
def test_bad_filters_say_what_is_wrong(
    store: TrackingStore, experiment_id: str, filter_string: str, fragment: str
) -> None:
    with pytest.raises(InvalidFilter) as caught:
        store.search_runs([experiment_id], filter_string)
    assert fragment in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_bad_order_by(store: TrackingStore, experiment_id: str) -> None:
    with pytest.raises(InvalidFilter, match="sideways"):
        store.search_runs([experiment_id], "", order_by=["metrics.loss sideways"])
    with pytest.raises(InvalidFilter, match="duplicate"):
        store.search_runs([experiment_id], "", order_by=["metrics.a", "metrics.a DESC"])
