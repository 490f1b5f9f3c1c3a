"""Experiments in the SQL store: create, read, search, rename, delete/restore, tags."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from runyard import validation
from runyard.clock import now_ms
from runyard.entities import Experiment, LifecycleStage, PagedList, ViewType
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.locations import parse_location
from runyard.store.base import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    experiment_not_found,
)
from runyard.store.sql import models as m
from runyard.store.sql import search as sql_search
from runyard.store.sql.common import SqlBase, experiment_int
from runyard.store.sql.dialect import insert_ignore, insert_new, upsert


def stages_for(view_type: ViewType | str) -> list[str]:
    view = ViewType(view_type)
    return [s.value for s in LifecycleStage if view.includes(s)]


class ExperimentsMixin(SqlBase):
    _default_artifact_root: str

    def _ensure_default_experiment(self) -> None:
        now = now_ms()
        with self._write() as conn:
            exists = conn.execute(
                sa.select(m.experiments.c.experiment_id).where(
                    m.experiments.c.experiment_id == int(DEFAULT_EXPERIMENT_ID)
                )
            ).first()
            if exists is None:
                insert_ignore(
                    conn,
                    m.experiments,
                    [
                        {
                            "experiment_id": int(DEFAULT_EXPERIMENT_ID),
                            "name": DEFAULT_EXPERIMENT_NAME,
                            "artifact_location": self._artifact_location(DEFAULT_EXPERIMENT_ID),
                            "lifecycle_stage": LifecycleStage.ACTIVE.value,
                            "creation_time": now,
                            "last_update_time": now,
                        }
                    ],
                )

    def _artifact_location(self, experiment_id: str) -> str:
        """``<default artifact root>/<id>``: a local root as given (as MLflow writes it), any
        other in canonical form, so a login's password in it is never stored."""
        root = parse_location(self._default_artifact_root)
        base = self._default_artifact_root if root.rules.local else root.uri
        return f"{base.rstrip('/')}/{experiment_id}"

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        validation.validate_experiment_name(name)
        checked_tags = [validation.validate_experiment_tag(k, v) for k, v in tags or ()]
        if artifact_location:
            artifact_location = parse_location(artifact_location).uri
        now = now_ms()
        row = {
            "name": name,
            "artifact_location": artifact_location or "",
            "lifecycle_stage": LifecycleStage.ACTIVE.value,
            "creation_time": now,
            "last_update_time": now,
        }
        with self._write() as conn:
            # A name taken, also by a concurrent create, inserts nothing: the loser answers
            # RESOURCE_ALREADY_EXISTS, on which MLflow's set_experiment reads the winner's.
            inserted = insert_new(conn, m.experiments, [row], [m.experiments.c.experiment_id])
            if not inserted:
                raise ResourceAlreadyExists(f"Experiment(name={name}) already exists.")
            new_id = inserted[0][0]
            if not artifact_location:
                conn.execute(
                    sa.update(m.experiments)
                    .where(m.experiments.c.experiment_id == new_id)
                    .values(artifact_location=self._artifact_location(str(new_id)))
                )
            if checked_tags:
                upsert(
                    conn,
                    m.experiment_tags,
                    [{"experiment_id": new_id, "key": k, "value": v} for k, v in checked_tags],
                    ["experiment_id", "key"],
                    ["value"],
                )
        return str(new_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as conn:
            row = self._experiment_row(conn, experiment_id)
            return self._experiments_from_rows(conn, [row])[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as conn:
            row = conn.execute(sa.select(m.experiments).where(m.experiments.c.name == name)).first()
            return None if row is None else self._experiments_from_rows(conn, [row])[0]

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        from runyard.search import paging, parser

        validation.validate_max_results(
            max_results, validation.MAX_RESULTS_SEARCH_EXPERIMENTS, "max_results"
        )
        where = sql_search.experiment_filter(parser.parse_experiment_filter(filter_string or ""))
        terms = sql_search.experiment_order(parser.parse_experiment_order_by(order_by or []))
        offset = paging.decode_offset_token(page_token)
        stmt = (
            sa.select(m.experiments)
            .where(m.experiments.c.lifecycle_stage.in_(stages_for(view_type)), where)
            .order_by(*terms)
            .limit(max_results + 1)
            .offset(offset)
        )
        with self._read() as conn:
            rows = conn.execute(stmt).all()
            found = self._experiments_from_rows(conn, rows[:max_results])
        token = (
            paging.encode_offset_token(offset + max_results) if len(rows) > max_results else None
        )
        return PagedList(found, token)

    @staticmethod
    def _experiments_from_rows(conn: Connection, rows: Sequence[sa.Row]) -> list[Experiment]:
        ids = [row.experiment_id for row in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        if ids:
            for eid, key, value in conn.execute(
                sa.select(
                    m.experiment_tags.c.experiment_id,
                    m.experiment_tags.c.key,
                    m.experiment_tags.c.value,
                ).where(m.experiment_tags.c.experiment_id.in_(ids))
            ):
                tags[eid][key] = value
        return [
            Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                lifecycle_stage=LifecycleStage(row.lifecycle_stage),
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
                tags=tags[row.experiment_id],
            )
            for row in rows
        ]

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.validate_experiment_name(new_name)
        taken = ResourceAlreadyExists(f"Experiment(name={new_name}) already exists.")
        with self._write() as conn:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameterValue(
                    "Cannot rename a non-active experiment. "
                    f"Current state is {row.lifecycle_stage}."
                )
            if row.name == new_name:
                return
            if conn.execute(
                sa.select(m.experiments.c.experiment_id).where(m.experiments.c.name == new_name)
            ).first():
                raise taken
            try:
                conn.execute(
                    sa.update(m.experiments)
                    .where(m.experiments.c.experiment_id == row.experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
            except exc.IntegrityError:  # taken by a concurrent create or rename
                raise taken from None

    def _set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Delete looks among the active experiments and restore among the deleted ones, as in
        MLflow and the file store: one already in ``stage`` is not found. The stage is checked
        by the update itself, so of two concurrent deletes exactly one succeeds."""
        now = now_ms()
        other = LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else LifecycleStage.DELETED
        with self._write() as conn:
            row = self._experiment_row(conn, experiment_id, lock="stage")
            changed = conn.execute(
                sa.update(m.experiments)
                .where(
                    m.experiments.c.experiment_id == row.experiment_id,
                    m.experiments.c.lifecycle_stage == other.value,
                )
                .values(lifecycle_stage=stage.value, last_update_time=now)
            ).rowcount
            if not changed:
                raise experiment_not_found(experiment_id)
            conn.execute(
                sa.update(m.runs)
                .where(
                    m.runs.c.experiment_id == row.experiment_id,
                    m.runs.c.lifecycle_stage == other.value,
                )
                .values(
                    lifecycle_stage=stage.value,
                    deleted_time=now if stage == LifecycleStage.DELETED else None,
                )
            )

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        key, value = validation.validate_experiment_tag(key, value)
        with self._write() as conn:
            row = self._active_experiment_key(conn, experiment_id)
            upsert(
                conn,
                m.experiment_tags,
                [{"experiment_id": row.experiment_id, "key": key, "value": value}],
                ["experiment_id", "key"],
                ["value"],
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._write() as conn:
            row = self._active_experiment_key(conn, experiment_id)
            deleted = conn.execute(
                sa.delete(m.experiment_tags).where(
                    m.experiment_tags.c.experiment_id == row.experiment_id,
                    m.experiment_tags.c.key == key,
                )
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(
                    f"No tag with name: {key} in experiment with id {experiment_id}"
                )


__all__ = ["ExperimentsMixin", "experiment_int", "stages_for"]
