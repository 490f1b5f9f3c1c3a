"""Turning run rows into ``Run`` entities in bulk: a fixed number of queries per page of runs
(params, tags, latest metrics, inputs, outputs), never one per run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    assemble_run,
    assemble_run_info,
)
from runyard.store.sql import models as m
from runyard.store.sql.drivers import driver_of
from runyard.store.sql.metrics import latest_metrics

RUN_COLUMNS = (
    m.runs.c.run_uuid,
    m.runs.c.experiment_id,
    m.runs.c.name,
    m.runs.c.user_id,
    m.runs.c.status,
    m.runs.c.start_time,
    m.runs.c.end_time,
    m.runs.c.artifact_uri,
    m.runs.c.lifecycle_stage,
)
_STATUS = {s.value: s for s in RunStatus}
_STAGE = {s.value: s for s in LifecycleStage}


def run_info(row: Sequence) -> RunInfo:
    run_id, experiment_id, name, user_id, status, start, end, artifact_uri, stage = row[:9]
    return assemble_run_info(
        {
            "run_id": run_id,
            "experiment_id": str(experiment_id),
            "run_name": name,
            "user_id": user_id,
            "status": _STATUS.get(status, RunStatus.RUNNING),
            "start_time": start,
            "end_time": end,
            "artifact_uri": artifact_uri,
            "lifecycle_stage": _STAGE.get(stage, LifecycleStage.ACTIVE),
        }
    )


def _key_values(conn: Connection, table: sa.Table, run_ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {run_id: {} for run_id in run_ids}
    sql = f"SELECT run_uuid, key, value FROM {table.name} WHERE run_uuid {{ids}}"
    for run_id, key, value in driver_of(conn).fetch_for_ids(conn, sql, run_ids):
        found[run_id][key] = value
    return found


def load_runs(conn: Connection, rows: Sequence[Sequence]) -> list[Run]:
    """Runs for ``rows`` (each holding ``RUN_COLUMNS``), in the same order."""
    if not rows:
        return []
    run_ids = [row[0] for row in rows]
    params = _key_values(conn, m.params, run_ids)
    tags = _key_values(conn, m.tags, run_ids)
    metrics = latest_metrics(conn, run_ids)
    inputs, outputs = _inputs_outputs(conn, run_ids)
    empty_inputs, empty_outputs = RunInputs(), RunOutputs()
    return [
        assemble_run(
            run_info(row),
            RunData.owned(tuple(metrics[row[0]]), params[row[0]], tags[row[0]]),
            inputs.get(row[0], empty_inputs),
            outputs.get(row[0], empty_outputs),
        )
        for row in rows
    ]


#: A page's inputs with their datasets, then its outputs: SQL text, not SQLAlchemy constructs,
#: which cost more to build and compile per page than the database takes to answer.
_INPUTS = (
    "SELECT i.run_uuid, i.input_type, i.input_id, d.name, d.digest, d.source_type, d.source, "
    'd."schema", d.profile FROM run_inputs i '
    "LEFT JOIN datasets d ON d.dataset_uuid = i.input_id "
    "WHERE i.run_uuid {ids} ORDER BY i.run_uuid, i.position"
)
_INPUT_TAGS = "SELECT run_uuid, input_id, key, value FROM run_input_tags WHERE run_uuid {ids}"
_OUTPUTS = (
    "SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid {ids} "
    "ORDER BY run_uuid, model_id"
)


def _inputs_outputs(
    conn: Connection, run_ids: list[str]
) -> tuple[dict[str, RunInputs], dict[str, RunOutputs]]:
    driver = driver_of(conn)
    rows = driver.fetch_for_ids(conn, _INPUTS, run_ids)
    input_tags: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    if any(row[1] == "dataset" for row in rows):
        for run_id, input_id, key, value in driver.fetch_for_ids(conn, _INPUT_TAGS, run_ids):
            input_tags[(run_id, input_id)][key] = value
    datasets: dict[str, list[DatasetInput]] = defaultdict(list)
    models: dict[str, list[ModelInput]] = defaultdict(list)
    for run_id, kind, input_id, name, digest, source_type, source, schema, profile in rows:
        if kind == "model":
            models[run_id].append(ModelInput(input_id))
        elif name is not None:
            dataset = Dataset(
                name=name,
                digest=digest,
                source_type=source_type,
                source=source,
                schema=schema,
                profile=profile,
            )
            datasets[run_id].append(DatasetInput(dataset, input_tags.get((run_id, input_id), {})))
    inputs = {
        run_id: RunInputs(tuple(datasets.get(run_id, ())), tuple(models.get(run_id, ())))
        for run_id in set(datasets) | set(models)
    }
    outputs: dict[str, list[ModelOutput]] = defaultdict(list)
    for run_id, model_id, step in driver.fetch_for_ids(conn, _OUTPUTS, run_ids):
        outputs[run_id].append(ModelOutput(model_id, step))
    return inputs, {run_id: RunOutputs(tuple(items)) for run_id, items in outputs.items()}
