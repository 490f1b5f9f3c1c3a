"""``order_by`` clauses for runs and experiments."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidFilter
from runyard.search import (
    Identifier,
    OrderKey,
    parse_experiment_order_by,
    parse_order_by,
)


def key(entity: str, name: str, ascending: bool = True) -> OrderKey:
    return OrderKey(Identifier(entity, name), ascending)  # type: ignore[arg-type]


@pytest.mark.parametrize("clauses", [None, [], ()])
def test_no_clauses(clauses):
    assert parse_order_by(clauses) == []
    assert parse_experiment_order_by(clauses) == []


RUN_CLAUSES = [
    ("metrics.loss", key("metric", "loss")),
    ("metrics.loss ASC", key("metric", "loss")),
    ("metrics.loss DESC", key("metric", "loss", False)),
    ("metrics.loss desc", key("metric", "loss", False)),
    ("metrics.`a b` Desc", key("metric", "a b", False)),
    ('params."lr rate" asc', key("param", "lr rate")),
    ("tags.mlflow.runName", key("tag", "mlflow.runName")),
    ("tags.`mlflow.user` DESC", key("tag", "mlflow.user", False)),
    ("`metrics.a b` DESC", key("metric", "a b", False)),
    ("attributes.start_time", key("attribute", "start_time")),
    ("created DESC", key("attribute", "start_time", False)),
    ("Created", key("attribute", "start_time")),
    ("`Run name`", key("attribute", "run_name")),
    ("run_name", key("attribute", "run_name")),
    ("artifact_uri", key("attribute", "artifact_uri")),
    ("end_time DESC", key("attribute", "end_time", False)),
    ("run_id", key("attribute", "run_id")),
    ("status", key("attribute", "status")),
    ("user_id", key("attribute", "user_id")),
    ("  metrics.loss   DESC  ", key("metric", "loss", False)),
]


@pytest.mark.parametrize(("clause", "expected"), RUN_CLAUSES, ids=[c for c, _ in RUN_CLAUSES])
def test_run_order_by_clauses(clause, expected):
    assert parse_order_by([clause]) == [expected]


def test_several_clauses_keep_their_order():
    assert parse_order_by(["metrics.b DESC", "params.a", "tags.c ASC"]) == [
        key("metric", "b", False),
        key("param", "a"),
        key("tag", "c"),
    ]


RUN_ERRORS = [
    (
        "metrics.logloss sideways",
        "Invalid ordering key in order_by clause 'metrics.logloss sideways'. (at column 17: ",
    ),
    (
        "metrics.a DESC extra",
        "Invalid order_by clause 'metrics.a DESC extra'. Could not be parsed.",
    ),
    ("", "Invalid order_by clause ''. Could not be parsed."),
    ("   ", "Invalid order_by clause '   '. Could not be parsed."),
    ("metrics.a 1", "Invalid ordering key in order_by clause 'metrics.a 1'."),
    ("datasets.name", "Invalid order_by entity: dataset (at column 1: "),
    ("foo.bar", "Invalid entity type 'foo'. Valid values are"),
    ("nope", "Invalid attribute key 'nope' specified."),
]


@pytest.mark.parametrize(("clause", "message"), RUN_ERRORS, ids=[c for c, _ in RUN_ERRORS])
def test_run_order_by_errors(clause, message):
    with pytest.raises(InvalidFilter) as info:
        parse_order_by([clause])
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    "clauses",
    [
        ["metrics.a", "metrics.a DESC"],
        ["created", "start_time DESC"],
        ["`Run name`", "run_name"],
        ["tags.x", "tags.`x`"],
    ],
)
def test_duplicate_fields_are_refused(clauses):
    with pytest.raises(InvalidFilter) as info:
        parse_order_by(clauses)
    assert info.value.message == f"`order_by` contains duplicate fields: {clauses}"


def test_same_key_in_different_entities_is_not_a_duplicate():
    assert len(parse_order_by(["metrics.a", "params.a", "tags.a"])) == 3


EXPERIMENT_CLAUSES = [
    ("name", key("attribute", "name")),
    ("attributes.name DESC", key("attribute", "name", False)),
    ("experiment_id asc", key("attribute", "experiment_id")),
    ("creation_time DESC", key("attribute", "creation_time", False)),
    ("last_update_time", key("attribute", "last_update_time")),
]


@pytest.mark.parametrize(
    ("clause", "expected"), EXPERIMENT_CLAUSES, ids=[c for c, _ in EXPERIMENT_CLAUSES]
)
def test_experiment_order_by_clauses(clause, expected):
    assert parse_experiment_order_by([clause]) == [expected]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("tags.team", "Invalid order_by entity: tag"),
        ("start_time", "Invalid attribute key 'start_time' specified."),
        ("metrics.a", "Invalid entity type 'metrics'. Valid entity types are"),
        ("name sideways", "Invalid ordering key in order_by clause 'name sideways'."),
    ],
)
def test_experiment_order_by_errors(clause, message):
    with pytest.raises(InvalidFilter) as info:
        parse_experiment_order_by([clause])
    assert info.value.message.startswith(message)
