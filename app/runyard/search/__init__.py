"""The search language: filters and ``order_by`` parsed once into an AST, evaluated in Python
by the file store and compiled to SQL by the SQL store, plus page tokens.

Filters are MLflow's (``metrics.loss < 0.5 AND params.model = 'cnn'``) plus ``OR``,
parentheses, and ``IN`` / ``NOT IN`` on params and tags.
"""

from runyard.search.ast import (
    And,
    Comparison,
    Expr,
    Identifier,
    Or,
    OrderKey,
)
from runyard.search.evaluate import (
    like_to_regex,
    matches,
    matches_experiment,
    matches_model_version,
    matches_registered_model,
    sort_experiments,
    sort_model_versions,
    sort_registered_models,
    sort_runs,
)
from runyard.search.paging import (
    decode_offset_token,
    decode_token,
    encode_offset_token,
    encode_token,
)
from runyard.search.parser import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_filter,
    parse_logged_model_filter,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
)
from runyard.search.render import render_filter, render_identifier, render_order_key

__all__ = [
    "And",
    "Comparison",
    "Expr",
    "Identifier",
    "Or",
    "OrderKey",
    "decode_offset_token",
    "decode_token",
    "encode_offset_token",
    "encode_token",
    "like_to_regex",
    "matches",
    "matches_experiment",
    "matches_model_version",
    "matches_registered_model",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_logged_model_filter",
    "parse_model_version_filter",
    "parse_model_version_order_by",
    "parse_order_by",
    "parse_registered_model_filter",
    "parse_registered_model_order_by",
    "render_filter",
    "render_identifier",
    "render_order_key",
    "sort_experiments",
    "sort_model_versions",
    "sort_registered_models",
    "sort_runs",
]
