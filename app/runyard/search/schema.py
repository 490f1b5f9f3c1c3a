"""What a search may name: entities, attributes, and the comparators each kind of key takes.

Two schemas exist: one for ``search_runs`` and one for ``search_experiments``. The parser is
generic over them, so the two languages cannot drift apart in syntax.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runyard.search.ast import (
    EXPERIMENT_NUMERIC_ATTRIBUTES,
    EXPERIMENT_STRING_ATTRIBUTES,
    LOGGED_MODEL_NUMERIC_ATTRIBUTES,
    LOGGED_MODEL_STRING_ATTRIBUTES,
    MODEL_VERSION_NUMERIC_ATTRIBUTES,
    MODEL_VERSION_STRING_ATTRIBUTES,
    REGISTERED_MODEL_STRING_ATTRIBUTES,
    REGISTRY_NUMERIC_ATTRIBUTES,
    RUN_NUMERIC_ATTRIBUTES,
    RUN_STRING_ATTRIBUTES,
    Entity,
)

NUMERIC_COMPARATORS = frozenset({">", ">=", "!=", "=", "<", "<="})
STRING_COMPARATORS = frozenset({"!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"})
NULLABLE_STRING_COMPARATORS = STRING_COMPARATORS | {"IS NULL", "IS NOT NULL"}
NULL_COMPARATORS = frozenset({"IS NULL", "IS NOT NULL"})
LIST_COMPARATORS = frozenset({"IN", "NOT IN"})

# The sets as MLflow prints them in its messages (a fixed order, so messages are stable).
_NUMERIC_SHOWN = "'{'>', '<=', '!=', '<', '=', '>='}"
_STRING_SHOWN = "'{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"
_NULLABLE_SHOWN = "'{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL', 'IN', 'NOT IN'}'"


@dataclass(frozen=True, slots=True)
class KeyKind:
    """How one key compares: numerically or as a string, and the words used in messages."""

    numeric: bool
    comparators: frozenset[str]
    shown: str
    #: What MLflow's messages call the key: "a quoted string value for <noun>" (params, tags,
    #: attributes, datasets) or "numeric value type for <noun>" (metrics, numeric attributes).
    noun: str

    def invalid_comparator(self, op: str) -> str:
        return f"Invalid comparator '{op}' not one of {self.shown}"


METRIC = KeyKind(True, NUMERIC_COMPARATORS, _NUMERIC_SHOWN, "metric")
PARAM = KeyKind(False, NULLABLE_STRING_COMPARATORS, _NULLABLE_SHOWN, "parameter (e.g. 'my-value')")
TAG = KeyKind(False, NULLABLE_STRING_COMPARATORS, _NULLABLE_SHOWN, "tag (e.g. 'my-value')")
STRING_ATTRIBUTE = KeyKind(False, STRING_COMPARATORS, _STRING_SHOWN, "attributes")
DATASET = KeyKind(False, STRING_COMPARATORS, _STRING_SHOWN, "dataset attributes")


def numeric_attribute(key: str) -> KeyKind:
    return KeyKind(True, NUMERIC_COMPARATORS, _NUMERIC_SHOWN, f"numeric attribute: {key}")


@dataclass(frozen=True)
class Schema:
    """The names one search language accepts."""

    #: Entity prefix as written (lower-cased) -> canonical entity.
    entities: Mapping[str, Entity]
    #: The text of the "Invalid entity type" message after the entity name.
    entities_shown: str
    #: Attribute as written -> canonical attribute name.
    attributes: Mapping[str, str]
    numeric_attributes: frozenset[str]
    dataset_keys: frozenset[str]
    #: Entities an ``order_by`` clause may name.
    order_entities: frozenset[str]
    null_message: str

    def kind(self, entity: Entity, key: str) -> KeyKind:
        if entity == "metric":
            return METRIC
        if entity == "param":
            return PARAM
        if entity == "tag":
            return TAG
        if entity == "dataset":
            return DATASET
        return numeric_attribute(key) if key in self.numeric_attributes else STRING_ATTRIBUTE


def _aliases(canonical: tuple[str, ...], extra: Mapping[str, str]) -> dict[str, str]:
    return {**{name: name for name in canonical}, **extra}


_ENTITY_NAMES = "['metric', 'parameter', 'tag', 'attribute', 'dataset']"

RUNS = Schema(
    entities={
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "parameter": "param",
        "parameters": "param",
        "tag": "tag",
        "tags": "tag",
        "attribute": "attribute",
        "attributes": "attribute",
        "attr": "attribute",
        "run": "attribute",
        "dataset": "dataset",
        "datasets": "dataset",
    },
    entities_shown=f"Valid values are {_ENTITY_NAMES}",
    attributes=_aliases(
        RUN_STRING_ATTRIBUTES + RUN_NUMERIC_ATTRIBUTES,
        {
            "created": "start_time",
            "Created": "start_time",
            "run name": "run_name",
            "Run name": "run_name",
            "Run Name": "run_name",
        },
    ),
    numeric_attributes=frozenset(RUN_NUMERIC_ATTRIBUTES),
    dataset_keys=frozenset({"name", "digest", "context"}),
    order_entities=frozenset({"metric", "param", "tag", "attribute"}),
    null_message="IS NULL / IS NOT NULL is only supported for tags and params, not for '{entity}' "
    "'{key}'",
)

EXPERIMENTS = Schema(
    entities={
        "attribute": "attribute",
        "attributes": "attribute",
        "tag": "tag",
        "tags": "tag",
    },
    entities_shown="Valid entity types are ('attribute', 'attributes', 'tag', 'tags')",
    attributes=_aliases(EXPERIMENT_STRING_ATTRIBUTES + EXPERIMENT_NUMERIC_ATTRIBUTES, {}),
    numeric_attributes=frozenset(EXPERIMENT_NUMERIC_ATTRIBUTES),
    dataset_keys=frozenset(),
    order_entities=frozenset({"attribute"}),
    null_message="IS NULL / IS NOT NULL is only supported for tags, not for {entity} '{key}'",
)

_REGISTRY_ENTITIES = {
    "attribute": "attribute",
    "attributes": "attribute",
    "tag": "tag",
    "tags": "tag",
}
_REGISTRY_ENTITIES_SHOWN = "Valid entity types are ('attribute', 'tag', 'tags')"
_REGISTRY_NULL = "IS NULL / IS NOT NULL is only supported for tags, not for {entity} '{key}'"

REGISTERED_MODELS = Schema(
    entities=_REGISTRY_ENTITIES,
    entities_shown=_REGISTRY_ENTITIES_SHOWN,
    # ``timestamp`` is MLflow's order_by name for the last update.
    attributes=_aliases(
        REGISTERED_MODEL_STRING_ATTRIBUTES + REGISTRY_NUMERIC_ATTRIBUTES,
        {"timestamp": "last_updated_timestamp"},
    ),
    numeric_attributes=frozenset(REGISTRY_NUMERIC_ATTRIBUTES),
    dataset_keys=frozenset(),
    order_entities=frozenset({"attribute"}),
    null_message=_REGISTRY_NULL,
)

MODEL_VERSIONS = Schema(
    entities=_REGISTRY_ENTITIES,
    entities_shown=_REGISTRY_ENTITIES_SHOWN,
    attributes=_aliases(
        MODEL_VERSION_STRING_ATTRIBUTES + MODEL_VERSION_NUMERIC_ATTRIBUTES,
        {"version": "version_number", "timestamp": "last_updated_timestamp"},
    ),
    numeric_attributes=frozenset(MODEL_VERSION_NUMERIC_ATTRIBUTES),
    dataset_keys=frozenset(),
    order_entities=frozenset({"attribute"}),
    null_message=_REGISTRY_NULL,
)

#: ``search_logged_models``: MLflow 3's attributes, metrics (any logged point), params, tags.
LOGGED_MODELS = Schema(
    entities={
        "attribute": "attribute",
        "attributes": "attribute",
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "tag": "tag",
        "tags": "tag",
    },
    entities_shown="Valid entity types are ('attributes', 'metrics', 'params', 'tags')",
    attributes=_aliases(
        LOGGED_MODEL_STRING_ATTRIBUTES + LOGGED_MODEL_NUMERIC_ATTRIBUTES,
        {
            "creation_time": "creation_timestamp",
            "last_updated_time": "last_updated_timestamp",
            "run_id": "source_run_id",
        },
    ),
    numeric_attributes=frozenset(LOGGED_MODEL_NUMERIC_ATTRIBUTES),
    dataset_keys=frozenset(),
    order_entities=frozenset({"attribute"}),
    null_message="IS NULL / IS NOT NULL is only supported for tags and params, not for '{entity}' "
    "'{key}'",
)
