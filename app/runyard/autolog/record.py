"""What every autologger records the same way: params, model directories, importances.

Kept apart from the integrations so that scikit-learn and LightGBM name and shape things
identically, and so each integration module only says what to log, not how.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from runyard.autolog.plots import horizontal_bars
from runyard.clock import now_ms
from runyard.entities import Dataset, DatasetInput, Metric
from runyard.tags import DATASET_CONTEXT
from runyard.tracking.client import Client
from runyard.tracking.model_logging import mlmodel_time
from runyard.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH


class RunLogger:
    """Logs to one run through a ``Client``; every batch respects the store's limits."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    @classmethod
    def for_active_run(cls) -> RunLogger:
        from runyard.tracking import fluent

        run = fluent.active_run()
        if run is None:
            raise RuntimeError("autologging needs an active run")
        return cls(Client(), run.info.run_id)

    def params(self, params: Mapping[str, Any]) -> None:
        clean = truncate_params(params)
        if clean:
            self.client.log_batch(self.run_id, params=clean, synchronous=True)

    def tags(self, tags: Mapping[str, Any]) -> None:
        clean = {k[:MAX_KEY_LENGTH]: str(v)[:MAX_TAG_VALUE_LENGTH] for k, v in tags.items()}
        self.client.log_batch(self.run_id, tags=clean, synchronous=True)

    def metrics(
        self,
        metrics: Mapping[str, float],
        step: int = 0,
        model_id: str | None = None,
        dataset: Dataset | None = None,
    ) -> None:
        """Log ``metrics`` at ``step``; with ``model_id`` they are the logged model's too, and
        with ``dataset`` they say they were computed on it."""
        ts = now_ms()
        name, digest = (dataset.name, dataset.digest) if dataset is not None else (None, None)
        points = [
            Metric(k, float(v), ts, step, None, model_id, name, digest) for k, v in metrics.items()
        ]
        self.metric_points(points)

    def datasets(self, datasets: Sequence[tuple[Dataset, str]]) -> None:
        """``(dataset, context)`` pairs as inputs of the run."""
        if datasets:
            self.client.log_inputs(
                self.run_id, [DatasetInput(d, {DATASET_CONTEXT: c}) for d, c in datasets]
            )

    def metric_points(self, points: Sequence[Metric]) -> None:
        if points:
            self.client.log_batch(self.run_id, metrics=list(points), synchronous=True)

    def directory(self, build: Callable[[str], None], artifact_path: str | None = None) -> None:
        """Let ``build`` fill a temporary directory, then upload its contents."""
        with tempfile.TemporaryDirectory() as tmp:
            build(tmp)
            self.client.log_artifacts(self.run_id, tmp, artifact_path)


def stringify(value: Any) -> str:
    """A param's text: functions by their name (not an address that changes every run)."""
    if isinstance(value, str):
        return value
    if callable(value) and not isinstance(value, type) and hasattr(value, "__qualname__"):
        return str(value.__qualname__)
    return str(value)


def truncate_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Stringified params; keys and values longer than the store accepts are cut (with a
    warning) rather than failing the whole batch. Keys that collide once cut keep the first."""
    out: dict[str, str] = {}
    for key, value in params.items():
        text = stringify(value)
        short_key = str(key)[:MAX_KEY_LENGTH]
        if len(text) > MAX_PARAM_VALUE_LENGTH:
            warnings.warn(
                f"param {short_key!r}: value truncated to {MAX_PARAM_VALUE_LENGTH} characters",
                stacklevel=2,
            )
            text = text[:MAX_PARAM_VALUE_LENGTH]
        if short_key != key:
            warnings.warn(
                f"param key truncated to {MAX_KEY_LENGTH} characters: {short_key!r}",
                stacklevel=2,
            )
        out.setdefault(short_key, text)
    return out


def write_mlmodel(
    directory: str,
    run_id: str | None,
    flavor: str,
    flavor_conf: Mapping[str, Any],
    loader: str,
    data_file: str,
    *,
    artifact_path: str = "model",
    model_id: str | None = None,
    signature: Mapping[str, Any] | None = None,
    example_info: Mapping[str, Any] | None = None,
    with_environment: bool = False,
) -> dict[str, Any]:
    """The ``MLmodel`` descriptor (MLflow's format) so tools can tell what the files are and
    MLflow's ``pyfunc`` can load them; ``with_environment``: ``conda.yaml`` and
    ``python_env.yaml`` sit beside it (``model_files.write_environment``). Returns it."""
    python_function: dict[str, Any] = {"loader_module": loader, "model_path": data_file}
    if with_environment:
        python_function["env"] = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
        python_function["predict_fn"] = "predict"
    python_function["python_version"] = _python_version()
    descriptor: dict[str, Any] = {
        "artifact_path": artifact_path,
        "flavors": {"python_function": python_function, flavor: dict(flavor_conf)},
        "model_uuid": uuid.uuid4().hex,
        "run_id": run_id,
        "utc_time_created": mlmodel_time(),
    }
    if model_id is not None:
        descriptor["model_id"] = model_id
    if example_info is not None:
        descriptor["saved_input_example_info"] = dict(example_info)
    if signature is not None:
        descriptor["signature"] = dict(signature)
    with open(os.path.join(directory, "MLmodel"), "w", encoding="utf-8") as fh:
        yaml.safe_dump(descriptor, fh, default_flow_style=False, sort_keys=False)
    return descriptor


def _python_version() -> str:
    import platform

    return platform.python_version()


def write_importances(
    directory: str, name: str, importances: Mapping[str, Any], title: str
) -> list[str]:
    """``<name>.json`` (feature -> importance) and, with Pillow, ``<name>.png``."""
    written = [f"{name}.json"]
    with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as fh:
        json.dump(dict(importances), fh, indent=2)
    flat = {k: v for k, v in importances.items() if isinstance(v, int | float)}
    if flat and horizontal_bars(os.path.join(directory, f"{name}.png"), list(flat.items()), title):
        written.append(f"{name}.png")
    return written
