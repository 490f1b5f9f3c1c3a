"""Runs in the SQL store: lifecycle, log_batch (one transaction, bulk statements), search."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from runyard import tags as system_tags
from runyard import validation
from runyard.clock import now_ms
from runyard.entities import (
    HistoryRow,
    LifecycleStage,
    Metric,
    MetricSummary,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
    assemble_run,
)
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.names import generate_run_name
from runyard.store.base import chosen_run_id
from runyard.store.sql import (
    downsample,
    history_json,
    metric_order,
    newest_first,
    probe_window,
)
from runyard.store.sql import metrics as sql_metrics
from runyard.store.sql import models as m
from runyard.store.sql import search as sql_search
from runyard.store.sql.common import SqlBase, experiment_int
from runyard.store.sql.dialect import insert_ignore, insert_new, insert_rows, upsert
from runyard.store.sql.engine import translated_errors
from runyard.store.sql.experiments import stages_for
from runyard.store.sql.loading import RUN_COLUMNS, load_runs, run_info

RUN_NAME_TAG = system_tags.RUN_NAME
_R = m.runs.c


class RunsMixin(SqlBase):
    # ---- lifecycle ----------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        validation.validate_experiment_id(experiment_id)
        tags = [validation.validate_tag(tag) for tag in tags]
        tag_map = {tag.key: tag.value for tag in tags}
        name = validation.check_run_name(run_name, tags) or generate_run_name()
        tag_map[RUN_NAME_TAG] = name
        run_id = chosen_run_id(run_id)
        values = {
            "run_uuid": run_id,
            "experiment_id": experiment_int(experiment_id),
            "name": name,
            "user_id": validation.validate_user_id(user_id),
            "status": RunStatus.RUNNING.value,
            "start_time": start_time,
        }
        tag_values = {k: str(v) for k, v in tag_map.items()}
        if self._driver.one_statement_create_run and values["experiment_id"] is not None:
            with translated_errors(), self._engine.connect() as conn, _taken_id_refused(run_id):
                _stage, artifact_uri = self._driver.create_run(conn, values, tag_values)
            if artifact_uri is not None:
                return _new_run(_run_row(values, artifact_uri), tag_values)
        with self._write() as conn:  # or the experiment is not active: this raises why
            experiment = self._active_experiment_key(conn, experiment_id)
            artifact_uri = f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts"
            row = _run_row(values, artifact_uri)
            with _taken_id_refused(run_id):
                conn.execute(sa.insert(m.runs), row)
            insert_rows(
                conn,
                m.tags,
                [{"run_uuid": run_id, "key": k, "value": v} for k, v in tag_values.items()],
            )
        return _new_run(row, tag_values)

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            row = conn.execute(sa.select(*RUN_COLUMNS).where(_R.run_uuid == run_id)).first()
            if row is None:
                raise ResourceDoesNotExist(f"Run with id={run_id} not found")
            return load_runs(conn, [row])[0]

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        values: dict = {}
        if status is not None:
            values["status"] = RunStatus(status).value
        if end_time is not None:
            values["end_time"] = end_time
        if run_name:
            values["name"] = validation.check_run_name(run_name, ())
        with self._write() as conn:
            self._require_active_run(conn, run_id)
            if values:
                conn.execute(sa.update(m.runs).where(_R.run_uuid == run_id).values(**values))
            if run_name:
                upsert(
                    conn,
                    m.tags,
                    [{"run_uuid": run_id, "key": RUN_NAME_TAG, "value": run_name}],
                    ["run_uuid", "key"],
                    ["value"],
                )
            row = conn.execute(sa.select(*RUN_COLUMNS).where(_R.run_uuid == run_id)).one()
            return run_info(row)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        with self._write() as conn:
            self._run_stage(conn, run_id)
            deleted_time = now_ms() if stage == LifecycleStage.DELETED else None
            conn.execute(
                sa.update(m.runs)
                .where(_R.run_uuid == run_id)
                .values(lifecycle_stage=stage.value, deleted_time=deleted_time)
            )

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    # ---- logging ------------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        validation.validate_batch(metrics, params, tags)
        with self._write() as conn:
            known = None
            if metrics:  # the run's stage and its series in one statement, the run locked
                stage, known = sql_metrics.stage_and_series(
                    conn, run_id, {metric.key for metric in metrics}, lock=True
                )
                if stage != LifecycleStage.ACTIVE:
                    self._require_active_run(conn, run_id)  # raises MLflow's message
            else:
                self._require_active_run(conn, run_id, lock=True)
            if params:
                self._write_params(conn, run_id, params, single=False)
            sql_metrics.write_points(conn, run_id, metrics, known)
            if any(metric.model_id for metric in metrics):
                _link_model_metrics(conn, run_id, metrics)
            if tags:
                self._write_tags(conn, run_id, tags)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """One point, the lean way: on Postgres one autocommitted statement checks the run,
        stores the point and folds the summary (one round trip); the first point of a key, a
        run that is not active, and SQLite take a transaction that finds the run's stage and
        the series id in one statement. Same checks and effects as ``log_batch`` with one
        metric (which points with model or dataset fields take)."""
        validation.validate_batch([metric], (), ())
        if metric.model_id or metric.dataset_name or metric.dataset_digest:
            self.log_batch(run_id, metrics=[metric])
            return
        row = sql_metrics.point_tuple(0, metric)
        if self._driver.one_statement_log_point:
            with translated_errors(), self._engine.connect() as conn:
                stage, series_id = self._driver.log_point(conn, run_id, metric.key, row)
            if stage == LifecycleStage.ACTIVE and series_id is not None:
                return
        with self._write() as conn:
            stage, known = sql_metrics.stage_and_series(conn, run_id, (metric.key,))
            if stage != LifecycleStage.ACTIVE:
                self._require_active_run(conn, run_id)  # raises MLflow's message
            series_id = sql_metrics.series_ids(conn, run_id, {metric.key}, known)[metric.key]
            sql_metrics.write_point_rows(conn, [(series_id, *row[1:])])

    def log_param(self, run_id: str, param: Param) -> None:
        validation.validate_param(param)
        with self._write() as conn:
            self._require_active_run(conn, run_id)
            self._write_params(conn, run_id, [param], single=True)

    @staticmethod
    def _write_params(conn: Connection, run_id: str, params: Sequence[Param], single: bool) -> None:
        """Insert the new params first (for a new run, all of them: one statement), then
        compare those already logged; a changed value raises, and the transaction then takes
        back what went in."""
        rows = [
            {"run_uuid": run_id, "key": p.key, "value": "" if p.value is None else str(p.value)}
            for p in params
        ]
        inserted = {key for (key,) in insert_new(conn, m.params, rows, (m.params.c.key,))}
        logged_before = [p.key for p in params if p.key not in inserted]
        if not logged_before:
            return
        existing = dict(
            conn.execute(
                sa.select(m.params.c.key, m.params.c.value).where(
                    m.params.c.run_uuid == run_id, m.params.c.key.in_(logged_before)
                )
            ).all()
        )
        changed = [p for p in params if p.key in existing and existing[p.key] != str(p.value)]
        if changed and single:
            p = changed[0]
            raise InvalidParameterValue(
                f"Changing param values is not allowed. Param with key='{p.key}' was already "
                f"logged with value='{existing[p.key]}' for run ID='{run_id}'. Attempted logging "
                f"new value '{p.value}'."
            )
        if changed:
            details = [
                {"key": p.key, "old_value": existing[p.key], "new_value": str(p.value)}
                for p in changed
            ]
            raise InvalidParameterValue(
                "Changing param values is not allowed. Params were already logged="
                f"'{details}' for run ID='{run_id}'."
            )

    @staticmethod
    def _write_tags(conn: Connection, run_id: str, tags: Sequence[RunTag]) -> None:
        latest = {tag.key: str(tag.value) for tag in tags}  # the last value of a key wins
        upsert(
            conn,
            m.tags,
            [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()],
            ["run_uuid", "key"],
            ["value"],
        )
        if RUN_NAME_TAG in latest:
            conn.execute(
                sa.update(m.runs)
                .where(_R.run_uuid == run_id)
                .values(name=validation.check_run_name(latest[RUN_NAME_TAG], ()))
            )

    def delete_tag(self, run_id: str, key: str) -> None:
        validation.validate_key(key, "key")
        with self._write() as conn:
            self._require_active_run(conn, run_id)
            deleted = conn.execute(
                sa.delete(m.tags).where(m.tags.c.run_uuid == run_id, m.tags.c.key == key)
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")

    # ---- reading metrics ----------------------------------------------------------------------
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            validation.validate_max_results(max_results, 2**62, "max_results")
        offset, after = sql_metrics.decode_history_token(page_token)
        limit = None if max_results is None else max_results + 1
        with self._read() as conn:
            points = sql_metrics.history(conn, run_id, metric_key, limit, offset, after)
        if max_results is not None and len(points) > max_results:
            del points[max_results:]
            return PagedList(points, sql_metrics.encode_history_token(points[-1]))
        return PagedList(points)

    def get_metric_history_rows(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[HistoryRow], str | None]:
        """``get_metric_history`` as bare rows and the next page token: the server's path for
        long histories, which builds no ``Metric`` per point."""
        if max_results is not None:
            validation.validate_max_results(max_results, 2**62, "max_results")
        offset, after = sql_metrics.decode_history_token(page_token)
        limit = None if max_results is None else max_results + 1
        with self._read() as conn:
            rows = sql_metrics.history_rows(conn, run_id, metric_key, limit, offset, after)
        if max_results is not None and len(rows) > max_results:
            del rows[max_results:]
            value, is_nan, timestamp, step, *_ = rows[-1]
            return rows, sql_metrics.encode_history_token((timestamp, step, value, bool(is_nan)))
        return rows, None

    def get_metric_history_json(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> tuple[str | None, str | None]:
        """On Postgres the database writes the page's JSON text (``history_json``)."""
        if max_results is None or self._engine.dialect.name != "postgresql":
            return super().get_metric_history_json(  # type: ignore[misc]
                run_id, metric_key, max_results, page_token
            )
        validation.validate_max_results(max_results, 2**62, "max_results")
        offset, after = sql_metrics.decode_history_token(page_token)
        with self._read() as conn:
            query = sql_metrics.history_query(
                conn, run_id, metric_key, max_results + 1, offset, after
            )
            if query is None:
                return None, None
            page = history_json.history_page(conn, query, metric_key, max_results)
        if page.more and page.last is not None:
            return page.text, sql_metrics.encode_history_token(page.last)
        return page.text, None

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        validation.validate_max_results(max_results, 2**31, "max_results")
        with self._read() as conn:
            return downsample.bulk_interval(
                conn, run_ids, metric_key, max_results, start_step, end_step
            )

    def get_metric_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        with self._read() as conn:
            return sql_metrics.summaries(conn, list(dict.fromkeys(run_ids)))

    # ---- search -------------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        from runyard.search import paging, parser

        validation.validate_max_results(max_results, validation.MAX_RESULTS_SEARCH_RUNS)
        keys = [experiment_int(validation.validate_experiment_id(e)) for e in experiment_ids]
        expr = parser.parse_filter(filter_string or "")
        order_keys = parser.parse_order_by(list(order_by or []))
        offset, after = paging.decode_offset_payload(page_token)
        seek = newest_first.parse_after(after) if newest_first.applies(order_keys) else None
        metric_seek = metric_order.parse_after(after) if metric_order.seeks(order_keys) else None
        experiment_ids = [k for k in keys if k is not None]
        base_where = [
            _R.experiment_id.in_(experiment_ids),
            _R.lifecycle_stage.in_(stages_for(run_view_type)),
        ]
        run_where = [*base_where, sql_search.run_filter(expr)]
        with self._read() as conn:
            if newest_first.applies(order_keys) and probe_window.applies(conn, expr, offset, seek):
                rows = probe_window.search_page(
                    conn, RUN_COLUMNS, base_where, expr, seek, max_results + 1
                )
            elif seek is not None:
                rows = newest_first.search_page(conn, RUN_COLUMNS, run_where, seek, max_results + 1)
            elif metric_order.applies(order_keys):
                rows = metric_order.search_page(
                    conn, RUN_COLUMNS, run_where, experiment_ids, order_keys,
                    max_results + 1, offset, metric_seek,
                )  # fmt: skip
            else:
                stmt, terms = sql_search.run_order(
                    sa.select(*RUN_COLUMNS).where(*run_where), order_keys
                )
                stmt = stmt.order_by(*terms).limit(max_results + 1).offset(offset)
                rows = conn.execute(stmt).all()
            found = load_runs(conn, rows[:max_results])
        token = None
        if len(rows) > max_results:
            last = rows[max_results - 1]
            next_after = None
            if newest_first.applies(order_keys):
                next_after = newest_first.after_of(last)
            elif metric_order.seeks(order_keys):
                next_after = metric_order.after_of(last)
            token = paging.encode_offset_token(offset + max_results, next_after)
        return PagedList(found, token)


