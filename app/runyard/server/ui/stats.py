"""Runs count and last activity per experiment, for the experiments page.

The ``TrackingStore`` interface has no count, so a SQL store is asked with one grouped query
over its ``runs`` table (read only), and any other store is counted by paging its search up to
a bound; past the bound the count is reported as a lower bound (``runs_count_exact: false``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runyard.entities import ViewType
from runyard.store.base import TrackingStore

#: How many runs a store without SQL is paged through per experiment before giving up counting.
COUNT_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class ExperimentStats:
    runs_count: int
    runs_count_exact: bool
    last_activity: int | None


def experiment_stats(
    store: TrackingStore, experiment_ids: Sequence[str]
) -> dict[str, ExperimentStats]:
    """Active runs count and the latest run start or end time, per experiment id."""
    if not experiment_ids:
        return {}
    engine = getattr(store, "engine", None)
    if engine is not None:
        try:
            return _sql_stats(engine, experiment_ids)
        except ImportError:  # pragma: no cover - the SQL extra is not installed
            pass
    return {eid: _paged_stats(store, eid) for eid in experiment_ids}


def _sql_stats(engine, experiment_ids: Sequence[str]) -> dict[str, ExperimentStats]:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from runyard.store.sql.models import runs

    query = (
        sa.select(
            runs.c.experiment_id,
            sa.func.count(),
            sa.func.max(runs.c.start_time),
            sa.func.max(runs.c.end_time),
        )
        .where(runs.c.experiment_id.in_([int(e) for e in experiment_ids if e.isdigit()]))
        .where(runs.c.lifecycle_stage == "active")
        .group_by(runs.c.experiment_id)
    )
    found: dict[str, ExperimentStats] = {}
    with engine.connect() as conn:
        for eid, count, started, ended in conn.execute(query):
            last = max((t for t in (started, ended) if t is not None), default=None)
            found[str(eid)] = ExperimentStats(int(count), True, last)
    return {eid: found.get(eid, ExperimentStats(0, True, None)) for eid in experiment_ids}


def _paged_stats(store: TrackingStore, experiment_id: str) -> ExperimentStats:
    count, last, token = 0, None, None
    while True:
        page = store.search_runs(
            [experiment_id], "", ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
        )
        for run in page:
            count += 1
            for t in (run.info.start_time, run.info.end_time):
                if t is not None and (last is None or t > last):
                    last = t
        token = page.token
        if not token:
            return ExperimentStats(count, True, last)
        if count >= COUNT_LIMIT:
            return ExperimentStats(count, False, last)
