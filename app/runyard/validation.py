"""Checks on names, values and paths, run before anything is written.

Limits are MLflow's. One deliberate difference: MLflow silently truncates over-long param and
tag values; runyard rejects them with ``INVALID_PARAMETER_VALUE`` naming the key, the length and
the limit, because a value that was cut without a word is a value that was lost.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from runyard import tags as system_tags
from runyard.entities import DatasetInput, Metric, ModelOrder, ModelOutput, Param, RunTag
from runyard.errors import InvalidParameterValue
from runyard.wire_types import INT_RANGES

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_RESULTS_SEARCH_RUNS = 50000
MAX_RESULTS_SEARCH_EXPERIMENTS = 50000
#: MLflow's documented page size of ``metrics/get-history``: the default and the most one reply
#: holds, so a million-point metric is paged instead of answered (and held in memory) at once.
MAX_RESULTS_GET_METRIC_HISTORY = 25000
MAX_RUN_NAME_LENGTH = 250
MAX_USER_ID_LENGTH = 256  # MLflow's runs.user_id column
INT64_MIN, INT64_MAX = INT_RANGES["int64"]
#: MLflow's dataset column sizes; profile is separate because it is far larger.
DATASET_FIELD_LIMITS = {
    "name": 500,
    "digest": 36,
    "source_type": 36,
    "source": 65535,
    "schema": 1048575,
}
MAX_MODEL_ID_LENGTH = 64  # runyard's logged-model ids; the metrics' model_id column
MAX_DATASET_PROFILE_LENGTH = 16777215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

_KEY_CHARS = re.compile(r"^[/\w.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
#: A logged model's id, as stored wherever a model is referred to (a run's inputs and outputs,
#: a model version): a file name on the file store, at most MAX_MODEL_ID_LENGTH characters.
_MODEL_ID = re.compile(rf"^[a-zA-Z0-9][\w\-]{{0,{MAX_MODEL_ID_LENGTH - 1}}}$")


#: Keys already proven valid: a batch repeats a few keys for every point, and the checks below
#: (regex, normpath) cost more than a set lookup. Bounded; cleared when full.
_VALID_KEYS: set[str] = set()
_VALID_KEYS_MAX = 10_000


def validate_key(key: object, what: str = "key") -> str:
    """A metric, param or tag key: MLflow's characters, no path tricks, at most 250 chars."""
    if type(key) is str and key in _VALID_KEYS:
        return key
    _check_key(key, what)
    if type(key) is str:  # not a str subclass, whose equality could differ
        if len(_VALID_KEYS) >= _VALID_KEYS_MAX:
            _VALID_KEYS.clear()
        _VALID_KEYS.add(key)
    return key


def _check_key(key: object, what: str) -> None:
    if not isinstance(key, str) or key == "":
        raise InvalidParameterValue(f"Missing value for required parameter '{what}'.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameterValue(
            f"'{what}' exceeds the maximum length of {MAX_KEY_LENGTH} characters "
            f"(got {len(key)}): {key[:40]!r}..."
        )
    if not _KEY_CHARS.match(key):
        raise InvalidParameterValue(
            f"Invalid value \"{key}\" for parameter '{what}' supplied: Names may only contain "
            "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) "
            "and slashes (/)."
        )
    normalized = posixpath.normpath(key)
    if normalized != key or key.startswith("/") or normalized == "." or key.startswith(".."):
        raise InvalidParameterValue(
            f"Invalid value \"{key}\" for parameter '{what}' supplied: Names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such. "
            f"This name would resolve to '{normalized}'"
        )


