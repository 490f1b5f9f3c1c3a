"""Runs of the file store: ``<root>/<experiment_id>/<run_id>/`` with ``meta.yaml`` and one file
per metric, param and tag key."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

from runyard import tags as system_tags
from runyard import validation
from runyard.clock import now_ms
from runyard.entities import (
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.names import generate_run_name
from runyard.store.base import chosen_run_id
from runyard.store.file import metrics as file_metrics
from runyard.store.file.base import FileStoreBase
from runyard.store.file.layout import (
    ARTIFACTS,
    META,
    METRICS,
    PARAMS,
    TAGS,
    TEMP_MARK,
    append_bytes,
    create_exclusive,
    dump_yaml,
    key_path,
    list_keys,
    locked,
    read_text,
    read_values,
    read_yaml,
    remove_empty_parents,
    write_atomic,
)

RUN_NAME_TAG = system_tags.RUN_NAME
SOURCE_TYPE_LOCAL = 4


def run_meta(info: RunInfo) -> dict[str, Any]:
    """The fields MLflow writes to a run's ``meta.yaml`` (enums as their proto numbers)."""
    return {
        "artifact_uri": info.artifact_uri,
        "end_time": info.end_time,
        "entry_point_name": "",
        "experiment_id": info.experiment_id,
        "lifecycle_stage": info.lifecycle_stage.value,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "source_name": "",
        "source_type": SOURCE_TYPE_LOCAL,
        "source_version": "",
        "start_time": info.start_time,
        "status": info.status.number,
        "tags": [],
        "user_id": info.user_id,
    }


def _status_from_meta(value: object) -> RunStatus:
    if isinstance(value, int):
        return RunStatus.from_number(value)
    if isinstance(value, str) and value in RunStatus.__members__:
        return RunStatus(value)
    return RunStatus.RUNNING


def info_from_meta(meta: dict[str, Any], tags: dict[str, str] | None = None) -> RunInfo:
    run_name = meta.get("run_name") or (tags or {}).get(RUN_NAME_TAG) or ""
    return RunInfo(
        run_id=str(meta.get("run_id") or meta.get("run_uuid")),
        experiment_id=str(meta["experiment_id"]),
        run_name=str(run_name),
        user_id=str(meta.get("user_id") or ""),
        status=_status_from_meta(meta.get("status", 1)),
        start_time=meta.get("start_time"),
        end_time=meta.get("end_time"),
        artifact_uri=str(meta.get("artifact_uri") or ""),
        lifecycle_stage=LifecycleStage(meta.get("lifecycle_stage") or "active"),
    )


def _check_active(run_id: str, meta: dict[str, Any]) -> None:
    stage = meta.get("lifecycle_stage") or "active"
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