@contextlib.contextmanager
def _taken_id_refused(run_id: str) -> Iterator[None]:
    """A run id inserted twice (an idempotent replay of a create) is ResourceAlreadyExists."""
    try:
        yield
    except exc.IntegrityError:
        raise ResourceAlreadyExists(f"Run with id={run_id} already exists") from None


def _run_row(values: dict, artifact_uri: str) -> dict:
    """Every column of a new run: ``create_run``'s ``values`` and what a run starts with."""
    return {
        **values,
        "end_time": None,
        "artifact_uri": artifact_uri,
        "lifecycle_stage": LifecycleStage.ACTIVE.value,
    }


def _new_run(row: dict, tags: dict[str, str]) -> Run:
    """The run just created, from the row written (``_run_row``): a new run holds exactly
    that, so nothing is read back."""
    info = run_info(tuple(row[column.name] for column in RUN_COLUMNS))
    return assemble_run(info, RunData.owned((), {}, dict(tags)), RunInputs(), RunOutputs())


def _link_model_metrics(conn: Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    """Metrics logged with a model id also belong to that logged model."""
    model_ids = {metric.model_id for metric in metrics if metric.model_id}
    known = set(
        conn.execute(
            sa.select(m.logged_models.c.model_id).where(m.logged_models.c.model_id.in_(model_ids))
        ).scalars()
    )
    rows = []
    for metric in metrics:
        if metric.model_id in known:
            value = float(metric.value)
            is_nan = value != value
            rows.append(
                {
                    "model_id": metric.model_id,
                    "key": metric.key,
                    "step": metric.step,
                    "timestamp": metric.timestamp,
                    "value": 0.0 if is_nan else value,
                    "is_nan": is_nan,
                    "run_uuid": run_id,
                    "dataset_name": metric.dataset_name,
                    "dataset_digest": metric.dataset_digest,
                }
            )
    insert_ignore(conn, m.logged_model_metrics, rows)
