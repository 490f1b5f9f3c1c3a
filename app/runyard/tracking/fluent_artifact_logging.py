"""The fluent API's artifact calls (``runyard.log_artifact``, ``log_text``, ``log_table``,
``log_image``, ...): each logs to the run given, else the active run (started if needed)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import Any

from runyard.tracking.fluent import _client, _resolve_experiment_id, _target
from runyard.validation import safe_relative_path


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    client, rid = _target(run_id)
    client.log_artifact(rid, local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    client, rid = _target(run_id)
    client.log_artifacts(rid, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    client, rid = _target(run_id)
    client.log_text(rid, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    client, rid = _target(run_id)
    client.log_dict(rid, dictionary, artifact_file)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Append ``data`` (a pandas DataFrame or a dict) to the run's table ``artifact_file``."""
    client, rid = _target(run_id)
    client.log_table(rid, data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> Any:
    """The table ``artifact_file`` of every run of the active experiment that logged it."""
    client = _client()
    return client.load_table(_resolve_experiment_id(client), artifact_file, run_ids, extra_columns)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    client, rid = _target(run_id)
    client.log_image(rid, image, artifact_file, key, step, timestamp, synchronous)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    client, rid = _target(run_id)
    client.log_figure(rid, figure, artifact_file, save_kwargs=save_kwargs)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact URI of the active run (started if needed), or of a path inside it."""
    client, run_id = _target(None)
    root = client.get_run(run_id).info.artifact_uri
    rel = safe_relative_path(artifact_path)
    return posixpath.join(root, rel) if rel else root
