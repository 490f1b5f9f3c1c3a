"""Rendering trees back to filter text, and the package's public names."""

from __future__ import annotations

import math

import pytest
import runyard.search
from runyard.search import (
    And,
    Comparison,
    Identifier,
    Or,
    OrderKey,
    parse_filter,
    render_filter,
    render_identifier,
    render_order_key,
)


def test_no_filter_renders_empty():
    assert render_filter(None) == ""


@pytest.mark.parametrize(
    ("ident", "text"),
    [
        (Identifier("metric", "loss"), "metrics.loss"),
        (Identifier("tag", "mlflow.runName"), "tags.mlflow.runName"),
        (Identifier("param", "a b"), "params.`a b`"),
        (Identifier("param", "and"), "params.`and`"),
        (Identifier("tag", "we`ird"), 'tags."we`ird"'),
        (Identifier("attribute", "start_time"), "attributes.start_time"),
        (Identifier("dataset", "name"), "datasets.name"),
    ],
)
def test_render_identifier(ident, text):
    assert render_identifier(ident) == text


def test_or_inside_and_gets_parentheses_and_values_are_escaped():
    a = Comparison(Identifier("param", "p"), "=", "it's")
    b = Comparison(Identifier("metric", "m"), "<", 1.5)
    c = Comparison(Identifier("tag", "t"), "IN", ("x", "y\\z"))
    expr = And((Or((a, b)), c))
    text = render_filter(expr)
    assert text == "(params.p = 'it\\'s' OR metrics.m < 1.5) AND tags.t IN ('x', 'y\\\\z')"
    assert parse_filter(text) == expr


def test_non_finite_numbers_cannot_be_rendered():
    with pytest.raises(ValueError, match="non-finite"):
        render_filter(Comparison(Identifier("metric", "m"), ">", math.inf))


def test_render_order_key():
    assert render_order_key(OrderKey(Identifier("metric", "a b"), False)) == "metrics.`a b` DESC"


def test_public_names():
    expected = {
        "parse_filter",
        "parse_order_by",
        "parse_experiment_filter",
        "parse_experiment_order_by",
        "matches",
        "matches_experiment",
        "sort_runs",
        "sort_experiments",
        "like_to_regex",
        "encode_offset_token",
        "decode_offset_token",
        "encode_token",
        "decode_token",
    }
    assert expected <= set(runyard.search.__all__)
    assert all(hasattr(runyard.search, name) for name in runyard.search.__all__)
