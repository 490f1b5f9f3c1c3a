"""An MLflow tracking database (SQLite, PostgreSQL, MySQL), read with plain SQL.

Reading the tables directly (not through the ``mlflow`` package, which runyard does not need at
run time) ties the reader to MLflow's schema, so only the Alembic revisions whose tracking
tables it was checked against are accepted; any other revision is refused by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import sqlalchemy as sa

from runyard.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from runyard.importer.records import ImportRefused, RegistryRecord, RunRecord
from runyard.importer.source_registry import registry_from_database
from runyard.store.sql.engine import create_engine

#: MLflow's schema revisions this reader knows, newest first: from "add step to inputs table"
#: (MLflow 3.0) to the head of MLflow 3.17. Their tracking tables have the columns read here.
KNOWN_REVISIONS = [
    "dc11669786a5",
    "75868b020152",
    "b7e2c1a4d9f3",
    "17e22815139b",
    "1971f2d9a75b",
    "6f8d9c3b2a1e",
    "c3d9e7f1a2b4",
    "c1d2e3f4a5b6",
    "a8b9c0d1e2f3",
    "b7e4c1a90f23",
    "89d3d66ed43f",
    "da6fb0208061",
    "7d34483879f0",
    "ae8bbe7743c9",
    "a5b4c3d2e1f0",
    "c3d6457b6d8a",
    "76601a5f987d",
    "e1f2a3b4c5d6",
    "1b5f0d9ad7c1",
    "c8d9e0f1a2b3",
    "d0e1f2a3b4c5",
    "d3e4f5a6b7c8",
    "2c33131f4dae",
    "c9d4e5f6a7b8",
    "5d2d30f0abce",
    "b7c8d9e0f1a2",
    "1bd49d398cd23",
    "bf29a5ff90ea",
    "3da73c924c2f",
    "71994744cf8e",
    "534353b11cbc",
    "1a0cddfcaa16",
    "de4033877273",
    "a1b2c3d4e5f6",
    "770bee3ae1dd",
    "cbc13b556ace",
    "bda7b8c39065",
    "6953534de441",
]


class MlflowSqlSource:
    """Reads experiments, runs, metric history, inputs and logged models of an MLflow DB."""

    def __init__(self, uri: str) -> None:
        self.description = uri
        self.engine = create_engine(uri)

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def check(self) -> None:
        revision = self.revision()
        if revision is None:
            raise ImportRefused(
                f"{self.description} has no alembic_version table: not an MLflow database."
            )
        if revision not in KNOWN_REVISIONS:
            raise ImportRefused(
                f"MLflow schema revision {revision!r} is not one runyard import knows (it reads "
                f"revisions {KNOWN_REVISIONS[-1]} to {KNOWN_REVISIONS[0]}, MLflow 3.0 to 3.17). "
                "Upgrade the database with `mlflow db upgrade` from a supported MLflow, or "
                "import through the REST API (--from http://…)."
            )

    def _rows(self, sql: str, **params: object) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def experiments(self) -> Iterator[Experiment]:
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for row in self._rows("SELECT experiment_id, key, value FROM experiment_tags"):
            tags[row.experiment_id][row.key] = row.value or ""
        for row in self._rows(
            "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time FROM experiments ORDER BY experiment_id"
        ):
            yield Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location or "",
                lifecycle_stage=LifecycleStage(row.lifecycle_stage or "active"),
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
                tags=tags.get(row.experiment_id, {}),
            )

    def logged_models(self, experiment_id: str) -> Iterator[LoggedModel]:
        eid = int(experiment_id)
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows(
            "SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE experiment_id = :e",
            e=eid,
        ):
            tags[row.model_id][row.tag_key] = row.tag_value
        for row in self._rows(
            "SELECT model_id, param_key, param_value FROM logged_model_params "
            "WHERE experiment_id = :e",
            e=eid,
        ):
            params[row.model_id][row.param_key] = row.param_value
        for row in self._rows(
            "SELECT model_id, name, artifact_location, creation_timestamp_ms, "
            "last_updated_timestamp_ms, status, model_type, source_run_id, status_message "
            "FROM logged_models WHERE experiment_id = :e ORDER BY creation_timestamp_ms",
            e=eid,
        ):
            yield LoggedModel(
                model_id=row.model_id,
                experiment_id=experiment_id,
                name=row.name,
                artifact_location=row.artifact_location,
                creation_timestamp=row.creation_timestamp_ms,
                last_updated_timestamp=row.last_updated_timestamp_ms,
                status=LoggedModelStatus.from_number(row.status),
                source_run_id=row.source_run_id,
                model_type=row.model_type,
                status_message=row.status_message,
                tags=tags.get(row.model_id, {}),
                params=params.get(row.model_id, {}),
            )

    def run_ids(self, experiment_id: str) -> list[str]:
        rows = self._rows(
            "SELECT run_uuid FROM runs WHERE experiment_id = :e ORDER BY start_time, run_uuid",
            e=int(experiment_id),
        )
        return [row.run_uuid for row in rows]

    def run(self, run_id: str) -> RunRecord:
        (row,) = self._rows(
            "SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
            "artifact_uri, lifecycle_stage, deleted_time FROM runs WHERE run_uuid = :r",
            r=run_id,
        )
        info = RunInfo(
            run_id=row.run_uuid,
            experiment_id=str(row.experiment_id),
            run_name=row.name or "",
            user_id=row.user_id or "",
            status=RunStatus(row.status or "RUNNING"),
            start_time=row.start_time,
            end_time=row.end_time,
            artifact_uri=row.artifact_uri or "",
            lifecycle_stage=LifecycleStage(row.lifecycle_stage or "active"),
        )
        params = {
            r.key: r.value
            for r in self._rows("SELECT key, value FROM params WHERE run_uuid = :r", r=run_id)
        }
        tags = {
            r.key: r.value or ""
            for r in self._rows("SELECT key, value FROM tags WHERE run_uuid = :r", r=run_id)
        }
        inputs, outputs = self._inputs_and_outputs(run_id)
        return RunRecord(info, params, tags, inputs, outputs, row.deleted_time)

    def _inputs_and_outputs(self, run_id: str) -> tuple[RunInputs, RunOutputs]:
        links = self._rows(
            "SELECT input_uuid, source_type, source_id, destination_type, destination_id, step "
            "FROM inputs WHERE (destination_type = 'RUN' AND destination_id = :r) "
            "OR (source_type IN ('RUN_INPUT', 'RUN_OUTPUT') AND source_id = :r)",
            r=run_id,
        )
        datasets, models, outputs = [], [], []
        for link in links:
            if link.source_type == "DATASET":
                datasets.append(self._dataset_input(link.input_uuid, link.source_id))
            elif link.source_type == "RUN_INPUT":
                models.append(ModelInput(link.destination_id))
            elif link.source_type == "RUN_OUTPUT":
                outputs.append(ModelOutput(link.destination_id, link.step or 0))
        return RunInputs(tuple(d for d in datasets if d), tuple(models)), RunOutputs(tuple(outputs))

    def _dataset_input(self, input_uuid: str, dataset_uuid: str) -> DatasetInput | None:
        rows = self._rows(
            "SELECT name, digest, dataset_source_type, dataset_source, dataset_schema, "
            "dataset_profile FROM datasets WHERE dataset_uuid = :d",
            d=dataset_uuid,
        )
        if not rows:
            return None
        row = rows[0]
        tags = {
            t.name: t.value
            for t in self._rows(
                "SELECT name, value FROM input_tags WHERE input_uuid = :i", i=input_uuid
            )
        }
        dataset = Dataset(
            row.name,
            row.digest,
            row.dataset_source_type,
            row.dataset_source,
            row.dataset_schema,
            row.dataset_profile,
        )
        return DatasetInput(dataset, tags)

    def metric_points(self, run_id: str) -> Iterator[Metric]:
        model_links = self._model_links(run_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(
                sa.text(
                    "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = :r"
                ),
                {"r": run_id},
            )
            for row in result:
                value = float("nan") if row.is_nan else float(row.value)
                link = model_links.get((row.key, row.timestamp, row.step))
                if link is None:
                    yield Metric(row.key, value, row.timestamp, row.step, run_id)
                else:
                    yield Metric(row.key, value, row.timestamp, row.step, run_id, *link)

    def _model_links(self, run_id: str) -> dict[tuple, tuple]:
        """(key, timestamp, step) -> (model_id, dataset_name, dataset_digest) of model metrics."""
        rows = self._rows(
            "SELECT metric_name, metric_timestamp_ms, metric_step, model_id, dataset_name, "
            "dataset_digest FROM logged_model_metrics WHERE run_id = :r",
            r=run_id,
        )
        return {
            (r.metric_name, r.metric_timestamp_ms, r.metric_step): (
                r.model_id,
                r.dataset_name,
                r.dataset_digest,
            )
            for r in rows
        }

    def count_points(self, run_id: str) -> int:
        return self._rows("SELECT count(*) AS n FROM metrics WHERE run_uuid = :r", r=run_id)[0].n

    def registered_models(self) -> Iterator[RegistryRecord]:
        return registry_from_database(self.engine)

    def close(self) -> None:
        self.engine.dispose()
