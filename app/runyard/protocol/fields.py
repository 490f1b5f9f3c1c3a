"""Fields of MLflow's REST JSON: required and optional scalars, int64s, non-finite doubles,
enums and key/value lists, read leniently where MLflow is and strictly where a wrong type
would store garbage."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from runyard.entities import (
    LoggedModelStatus,
    RunStatus,
    ViewType,
)
from runyard.errors import InvalidParameterValue

Json = dict[str, Any]

_NON_FINITE_IN = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}
_NON_FINITE_IN["-inf"] = -math.inf


# ---- scalar helpers -----------------------------------------------------------------------------
def missing_message(field: str) -> str:
    """MLflow's wording for an absent required field (clients match on it)."""
    return (
        f"Missing value for required parameter '{field}'. See the API docs for more "
        "information about request parameters."
    )


def invalid_message(field: str, value: object) -> str:
    shown = value if isinstance(value, str) else repr(value)
    return (
        f"Invalid value \"{shown}\" for parameter '{field}' supplied:  Hint: Value was of type "
        f"'{type(value).__name__}'. See the API docs for more information about request "
        "parameters."
    )


def require_field(payload: Mapping[str, Any], field: str, *, allow_empty: bool = False) -> Any:
    """``payload[field]``, or ``InvalidParameterValue`` with MLflow's "Missing value" text."""
    value = payload.get(field)
    if value is None or (value == "" and not allow_empty) or value == []:
        raise InvalidParameterValue(missing_message(field))
    return value


def parse_double(value: object, field: str = "value") -> float:
    """A JSON double: a number, or one of the strings "NaN", "Infinity", "-Infinity".

    Numeric strings ("1.5") are accepted too, as protobuf's JSON parser does.
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        special = _NON_FINITE_IN.get(value.strip().lower())
        if special is not None:
            return special
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise InvalidParameterValue(invalid_message(field, value))


def format_double(value: float) -> float | str:
    """A double for the wire: finite numbers as numbers, the others as MLflow's strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def parse_int(value: object, field: str) -> int:
    """An int64 field: a JSON integer, an integral float, or a decimal string (query strings)."""
    if isinstance(value, bool):
        raise InvalidParameterValue(invalid_message(field, value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    raise InvalidParameterValue(invalid_message(field, value))


def optional_int(payload: Mapping[str, Any], field: str) -> int | None:
    value = payload.get(field)
    return None if value is None or value == "" else parse_int(value, field)


def parse_string(value: object, field: str) -> str:
    """A string field; numbers are stringified (clients already do that for params and tags)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidParameterValue(invalid_message(field, value))


def optional_string(payload: Mapping[str, Any], field: str) -> str | None:
    value = payload.get(field)
    return None if value is None else parse_string(value, field)


def string_list(payload: Mapping[str, Any], field: str) -> list[str]:
    """A repeated string field; a lone string counts as a list of one."""
    value = payload.get(field)
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    if not isinstance(value, list):
        raise InvalidParameterValue(invalid_message(field, value))
    return [parse_string(item, f"{field}[{i}]") for i, item in enumerate(value)]


def object_list(payload: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """A repeated message field: a list of JSON objects."""
    value = payload.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameterValue(invalid_message(field, value))
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidParameterValue(invalid_message(f"{field}[{i}]", item))
    return value


def run_id_from(payload: Mapping[str, Any]) -> str:
    """The run id of a request: ``run_id``, else the legacy ``run_uuid``."""
    value = payload.get("run_id") or payload.get("run_uuid")
    if value is None or value == "":
        raise InvalidParameterValue(missing_message("run_id"))
    return parse_string(value, "run_id")


def parse_view_type(value: object, field: str = "view_type") -> ViewType:
    """A ViewType by name (``ACTIVE_ONLY``) or proto number (1, 2, 3); absent -> ACTIVE_ONLY."""
    if value is None or value == "":
        return ViewType.ACTIVE_ONLY
    by_number = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in by_number:
        return by_number[value]
    if isinstance(value, str):
        try:
            return ViewType(value.strip().upper())
        except ValueError:
            pass
    raise InvalidParameterValue(invalid_message(field, value))


def parse_run_status(value: object) -> RunStatus | None:
    """A RunStatus by name or number; an unknown value gives None (MLflow leaves it unchanged)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return RunStatus.from_number(value)
        except ValueError:
            return None
    if isinstance(value, str):
        try:
            return RunStatus(value.strip().upper())
        except ValueError:
            return None
    return None


def parse_model_status(value: object) -> LoggedModelStatus:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, 2, 3):
        return LoggedModelStatus.from_number(value)
    if isinstance(value, str):
        try:
            return LoggedModelStatus(value.strip().upper())
        except ValueError:
            pass
    raise InvalidParameterValue(invalid_message("status", value))


# ---- key/value lists ----------------------------------------------------------------------------
def key_values_to_json(mapping: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def key_values_from_json(items: object, field: str = "tags") -> list[tuple[str, str]]:
    """``[{"key": k, "value": v}, ...]`` -> ``[(k, v), ...]``; a missing value is ``""``."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidParameterValue(invalid_message(field, items))
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidParameterValue(invalid_message(f"{field}[{i}]", item))
        key = item.get("key")
        if key is None or key == "":
            raise InvalidParameterValue(missing_message(f"{field}[{i}].key"))
        value = item.get("value")
        pairs.append(
            (
                parse_string(key, f"{field}[{i}].key"),
                "" if value is None else parse_string(value, f"{field}[{i}].value"),
            )
        )
    return pairs


def _drop_empty(obj: Json) -> Json:
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != {}}
