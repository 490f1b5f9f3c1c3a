"""Experiments of the file store: ``<root>/<id>/meta.yaml``, tags in ``<root>/<id>/tags/``,
deleted experiments moved to ``<root>/.trash/<id>``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

from runyard import validation
from runyard.clock import now_ms
from runyard.entities import Experiment, LifecycleStage, PagedList, ViewType
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.store.base import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    experiment_not_found,
)
from runyard.store.file.base import FileStoreBase
from runyard.store.file.layout import (
    META,
    TAGS,
    create_exclusive,
    dump_yaml,
    key_path,
    locked,
    new_experiment_id,
    path_to_file_uri,
    read_values,
    read_yaml,
    remove_empty_parents,
    resolve_artifact_location,
    write_atomic,
)
from runyard.store.file.queries import page_of


def experiment_meta(
    experiment_id: str, name: str, artifact_location: str, created: int
) -> dict[str, Any]:
    """The fields MLflow 3 writes for a new experiment."""
    return {
        "artifact_location": artifact_location,
        "creation_time": created,
        "effective_trace_archival_retention": None,
        "experiment_id": experiment_id,
        "last_update_time": created,
        "lifecycle_stage": LifecycleStage.ACTIVE.value,
        "name": name,
        "trace_location": None,
        "workspace": "default",
    }


def _experiment_from_meta(meta: dict[str, Any], tags: dict[str, str]) -> Experiment:
    stage = meta.get("lifecycle_stage") or LifecycleStage.ACTIVE.value
    return Experiment(
        experiment_id=str(meta["experiment_id"]),
        name=str(meta.get("name", "")),
        artifact_location=str(meta.get("artifact_location") or ""),
        lifecycle_stage=LifecycleStage(stage),
        creation_time=meta.get("creation_time"),
        last_update_time=meta.get("last_update_time"),
        tags=tags,
    )


class ExperimentsMixin(FileStoreBase):
    """Experiment operations."""

    # ---- reading -----------------------------------------------------------------------------
    def _experiment_dir(self, experiment_id: str, view: ViewType = ViewType.ALL) -> str:
        validation.validate_experiment_id(experiment_id)
        path = self._layout.experiment_dir(experiment_id, view)
        if path is None:
            raise experiment_not_found(experiment_id)
        return path

    @staticmethod
    def _read_experiment_dir(path: str) -> Experiment | None:
        meta = read_yaml(os.path.join(path, META))
        if meta is None or "experiment_id" not in meta:
            return None
        return _experiment_from_meta(meta, read_values(os.path.join(path, TAGS)))

    def get_experiment(self, experiment_id: str) -> Experiment:
        path = self._experiment_dir(str(experiment_id))
        experiment = self._read_experiment_dir(path)
        if experiment is None:
            raise experiment_not_found(experiment_id)
        return experiment

    def _all_experiments(self, view: ViewType) -> list[Experiment]:
        found = []
        for experiment_id, path in self._layout.experiment_dirs(view):
            experiment = self._read_experiment_dir(path)
            if experiment is not None and experiment.experiment_id == experiment_id:
                found.append(experiment)
        return found

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        for experiment in self._all_experiments(ViewType.ALL):
            if experiment.name == name:
                return experiment
        return None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        from runyard.search.evaluate import matches_experiment, sort_experiments
        from runyard.search.paging import decode_offset_token
        from runyard.search.parser import parse_experiment_filter, parse_experiment_order_by

        validation.validate_max_results(max_results, validation.MAX_RESULTS_SEARCH_EXPERIMENTS)
        expr = parse_experiment_filter(filter_string or "")
        keys = parse_experiment_order_by(list(order_by or []))
        offset = decode_offset_token(page_token)
        experiments = self._all_experiments(ViewType(view_type))
        if expr is not None:
            experiments = [e for e in experiments if matches_experiment(expr, e)]
        ordered = sort_experiments(experiments, keys)
        return page_of(ordered, offset, max_results)

    # ---- writing -----------------------------------------------------------------------------
    def _default_artifact_location(self, experiment_id: str, path: str) -> str:
        """The experiment's own directory, or ``<artifact root>/<id>`` when a root is set."""
        root = getattr(self, "artifact_root_uri", None)
        if not root:
            return path_to_file_uri(path)
        return f"{resolve_artifact_location(root).rstrip('/')}/{experiment_id}"

    def _ensure_default_experiment(self) -> None:
        """Create experiment "0" ("Default") unless it exists, active or deleted."""
        layout = self._layout
        os.makedirs(layout.trash, exist_ok=True)
        if layout.experiment_dir(DEFAULT_EXPERIMENT_ID) is not None:
            return
        if os.path.isdir(os.path.join(layout.trash, DEFAULT_EXPERIMENT_ID)):
            return
        path = os.path.join(layout.root, DEFAULT_EXPERIMENT_ID)
        os.makedirs(path, exist_ok=True)
        meta = experiment_meta(
            DEFAULT_EXPERIMENT_ID,
            DEFAULT_EXPERIMENT_NAME,
            self._default_artifact_location(DEFAULT_EXPERIMENT_ID, path),
            now_ms(),
        )
        create_exclusive(os.path.join(path, META), dump_yaml(meta))

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        validation.validate_experiment_name(name)
        checked_tags = [validation.validate_experiment_tag(k, v) for k, v in tags or ()]
        layout = self._layout
        with locked(layout.root):
            existing = self.get_experiment_by_name(name)
            if existing is not None:
                raise ResourceAlreadyExists(f"Experiment(name={name}) already exists.")
            while True:
                experiment_id = new_experiment_id()
                path = os.path.join(layout.root, experiment_id)
                if not os.path.exists(os.path.join(layout.trash, experiment_id)):
                    try:
                        os.mkdir(path)
                        break
                    except FileExistsError:
                        continue
            location = (
                resolve_artifact_location(artifact_location)
                if artifact_location
                else self._default_artifact_location(experiment_id, path)
            )
            for key, value in checked_tags:
                write_atomic(key_path(os.path.join(path, TAGS), key), value)
            meta = experiment_meta(experiment_id, name, location, now_ms())
            write_atomic(os.path.join(path, META), dump_yaml(meta))
        return experiment_id

    def _rewrite_experiment_meta(self, path: str, **changes: Any) -> None:
        meta = read_yaml(os.path.join(path, META)) or {}
        meta.update(changes)
        meta["last_update_time"] = now_ms()
        # MLflow rewrites the whole entity, tags included (readers take tags from tags/)
        meta["tags"] = read_values(os.path.join(path, TAGS))
        write_atomic(os.path.join(path, META), dump_yaml(meta))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.validate_experiment_name(new_name)
        path = self._experiment_dir(str(experiment_id))
        with locked(self._layout.root):
            experiment = self.get_experiment(experiment_id)
            if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameterValue(
                    f"Cannot rename experiment {experiment_id}: it is in the "
                    f"'{experiment.lifecycle_stage}' state."
                )
            if experiment.name == new_name:
                return
            if self.get_experiment_by_name(new_name) is not None:
                raise ResourceAlreadyExists(f"Experiment(name={new_name}) already exists.")
            self._rewrite_experiment_meta(path, name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        path = self._experiment_dir(str(experiment_id), ViewType.ACTIVE_ONLY)
        deleted_at = now_ms()
        with locked(self._layout.root):  # which creating a run in it takes too
            if not os.path.isdir(path):  # deleted by another request meanwhile
                raise experiment_not_found(experiment_id)
            for run_dir in self._layout.run_dirs(path):
                self._set_run_stage(run_dir, LifecycleStage.DELETED, deleted_at)
            self._rewrite_experiment_meta(path, lifecycle_stage=LifecycleStage.DELETED.value)
            target = os.path.join(self._layout.trash, str(experiment_id))
            if os.path.exists(target):  # an older trashed copy with the same id
                shutil.rmtree(target)
            os.replace(path, target)

    def restore_experiment(self, experiment_id: str) -> None:
        path = self._experiment_dir(str(experiment_id), ViewType.DELETED_ONLY)
        with locked(self._layout.root):
            if not os.path.isdir(path):  # restored by another request meanwhile
                raise experiment_not_found(experiment_id)
            target = os.path.join(self._layout.root, str(experiment_id))
            if os.path.exists(target):
                raise ResourceAlreadyExists(
                    f"Cannot restore experiment with ID {experiment_id}. An experiment with "
                    "same ID already exists."
                )
            name = (self._read_experiment_dir(path) or Experiment("", "", "")).name
            clash = self.get_experiment_by_name(name)
            if clash is not None and clash.experiment_id != str(experiment_id):
                raise ResourceAlreadyExists(f"Experiment(name={name}) already exists.")
            os.replace(path, target)
            self._rewrite_experiment_meta(target, lifecycle_stage=LifecycleStage.ACTIVE.value)
            for run_dir in self._layout.run_dirs(target):
                self._set_run_stage(run_dir, LifecycleStage.ACTIVE, None)

    def _active_experiment_dir(self, experiment_id: str) -> str:
        path = self._experiment_dir(str(experiment_id))
        if os.path.basename(os.path.dirname(path)) == ".trash":
            raise InvalidParameterValue(
                f"The experiment {experiment_id} must be in the 'active' state. "
                "Current state is deleted."
            )
        return path

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        key, value = validation.validate_experiment_tag(key, value)
        validation.validate_key(key, "key")
        path = self._active_experiment_dir(experiment_id)
        write_atomic(key_path(os.path.join(path, TAGS), key), value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        validation.validate_key(key, "key")
        path = self._active_experiment_dir(experiment_id)
        target = key_path(os.path.join(path, TAGS), key)
        try:
            os.remove(target)
        except FileNotFoundError:
            raise ResourceDoesNotExist(
                f"No tag with name: {key} in experiment with id {experiment_id}"
            ) from None
        remove_empty_parents(target, os.path.join(path, TAGS))