class RunsMixin(FileStoreBase):
    """Run operations."""

    # ---- locating and reading ----------------------------------------------------------------
    def _locate_run(self, run_id: str) -> tuple[str, str]:
        validation.validate_run_id(run_id)
        found = self._layout.find_run(run_id)
        if found is None:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        return found

    @staticmethod
    def _read_meta(run_dir: str) -> dict[str, Any]:
        meta = read_yaml(os.path.join(run_dir, META))
        if meta is None:
            raise ResourceDoesNotExist(f"Run with id={os.path.basename(run_dir)} not found")
        return meta

    def _load_run(self, run_dir: str, meta: dict[str, Any]) -> Run:
        """The whole run from disk, reading each file once."""
        run_id = str(meta.get("run_id") or os.path.basename(run_dir))
        tags = read_values(os.path.join(run_dir, TAGS))
        metrics_dir = os.path.join(run_dir, METRICS)
        latest = []
        for key in list_keys(metrics_dir):
            lines = file_metrics.read_lines(key_path(metrics_dir, key))
            point = file_metrics.latest_run_point(key, lines, run_id)
            if point is not None:
                latest.append(point)
        data = RunData(
            metric_list=latest, params=read_values(os.path.join(run_dir, PARAMS)), tags=tags
        )
        return Run(
            info=info_from_meta(meta, tags),
            data=data,
            inputs=self._read_inputs(run_dir, os.path.dirname(run_dir)),
            outputs=self._read_outputs(run_dir),
        )

    def get_run(self, run_id: str) -> Run:
        _, run_dir = self._locate_run(run_id)
        return self._load_run(run_dir, self._read_meta(run_dir))

    def _active_run(self, run_id: str) -> tuple[str, str, dict[str, Any]]:
        experiment_id, run_dir = self._locate_run(run_id)
        meta = self._read_meta(run_dir)
        _check_active(run_id, meta)
        return experiment_id, run_dir, meta

    # ---- creating and updating ---------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        experiment_id = str(experiment_id)
        tags = [
            validation.validate_tag(RunTag(t.key, "" if t.value is None else str(t.value)))
            for t in tags
        ]
        run_name = validation.check_run_name(run_name, tags) or generate_run_name()
        user_id = validation.validate_user_id(user_id)
        exp_dir = self._active_experiment_dir(experiment_id)
        experiment = self.get_experiment(experiment_id)
        run_id = chosen_run_id(run_id)
        if os.path.exists(os.path.join(exp_dir, run_id)):
            raise ResourceAlreadyExists(f"Run with id={run_id} already exists")
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=run_name,
            user_id=user_id or "",
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            artifact_uri=f"{experiment.artifact_location.rstrip('/')}/{run_id}/{ARTIFACTS}",
        )
        all_tags = {t.key: t.value for t in tags}
        all_tags[RUN_NAME_TAG] = run_name
        # Build the run under a temporary name and rename it into place: readers see all of
        # it or nothing. A second create of the same id (an idempotent replay racing the first)
        # finds the staging or the final directory taken, and changes nothing. It is built
        # under the lock that deleting or restoring the experiment takes, so the experiment
        # cannot move to the trash halfway (which left the run in a directory made anew).
        with locked(self._layout.root):
            exp_dir = self._active_experiment_dir(experiment_id)
            staging = os.path.join(exp_dir, f".{TEMP_MARK}{run_id}")
            try:
                os.mkdir(staging)
            except FileExistsError:
                raise ResourceAlreadyExists(f"Run with id={run_id} already exists") from None
            try:
                for sub in (METRICS, PARAMS, ARTIFACTS, TAGS):
                    os.makedirs(os.path.join(staging, sub))
                for key, value in all_tags.items():
                    write_atomic(key_path(os.path.join(staging, TAGS), key), value)
                write_atomic(os.path.join(staging, META), dump_yaml(run_meta(info)))
                os.rename(staging, os.path.join(exp_dir, run_id))
            except OSError as error:
                shutil.rmtree(staging, ignore_errors=True)
                if os.path.isdir(os.path.join(exp_dir, run_id)):
                    raise ResourceAlreadyExists(f"Run with id={run_id} already exists") from None
                raise error
        return Run(info=info, data=RunData(tags=all_tags))

    def _rewrite_meta(self, run_dir: str, meta: dict[str, Any]) -> None:
        write_atomic(os.path.join(run_dir, META), dump_yaml(meta), within=run_dir)

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        _, run_dir, meta = self._active_run(run_id)
        if status is not None:
            meta["status"] = RunStatus(status).number
        if end_time is not None:
            meta["end_time"] = end_time
        with self._writing_to(run_id):
            if run_name:
                validation.validate_tag(RunTag(RUN_NAME_TAG, run_name))
                name_file = key_path(os.path.join(run_dir, TAGS), RUN_NAME_TAG)
                write_atomic(name_file, run_name, within=run_dir)
                meta["run_name"] = run_name
            meta.pop("deleted_time", None)
            self._rewrite_meta(run_dir, meta)
        return info_from_meta(meta)

    def _set_run_stage(self, run_dir: str, stage: LifecycleStage, deleted_at: int | None) -> None:
        meta = self._read_meta(run_dir)
        if (meta.get("lifecycle_stage") or "active") == stage:
            return
        meta["lifecycle_stage"] = stage.value
        if deleted_at is None:
            meta.pop("deleted_time", None)
        else:
            meta["deleted_time"] = deleted_at
        self._rewrite_meta(run_dir, meta)

    def delete_run(self, run_id: str) -> None:
        _, run_dir = self._locate_run(run_id)
        self._set_run_stage(run_dir, LifecycleStage.DELETED, now_ms())

    def restore_run(self, run_id: str) -> None:
        _, run_dir = self._locate_run(run_id)
        self._set_run_stage(run_dir, LifecycleStage.ACTIVE, None)

    # ---- logging -----------------------------------------------------------------------------
    def log_param(self, run_id: str, param: Param) -> None:
        self._log(run_id, (), [param], (), single_param=True)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self._log(run_id, metrics, params, tags, single_param=False)

    def _log(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        single_param: bool,
    ) -> None:
        validation.validate_run_id(run_id)
        params = [Param(p.key, "" if p.value is None else str(p.value)) for p in params]
        tags = [RunTag(t.key, "" if t.value is None else str(t.value)) for t in tags]
        validation.validate_batch(metrics, params, tags)
        _, run_dir, meta = self._active_run(run_id)
        params_dir = os.path.join(run_dir, PARAMS)
        new_params = []
        for param in params:
            path = key_path(params_dir, param.key)
            if os.path.isfile(path):
                self._check_same_param(run_id, param, read_text(path), single_param)
            else:
                new_params.append(param)
        model_ids = {m.model_id for m in metrics if m.model_id is not None}
        model_dirs = {mid: self._model_metrics_dir(mid) for mid in model_ids}
        file_metrics.check_line_fields(metrics)
        with self._writing_to(run_id):
            self._write_batch(
                run_id, run_dir, meta, new_params, metrics, tags, model_dirs, single_param
            )

    def _write_batch(
        self,
        run_id: str,
        run_dir: str,
        meta: dict[str, Any],
        new_params: list[Param],
        metrics: Sequence[Metric],
        tags: Sequence[RunTag],
        model_dirs: dict[str, str],
        single_param: bool,
    ) -> None:
        """Everything is checked; now write. Params first: only they can still conflict (with
        a writer in another process), and then the ones this call created are taken back."""
        params_dir = os.path.join(run_dir, PARAMS)
        created: list[str] = []
        for param in new_params:
            path = key_path(params_dir, param.key)
            if create_exclusive(path, param.value, within=run_dir):
                created.append(path)
                continue
            existing = read_text(path)
            if existing != param.value:
                for done in created:
                    os.unlink(done)
                self._check_same_param(run_id, param, existing, single_param)
        self._append_metrics(run_dir, run_id, metrics, model_dirs)
        tags_dir = os.path.join(run_dir, TAGS)
        for tag in tags:
            write_atomic(key_path(tags_dir, tag.key), tag.value, within=run_dir)
        name = next((t.value for t in reversed(tags) if t.key == RUN_NAME_TAG), None)
        if name and name != meta.get("run_name"):
            meta["run_name"] = name
            self._rewrite_meta(run_dir, meta)

    @staticmethod
    def _check_same_param(run_id: str, param: Param, existing: str, single: bool) -> None:
        if existing == param.value:
            return
        if single:
            raise InvalidParameterValue(
                f"Changing param values is not allowed. Param with key='{param.key}' was "
                f"already logged with value='{existing}' for run ID='{run_id}'. Attempted "
                f"logging new value '{param.value}'."
            )
        change = [{"key": param.key, "old_value": existing, "new_value": param.value}]
        raise InvalidParameterValue(
            "Changing param values is not allowed. Params were already logged="
            f"'{change}' for run ID='{run_id}'."
        )

    def _model_metrics_dir(self, model_id: str) -> str:
        found = self._layout.find_model(model_id)
        if found is None:
            raise ResourceDoesNotExist(f"Logged model with id={model_id} not found")
        return os.path.join(found[1], METRICS)

    def _append_metrics(
        self,
        run_dir: str,
        run_id: str,
        metrics: Sequence[Metric],
        model_dirs: dict[str, str],
    ) -> None:
        """Append each key's new lines with one write; points already stored among the recent
        lines are skipped, so a retried request stores nothing twice."""
        run_lines: dict[str, list[str]] = {}
        model_lines: dict[tuple[str, str], list[str]] = {}
        for metric in metrics:
            run_lines.setdefault(metric.key, []).append(file_metrics.format_run_line(metric))
            if metric.model_id is not None:
                line = file_metrics.format_model_line(metric, run_id)
                model_lines.setdefault((model_dirs[metric.model_id], metric.key), []).append(line)
        metrics_dir = os.path.join(run_dir, METRICS)
        targets = [(metrics_dir, key, lines, run_dir) for key, lines in run_lines.items()]
        targets += [(d, key, lines, None) for (d, key), lines in model_lines.items()]
        for directory, key, lines, within in targets:
            path = key_path(directory, key)
            window = max(file_metrics.DEDUP_WINDOW_BYTES, 4 * sum(map(len, lines)))
            present = set(file_metrics.read_tail_lines(path, window))
            fresh: list[str] = []
            for line in lines:
                bare = line.rstrip("\n")
                if bare not in present:
                    present.add(bare)
                    fresh.append(line)
            if fresh:
                append_bytes(path, "".join(fresh).encode("utf-8"), within=within)

    def delete_tag(self, run_id: str, key: str) -> None:
        validation.validate_key(key, "key")
        _, run_dir, _ = self._active_run(run_id)
        target = key_path(os.path.join(run_dir, TAGS), key)
        try:
            os.remove(target)
        except FileNotFoundError:
            raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}") from None
        remove_empty_parents(target, os.path.join(run_dir, TAGS))


__all__ = ["RunsMixin", "info_from_meta", "run_meta"]