def validate_param_value(key: str, value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidParameterValue(
            f"Param value for key '{key}' is {len(text)} characters long; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH}. Store long values as an artifact instead."
        )
    return text


def validate_tag_value(key: str, value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterValue(
            f"Tag value for key '{key}' is {len(text)} characters long; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}."
        )
    return text


def validate_metric(metric: Metric) -> Metric:
    validate_key(metric.key, "name")
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameterValue(
            f"Invalid value {value!r} for metric '{metric.key}': expected a number, got "
            f"{type(value).__name__}."
        )
    if not isinstance(metric.timestamp, int) or isinstance(metric.timestamp, bool):
        raise InvalidParameterValue(
            f"Invalid timestamp {metric.timestamp!r} for metric '{metric.key}': expected an "
            "integer number of milliseconds."
        )
    if not isinstance(metric.step, int) or isinstance(metric.step, bool):
        raise InvalidParameterValue(
            f"Invalid step {metric.step!r} for metric '{metric.key}': expected an integer."
        )
    if not 0 <= metric.timestamp <= INT64_MAX:
        raise InvalidParameterValue(
            f"Invalid value {metric.timestamp} for parameter 'timestamp' supplied: metric "
            f"'{metric.key}' (value={value}). Timestamp must be a nonnegative long (64-bit "
            "integer) "
        )
    if not INT64_MIN <= metric.step <= INT64_MAX:
        raise InvalidParameterValue(
            f"Invalid value {metric.step} for parameter 'step' supplied: metric "
            f"'{metric.key}' (value={value}). Step must be a valid long (64-bit integer)."
        )
    for field, limit in (
        ("model_id", MAX_MODEL_ID_LENGTH),
        ("dataset_name", DATASET_FIELD_LIMITS["name"]),
        ("dataset_digest", DATASET_FIELD_LIMITS["digest"]),
    ):
        text = getattr(metric, field)
        if text is not None and len(text) > limit:
            raise InvalidParameterValue(
                f"The {field} of metric '{metric.key}' exceeds the maximum length of {limit} "
                f"characters (got {len(text)})."
            )
    return metric


def validate_param(param: Param) -> Param:
    validate_key(param.key, "key")
    validate_param_value(param.key, param.value)
    return param


def validate_tag(tag: RunTag) -> RunTag:
    validate_key(tag.key, "key")
    validate_tag_value(tag.key, tag.value)
    return tag


def validate_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> None:
    """All-or-nothing check of a ``log_batch``: limits, every entry, duplicate param keys."""
    for items, limit, name in (
        (metrics, MAX_METRICS_PER_BATCH, "metrics"),
        (params, MAX_PARAMS_PER_BATCH, "params"),
        (tags, MAX_TAGS_PER_BATCH, "tags"),
    ):
        if len(items) > limit:
            raise InvalidParameterValue(
                f"A batch logging request can contain at most {limit} {name}. Got {len(items)} "
                f"{name}. Please split up {name} across multiple requests and try again."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics, "
            f"params, and tags in total. Got {total}."
        )
    for metric in metrics:
        # The ingest hot path: a point with a known key and exact types needs no further check
        # (up to 1000 points per batch, usually under a handful of keys).
        if (
            metric.key.__class__ is str
            and metric.key in _VALID_KEYS
            and metric.value.__class__ in (float, int)
            and metric.timestamp.__class__ is int
            and metric.step.__class__ is int
            and 0 <= metric.timestamp <= INT64_MAX
            and INT64_MIN <= metric.step <= INT64_MAX
            and metric.model_id is None
            and metric.dataset_name is None
            and metric.dataset_digest is None
        ):
            continue
        validate_metric(metric)
    for param in params:
        validate_param(param)
    for tag in tags:
        validate_tag(tag)
    counts = Counter(p.key for p in params)
    duplicates = sorted(key for key, n in counts.items() if n > 1)
    if duplicates:
        raise InvalidParameterValue(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the "
            "request contains only one param value per param key."
        )


def validate_dataset_input(item: DatasetInput) -> DatasetInput:
    """A dataset logged as a run input: name and digest present, MLflow's size limits."""
    dataset = item.dataset
    for field, limit in DATASET_FIELD_LIMITS.items():
        value = getattr(dataset, field) or ""
        if len(value) > limit:
            raise InvalidParameterValue(
                f"Dataset {field} exceeds the maximum length of {limit} characters"
            )
    if not dataset.name or not dataset.digest:
        raise InvalidParameterValue("A dataset input needs a non-empty name and digest.")
    if len(dataset.profile or "") > MAX_DATASET_PROFILE_LENGTH:
        raise InvalidParameterValue(
            f"Dataset profile exceeds the maximum length of {MAX_DATASET_PROFILE_LENGTH} characters"
        )
    for key, value in item.tags.items():
        if not key or len(key) > MAX_INPUT_TAG_KEY_LENGTH:
            raise InvalidParameterValue(
                f"Input tag key {key!r} must be 1 to {MAX_INPUT_TAG_KEY_LENGTH} characters long"
            )
        if len(value or "") > MAX_INPUT_TAG_VALUE_LENGTH:
            raise InvalidParameterValue(
                f"Input tag value for key {key!r} exceeds the maximum length of "
                f"{MAX_INPUT_TAG_VALUE_LENGTH} characters"
            )
    return item


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue("Missing value for required parameter 'name'.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterValue(
            f"'name' exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    return name


def validate_experiment_tag(key: object, value: object) -> tuple[str, str]:
    if not isinstance(key, str) or key == "":
        raise InvalidParameterValue("Missing value for required parameter 'key'.")
    if len(key) > MAX_EXPERIMENT_TAG_KEY_LENGTH:
        raise InvalidParameterValue(
            f"'key' exceeds the maximum length of {MAX_EXPERIMENT_TAG_KEY_LENGTH} characters"
        )
    text = "" if value is None else str(value)
    if len(text) > MAX_EXPERIMENT_TAG_VALUE_LENGTH:
        raise InvalidParameterValue(
            f"'value' exceeds the maximum length of {MAX_EXPERIMENT_TAG_VALUE_LENGTH} characters"
        )
    return key, text


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidParameterValue(f"Invalid run ID {run_id!r}.")
    return run_id


def validate_model_id(model_id: object) -> str:
    """A logged model id fit to be stored or used as a file name (``m-`` and 32 hex digits
    when runyard or MLflow made it)."""
    if not isinstance(model_id, str) or not _MODEL_ID.match(model_id):
        raise InvalidParameterValue(f"Invalid logged model ID {model_id!r}.")
    return model_id


def validate_model_output(output: ModelOutput) -> ModelOutput:
    """A run's output: the model's id and the step (an integer) it was logged at."""
    validate_model_id(output.model_id)
    if not isinstance(output.step, int) or isinstance(output.step, bool):
        raise InvalidParameterValue(f"Invalid step {output.step!r} for model output.")
    return output


def validate_experiment_id(experiment_id: object) -> str:
    """Experiment ids are decimal integers (as strings), like MLflow's SQL store."""
    text = str(experiment_id) if isinstance(experiment_id, int) else experiment_id
    if not isinstance(text, str) or not text.isdigit():
        raise InvalidParameterValue(
            f"Invalid experiment ID {experiment_id!r}. Experiment ID must be a valid integer."
        )
    return text


def validate_max_results(max_results: object, limit: int, what: str = "max_results") -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidParameterValue(f"Invalid value {max_results!r} for parameter '{what}'.")
    if max_results <= 0:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter '{what}' supplied. It must be a "
            "positive integer"
        )
    if max_results > limit:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter '{what}' supplied. It must be at most "
            f"{limit}."
        )
    return max_results


#: Logged-model fields ``search_logged_models`` can order by (MLflow's attribute names).
LOGGED_MODEL_ORDER_FIELDS = ("name", "model_id", "creation_timestamp", "last_updated_timestamp")
#: ``metrics.<key>`` orders logged models by their latest value of that metric.
METRIC_ORDER_PREFIX = "metrics."


def validate_model_order_by(order_by: Sequence[Sequence[Any]] | None) -> list[ModelOrder]:
    """``ModelOrder`` entries (or plain ``(field, ascending)`` pairs) for logged-model search:
    an attribute, or ``metrics.<key>`` (the model's latest value of that metric, as MLflow
    orders), which alone may name a dataset."""
    checked = []
    for entry in order_by or ():
        order = ModelOrder(*entry)
        field_name = order.field
        is_metric = (
            isinstance(field_name, str)
            and field_name.startswith(METRIC_ORDER_PREFIX)
            and len(field_name) > len(METRIC_ORDER_PREFIX)
        )
        if field_name not in LOGGED_MODEL_ORDER_FIELDS and not is_metric:
            raise InvalidParameterValue(
                f"Invalid order_by field_name {field_name!r} for logged models: it must be one "
                f"of {', '.join(LOGGED_MODEL_ORDER_FIELDS)} or {METRIC_ORDER_PREFIX}<key>."
            )
        if not is_metric and (order.dataset_name or order.dataset_digest):
            raise InvalidParameterValue(
                f"order_by {field_name!r} names a dataset: only a metric is measured on one."
            )
        checked.append(order._replace(ascending=bool(order.ascending)))
    return checked


def safe_relative_path(path: str | None) -> str:
    """A normalised artifact path relative to its root, or "" for the root itself.

    Refuses what could leave the root: absolute paths, ``..`` segments, backslashes, NUL and
    other control characters, drive letters. Symlinks are checked by each repository, which
    knows its own filesystem.
    """
    if path is None or path in ("", ".", "/"):
        return ""
    if not isinstance(path, str):
        raise InvalidParameterValue(f"Invalid artifact path {path!r}.")
    if any(ord(ch) < 32 for ch in path) or "\\" in path:
        raise InvalidParameterValue(f"Invalid path: {path!r}")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise InvalidParameterValue(f"Invalid path: {path!r} is absolute")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidParameterValue(f"Invalid path: {path!r} leaves the artifact root")
    return "/".join(parts)


#: The logged_models columns' sizes (as MLflow's): name and model_type.
MAX_LOGGED_MODEL_FIELD_LENGTH = 500


def validate_logged_model_fields(name: str | None, model_type: str | None) -> None:
    """A logged model's name and type fit their columns (every store refuses longer ones)."""
    for field, text in (("name", name), ("model_type", model_type)):
        if text is not None and len(text) > MAX_LOGGED_MODEL_FIELD_LENGTH:
            raise InvalidParameterValue(
                f"The logged model's {field} exceeds the maximum length of "
                f"{MAX_LOGGED_MODEL_FIELD_LENGTH} characters (got {len(text)})."
            )


def validate_user_id(user_id: str | None) -> str:
    """A run's user id ("" when none is given), at most MAX_USER_ID_LENGTH characters."""
    user_id = user_id or ""
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidParameterValue(
            f"User id exceeds the maximum length of {MAX_USER_ID_LENGTH} characters "
            f"(got {len(user_id)})."
        )
    return user_id


def check_run_name(run_name: str | None, tags: Iterable[RunTag]) -> str | None:
    """A new run's name from the ``run_name`` argument and the ``mlflow.runName`` tag, which
    must agree when both are given (MLflow's rule and message), at most MAX_RUN_NAME_LENGTH
    characters; None when neither names the run (the store then picks a name)."""
    tagged = next((t.value for t in tags if t.key == system_tags.RUN_NAME), None)
    if run_name and tagged and tagged != run_name:
        raise InvalidParameterValue(
            f"Both 'run_name' argument and '{system_tags.RUN_NAME}' tag are specified, but with "
            f"different values (run_name='{run_name}', {system_tags.RUN_NAME}='{tagged}')."
        )
    name = run_name or tagged or None
    if name is not None and len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Run name exceeds the maximum length of {MAX_RUN_NAME_LENGTH} characters "
            f"(got {len(name)})."
        )
    return name
