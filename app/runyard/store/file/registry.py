"""The model registry of the file store, in MLflow's own layout (each tool reads the other's):

    <root>/models/<name>/meta.yaml                 registered model
    <root>/models/<name>/tags/<key>                its tags, raw values
    <root>/models/<name>/aliases/<alias>           the version number an alias points at
    <root>/models/<name>/version-<n>/meta.yaml     model version (stage, source, run id...)
    <root>/models/<name>/version-<n>/tags/<key>    its tags

A deleted version keeps its directory with stage ``Deleted_Internal`` (as MLflow's store does),
so its number is never handed out again. New names and numbers are claimed with ``mkdir``, which
succeeds for exactly one process, so concurrent writers cannot collide.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from runyard.errors import ResourceDoesNotExist
from runyard.locations import check_name_fits
from runyard.registry.entities import STAGE_ARCHIVED, STAGE_NONE, ModelVersion, RegisteredModel
from runyard.registry.local import LocalRegistry, model_not_found, model_taken
from runyard.store.file.base import FileStoreBase
from runyard.store.file.layout import (
    META,
    MODELS,
    TAGS,
    dump_yaml,
    is_temp_name,
    key_path,
    locked,
    read_values,
    read_yaml,
    remove_empty_parents,
    write_atomic,
)

ALIASES = "aliases"
VERSION_PREFIX = "version-"
_WORKSPACE = "default"


class FileRegistryMixin(LocalRegistry, FileStoreBase):
    """Registry primitives over ``<root>/models``."""

    # ---- paths -------------------------------------------------------------------------------
    @property
    def _registry_dir(self) -> str:
        return os.path.join(self.root, MODELS)

    def _registered_dir(self, name: str) -> str:
        return os.path.join(self._registry_dir, name)

    def _new_registered_dir(self, name: str) -> str:
        """The directory a new (or renamed) model gets; its name must fit the file system."""
        return self._registered_dir(check_name_fits(name, "Invalid model name"))

    def _version_dir(self, name: str, version: int) -> str:
        return os.path.join(self._registered_dir(name), f"{VERSION_PREFIX}{version}")

    @contextlib.contextmanager
    def _holding(self, name: str) -> Iterator[str]:
        """The model's directory, locked. A rename or delete of the model takes the same lock,
        so it waits for the writes made while holding it, or they find the model gone and say
        it is not found: never a write into a directory that moved, or one that brings a
        deleted model's directory back."""
        directory = self._registered_dir(name)
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(locked(directory))
            except FileNotFoundError:
                raise model_not_found(name) from None
            if not os.path.isfile(os.path.join(directory, META)):  # gone while we waited
                raise model_not_found(name)
            yield directory

    # ---- reading -----------------------------------------------------------------------------
    def _reg_model(self, name: str) -> RegisteredModel | None:
        model_dir = self._registered_dir(name)
        meta = read_yaml(os.path.join(model_dir, META))
        if meta is None:
            return None
        aliases: dict[str, int] = {}
        for alias, value in read_values(os.path.join(model_dir, ALIASES)).items():
            with contextlib.suppress(ValueError):
                aliases[alias] = int(value)
        return RegisteredModel(
            name=str(meta.get("name") or name),
            creation_timestamp=int(meta.get("creation_timestamp") or 0),
            last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
            description=meta.get("description") or "",
            tags=read_values(os.path.join(model_dir, TAGS)),
            aliases=aliases,
        )

    def _model_names(self) -> list[str]:
        try:
            names = sorted(os.listdir(self._registry_dir))
        except FileNotFoundError:
            return []
        return [n for n in names if not (n.startswith(".") and is_temp_name(n))]

    def _reg_models(self) -> list[RegisteredModel]:
        models = (self._reg_model(name) for name in self._model_names())
        return [m for m in models if m is not None]

    def _reg_versions(self, name: str | None) -> list[ModelVersion]:
        names = self._model_names() if name is None else [name]
        versions: list[ModelVersion] = []
        for model_name in names:
            model_dir = self._registered_dir(model_name)
            try:
                entries = os.listdir(model_dir)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.startswith(VERSION_PREFIX) and entry[len(VERSION_PREFIX) :].isdigit():
                    mv = self._read_version(os.path.join(model_dir, entry), model_name)
                    if mv is not None:
                        versions.append(mv)
        return versions

    @staticmethod
    def _read_version(version_dir: str, name: str) -> ModelVersion | None:
        meta = read_yaml(os.path.join(version_dir, META))
        if meta is None:
            return None
        return ModelVersion(
            name=name,
            version=int(meta.get("version") or version_dir.rsplit("-", 1)[1]),
            creation_timestamp=int(meta.get("creation_timestamp") or 0),
            last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
            source=meta.get("source") or "",
            storage_location=meta.get("storage_location") or "",
            current_stage=meta.get("current_stage") or STAGE_NONE,
            description=meta.get("description") or "",
            run_id=meta.get("run_id") or "",
            run_link=meta.get("run_link") or "",
            user_id=meta.get("user_id") or "",
            status=meta.get("status") or "READY",
            status_message=meta.get("status_message") or "",
            model_id=meta.get("model_id") or None,
            tags=read_values(os.path.join(version_dir, TAGS)),
        )

    # ---- writing -----------------------------------------------------------------------------
    @staticmethod
    def _model_meta(model: RegisteredModel) -> dict[str, Any]:
        return {
            "creation_timestamp": model.creation_timestamp,
            "deployment_job_id": None,
            "deployment_job_state": None,
            "description": model.description or None,
            "last_updated_timestamp": model.last_updated_timestamp,
            "name": model.name,
            "workspace": _WORKSPACE,
        }

    @staticmethod
    def _version_meta(mv: ModelVersion) -> dict[str, Any]:
        return {
            "creation_timestamp": mv.creation_timestamp,
            "current_stage": mv.current_stage,
            "deployment_job_state": None,
            "description": mv.description or None,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "model_id": mv.model_id,
            "name": mv.name,
            "run_id": mv.run_id or None,
            "run_link": mv.run_link or None,
            "source": mv.source,
            "status": mv.status,
            "status_message": mv.status_message or None,
            "storage_location": mv.storage_location or mv.source,
            "user_id": mv.user_id or None,
            "version": mv.version,
            "workspace": _WORKSPACE,
        }

    def _write_model(self, model: RegisteredModel) -> None:
        target = os.path.join(self._registered_dir(model.name), META)
        write_atomic(target, dump_yaml(self._model_meta(model)))

    def _write_version(self, mv: ModelVersion) -> None:
        target = os.path.join(self._version_dir(mv.name, mv.version), META)
        write_atomic(target, dump_yaml(self._version_meta(mv)))

    def _write_values(self, directory: str, key: str, value: str | None) -> None:
        path = key_path(directory, key)
        if value is not None:
            write_atomic(path, value)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            remove_empty_parents(path, directory)

    def _touch_model(self, name: str, now: int) -> None:
        model = self._reg_model(name)
        if model is not None:
            self._write_model(replace(model, last_updated_timestamp=now))

    def _reg_insert_model(self, model: RegisteredModel) -> None:
        os.makedirs(self._registry_dir, exist_ok=True)
        try:
            os.mkdir(self._new_registered_dir(model.name))
        except FileExistsError:
            raise model_taken(model.name) from None
        for key, value in model.tags.items():
            self._write_values(os.path.join(self._registered_dir(model.name), TAGS), key, value)
        self._write_model(model)

    def _reg_update_model(self, name: str, last_updated: int, description: str | None) -> None:
        with self._holding(name):
            model = self._reg_model(name)
            if model is None:
                return
            changed = replace(model, last_updated_timestamp=last_updated)
            if description is not None:
                changed = replace(changed, description=description)
            self._write_model(changed)

    def _reg_rename_model(self, name: str, new_name: str, last_updated: int) -> None:
        with locked(self._registry_dir), self._holding(name) as directory:
            target = self._new_registered_dir(new_name)
            if os.path.exists(target):
                raise model_taken(new_name)
            os.rename(directory, target)
            # still held: the lock is the directory's own, under its new name too
            model = self._reg_model(new_name)
            if model is not None:
                changed = replace(model, name=new_name, last_updated_timestamp=last_updated)
                self._write_model(changed)
            for mv in self._reg_versions(new_name):
                self._write_version(replace(mv, name=new_name))

    def _reg_delete_model(self, name: str) -> None:
        with contextlib.suppress(ResourceDoesNotExist), self._holding(name) as directory:
            shutil.rmtree(directory, ignore_errors=True)

    def _reg_set_model_tag(self, name: str, key: str, value: str | None) -> None:
        with self._holding(name) as directory:
            self._write_values(os.path.join(directory, TAGS), key, value)

    def _reg_set_alias(self, name: str, alias: str, version: int | None) -> None:
        value = None if version is None else str(version)
        with self._holding(name) as directory:
            self._write_values(os.path.join(directory, ALIASES), alias, value)

    def _reg_insert_version(self, version: ModelVersion) -> ModelVersion:
        with self._holding(version.name):
            numbers = [mv.version for mv in self._reg_versions(version.name)]
            number = max(numbers, default=0) + 1
            while True:  # a number claimed by a store that does not take the lock
                try:
                    os.mkdir(self._version_dir(version.name, number))
                    break
                except FileExistsError:
                    number += 1
            numbered = replace(version, version=number)
            version_dir = self._version_dir(version.name, number)
            for key, value in numbered.tags.items():
                self._write_values(os.path.join(version_dir, TAGS), key, value)
            self._write_version(numbered)
            self._touch_model(version.name, version.creation_timestamp)
        return numbered

    def _reg_update_version(
        self,
        name: str,
        version: int,
        last_updated: int,
        description: str | None = None,
        stage: str | None = None,
    ) -> None:
        with self._holding(name):
            self._update_version(name, version, last_updated, description, stage)

    def _update_version(
        self,
        name: str,
        version: int,
        last_updated: int,
        description: str | None = None,
        stage: str | None = None,
    ) -> None:
        """``_reg_update_version`` for a caller holding the model."""
        mv = self._read_version(self._version_dir(name, version), name)
        if mv is None:
            return
        changed = replace(mv, last_updated_timestamp=last_updated)
        if description is not None:
            changed = replace(changed, description=description)
        if stage is not None:
            changed = replace(changed, current_stage=stage)
        self._write_version(changed)
        self._touch_model(name, last_updated)

    def _reg_set_stage(
        self, name: str, version: int, stage: str, archive_others: bool, now: int
    ) -> None:
        with self._holding(name):  # concurrent transitions of the model go in turn
            if archive_others:
                for other in self._reg_versions(name):
                    if other.version != version and other.current_stage == stage:
                        self._update_version(name, other.version, now, stage=STAGE_ARCHIVED)
            self._update_version(name, version, now, stage=stage)

    def _reg_set_version_tag(self, name: str, version: int, key: str, value: str | None) -> None:
        with self._holding(name):
            self._write_values(os.path.join(self._version_dir(name, version), TAGS), key, value)


__all__ = ["FileRegistryMixin"]
