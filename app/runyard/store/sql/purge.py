"""Permanent removal of runs and experiments deleted long enough ago (``runyard gc``).

Deleting a run or an experiment only marks it; these queries find what was marked before a
cut-off and remove its rows for good, one batch per transaction, so an interrupted collection
loses nothing and the next one resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa

from runyard.entities import LifecycleStage
from runyard.store.sql import models as m
from runyard.store.sql.common import SqlBase, experiment_int

DEFAULT_EXPERIMENT_ID = 0
_DELETED = LifecycleStage.DELETED.value


class Deleted(NamedTuple):
    """A deleted run or experiment: its id and where its artifacts are."""

    id: str
    artifact_uri: str


class PurgeMixin(SqlBase):
    def deleted_runs(
        self,
        before_ms: int,
        limit: int,
        after: str = "",
        run_ids: Sequence[str] | None = None,
        experiment_ids: Sequence[str] | None = None,
    ) -> list[Deleted]:
        """Runs deleted before ``before_ms`` with ids above ``after``, by id, at most ``limit``;
        only among ``run_ids`` and runs of ``experiment_ids`` when given."""
        runs = m.runs.c
        deleted_at = sa.func.coalesce(runs.deleted_time, runs.end_time, runs.start_time)
        query = (
            sa.select(runs.run_uuid, runs.artifact_uri)
            .where(runs.lifecycle_stage == _DELETED, deleted_at < before_ms, runs.run_uuid > after)
            .order_by(runs.run_uuid)
            .limit(limit)
        )
        if run_ids is not None:
            query = query.where(runs.run_uuid.in_(list(run_ids)))
        if experiment_ids is not None:
            query = query.where(runs.experiment_id.in_(_experiment_keys(experiment_ids)))
        with self._read() as conn:
            return [Deleted(row.run_uuid, row.artifact_uri) for row in conn.execute(query)]

    def deleted_experiments(
        self,
        before_ms: int,
        limit: int,
        after: int = -1,
        experiment_ids: Sequence[str] | None = None,
    ) -> list[Deleted]:
        """Experiments deleted before ``before_ms`` (their last update) that have no run left,
        with ids above ``after`` (only among ``experiment_ids`` when given); never the Default
        experiment, which every store keeps."""
        experiments, runs = m.experiments.c, m.runs.c
        has_runs = sa.exists().where(runs.experiment_id == experiments.experiment_id)
        query = (
            sa.select(experiments.experiment_id, experiments.artifact_location)
            .where(experiments.lifecycle_stage == _DELETED)
            .where(experiments.last_update_time < before_ms)
            .where(experiments.experiment_id != DEFAULT_EXPERIMENT_ID)
            .where(experiments.experiment_id > after)
            .where(~has_runs)
            .order_by(experiments.experiment_id)
            .limit(limit)
        )
        if experiment_ids is not None:
            query = query.where(experiments.experiment_id.in_(_experiment_keys(experiment_ids)))
        with self._read() as conn:
            return [
                Deleted(str(row.experiment_id), row.artifact_location)
                for row in conn.execute(query)
            ]

    def purge_runs(self, run_ids: Sequence[str]) -> int:
        """Remove these deleted runs and everything logged to them; return how many went.

        Metric points carry no foreign key (for logging speed), so they are removed explicitly
        through their series; the other per-run tables cascade. A run restored meanwhile is
        left alone."""
        if not run_ids:
            return 0
        runs = m.runs.c
        with self._write() as conn:
            still_deleted = [
                row.run_uuid
                for row in conn.execute(
                    sa.select(runs.run_uuid).where(
                        runs.run_uuid.in_(list(run_ids)), runs.lifecycle_stage == _DELETED
                    )
                )
            ]
            if not still_deleted:
                return 0
            series = sa.select(m.metric_summaries.c.series_id).where(
                m.metric_summaries.c.run_uuid.in_(still_deleted)
            )
            conn.execute(sa.delete(m.metrics).where(m.metrics.c.series_id.in_(series)))
            conn.execute(sa.delete(m.runs).where(runs.run_uuid.in_(still_deleted)))
            return len(still_deleted)

    def purge_experiments(self, experiment_ids: Sequence[str]) -> int:
        """Remove these deleted, run-less experiments (tags, datasets and models cascade)."""
        ids = _experiment_keys(experiment_ids)
        if not ids:
            return 0
        experiments, runs = m.experiments.c, m.runs.c
        has_runs = sa.exists().where(runs.experiment_id == experiments.experiment_id)
        with self._write() as conn:
            done = conn.execute(
                sa.delete(m.experiments).where(
                    experiments.experiment_id.in_(ids),
                    experiments.experiment_id != DEFAULT_EXPERIMENT_ID,
                    experiments.lifecycle_stage == _DELETED,
                    ~has_runs,
                )
            )
            return done.rowcount or 0


def _experiment_keys(experiment_ids: Sequence[str]) -> list[int]:
    """The integer keys of the ids that can name a stored experiment."""
    return [key for key in map(experiment_int, experiment_ids) if key is not None]
