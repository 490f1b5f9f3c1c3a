"""A runyard SQL store as the import's target, written with the ids the source gave.

The public store API makes new ids, so rows go in through the store's tables and its bulk
metric path (``metrics.write_points``: multi-row or array inserts that keep the summaries
current). Each run is one transaction (run, params, tags, whole history), so a run is either
fully there or absent: an import killed halfway and run again skips the runs it finished and
redoes the one it was writing. Inputs and outputs go through the store's own idempotent calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import sqlalchemy as sa

from runyard.entities import Experiment, LifecycleStage, LoggedModel, Metric
from runyard.importer.records import POINT_CHUNK, ImportRefused, RunRecord
from runyard.store.sql import models as m
from runyard.store.sql.dialect import insert_ignore, upsert
from runyard.store.sql.metrics import write_points
from runyard.store.sql.runs import _link_model_metrics
from runyard.store.sql.store import SqlStore


class SqlTarget:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine = store.engine

    def put_experiment(self, experiment: Experiment) -> None:
        experiment_id = int(experiment.experiment_id)
        values = {
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "lifecycle_stage": experiment.lifecycle_stage.value,
            "creation_time": experiment.creation_time,
            "last_update_time": experiment.last_update_time,
        }
        table = m.experiments
        with self.engine.begin() as conn:
            clash = conn.execute(
                sa.select(table.c.experiment_id).where(
                    table.c.name == experiment.name, table.c.experiment_id != experiment_id
                )
            ).first()
            if clash is not None:
                raise ImportRefused(
                    f"The target already has an experiment named {experiment.name!r} with id "
                    f"{clash.experiment_id}, not {experiment_id}: import into an empty store."
                )
            exists = conn.execute(
                sa.select(table.c.experiment_id).where(table.c.experiment_id == experiment_id)
            ).first()
            if exists is None:
                conn.execute(sa.insert(table), {"experiment_id": experiment_id, **values})
            else:
                conn.execute(
                    sa.update(table).where(table.c.experiment_id == experiment_id).values(values)
                )
            rows = [
                {"experiment_id": experiment_id, "key": k, "value": v}
                for k, v in experiment.tags.items()
            ]
            if rows:
                upsert(conn, m.experiment_tags, rows, ["experiment_id", "key"], ["value"])
            if conn.dialect.name == "postgresql":  # explicit ids do not move the sequence
                conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
                    "GREATEST(max(experiment_id), 1), max(experiment_id) >= 1) FROM experiments"
                )

    def put_logged_model(self, model: LoggedModel) -> None:
        with self.engine.begin() as conn:
            insert_ignore(
                conn,
                m.logged_models,
                [
                    {
                        "model_id": model.model_id,
                        "experiment_id": int(model.experiment_id),
                        "name": model.name,
                        "artifact_location": model.artifact_location,
                        "creation_timestamp": model.creation_timestamp,
                        "last_updated_timestamp": model.last_updated_timestamp,
                        "status": model.status.value,
                        "model_type": model.model_type,
                        "source_run_id": model.source_run_id,
                        "status_message": model.status_message,
                    }
                ],
            )
            for table, items in (
                (m.logged_model_tags, model.tags),
                (m.logged_model_params, model.params),
            ):
                rows = [
                    {"model_id": model.model_id, "key": k, "value": v} for k, v in items.items()
                ]
                insert_ignore(conn, table, rows)

    def has_finished_run(self, record: RunRecord) -> bool:
        """The run is there with its final lifecycle stage (written last)."""
        with self.engine.connect() as conn:
            stage = conn.execute(
                sa.select(m.runs.c.lifecycle_stage).where(m.runs.c.run_uuid == record.info.run_id)
            ).scalar()
        return stage is not None and (
            stage == LifecycleStage.DELETED.value
            or record.info.lifecycle_stage == LifecycleStage.ACTIVE
        )

    def put_run(self, record: RunRecord, points: Iterable[Metric]) -> int:
        """Write the run (if absent) and its history; returns the points handed to the store."""
        info = record.info
        written = 0
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(m.runs.c.run_uuid).where(m.runs.c.run_uuid == info.run_id)
            ).first()
            if exists is None:
                conn.execute(
                    sa.insert(m.runs),
                    {
                        "run_uuid": info.run_id,
                        "experiment_id": int(info.experiment_id),
                        "name": info.run_name,
                        "user_id": info.user_id,
                        "status": info.status.value,
                        "start_time": info.start_time,
                        "end_time": info.end_time,
                        "artifact_uri": info.artifact_uri,
                        "lifecycle_stage": LifecycleStage.ACTIVE.value,  # final stage set last
                    },
                )
                for table, items in ((m.params, record.params), (m.tags, record.tags)):
                    rows = [
                        {"run_uuid": info.run_id, "key": k, "value": v} for k, v in items.items()
                    ]
                    if rows:
                        conn.execute(sa.insert(table), rows)
                iterator = iter(points)
                while chunk := list(itertools.islice(iterator, POINT_CHUNK)):
                    write_points(conn, info.run_id, chunk)
                    if any(metric.model_id for metric in chunk):
                        _link_model_metrics(conn, info.run_id, chunk)
                    written += len(chunk)
        inputs, outputs = record.inputs, record.outputs
        if inputs.dataset_inputs or inputs.model_inputs:
            self.store.log_inputs(info.run_id, inputs.dataset_inputs, inputs.model_inputs)
        if outputs.model_outputs:
            self.store.log_outputs(info.run_id, outputs.model_outputs)
        if info.lifecycle_stage == LifecycleStage.DELETED:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(m.runs)
                    .where(m.runs.c.run_uuid == info.run_id)
                    .values(
                        lifecycle_stage=LifecycleStage.DELETED.value,
                        deleted_time=record.deleted_time,
                    )
                )
        return written
