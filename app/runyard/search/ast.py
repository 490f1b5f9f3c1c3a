"""The parsed form of a search filter and of ``order_by`` clauses.

A filter string is parsed once into these nodes (``runyard.search.parser``); the file store
evaluates them in Python (``runyard.search.evaluate``) and the SQL store compiles them to one SQL
query (``runyard.store.sql.search``). Keys are already unquoted and attribute names already
canonical (``created`` -> ``start_time``, ``run name`` -> ``run_name``), so backends never
re-interpret the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]

#: Comparators as they appear in nodes (upper-case keywords).
Comparator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

#: Run attributes a filter or order_by may name, after aliasing.
RUN_STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
RUN_NUMERIC_ATTRIBUTES = ("start_time", "end_time")
#: Experiment attributes for ``search_experiments``.
EXPERIMENT_STRING_ATTRIBUTES = ("name", "experiment_id")
EXPERIMENT_NUMERIC_ATTRIBUTES = ("creation_time", "last_update_time")
#: Registry attributes for ``search_registered_models`` and ``search_model_versions``.
REGISTERED_MODEL_STRING_ATTRIBUTES = ("name",)
MODEL_VERSION_STRING_ATTRIBUTES = ("name", "run_id", "source_path")
REGISTRY_NUMERIC_ATTRIBUTES = ("creation_timestamp", "last_updated_timestamp")
MODEL_VERSION_NUMERIC_ATTRIBUTES = ("version_number", *REGISTRY_NUMERIC_ATTRIBUTES)
#: Logged model attributes for ``search_logged_models``.
LOGGED_MODEL_STRING_ATTRIBUTES = ("name", "model_id", "source_run_id", "status", "model_type")
LOGGED_MODEL_NUMERIC_ATTRIBUTES = REGISTRY_NUMERIC_ATTRIBUTES


@dataclass(frozen=True, slots=True)
class Identifier:
    """``metrics.loss`` -> Identifier("metric", "loss")."""

    entity: Entity
    key: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """``ident op value``. ``value`` is a float for numeric comparisons, a str for string ones,
    a tuple of str for IN / NOT IN, and None for IS NULL / IS NOT NULL."""

    ident: Identifier
    op: Comparator
    value: float | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


Expr = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ``order_by`` clause. Missing values sort last in both directions."""

    ident: Identifier
    ascending: bool = True
