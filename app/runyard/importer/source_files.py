"""An MLflow file store (``./mlruns``), read from its directory layout.

Layout (MLflow 2.x/3.x): ``<exp>/meta.yaml``, ``<exp>/tags/<key>``, ``<exp>/<run>/meta.yaml``,
``<run>/{params,tags,metrics}/<key>`` (a ``/`` in a key is a subdirectory), metric files with one
``<timestamp> <value> <step> [<dataset name> <dataset digest>]`` line per point,
``<run>/inputs/<id>/meta.yaml`` pointing at ``<exp>/datasets/<id>/meta.yaml``,
``<run>/outputs/<model id>/meta.yaml``, ``<exp>/models/<model id>/…``; deleted experiments live
in ``.trash/<exp>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from runyard import tags as system_tags
from runyard.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from runyard.importer.records import ImportRefused, RegistryRecord, RunRecord
from runyard.importer.source_registry import registry_from_files
from runyard.uris import local_path_from_uri

_SPECIAL = ("datasets", "models", "tags", "traces", "meta.yaml")


def _meta(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _key_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) for every file under ``root``; the key is the path relative to it."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path.relative_to(root).as_posix(), path


def _values(root: Path) -> dict[str, str]:
    return {key: path.read_text() for key, path in _key_files(root)}


class MlflowFileSource:
    """Reads an ``mlruns`` directory as MLflow's file store wrote it."""

    def __init__(self, uri: str) -> None:
        self.description = uri
        self.root = Path(local_path_from_uri(uri)).resolve()
        self._experiment_dirs: dict[str, Path] = {}
        self._run_dirs: dict[str, Path] = {}

    def check(self) -> None:
        if not self.root.is_dir() or (
            not (self.root / "0").is_dir() and not any(self.root.glob("*/meta.yaml"))
        ):
            raise ImportRefused(
                f"{self.description} is not an MLflow file store (no <id>/meta.yaml)."
            )

    def _experiment_paths(self) -> Iterator[Path]:
        for parent in (self.root, self.root / ".trash"):
            if parent.is_dir():
                yield from (p for p in sorted(parent.iterdir()) if (p / "meta.yaml").is_file())

    def experiments(self) -> Iterator[Experiment]:
        for path in self._experiment_paths():
            meta = _meta(path / "meta.yaml")
            experiment_id = str(meta["experiment_id"])
            self._experiment_dirs[experiment_id] = path
            yield Experiment(
                experiment_id=experiment_id,
                name=meta["name"],
                artifact_location=meta.get("artifact_location") or "",
                lifecycle_stage=LifecycleStage(meta.get("lifecycle_stage") or "active"),
                creation_time=meta.get("creation_time"),
                last_update_time=meta.get("last_update_time"),
                tags=_values(path / "tags"),
            )

    def logged_models(self, experiment_id: str) -> Iterator[LoggedModel]:
        models = self._experiment_dirs[experiment_id] / "models"
        if not models.is_dir():
            return
        for path in sorted(models.iterdir()):
            if not (path / "meta.yaml").is_file():
                continue
            meta = _meta(path / "meta.yaml")
            yield LoggedModel(
                model_id=meta["model_id"],
                experiment_id=experiment_id,
                name=meta.get("name") or meta["model_id"],
                artifact_location=meta.get("artifact_location") or "",
                creation_timestamp=meta.get("creation_timestamp") or 0,
                last_updated_timestamp=meta.get("last_updated_timestamp") or 0,
                status=LoggedModelStatus.from_number(int(meta.get("status") or 1)),
                source_run_id=meta.get("source_run_id"),
                model_type=meta.get("model_type"),
                status_message=meta.get("status_message"),
                tags=_values(path / "tags"),
                params=_values(path / "params"),
            )

    def run_ids(self, experiment_id: str) -> list[str]:
        ids = []
        for path in sorted(self._experiment_dirs[experiment_id].iterdir()):
            if path.name not in _SPECIAL and (path / "meta.yaml").is_file():
                self._run_dirs[path.name] = path
                ids.append(path.name)
        return ids

    def run(self, run_id: str) -> RunRecord:
        path = self._run_dirs[run_id]
        meta = _meta(path / "meta.yaml")
        tags = _values(path / "tags")
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(meta["experiment_id"]),
            run_name=meta.get("run_name") or tags.get(system_tags.RUN_NAME, ""),
            user_id=meta.get("user_id") or "",
            status=RunStatus.from_number(int(meta.get("status") or 1)),
            start_time=meta.get("start_time"),
            end_time=meta.get("end_time"),
            artifact_uri=meta.get("artifact_uri") or "",
            lifecycle_stage=LifecycleStage(meta.get("lifecycle_stage") or "active"),
        )
        inputs, outputs = self._inputs_and_outputs(path)
        return RunRecord(
            info, _values(path / "params"), tags, inputs, outputs, meta.get("deleted_time")
        )

    def _inputs_and_outputs(self, run_dir: Path) -> tuple[RunInputs, RunOutputs]:
        datasets, models, outputs = [], [], []
        for meta_file in sorted(run_dir.glob("inputs/*/meta.yaml")):
            meta = _meta(meta_file)
            if meta.get("source_type") == "DATASET":
                dataset_meta = run_dir.parent / "datasets" / meta["source_id"] / "meta.yaml"
                if dataset_meta.is_file():
                    d = _meta(dataset_meta)
                    dataset = Dataset(
                        d["name"],
                        d["digest"],
                        d.get("source_type") or "",
                        d.get("source") or "",
                        d.get("schema"),
                        d.get("profile"),
                    )
                    datasets.append(DatasetInput(dataset, meta.get("tags") or {}))
            elif meta.get("destination_type") == "MODEL_INPUT":
                models.append(ModelInput(meta["destination_id"]))
        for meta_file in sorted(run_dir.glob("outputs/*/meta.yaml")):
            meta = _meta(meta_file)
            outputs.append(ModelOutput(meta["destination_id"], int(meta.get("step") or 0)))
        return RunInputs(tuple(datasets), tuple(models)), RunOutputs(tuple(outputs))

    def metric_points(self, run_id: str) -> Iterator[Metric]:
        for key, path in _key_files(self._run_dirs[run_id] / "metrics"):
            with path.open() as lines:
                for line in lines:
                    parts = line.split()
                    if len(parts) < 2:
                        continue
                    value = float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                    dataset = (parts[3], parts[4]) if len(parts) > 4 else (None, None)
                    yield Metric(
                        key, value, int(parts[0]), step, run_id, None, dataset[0], dataset[1]
                    )

    def count_points(self, run_id: str) -> int:
        total = 0
        for _, path in _key_files(self._run_dirs[run_id] / "metrics"):
            with path.open() as lines:
                total += sum(1 for line in lines if line.strip())
        return total

    def registered_models(self) -> Iterator[RegistryRecord]:
        return registry_from_files(self.root / "models")

    def close(self) -> None:
        pass
