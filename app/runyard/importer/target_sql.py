"""A runyard SQL store as the import's target, written with the ids the source gave.

The public store API makes new ids, so rows go in through the store's tables and its bulk
metric path (``metrics.write_points``: multi-row or array inserts that keep the summaries
current). Each run is one transaction (run, params, tags, whole history), so a run is either
fully there or absent: an import killed halfway and run again skips the runs it finished and
redoes the one it was writing. Inputs and outputs go through the store's own idempotent calls.
Over HTTP a history can exceed one request, so the server's import routes write a run in parts
(``begin_run``, ``write_points``, ``finish_run``) and mark it pending until the last.

Every record is checked before its transaction begins (``importer.checks``), and a database
error becomes the store's own error (``translated_errors``): a record the target cannot hold is
refused whole with a message that names it, never half-written.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from runyard.entities import Experiment, LifecycleStage, LoggedModel, Metric
from runyard.errors import ResourceDoesNotExist
from runyard.importer import checks
from runyard.importer.records import POINT_CHUNK, ImportRefused, RegistryRecord, RunRecord
from runyard.importer.target_registry import put_registered_model
from runyard.store.sql import models as m
from runyard.store.sql.dialect import insert_ignore, upsert
from runyard.store.sql.engine import translated_errors
from runyard.store.sql.metrics import write_points
from runyard.store.sql.runs import _link_model_metrics
from runyard.store.sql.store import SqlStore

#: A run tag present while a run's history arrives in parts; removed when the run is complete.
PENDING_TAG = "runyard.import.pending"


class SqlTarget:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine = store.engine

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        with translated_errors(), self.engine.begin() as conn:
            yield conn

    def put_experiment(self, experiment: Experiment) -> None:
        checks.check_experiment(experiment)
        experiment_id = int(experiment.experiment_id)
        values = {
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "lifecycle_stage": experiment.lifecycle_stage.value,
            "creation_time": experiment.creation_time,
            "last_update_time": experiment.last_update_time,
        }
        table = m.experiments
        with self._transaction() as conn:
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
        checks.check_logged_model(model)
        with self._transaction() as conn:
            _require_experiment(conn, model.experiment_id)
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
        """The run is there with its final lifecycle stage (written last) and no mark of a
        history still being written in parts (``PENDING_TAG``)."""
        run_id = checks.check_run_id(record.info.run_id)
        with translated_errors(), self.engine.connect() as conn:
            stage = conn.execute(
                sa.select(m.runs.c.lifecycle_stage).where(m.runs.c.run_uuid == run_id)
            ).scalar()
            pending = conn.execute(
                sa.select(m.tags.c.key).where(
                    m.tags.c.run_uuid == run_id, m.tags.c.key == PENDING_TAG
                )
            ).first()
        return (
            stage is not None
            and pending is None
            and (
                stage == LifecycleStage.DELETED.value
                or record.info.lifecycle_stage == LifecycleStage.ACTIVE
            )
        )

    def put_run(self, record: RunRecord, points: Iterable[Metric]) -> int:
        """Write the run (if absent) and its history in one transaction; returns the points
        handed to the store."""
        checks.check_run(record)
        written = 0
        with self._transaction() as conn:
            if self._insert_run(conn, record, pending=False):
                iterator = iter(points)
                while chunk := list(itertools.islice(iterator, POINT_CHUNK)):
                    _write_chunk(conn, record.info.run_id, chunk)
                    written += len(chunk)
        self.finish_run(record)
        return written

    # ---- a run in parts, for a target reached over HTTP (one request per part) --------------
    def begin_run(self, record: RunRecord) -> None:
        """The run with its params and tags, marked pending until ``finish_run``."""
        checks.check_run(record)
        with self._transaction() as conn:
            self._insert_run(conn, record, pending=True)

    def write_points(self, run_id: str, points: list[Metric]) -> None:
        """Points of a begun run; a part sent twice is stored once."""
        checks.check_run_id(run_id)
        with self._transaction() as conn:
            _require_run(conn, run_id)
            _write_chunk(conn, run_id, points)

    def finish_run(self, record: RunRecord) -> None:
        """Inputs and outputs, then the final lifecycle stage: the run counts as imported."""
        checks.check_run(record)
        info = record.info
        with self._transaction() as conn:
            _require_run(conn, info.run_id)
        inputs, outputs = record.inputs, record.outputs
        if inputs.dataset_inputs or inputs.model_inputs:
            self.store.log_inputs(info.run_id, inputs.dataset_inputs, inputs.model_inputs)
        if outputs.model_outputs:
            self.store.log_outputs(info.run_id, outputs.model_outputs)
        with self._transaction() as conn:
            conn.execute(
                sa.delete(m.tags).where(
                    m.tags.c.run_uuid == info.run_id, m.tags.c.key == PENDING_TAG
                )
            )
            if info.lifecycle_stage == LifecycleStage.DELETED:
                conn.execute(
                    sa.update(m.runs)
                    .where(m.runs.c.run_uuid == info.run_id)
                    .values(
                        lifecycle_stage=LifecycleStage.DELETED.value,
                        deleted_time=record.deleted_time,
                    )
                )

    def _insert_run(self, conn: sa.Connection, record: RunRecord, *, pending: bool) -> bool:
        """Insert the run row, params and tags unless the run is there; True when inserted."""
        info = record.info
        exists = conn.execute(
            sa.select(m.runs.c.run_uuid).where(m.runs.c.run_uuid == info.run_id)
        ).first()
        if exists is not None:
            return False
        _require_experiment(conn, info.experiment_id)
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
        tags = {**record.tags, PENDING_TAG: "true"} if pending else record.tags
        for table, items in ((m.params, record.params), (m.tags, tags)):
            rows = [{"run_uuid": info.run_id, "key": k, "value": v} for k, v in items.items()]
            if rows:
                conn.execute(sa.insert(table), rows)
        return True

    def put_registered_model(self, record: RegistryRecord) -> int:
        checks.check_registered_model(record)
        with translated_errors():
            return put_registered_model(self.engine, record)

    def close(self) -> None:
        self.store.close()


def _pending(run_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(m.tags.c.run_uuid == run_id, m.tags.c.key == PENDING_TAG)


def _require_experiment(conn: sa.Connection, experiment_id: str) -> None:
    table = m.experiments
    found = conn.execute(
        sa.select(table.c.experiment_id).where(table.c.experiment_id == int(experiment_id))
    ).first()
    if found is None:
        raise ResourceDoesNotExist(
            f"Experiment {experiment_id} is not in the target: import the experiment first."
        )


def _require_run(conn: sa.Connection, run_id: str) -> None:
    found = conn.execute(sa.select(m.runs.c.run_uuid).where(m.runs.c.run_uuid == run_id)).first()
    if found is None:
        raise ResourceDoesNotExist(f"Run {run_id} is not in the target: begin the run first.")


def _write_chunk(conn: sa.Connection, run_id: str, chunk: list[Metric]) -> None:
    checks.check_points(chunk)
    write_points(conn, run_id, chunk)
    if any(metric.model_id for metric in chunk):
        _link_model_metrics(conn, run_id, chunk)
