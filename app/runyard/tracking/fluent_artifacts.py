"""MLflow's ``mlflow.artifacts`` functions, reached as ``runyard.artifacts.<name>``: download,
list and read the files behind a ``runs:/``, ``models:/`` or plain artifact URI, or behind a
run id and a path inside its artifacts."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from runyard.artifacts import repo_for_uri
from runyard.entities import FileInfo
from runyard.errors import InvalidParameterValue
from runyard.tracking.client import Client
from runyard.tracking.fluent import _client
from runyard.validation import safe_relative_path


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Copy the files to ``dst_path`` (a new temporary directory when None); returns the
    local path of what was asked for."""
    client, uri = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return client.download_artifacts_from_uri(uri, dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The files and directories directly under the URI (or the run's path)."""
    client, uri = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    location, path = client.resolve_artifact_uri(uri)
    repo = repo_for_uri(location, tracking_uri=client._tracking_uri)
    return repo.list_artifacts(path or None)


def load_text(artifact_uri: str) -> str:
    """The file's content as UTF-8 text."""
    with tempfile.TemporaryDirectory() as tmp:
        local = download_artifacts(artifact_uri, dst_path=tmp)
        with open(local, encoding="utf-8") as fh:
            return fh.read()


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """The JSON object in the file (as MLflow's ``load_dict``, YAML is not read)."""
    text = load_text(artifact_uri)
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidParameterValue(f"{artifact_uri} does not hold a JSON object.") from None
    if not isinstance(value, dict):
        raise InvalidParameterValue(f"{artifact_uri} does not hold a JSON object.")
    return value


def load_image(artifact_uri: str) -> Any:
    """The image file as a PIL image (needs Pillow: the ``images`` extra)."""
    from runyard.images import pil

    with tempfile.TemporaryDirectory() as tmp:
        image = pil().open(download_artifacts(artifact_uri, dst_path=tmp))
        image.load()  # read now: the file goes with the directory
        return image


def _resolve(
    artifact_uri: str | None,
    run_id: str | None,
    artifact_path: str | None,
    tracking_uri: str | None,
) -> tuple[Client, str]:
    """The client to use and one URI for what was asked: ``artifact_uri`` as given, or
    ``runs:/<run_id>/<artifact_path>``."""
    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameterValue("Give exactly one of 'artifact_uri' or 'run_id'.")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameterValue("'artifact_path' goes with 'run_id', not 'artifact_uri'.")
    client = Client(tracking_uri) if tracking_uri is not None else _client()
    if run_id is not None:
        artifact_uri = f"runs:/{run_id}/{safe_relative_path(artifact_path)}"
    assert artifact_uri is not None
    return client, artifact_uri
