"""Logged models (MLflow 3's model entity) and run inputs/outputs in the SQL store."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard import validation
from runyard.clock import now_ms
from runyard.entities import (
    DatasetInput,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
)
from runyard.errors import ResourceDoesNotExist
from runyard.names import generate_run_name
from runyard.search.parser import parse_logged_model_filter
from runyard.store.sql import models as m
from runyard.store.sql.common import SqlBase, experiment_int
from runyard.store.sql.dialect import insert_ignore, upsert
from runyard.store.sql.drivers import driver_of
from runyard.store.sql.logged_model_search import dataset_filter, model_filter, model_order

_LM = m.logged_models.c


class LoggedModelsMixin(SqlBase):
    # ---- inputs and outputs -------------------------------------------------------------------
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        for item in datasets:
            validation.validate_dataset_input(item)
        for model in models:
            validation.validate_model_id(model.model_id)
        with self._write() as conn:
            self._require_active_run(conn, run_id)
            experiment_id = conn.execute(
                sa.select(m.runs.c.experiment_id).where(m.runs.c.run_uuid == run_id)
            ).scalar_one()
            # An experiment's runs share its datasets: their inputs are logged in turn, or two
            # that store the same datasets in different orders deadlock on PostgreSQL.
            conn.execute(
                sa.select(m.experiments.c.experiment_id)
                .where(m.experiments.c.experiment_id == experiment_id)
                .with_for_update(key_share=True)
            )
            position = conn.execute(
                sa.select(sa.func.count()).where(m.run_inputs.c.run_uuid == run_id)
            ).scalar_one()
            rows, tag_rows = [], []
            for item in datasets:
                dataset_id = _dataset_id(conn, experiment_id, item)
                rows.append((dataset_id, "dataset"))
                tag_rows += [
                    {"run_uuid": run_id, "input_id": dataset_id, "key": k, "value": v}
                    for k, v in item.tags.items()
                ]
            rows += [(model.model_id, "model") for model in models]
            insert_ignore(
                conn,
                m.run_inputs,
                [
                    {
                        "run_uuid": run_id,
                        "input_type": kind,
                        "input_id": ident,
                        "position": position + i,
                    }
                    for i, (ident, kind) in enumerate(rows)
                ],
            )
            upsert(conn, m.run_input_tags, tag_rows, ["run_uuid", "input_id", "key"], ["value"])

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        for model in models:
            validation.validate_model_output(model)
        with self._write() as conn:
            self._require_active_run(conn, run_id)
            upsert(
                conn,
                m.run_outputs,
                [{"run_uuid": run_id, "model_id": o.model_id, "step": o.step} for o in models],
                ["run_uuid", "model_id"],
                ["step"],
            )

    # ---- logged models ------------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        params: Sequence[tuple[str, str]] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        validation.validate_experiment_id(experiment_id)
        validation.validate_logged_model_fields(name, model_type)
        for key, value in tags:
            validation.validate_key(key)
            validation.validate_tag_value(key, value)
        for key, value in params:
            validation.validate_key(key)
            validation.validate_param_value(key, value)
        model_id = f"m-{uuid.uuid4().hex}"
        now = now_ms()
        with self._write() as conn:
            experiment = self._active_experiment_key(conn, experiment_id)
            location = experiment.artifact_location.rstrip("/")
            conn.execute(
                sa.insert(m.logged_models),
                {
                    "model_id": model_id,
                    "experiment_id": experiment.experiment_id,
                    "name": name or generate_run_name(),
                    "artifact_location": f"{location}/models/{model_id}/artifacts",
                    "creation_timestamp": now,
                    "last_updated_timestamp": now,
                    "status": LoggedModelStatus.LOGGED_MODEL_PENDING.value,
                    "lifecycle_stage": LifecycleStage.ACTIVE.value,
                    "model_type": model_type,
                    "source_run_id": source_run_id,
                },
            )
            _put(conn, m.logged_model_tags, model_id, tags)
            _put(conn, m.logged_model_params, model_id, params)
            return self._load_models(conn, [model_id])[0]

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self._read() as conn:
            found = self._load_models(conn, [model_id], include_deleted=False)
        if not found:
            raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")
        return found[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        status = LoggedModelStatus(status)
        with self._write() as conn:
            self._require_model(conn, model_id)
            conn.execute(
                sa.update(m.logged_models)
                .where(_LM.model_id == model_id)
                .values(status=status.value, last_updated_timestamp=now_ms())
            )
            return self._load_models(conn, [model_id])[0]

    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        for key, value in tags:
            validation.validate_key(key)
            validation.validate_tag_value(key, value)
        with self._write() as conn:
            self._require_model(conn, model_id, lock=True)
            _put(conn, m.logged_model_tags, model_id, tags)

    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        for key, value in params:
            validation.validate_key(key)
            validation.validate_param_value(key, value)
        with self._write() as conn:
            self._require_model(conn, model_id, lock=True)
            _put(conn, m.logged_model_params, model_id, params)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._write() as conn:
            self._require_model(conn, model_id)
            deleted = conn.execute(
                sa.delete(m.logged_model_tags).where(
                    m.logged_model_tags.c.model_id == model_id, m.logged_model_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(f"No tag with key {key!r} on logged model {model_id}")

    def delete_logged_model(self, model_id: str) -> None:
        with self._write() as conn:
            self._require_model(conn, model_id)
            conn.execute(
                sa.update(m.logged_models)
                .where(_LM.model_id == model_id)
                .values(
                    lifecycle_stage=LifecycleStage.DELETED.value, last_updated_timestamp=now_ms()
                )
            )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[Sequence[Any]] | None = None,
        datasets: Sequence[tuple[str, str | None]] | None = None,
    ) -> PagedList[LoggedModel]:
        from runyard.search import paging

        validation.validate_max_results(max_results, validation.MAX_RESULTS_SEARCH_RUNS)
        ordering = [
            term
            for order in validation.validate_model_order_by(order_by)
            for term in model_order(order)
        ]
        keys = [experiment_int(validation.validate_experiment_id(e)) for e in experiment_ids]
        offset = paging.decode_offset_token(page_token)
        stmt = (
            sa.select(_LM.model_id)
            .where(
                _LM.experiment_id.in_([k for k in keys if k is not None]),
                _LM.lifecycle_stage == LifecycleStage.ACTIVE.value,
                model_filter(parse_logged_model_filter(filter_string), datasets),
                *dataset_filter(datasets),
            )
            .order_by(*ordering, _LM.creation_timestamp.desc(), _LM.model_id)
            .limit(max_results + 1)
            .offset(offset)
        )
        with self._read() as conn:
            ids = list(conn.execute(stmt).scalars())
            found = self._load_models(conn, ids[:max_results])
        token = paging.encode_offset_token(offset + max_results) if len(ids) > max_results else None
        return PagedList(found, token)

    # ---- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _require_model(conn: Connection, model_id: str, lock: bool = False) -> None:
        """The model must be there; with ``lock`` its row stays locked until the transaction
        ends, so writers of many of its rows take turns (two that wrote the same tags or params
        in different orders deadlocked on PostgreSQL)."""
        query = sa.select(_LM.lifecycle_stage).where(_LM.model_id == model_id)
        stage = conn.execute(query.with_for_update(key_share=True) if lock else query).scalar()
        if stage is None or stage == LifecycleStage.DELETED:
            raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")

    @staticmethod
    def _load_models(
        conn: Connection, model_ids: list[str], include_deleted: bool = True
    ) -> list[LoggedModel]:
        if not model_ids:
            return []
        where = [_LM.model_id.in_(model_ids)]
        if not include_deleted:
            where.append(_LM.lifecycle_stage == LifecycleStage.ACTIVE.value)
        rows = {row.model_id: row for row in conn.execute(sa.select(m.logged_models).where(*where))}
        tags, params = defaultdict(dict), defaultdict(dict)
        for table, target in ((m.logged_model_tags, tags), (m.logged_model_params, params)):
            for model_id, key, value in conn.execute(
                sa.select(table.c.model_id, table.c.key, table.c.value).where(
                    table.c.model_id.in_(model_ids)
                )
            ):
                target[model_id][key] = value
        metrics: dict[str, list[Metric]] = defaultdict(list)
        rows_of_metrics = driver_of(conn).fetch_for_ids(conn, _METRIC_ROWS, model_ids)
        for model_id, key, value, is_nan, timestamp, step, run_id, name, digest in rows_of_metrics:
            value = math.nan if is_nan else value
            point = Metric(key, value, timestamp, step, run_id, model_id, name, digest)
            metrics[model_id].append(point)
        return [
            LoggedModel(
                model_id=row.model_id,
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                creation_timestamp=row.creation_timestamp,
                last_updated_timestamp=row.last_updated_timestamp,
                status=LoggedModelStatus(row.status),
                source_run_id=row.source_run_id,
                model_type=row.model_type,
                status_message=row.status_message,
                tags=tags[row.model_id],
                params=params[row.model_id],
                metrics=tuple(metrics[row.model_id]),
            )
            for model_id in model_ids
            if (row := rows.get(model_id)) is not None
        ]


def _put(conn: Connection, table: sa.Table, model_id: str, items: Sequence[tuple[str, str]]):
    rows = {k: "" if v is None else str(v) for k, v in items}
    upsert(
        conn,
        table,
        [{"model_id": model_id, "key": k, "value": v} for k, v in rows.items()],
        ["model_id", "key"],
        ["value"],
    )


def _dataset_id(conn: Connection, experiment_id: int, item: DatasetInput) -> str:
    """The stored dataset's id, storing it first when it is new to the experiment."""
    d = m.datasets.c
    dataset = item.dataset
    where = [d.experiment_id == experiment_id, d.name == dataset.name, d.digest == dataset.digest]
    found = conn.execute(sa.select(d.dataset_uuid).where(*where)).scalar()
    if found is not None:
        return found
    insert_ignore(
        conn,
        m.datasets,
        [
            {
                "dataset_uuid": uuid.uuid4().hex,
                "experiment_id": experiment_id,
                "name": dataset.name,
                "digest": dataset.digest,
                "source_type": dataset.source_type or "",
                "source": dataset.source or "",
                "schema": dataset.schema,
                "profile": dataset.profile,
            }
        ],
    )
    return conn.execute(sa.select(d.dataset_uuid).where(*where)).scalar_one()


#: Every metric point linked to the models, in each model's (key, step, timestamp) order: the
#: primary key's. Read as plain rows: an autologged model holds a point per training round and
#: metric, thousands of them, and SQLAlchemy's row objects cost several times the query.
_METRIC_ROWS = (
    "SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
    "dataset_digest FROM logged_model_metrics WHERE model_id {ids} "
    "ORDER BY model_id, key, step, timestamp"
)
