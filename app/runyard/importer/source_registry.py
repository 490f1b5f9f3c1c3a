"""The model registry of an MLflow deployment, read from its database tables, its file store's
``models/`` directory, or its REST API, as ``RegistryRecord``s."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from runyard.importer.records import RegistryRecord
from runyard.registry.entities import (
    STAGE_DELETED,
    STAGE_NONE,
    STATUS_READY,
    ModelVersion,
    RegisteredModel,
)
from runyard.search.render import quote_string
from runyard.store.file.registry import FileRegistryMixin
from runyard.store.registry_base import RegistryStore

Rows = Callable[[str], list[sa.Row]]


def _version(row: Mapping[str, Any], tags: Mapping[str, str]) -> ModelVersion:
    """A version from a row of MLflow's ``model_versions`` table."""
    created = row.get("creation_time") or 0
    updated = row.get("last_updated_time") or created
    return ModelVersion(
        name=row["name"],
        version=int(row["version"]),
        creation_timestamp=int(created),
        last_updated_timestamp=int(updated),
        source=row.get("source") or "",
        storage_location=row.get("storage_location") or "",
        current_stage=row.get("current_stage") or STAGE_NONE,
        description=row.get("description") or "",
        run_id=row.get("run_id") or "",
        run_link=row.get("run_link") or "",
        user_id=row.get("user_id") or "",
        status=row.get("status") or STATUS_READY,
        status_message=row.get("status_message") or "",
        model_id=row.get("model_id") or None,
        tags=tags,
    )


def _model(row: Mapping[str, Any], tags: Mapping[str, str], aliases: Mapping[str, int]):
    created = row.get("creation_time", row.get("creation_timestamp")) or 0
    updated = row.get("last_updated_time", row.get("last_updated_timestamp")) or created
    return RegisteredModel(
        name=row["name"],
        creation_timestamp=int(created),
        last_updated_timestamp=int(updated),
        description=row.get("description") or "",
        tags=tags,
        aliases=aliases,
    )


def registry_from_database(engine: sa.Engine) -> Iterator[RegistryRecord]:
    """MLflow's registry tables (deleted versions keep their rows, as ``Deleted_Internal``)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("registered_models"):
            return

        def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql))]

        model_tags: dict[str, dict[str, str]] = defaultdict(dict)
        for r in rows("SELECT name, key, value FROM registered_model_tags"):
            model_tags[r["name"]][r["key"]] = r["value"] or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for r in rows("SELECT name, alias, version FROM registered_model_aliases"):
            aliases[r["name"]][r["alias"]] = int(r["version"])
        version_tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for r in rows("SELECT name, version, key, value FROM model_version_tags"):
            version_tags[(r["name"], int(r["version"]))][r["key"]] = r["value"] or ""
        versions: dict[str, list[ModelVersion]] = defaultdict(list)
        for r in rows("SELECT * FROM model_versions ORDER BY name, version"):
            versions[r["name"]].append(_version(r, version_tags[(r["name"], int(r["version"]))]))
        models = rows("SELECT * FROM registered_models ORDER BY name")
    for r in models:
        name = r["name"]
        yield RegistryRecord(_model(r, model_tags[name], aliases[name]), versions[name])


def _files(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def registry_from_files(models_dir: Path) -> Iterator[RegistryRecord]:
    """``mlruns/models/<name>/meta.yaml``, ``tags/``, ``aliases/`` and ``version-<n>/``."""
    if not models_dir.is_dir():
        return
    for path in sorted(p for p in models_dir.iterdir() if (p / "meta.yaml").is_file()):
        meta = yaml.safe_load((path / "meta.yaml").read_text()) or {}
        aliases = {alias: int(v) for alias, v in _files(path / "aliases").items()}
        versions = [  # runyard's file store keeps MLflow's layout: its reader reads both
            mv
            for version_dir in path.glob("version-*")
            if (mv := FileRegistryMixin._read_version(str(version_dir), meta["name"]))
        ]
        versions.sort(key=lambda mv: mv.version)
        yield RegistryRecord(_model(meta, _files(path / "tags"), aliases), versions)


def registry_from_store(store: RegistryStore) -> Iterator[RegistryRecord]:
    """Through the registry API (MLflow's REST API): deleted versions are not served there, so
    the numbers they held stay unused in the target too."""
    token = None
    while True:
        page = store.search_registered_models(None, 1000, None, token)
        for model in page:
            versions = _all_versions(store, model.name)
            yield RegistryRecord(store.get_registered_model(model.name), versions)
        token = page.token
        if not token:
            return


def _all_versions(store: RegistryStore, name: str) -> list[ModelVersion]:
    found, token = [], None
    while True:
        page = store.search_model_versions(f"name = {quote_string(name)}", 10_000, None, token)
        found += [mv for mv in page if mv.current_stage != STAGE_DELETED]
        token = page.token
        if not token:
            return sorted(found, key=lambda mv: mv.version)
