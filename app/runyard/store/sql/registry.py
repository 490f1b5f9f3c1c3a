"""The model registry of the SQL store: the ``LocalRegistry`` primitives as SQL statements.

Each primitive is one short transaction. A new version's number is taken as ``max + 1`` inside
the inserting transaction; two writers racing for the same number make one INSERT fail on the
primary key, and that writer tries the next number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.errors import BadRequest
from runyard.registry.entities import (
    STAGE_ARCHIVED,
    STAGE_DELETED,
    ModelVersion,
    RegisteredModel,
    latest_per_stage,
)
from runyard.registry.local import LocalRegistry, full_model, model_not_found, model_taken
from runyard.search.ast import Expr, OrderKey
from runyard.store.sql import models as m
from runyard.store.sql import registry_search as rs
from runyard.store.sql.common import SqlBase
from runyard.store.sql.dialect import upsert

_RM = m.registered_models.c
_MV = m.model_versions.c
_RMT = m.registered_model_tags.c
_RMA = m.registered_model_aliases.c
_MVT = m.model_version_tags.c


class SqlRegistryMixin(LocalRegistry, SqlBase):
    # ---- reading -----------------------------------------------------------------------------
    def _reg_model(self, name: str) -> RegisteredModel | None:
        with self._read() as conn:
            models = self._load_registered_models(conn, name)
        return models[0] if models else None

    def _reg_models(self) -> list[RegisteredModel]:
        with self._read() as conn:
            return self._load_registered_models(conn, None)

    @staticmethod
    def _load_registered_models(conn: Connection, name: str | None) -> list[RegisteredModel]:
        """Models with their tags and aliases: one model, or all when ``name`` is None."""

        def scoped(query: sa.Select, column: sa.ColumnElement) -> sa.Select:
            return query if name is None else query.where(column == name)

        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for row in conn.execute(scoped(sa.select(m.registered_model_tags), _RMT.name)):
            tags[row.name][row.key] = row.value
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for row in conn.execute(scoped(sa.select(m.registered_model_aliases), _RMA.name)):
            aliases[row.name][row.alias] = row.version
        rows = conn.execute(scoped(sa.select(m.registered_models), _RM.name))
        return [
            RegisteredModel(
                name=row.name,
                creation_timestamp=row.creation_time,
                last_updated_timestamp=row.last_updated_time,
                description=row.description or "",
                tags=tags.get(row.name, {}),
                aliases=aliases.get(row.name, {}),
            )
            for row in rows
        ]

    def _reg_versions(self, name: str | None) -> list[ModelVersion]:
        versions_q = sa.select(m.model_versions)
        tags_q = sa.select(m.model_version_tags)
        if name is not None:
            versions_q = versions_q.where(_MV.name == name)
            tags_q = tags_q.where(_MVT.name == name)
        with self._read() as conn:
            tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
            for row in conn.execute(tags_q):
                tags[(row.name, row.version)][row.key] = row.value
            rows = conn.execute(versions_q).all()
        return [_version_from_row(row, tags.get((row.name, row.version), {})) for row in rows]

    # ---- searches pushed down to SQL -----------------------------------------------------------
    def _reg_search_models(
        self, expr: Expr | None, keys: list[OrderKey], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        query = (
            sa.select(m.registered_models)
            .where(rs.model_filter(expr))
            .order_by(*rs.order_clauses(keys, rs.MODEL_COLUMNS, rs.MODEL_FALLBACK))
            .offset(offset)
            .limit(limit + 1)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            rows, more = rows[:limit], len(rows) > limit
            page = query.limit(limit).subquery()
            tags: dict[str, dict[str, str]] = defaultdict(dict)
            for row in conn.execute(
                sa.select(m.registered_model_tags).join(page, page.c.name == _RMT.name)
            ):
                tags[row.name][row.key] = row.value
            aliases: dict[str, dict[str, int]] = defaultdict(dict)
            for row in conn.execute(
                sa.select(m.registered_model_aliases).join(page, page.c.name == _RMA.name)
            ):
                aliases[row.name][row.alias] = row.version
            # The newest version of each stage, found by the database: only those are loaded.
            newest = (
                sa.select(_MV.name, sa.func.max(_MV.version).label("version"))
                .join(page, page.c.name == _MV.name)
                .where(_MV.current_stage != STAGE_DELETED)
                .group_by(_MV.name, _MV.current_stage)
                .subquery()
            )
            versions = self._versions_joined(conn, newest)
        latest: dict[str, list[ModelVersion]] = defaultdict(list)
        for mv in versions:
            latest[mv.name].append(mv)
        models = [
            full_model(
                RegisteredModel(
                    name=row.name,
                    creation_timestamp=row.creation_time,
                    last_updated_timestamp=row.last_updated_time,
                    description=row.description or "",
                    tags=tags.get(row.name, {}),
                    aliases=aliases.get(row.name, {}),
                ),
                latest_per_stage(latest.get(row.name, [])),
            )
            for row in rows
        ]
        return models, more

    def _reg_search_versions(
        self, expr: Expr | None, keys: list[OrderKey], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        query = (
            sa.select(_MV.name, _MV.version)
            .where(rs.version_filter(expr))
            .order_by(*rs.order_clauses(keys, rs.VERSION_COLUMNS, rs.VERSION_FALLBACK))
            .offset(offset)
            .limit(limit + 1)
        )
        with self._read() as conn:
            keys_found = [(row.name, row.version) for row in conn.execute(query)]
            keys_found, more = keys_found[:limit], len(keys_found) > limit
            found = self._versions_joined(conn, query.limit(limit).subquery())
        by_key = {(mv.name, mv.version): mv for mv in found}
        return [by_key[key] for key in keys_found if key in by_key], more

    @staticmethod
    def _versions_joined(conn: Connection, page: sa.Subquery) -> list[ModelVersion]:
        """The versions whose (name, version) are in ``page``, with their tags."""
        on_page = sa.and_(page.c.name == _MV.name, page.c.version == _MV.version)
        tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        tag_page = sa.and_(page.c.name == _MVT.name, page.c.version == _MVT.version)
        for row in conn.execute(sa.select(m.model_version_tags).join(page, tag_page)):
            tags[(row.name, row.version)][row.key] = row.value
        rows = conn.execute(sa.select(m.model_versions).join(page, on_page))
        return [_version_from_row(row, tags.get((row.name, row.version), {})) for row in rows]

    # ---- writing -----------------------------------------------------------------------------
    @staticmethod
    def _hold_model(conn: Connection, name: str, now: int | None = None) -> None:
        """Take the model's row for this transaction by writing it (its last update time, when
        ``now`` is given): a rename or delete of the model waits for the writes after this, or
        they find the model gone and say it is not found, instead of failing on a foreign key.
        A write, not a read: SQLite takes its write lock at once, PostgreSQL the row's lock."""
        stamp = _RM.last_updated_time if now is None else now
        held = conn.execute(
            sa.update(m.registered_models).where(_RM.name == name).values(last_updated_time=stamp)
        ).rowcount
        if not held:
            raise model_not_found(name)

    def _reg_insert_model(self, model: RegisteredModel) -> None:
        try:
            with self._write() as conn:
                if conn.execute(sa.select(_RM.name).where(_RM.name == model.name)).first():
                    raise model_taken(model.name)
                conn.execute(
                    sa.insert(m.registered_models).values(
                        name=model.name,
                        creation_time=model.creation_timestamp,
                        last_updated_time=model.last_updated_timestamp,
                        description=model.description,
                    )
                )
                rows = [{"name": model.name, "key": k, "value": v} for k, v in model.tags.items()]
                if rows:
                    conn.execute(sa.insert(m.registered_model_tags), rows)
        except BadRequest:  # a concurrent create won the primary key
            raise model_taken(model.name) from None

    def _reg_update_model(self, name: str, last_updated: int, description: str | None) -> None:
        values: dict[str, object] = {"last_updated_time": last_updated}
        if description is not None:
            values["description"] = description
        with self._write() as conn:
            conn.execute(sa.update(m.registered_models).where(_RM.name == name).values(values))

    def _reg_rename_model(self, name: str, new_name: str, last_updated: int) -> None:
        try:
            with self._write() as conn:
                if conn.execute(sa.select(_RM.name).where(_RM.name == new_name)).first():
                    raise model_taken(new_name)
                conn.execute(
                    sa.update(m.registered_models)
                    .where(_RM.name == name)
                    .values(name=new_name, last_updated_time=last_updated)
                )
        except BadRequest:
            raise model_taken(new_name) from None

    def _reg_delete_model(self, name: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(m.registered_models).where(_RM.name == name))

    def _reg_set_model_tag(self, name: str, key: str, value: str | None) -> None:
        with self._write() as conn:
            self._hold_model(conn, name)
            if value is None:
                conn.execute(
                    sa.delete(m.registered_model_tags).where(_RMT.name == name, _RMT.key == key)
                )
            else:
                row = {"name": name, "key": key, "value": value}
                upsert(conn, m.registered_model_tags, [row], ["name", "key"], ["value"])

    def _reg_set_alias(self, name: str, alias: str, version: int | None) -> None:
        with self._write() as conn:
            self._hold_model(conn, name)
            if version is None:
                conn.execute(
                    sa.delete(m.registered_model_aliases).where(
                        _RMA.name == name, _RMA.alias == alias
                    )
                )
            else:
                row = {"name": name, "alias": alias, "version": version}
                upsert(conn, m.registered_model_aliases, [row], ["name", "alias"], ["version"])

    def _reg_insert_version(self, version: ModelVersion) -> ModelVersion:
        """The next number of the model, taken while holding the model's row: touching it first
        makes concurrent creates of one model wait for each other, so each reads the number the
        one before it committed (16 concurrent creates on PostgreSQL failed 6 times in 16 with
        a duplicate key when the number was read first and retried up to five times)."""
        with self._write() as conn:
            self._hold_model(conn, version.name, version.creation_timestamp)
            number = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(_MV.version), 0)).where(
                    _MV.name == version.name
                )
            ).scalar_one()
            numbered = replace(version, version=number + 1)
            conn.execute(sa.insert(m.model_versions).values(_version_row(numbered)))
            tag_rows = [
                {"name": numbered.name, "version": numbered.version, "key": k, "value": v}
                for k, v in numbered.tags.items()
            ]
            if tag_rows:
                conn.execute(sa.insert(m.model_version_tags), tag_rows)
        return numbered

    def _reg_update_version(
        self,
        name: str,
        version: int,
        last_updated: int,
        description: str | None = None,
        stage: str | None = None,
    ) -> None:
        values: dict[str, object] = {"last_updated_time": last_updated}
        if description is not None:
            values["description"] = description
        if stage is not None:
            values["current_stage"] = stage
        with self._write() as conn:
            self._hold_model(conn, name, last_updated)
            conn.execute(
                sa.update(m.model_versions)
                .where(_MV.name == name, _MV.version == version)
                .values(values)
            )

    def _reg_set_stage(
        self, name: str, version: int, stage: str, archive_others: bool, now: int
    ) -> None:
        with self._write() as conn:
            self._hold_model(conn, name, now)  # concurrent transitions of the model go in turn
            if archive_others:
                conn.execute(
                    sa.update(m.model_versions)
                    .where(_MV.name == name, _MV.version != version, _MV.current_stage == stage)
                    .values(current_stage=STAGE_ARCHIVED, last_updated_time=now)
                )
            conn.execute(
                sa.update(m.model_versions)
                .where(_MV.name == name, _MV.version == version)
                .values(current_stage=stage, last_updated_time=now)
            )

    def _reg_set_version_tag(self, name: str, version: int, key: str, value: str | None) -> None:
        with self._write() as conn:
            self._hold_model(conn, name)
            if value is None:
                conn.execute(
                    sa.delete(m.model_version_tags).where(
                        _MVT.name == name, _MVT.version == version, _MVT.key == key
                    )
                )
            else:
                row = {"name": name, "version": version, "key": key, "value": value}
                upsert(conn, m.model_version_tags, [row], ["name", "version", "key"], ["value"])


def _version_from_row(row: sa.Row, tags: dict[str, str]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        source=row.source,
        storage_location=row.storage_location,
        current_stage=row.current_stage,
        description=row.description or "",
        run_id=row.run_id or "",
        run_link=row.run_link or "",
        user_id=row.user_id or "",
        status=row.status,
        status_message=row.status_message or "",
        model_id=row.model_id,
        tags=tags,
    )


def _version_row(mv: ModelVersion) -> dict[str, object]:
    return {
        "name": mv.name,
        "version": mv.version,
        "creation_time": mv.creation_timestamp,
        "last_updated_time": mv.last_updated_timestamp,
        "description": mv.description,
        "user_id": mv.user_id,
        "current_stage": mv.current_stage,
        "source": mv.source,
        "storage_location": mv.storage_location,
        "run_id": mv.run_id,
        "run_link": mv.run_link,
        "status": mv.status,
        "status_message": mv.status_message,
        "model_id": mv.model_id,
    }
