"""The ``search_experiments`` language: parsing, matching and ordering."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidFilter
from runyard.search import (
    And,
    Comparison,
    Identifier,
    Or,
    matches_experiment,
    parse_experiment_filter,
    parse_experiment_order_by,
    sort_experiments,
)


def cmp(entity: str, key: str, op: str, value: object = None) -> Comparison:
    return Comparison(Identifier(entity, key), op, value)  # type: ignore[arg-type]


VALID = [
    ("name = 'exp'", cmp("attribute", "name", "=", "exp")),
    ("attributes.name != 'exp'", cmp("attribute", "name", "!=", "exp")),
    ("attribute.name LIKE 'e%'", cmp("attribute", "name", "LIKE", "e%")),
    ("name ILIKE 'E%'", cmp("attribute", "name", "ILIKE", "E%")),
    ("experiment_id IN ('1', '2')", cmp("attribute", "experiment_id", "IN", ("1", "2"))),
    ("experiment_id NOT IN ('1')", cmp("attribute", "experiment_id", "NOT IN", ("1",))),
    ("creation_time > 5", cmp("attribute", "creation_time", ">", 5.0)),
    ("last_update_time <= 5", cmp("attribute", "last_update_time", "<=", 5.0)),
    ("tags.team = 'ml'", cmp("tag", "team", "=", "ml")),
    ("tag.team IS NULL", cmp("tag", "team", "IS NULL")),
    ("tags.`a b` IS NOT NULL", cmp("tag", "a b", "IS NOT NULL")),
    ("tags.team ILIKE 'M%'", cmp("tag", "team", "ILIKE", "M%")),
    (
        "name = 'a' OR (tags.t = 'x' AND creation_time > 1)",
        Or(
            (
                cmp("attribute", "name", "=", "a"),
                And((cmp("tag", "t", "=", "x"), cmp("attribute", "creation_time", ">", 1.0))),
            )
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_parses(text, expected):
    assert parse_experiment_filter(text) == expected


def test_blank_is_none():
    assert parse_experiment_filter("  ") is None
    assert parse_experiment_filter(None) is None


ERRORS = [
    (
        "metrics.a > 1",
        "Invalid entity type 'metrics'. Valid entity types are "
        "('attribute', 'attributes', 'tag', 'tags') (at column 1: ",
    ),
    (
        "status = 'x'",
        "Invalid attribute key 'status' specified. Valid keys are "
        "'['creation_time', 'experiment_id', 'last_update_time', 'name']' (at column 1: ",
    ),
    (
        "name IS NULL",
        "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name' (at column 6: ",
    ),
    ("creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time."),
    ("name < 'x'", "Invalid comparator '<' not one of"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[t for t, _ in ERRORS])
def test_errors(text, message):
    with pytest.raises(InvalidFilter) as info:
        parse_experiment_filter(text)
    assert info.value.message.startswith(message)


MATCHES = [
    ("name = 'Alpha'", {"1"}),
    ("name LIKE 'A%'", {"1"}),
    ("name ILIKE 'a%'", {"1"}),
    ("name != 'Alpha'", {"2", "10"}),
    ("experiment_id IN ('1', '10')", {"1", "10"}),
    ("experiment_id NOT IN ('1')", {"2", "10"}),
    ("creation_time > 150", {"2", "10"}),
    ("creation_time < 150", {"1"}),
    ("last_update_time >= 200", {"2"}),
    ("last_update_time > 0", {"1", "2"}),
    ("tags.team = 'ml'", {"1", "2"}),
    ("tags.team != 'ml'", set()),
    ("tags.team IS NULL", {"10"}),
    ("tags.team IS NOT NULL", {"1", "2"}),
    ("tags.team = 'ml' AND name = 'beta'", {"2"}),
    ("tags.team = 'ml' OR creation_time > 250", {"1", "2", "10"}),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES, ids=[t for t, _ in MATCHES])
def test_matches_experiment(text, expected, make_experiment):
    exps = [
        make_experiment("1", "Alpha", created=100, updated=100, tags={"team": "ml"}),
        make_experiment("2", "beta", created=200, updated=200, tags={"team": "ml"}),
        make_experiment("10", "gamma", created=300, updated=None),
    ]
    expr = parse_experiment_filter(text)
    assert {e.experiment_id for e in exps if matches_experiment(expr, e)} == expected


def test_missing_numeric_attribute_never_matches(make_experiment):
    exp = make_experiment("1", created=None)
    assert not matches_experiment(parse_experiment_filter("creation_time != 5"), exp)
    assert matches_experiment(None, exp)


def ids(exps):
    return [e.experiment_id for e in exps]


def test_default_order_is_newest_first_then_id_as_number(make_experiment):
    exps = [
        make_experiment("9", created=100),
        make_experiment("10", created=100),
        make_experiment("2", created=300),
        make_experiment("3", created=None),
        make_experiment("1", created=200),
    ]
    assert ids(sort_experiments(exps, [])) == ["2", "1", "9", "10", "3"]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("name", ["1", "9", "10", "2"]),
        ("name DESC", ["2", "9", "10", "1"]),
        ("experiment_id DESC", ["10", "9", "2", "1"]),
        ("experiment_id", ["1", "2", "9", "10"]),
        ("last_update_time", ["2", "9", "10", "1"]),
        ("last_update_time DESC", ["9", "10", "2", "1"]),
    ],
)
def test_user_order_then_id_tiebreak_missing_last(clause, expected, make_experiment):
    exps = [
        make_experiment("10", "b", updated=5),
        make_experiment("2", "c", updated=1),
        make_experiment("1", "a", updated=None),
        make_experiment("9", "b", updated=5),
    ]
    assert ids(sort_experiments(exps, parse_experiment_order_by([clause]))) == expected
