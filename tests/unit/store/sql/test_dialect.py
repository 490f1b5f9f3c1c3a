"""``insert_ignore`` on both engines: rows that violate a unique constraint are skipped, every
other row goes in with its values as given, in one statement per slice of rows."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from runyard.store.sql import SqlStore
from runyard.store.sql import models as m
from runyard.store.sql.dialect import (
    MAX_BOUND_VALUES,
    Computed,
    insert_ignore,
    insert_new,
    row_chunks,
)


def _point(model_id: str, run_id: str, step: int, value: float) -> dict:
    return {
        "model_id": model_id,
        "key": "loss",
        "step": step,
        "timestamp": 1_000 + step,
        "value": 0.0 if math.isnan(value) else value,
        "is_nan": math.isnan(value),
        "run_uuid": run_id,
        "dataset_name": "train" if step % 2 else None,
        "dataset_digest": None,
    }


def test_duplicates_are_skipped_and_every_value_kept(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("dialect")
    run_id = sql_store.create_run(experiment_id, "u", 0, [], "r").info.run_id
    model = sql_store.create_logged_model(experiment_id, "m")
    rows = [_point(model.model_id, run_id, step, step / 7) for step in range(3)]
    rows.append(_point(model.model_id, run_id, 3, math.nan))
    table = m.logged_model_metrics
    with sql_store.engine.begin() as conn:
        insert_ignore(conn, table, rows)
        insert_ignore(conn, table, [*rows, _point(model.model_id, run_id, 4, 0.5)])  # 0-3 skipped
        insert_ignore(conn, table, [])
        stored = conn.execute(
            sa.select(table.c.step, table.c.value, table.c.is_nan, table.c.dataset_name)
            .where(table.c.model_id == model.model_id)
            .order_by(table.c.step)
        ).all()
    assert [tuple(row) for row in stored] == [
        (0, 0.0, False, None),
        (1, 1 / 7, False, "train"),
        (2, 2 / 7, False, None),
        (3, 0.0, True, "train"),
        (4, 0.5, False, None),
    ]


def test_many_rows_go_in_slices_and_unknown_columns_are_refused(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("slices")
    run_id = sql_store.create_run(experiment_id, "u", 0, [], "r").info.run_id
    model = sql_store.create_logged_model(experiment_id, "m")
    count = MAX_BOUND_VALUES // 9 * 2 + 5  # three statements' worth
    table = m.logged_model_metrics
    with sql_store.engine.begin() as conn:
        insert_ignore(conn, table, [_point(model.model_id, run_id, s, 1.0) for s in range(count)])
        total = conn.execute(
            sa.select(sa.func.count()).where(table.c.model_id == model.model_id)
        ).scalar()
        assert total == count
        with pytest.raises(ValueError, match="no columns"):
            insert_ignore(conn, table, [{"model_id": model.model_id, 'key" --': "x"}])


def test_a_computed_value_is_read_in_the_same_statement(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("computed")
    run_id = sql_store.create_run(experiment_id, "u", 0, [], "r").info.run_id
    rows = [
        {
            "run_uuid": run_id,
            "key": key,
            "value": 0.0,
            "is_nan": False,
            "step": 0,
            "timestamp": 0,
            "count": 0,
            "in_time_order": True,
            "experiment_id": Computed(
                "SELECT experiment_id FROM runs WHERE run_uuid = ?", (run_id,)
            ),
        }
        for key in ("a", "b")
    ]
    s = m.metric_summaries.c
    with sql_store.engine.begin() as conn:
        made = insert_new(conn, m.metric_summaries, rows, (s.key,))
        again = insert_new(conn, m.metric_summaries, rows, (s.key,))
        stored = conn.execute(sa.select(s.key, s.experiment_id).where(s.run_uuid == run_id)).all()
    assert sorted(made) == [("a",), ("b",)] and again == []
    assert sorted(tuple(row) for row in stored) == [
        ("a", int(experiment_id)),
        ("b", int(experiment_id)),
    ]
    per_slice = MAX_BOUND_VALUES // 9  # 8 values and the subquery's run id a row
    assert len(list(row_chunks(rows * 20_000))) == math.ceil(40_000 / per_slice)
