"""One contract, every store: the same tests run against file, SQLite, PostgreSQL and REST.

Helpers shared by the ``test_store_contract_*`` modules live here. Every test builds its own
experiments with names unique to the test, so the suite is also correct on a store shared by a
whole session (PostgreSQL, the live REST server).
"""

from __future__ import annotations

import time

from runyard.entities import Metric, Param, Run, RunTag
from runyard.store.base import TrackingStore


def now_ms() -> int:
    return int(time.time() * 1000)


def new_run(
    store: TrackingStore,
    experiment_id: str,
    run_name: str | None = None,
    start_time: int | None = None,
    tags: dict[str, str] | None = None,
    user_id: str = "alice",
) -> Run:
    return store.create_run(
        experiment_id,
        user_id,
        now_ms() if start_time is None else start_time,
        [RunTag(k, v) for k, v in (tags or {}).items()],
        run_name,
    )


def metric(key: str, value: float, step: int = 0, timestamp: int = 1000) -> Metric:
    return Metric(key=key, value=value, timestamp=timestamp, step=step)


def param(key: str, value: str) -> Param:
    return Param(key, value)


def tag(key: str, value: str) -> RunTag:
    return RunTag(key, value)


def ids(runs: list[Run]) -> list[str]:
    return [r.info.run_id for r in runs]
