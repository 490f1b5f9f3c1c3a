"""What an imported record must be before the target writes it.

The import writes entities with the ids its source gave, past the API that would otherwise
check them, and over HTTP anyone allowed to import can send any record. So each record is held
to the rules runyard's own API applies to the same entity (``runyard.validation``,
``runyard.registry.validation``) before a row is written: a bad record is refused whole, with
a message that names it, and nothing of it is stored. Values that MLflow's API limits but its
database does not (a param's or a tag's value) are kept as long as the source holds them: the
import keeps what it finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runyard.entities import Experiment, LoggedModel, Metric
from runyard.errors import InvalidParameterValue
from runyard.importer.records import RegistryRecord, RunRecord
from runyard.registry import validation as registry_rules
from runyard.store.sql import models as m
from runyard.validation import (
    INT64_MAX,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_key,
    validate_metric,
    validate_model_id,
    validate_run_id,
)

#: The longest run id the target's tables hold (MLflow's are 32 hex digits).
RUN_ID_LENGTH: int = m.runs.c.run_uuid.type.length  # type: ignore[attr-defined]


def check_experiment_id(experiment_id: object) -> str:
    text = validate_experiment_id(experiment_id)
    if int(text) > INT64_MAX:
        raise InvalidParameterValue(f"Invalid experiment ID {experiment_id!r}: too large.")
    return text


def check_experiment(experiment: Experiment) -> None:
    check_experiment_id(experiment.experiment_id)
    validate_experiment_name(experiment.name)
    for key, value in experiment.tags.items():
        validate_experiment_tag(key, value)
    _check_text(experiment.artifact_location, "artifact_location")


def check_run_id(run_id: object) -> str:
    validate_run_id(run_id)
    if len(str(run_id)) > RUN_ID_LENGTH:
        raise InvalidParameterValue(
            f"Invalid run ID {run_id!r}: longer than {RUN_ID_LENGTH} characters."
        )
    return str(run_id)


def check_run(record: RunRecord) -> None:
    info = record.info
    check_run_id(info.run_id)
    check_experiment_id(info.experiment_id)
    _check_text(info.artifact_uri, "artifact_uri")
    deleted = record.deleted_time
    if deleted is not None and (isinstance(deleted, bool) or not isinstance(deleted, int)):
        raise InvalidParameterValue(f"Invalid deleted_time {deleted!r} for run {info.run_id}.")
    for what, items in (("param", record.params), ("tag", record.tags)):
        _check_pairs(items, what)


def check_points(points: Iterable[Metric]) -> None:
    for point in points:
        validate_metric(point)


def check_logged_model(model: LoggedModel) -> None:
    validate_model_id(model.model_id)
    check_experiment_id(model.experiment_id)
    if not isinstance(model.name, str) or not model.name:
        raise InvalidParameterValue(f"Logged model {model.model_id} has no name.")
    if model.source_run_id:
        check_run_id(model.source_run_id)
    for what, items in (("param", model.params), ("tag", model.tags)):
        _check_pairs(items, what)


def check_registered_model(record: RegistryRecord) -> None:
    name = registry_rules.validate_model_name(record.model.name)
    for key, value in record.model.tags.items():
        registry_rules.validate_tag(key, value)
    for version in record.versions:
        number = registry_rules.validate_version(version.version)
        if version.name != name:
            raise InvalidParameterValue(
                f"Version {number} names model {version.name!r}, not {name!r}."
            )
        if version.run_id:
            check_run_id(version.run_id)
        _check_text(version.source, "source")
        for key, value in version.tags.items():
            registry_rules.validate_tag(key, value)


def _check_pairs(items: Mapping[str, str], what: str) -> None:
    for key, value in items.items():
        validate_key(key, f"{what} key")
        if not isinstance(value, str):
            raise InvalidParameterValue(f"Invalid value {value!r} for {what} {key!r}.")


def _check_text(value: object, what: str) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidParameterValue(f"Invalid value {value!r} for {what}.")


__all__ = [
    "RUN_ID_LENGTH",
    "check_experiment",
    "check_experiment_id",
    "check_logged_model",
    "check_points",
    "check_registered_model",
    "check_run",
    "check_run_id",
]
