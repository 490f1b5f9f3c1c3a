"""The experiments list's numbers, counted by the database: one grouped query for a page of
experiments, instead of paging through their runs."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from runyard.entities import NO_RUNS, ExperimentStats, LifecycleStage
from runyard.store.sql import models as m
from runyard.store.sql.common import SqlBase, experiment_int

_R = m.runs.c


class StatsMixin(SqlBase):
    def experiment_stats(self, experiment_ids: Sequence[str]) -> dict[str, ExperimentStats]:
        keys = [key for key in map(experiment_int, experiment_ids) if key is not None]
        found: dict[str, ExperimentStats] = {}
        if keys:
            query = (
                sa.select(
                    _R.experiment_id,
                    sa.func.count(),
                    sa.func.max(_R.start_time),
                    sa.func.max(_R.end_time),
                )
                .where(_R.experiment_id.in_(keys), _R.lifecycle_stage == LifecycleStage.ACTIVE)
                .group_by(_R.experiment_id)
            )
            with self._read() as conn:
                for key, count, started, ended in conn.execute(query):
                    last = max((t for t in (started, ended) if t is not None), default=None)
                    found[str(key)] = ExperimentStats(int(count), True, last)
        return {eid: found.get(str(eid), NO_RUNS) for eid in experiment_ids}
