"""Filters and order_by clauses MLflow accepts parse to the same meaning here.

MLflow's own parser (installed as the reference client) is the oracle: for each text, both
parsers must agree on entity, key (after alias translation), comparator and value.
"""

from __future__ import annotations

import ast
import re

import pytest
from runyard.search import And, Comparison, parse_experiment_filter, parse_filter, parse_order_by

search_utils = pytest.importorskip("mlflow.utils.search_utils")
SearchUtils = search_utils.SearchUtils
SearchExperimentsUtils = search_utils.SearchExperimentsUtils

_ENTITY = {"parameter": "param"}

RUN_FILTERS = [
    "metrics.loss < 1",
    "metrics.loss >= -2.5 and metrics.acc != 0",
    "metrics.`a b` > 1e3",
    'metrics."a b" <= 0.5',
    "params.model = 'cnn'",
    'params.model != "cnn"',
    "params.`lr rate` LIKE '0.%'",
    "params.model ILIKE '%NN'",
    "params.model IS NULL",
    "params.model IS NOT NULL",
    "parameter.p = 'x' AND param.q = 'y' AND parameters.r = 'z'",
    "tags.mlflow.runName = 'r'",
    "tags.`mlflow.user` LIKE 'a%'",
    "tag.t IS NOT NULL",
    "attributes.status = 'FINISHED'",
    "status != 'RUNNING'",
    "attr.user_id ILIKE 'AL%'",
    "run.artifact_uri LIKE 's3://%'",
    "run_id IN ('a', 'b')",
    "run_id NOT IN ('a')",
    "run_name = 'x'",
    "`Run name` = 'x'",
    "\"run name\" = 'x'",
    "attributes.`Run Name` LIKE 'x%'",
    "created > 5",
    "Created <= 5",
    "start_time >= 1700000000000 AND end_time < 1800000000000",
    "datasets.name = 'iris'",
    "datasets.digest IN ('a', 'b')",
    "dataset.context NOT IN ('eval')",
    "metrics.a < 1 AND params.b = 'x' AND tags.c != 'y' AND status = 'FAILED'",
]


def mlflow_meaning(clauses: list[dict]) -> list[tuple]:
    meaning = []
    for clause in clauses:
        entity = _ENTITY.get(clause["type"], clause["type"])
        key = SearchUtils.translate_key_alias(clause["key"])
        value = clause["value"]
        if entity == "metric" or key in ("start_time", "end_time"):
            value = float(value)
        meaning.append((entity, key, clause["comparator"].upper(), value))
    return meaning


def our_meaning(expr) -> list[tuple]:
    items = expr.items if isinstance(expr, And) else (expr,)
    assert all(isinstance(item, Comparison) for item in items)
    return [(c.ident.entity, c.ident.key, c.op, c.value) for c in items]


@pytest.mark.parametrize("text", RUN_FILTERS)
def test_run_filters_mean_what_they_mean_in_mlflow(text):
    assert our_meaning(parse_filter(text)) == mlflow_meaning(SearchUtils.parse_search_filter(text))


EXPERIMENT_FILTERS = [
    "name = 'x'",
    "attribute.name LIKE 'x%'",
    "name ILIKE 'X%' AND creation_time > 3",
    "experiment_id IN ('1', '2')",
    "last_update_time <= 10",
    "tags.team = 'ml'",
    "tags.`a b` IS NULL",
    "tag.t IS NOT NULL",
]


@pytest.mark.parametrize("text", EXPERIMENT_FILTERS)
def test_experiment_filters_mean_what_they_mean_in_mlflow(text):
    theirs = SearchExperimentsUtils.parse_search_filter(text)
    for clause in theirs:
        if clause["key"] in ("creation_time", "last_update_time"):
            clause["value"] = float(clause["value"])
    assert our_meaning(parse_experiment_filter(text)) == mlflow_meaning(theirs)


ORDER_BY = [
    "metrics.loss",
    "metrics.loss DESC",
    "metrics.`a b` desc",
    "params.p ASC",
    "tags.mlflow.runName",
    "tags.`mlflow.user` DESC",
    "attributes.start_time",
    "created DESC",
    "run_name",
    "status",
    "`metrics.a b` DESC",
]


@pytest.mark.parametrize("clause", ORDER_BY)
def test_order_by_means_what_it_means_in_mlflow(clause):
    entity, key, ascending = SearchUtils.parse_order_by_for_search_runs(clause)
    expected = (_ENTITY.get(entity, entity), SearchUtils.translate_key_alias(key), ascending)
    (ours,) = parse_order_by([clause])
    assert (ours.ident.entity, ours.ident.key, ours.ascending) == expected


# Error texts MLflow produces (except the comparator message, whose set order varies per
# process there) are the start of ours.
ERRORS = [
    "foo.bar = 1",
    "metrics.logloss = 'abc'",
    "params.foo = 3",
    "params.foo = bar",
    "attributes.status = 'x' AND datasets.size = 'x'",
    "nope = 'x'",
]


@pytest.mark.parametrize("text", ERRORS)
def test_error_texts_start_like_mlflows(text):
    with pytest.raises(Exception) as theirs:
        SearchUtils.parse_search_filter(text)
    with pytest.raises(Exception) as ours:
        parse_filter(text)
    expected = theirs.value.message
    if "Valid keys are" in expected:  # MLflow prints a set; compare up to it
        expected = expected.split("Valid keys are")[0]
    assert ours.value.message.startswith(expected)


def test_order_by_error_text_matches_mlflows():
    clause = "metrics.logloss sideways"
    with pytest.raises(Exception) as theirs:
        SearchUtils.parse_order_by_for_search_runs(clause)
    with pytest.raises(Exception) as ours:
        parse_order_by([clause])
    assert ours.value.message.startswith(theirs.value.message)


@pytest.mark.parametrize("text", ["metrics.logloss <<< 2", "metrics.a LIKE 1"])
def test_metric_comparator_error_lists_mlflows_comparators(text):
    """MLflow checks comparators when it runs the search and prints a set in hash order, so
    compare the prefix and the set's members."""
    (clause,) = SearchUtils.parse_search_filter(text)
    with pytest.raises(Exception) as theirs:
        SearchUtils.is_metric(clause["type"], clause["comparator"])
    with pytest.raises(Exception) as ours:
        parse_filter(text)
    pattern = r"(Invalid comparator '.*' not one of )'(\{.*\})"
    their_prefix, their_set = re.match(pattern, theirs.value.message).groups()
    our_prefix, our_set = re.match(pattern, ours.value.message).groups()
    assert our_prefix == their_prefix
    assert ast.literal_eval(our_set) == ast.literal_eval(their_set)
