"""Copying artifacts from any repository to local disk, shared by every ``ArtifactRepo``."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from runyard.errors import ResourceDoesNotExist
from runyard.validation import safe_relative_path

if TYPE_CHECKING:
    from runyard.artifacts.base import ArtifactRepo


def download_tree(repo: ArtifactRepo, artifact_path: str, dst_dir: str) -> str:
    """Download a file or a directory tree into ``dst_dir``; return the local path."""
    rel = safe_relative_path(artifact_path)
    info = repo.file_info(rel) if rel else None
    if rel and info is None:
        raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
    local = os.path.join(dst_dir, *rel.split("/")) if rel else dst_dir
    if info is not None and not info.is_dir:
        _download_file(repo, rel, local)
        return local
    os.makedirs(local, exist_ok=True)
    for child in repo.list_artifacts(rel or None):
        if child.is_dir:
            download_tree(repo, child.path, dst_dir)
        else:
            _download_file(repo, child.path, os.path.join(dst_dir, *child.path.split("/")))
    return local


def _download_file(repo: ArtifactRepo, rel: str, local: str) -> None:
    """Write to a temp file beside the target and rename, so a failed copy leaves nothing."""
    directory = os.path.dirname(local) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".runyard-download-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in repo.open_stream(rel):
                out.write(chunk)
        os.replace(tmp, local)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
