"""The JSON the import routes speak (``/api/2.0/runyard/import/*``): MLflow's own shapes for
experiments, runs, metrics, logged models and registry entities, plus what those shapes leave
out and an import must keep (a run's deleted time, a version's storage location)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from runyard import protocol as p
from runyard.entities import Metric
from runyard.importer.records import RegistryRecord, RunRecord
from runyard.registry import protocol as rp

#: Where the routes are mounted on a runyard server.
IMPORT_API = "/api/2.0/runyard/import"

Json = dict[str, Any]


def run_record_to_json(record: RunRecord) -> Json:
    return {
        "info": p.run_info_to_json(record.info),
        "data": {
            "params": p.key_values_to_json(record.params),
            "tags": p.key_values_to_json(record.tags),
        },
        "inputs": p.run_inputs_to_json(record.inputs),
        "outputs": p.run_outputs_to_json(record.outputs),
        "deleted_time": record.deleted_time,
    }


def run_record_from_json(obj: Mapping[str, Any]) -> RunRecord:
    run = p.run_from_json(obj)
    return RunRecord(
        run.info,
        dict(run.data.params),
        dict(run.data.tags),
        run.inputs,
        run.outputs,
        obj.get("deleted_time"),
    )


def metrics_to_json(points: Iterable[Metric]) -> list[Json]:
    return [p.metric_to_json(point) for point in points]


def metrics_from_json(items: Iterable[Mapping[str, Any]], run_id: str) -> list[Metric]:
    return [p.metric_from_json(item, f"metrics[{i}].", run_id) for i, item in enumerate(items)]


def registry_record_to_json(record: RegistryRecord) -> Json:
    versions = []
    for mv in record.versions:
        item = rp.model_version_to_json(mv)
        item["storage_location"] = mv.storage_location
        versions.append(item)
    return {"registered_model": rp.registered_model_to_json(record.model), "versions": versions}


def registry_record_from_json(obj: Mapping[str, Any]) -> RegistryRecord:
    versions = [
        dataclasses.replace(
            rp.model_version_from_json(item), storage_location=item.get("storage_location") or ""
        )
        for item in obj.get("versions") or ()
    ]
    return RegistryRecord(rp.registered_model_from_json(obj["registered_model"]), versions)
