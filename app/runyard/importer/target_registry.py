"""Registered models and their versions into a runyard SQL store, with the source's names,
version numbers, timestamps, stages, sources, tags and aliases (the registry API would number
versions anew and stamp them with the time of the import)."""

from __future__ import annotations

import sqlalchemy as sa

from runyard.importer.records import RegistryRecord
from runyard.store.sql import models as m
from runyard.store.sql.dialect import upsert


def put_registered_model(engine: sa.Engine, record: RegistryRecord) -> int:
    """Write (or overwrite) one model and all its versions in one transaction; returns the
    number of versions written."""
    model = record.model
    name = model.name
    with engine.begin() as conn:
        upsert(
            conn,
            m.registered_models,
            [
                {
                    "name": name,
                    "creation_time": model.creation_timestamp,
                    "last_updated_time": model.last_updated_timestamp,
                    "description": model.description or "",
                }
            ],
            ["name"],
            ["creation_time", "last_updated_time", "description"],
        )
        _pairs(conn, m.registered_model_tags, {"name": name}, "key", "value", model.tags)
        rows = [
            {
                "name": name,
                "version": int(mv.version),
                "creation_time": mv.creation_timestamp,
                "last_updated_time": mv.last_updated_timestamp,
                "description": mv.description or "",
                "user_id": mv.user_id or "",
                "current_stage": mv.current_stage,
                "source": mv.source,
                "storage_location": mv.storage_location or mv.source,
                "run_id": mv.run_id or "",
                "run_link": mv.run_link or "",
                "status": mv.status,
                "status_message": mv.status_message or "",
                "model_id": mv.model_id,
            }
            for mv in record.versions
        ]
        if rows:
            columns = [c for c in rows[0] if c not in ("name", "version")]
            upsert(conn, m.model_versions, rows, ["name", "version"], columns)
        for mv in record.versions:
            keys = {"name": name, "version": int(mv.version)}
            _pairs(conn, m.model_version_tags, keys, "key", "value", mv.tags)
        aliases = {alias: int(version) for alias, version in model.aliases.items()}
        _pairs(conn, m.registered_model_aliases, {"name": name}, "alias", "version", aliases)
    return len(rows)


def _pairs(
    conn: sa.Connection,
    table: sa.Table,
    owner: dict[str, object],
    key: str,
    value: str,
    items: dict | object,
) -> None:
    """Make ``table``'s rows of ``owner`` exactly ``items`` (key -> value)."""
    where = [table.c[column] == v for column, v in owner.items()]
    conn.execute(sa.delete(table).where(*where))
    rows = [{**owner, key: k, value: v} for k, v in dict(items).items()]  # type: ignore[call-overload]
    if rows:
        conn.execute(sa.insert(table), rows)
