"""What every part of the SQL store shares: transactions, clocks, run and experiment lookups."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runyard import validation
from runyard.entities import LifecycleStage
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.store.base import experiment_not_found
from runyard.store.sql import models as m
from runyard.store.sql.drivers import driver_of
from runyard.store.sql.engine import WRITE_OPTION, reading, translated_errors


def experiment_int(experiment_id: str) -> int | None:
    """The integer key of an experiment id, or None when it cannot name a stored experiment."""
    text = str(experiment_id)
    return int(text) if text.isdigit() and len(text) < 19 else None


#: How ``_experiment_row`` locks the row (see there).
ExperimentLock = Literal["create", "stage"] | None


class SqlBase:
    """Holds the engine and its driver, and hands out read and write transactions with errors
    translated; every part of the SQL store builds on it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._driver = driver_of(engine)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated_errors(), reading(self._engine) as conn:
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with translated_errors(), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    # ---- lookups shared by several parts ------------------------------------------------------
    @staticmethod
    def _run_stage(conn: Connection, run_id: str, lock: bool = False) -> str:
        """The run's lifecycle stage. With ``lock`` the run's row stays locked until the
        transaction ends, so writers of many rows of one run (``log_batch``) take turns: two
        batches that touched the same summaries, tags or params in different orders deadlocked
        on PostgreSQL, and one of them failed."""
        query = sa.select(m.runs.c.lifecycle_stage).where(m.runs.c.run_uuid == run_id)
        stage = conn.execute(query.with_for_update(key_share=True) if lock else query).scalar()
        if stage is None:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        return stage

    def _require_active_run(self, conn: Connection, run_id: str, lock: bool = False) -> None:
        stage = self._run_stage(conn, run_id, lock)
        if stage != LifecycleStage.ACTIVE:
            raise InvalidParameterValue(
                f"The run {run_id} must be in the 'active' state. Current state is {stage}."
            )

    @staticmethod
    def _experiment_row(
        conn: Connection, experiment_id: str, lock: ExperimentLock = None
    ) -> sa.Row:
        """The experiment's row. ``lock`` holds it until the transaction ends: ``"create"``
        while something is created in it (a delete waits for that, and then sees it),
        ``"stage"`` while its lifecycle stage changes (creations wait, and then see the new
        stage). PostgreSQL's ``FOR KEY SHARE`` and ``FOR UPDATE``; SQLite's writers take
        turns anyway."""
        validation.validate_experiment_id(experiment_id)
        key = experiment_int(experiment_id)
        row = None
        if key is not None:
            query = sa.select(m.experiments).where(m.experiments.c.experiment_id == key)
            if lock == "create":
                query = query.with_for_update(read=True, key_share=True)
            elif lock == "stage":
                query = query.with_for_update()
            row = conn.execute(query).first()
        if row is None:
            raise experiment_not_found(experiment_id)
        return row

    def _active_experiment_key(self, conn: Connection, experiment_id: str) -> sa.Row:
        """The experiment row, which must be active (runs and models are created in it),
        locked until they are, so a concurrent delete cannot miss them."""
        row = self._experiment_row(conn, experiment_id, lock="create")
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameterValue(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row
