"""Entities <-> MLflow REST JSON, in one place.

The server renders responses with the ``*_to_json`` functions and ``RestStore`` reads them back
with the ``*_from_json`` ones, so the two sides cannot drift apart. Conventions (MLflow's wire
format): empty and unset fields are omitted, enums travel as names, int64 fields as JSON numbers,
and non-finite doubles as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

Request parsing is lenient where MLflow is (unknown fields are ignored, int64 may arrive as a
numeric string from a query string) and strict where a wrong type would store garbage: a bad
value raises ``InvalidParameterValue`` naming the field.
"""

from __future__ import annotations

from runyard.protocol.fields import (
    format_double,
    invalid_message,
    key_values_from_json,
    key_values_to_json,
    missing_message,
    object_list,
    optional_int,
    optional_string,
    parse_double,
    parse_int,
    parse_model_status,
    parse_run_status,
    parse_string,
    parse_view_type,
    require_field,
    run_id_from,
    string_list,
)
from runyard.protocol.resources import (
    experiment_from_json,
    experiment_to_json,
    file_info_from_json,
    file_info_to_json,
    logged_model_from_json,
    logged_model_to_json,
    model_dataset_from_json,
    model_order_from_json,
    model_order_to_json,
    page_to_json,
)
from runyard.protocol.runs import (
    dataset_input_from_json,
    dataset_input_to_json,
    history_rows_json_text,
    metric_from_json,
    metric_to_json,
    run_from_json,
    run_info_from_json,
    run_info_to_json,
    run_inputs_to_json,
    run_outputs_to_json,
    run_to_json,
)

__all__ = [
    "Json",
    "dataset_input_from_json",
    "dataset_input_to_json",
    "experiment_from_json",
    "experiment_to_json",
    "file_info_from_json",
    "file_info_to_json",
    "format_double",
    "history_rows_json_text",
    "invalid_message",
    "key_values_from_json",
    "key_values_to_json",
    "logged_model_from_json",
    "logged_model_to_json",
    "metric_from_json",
    "metric_to_json",
    "missing_message",
    "model_dataset_from_json",
    "model_order_from_json",
    "model_order_to_json",
    "object_list",
    "optional_int",
    "optional_string",
    "page_to_json",
    "parse_double",
    "parse_int",
    "parse_model_status",
    "parse_run_status",
    "parse_string",
    "parse_view_type",
    "require_field",
    "run_from_json",
    "run_id_from",
    "run_info_from_json",
    "run_info_to_json",
    "run_inputs_to_json",
    "run_outputs_to_json",
    "run_to_json",
    "string_list",
]
