"""Copying artifacts from any repository to local disk, shared by every ``ArtifactRepo``."""

from __future__ import annotations

import functools
import os
import posixpath
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard.artifacts.transfers import run_transfers
from runyard.errors import ResourceDoesNotExist
from runyard.validation import safe_relative_path

if TYPE_CHECKING:
    from runyard.artifacts.base import ArtifactRepo


def download_tree(
    repo: ArtifactRepo, artifact_path: str, dst_dir: str, keep_parents: bool = True
) -> str:
    """Download a file or a directory tree into ``dst_dir``; return the local path. A tree's
    directories are listed first, then its files copied a few at a time.

    ``keep_parents``: ``a/b/c.txt`` lands at ``dst_dir/a/b/c.txt`` (a run's files, as
    ``MlflowClient.download_artifacts`` places them); without, at ``dst_dir/c.txt`` (as
    ``mlflow.artifacts.download_artifacts`` places what a URI names)."""
    rel = safe_relative_path(artifact_path)
    info = repo.file_info(rel) if rel else None
    if rel and info is None:
        raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
    dropped = posixpath.dirname(rel) if not keep_parents else ""

    def local_path(path: str) -> str:
        kept = path[len(dropped) + 1 :] if dropped else path
        return os.path.join(dst_dir, *kept.split("/")) if kept else dst_dir

    local = local_path(rel)
    if info is not None and not info.is_dir:
        _download_file(repo, rel, local)
        return local
    jobs: list[Callable[[], None]] = []
    _list_tree(repo, rel, local_path, jobs)
    run_transfers(jobs)
    return local


def _list_tree(
    repo: ArtifactRepo,
    rel: str,
    local_path: Callable[[str], str],
    jobs: list[Callable[[], None]],
) -> None:
    """Make the local directories of ``rel``'s tree and queue a copy of each of its files."""
    os.makedirs(local_path(rel), exist_ok=True)
    for child in repo.list_artifacts(rel or None):
        if child.is_dir:
            _list_tree(repo, child.path, local_path, jobs)
        else:
            jobs.append(functools.partial(_download_file, repo, child.path, local_path(child.path)))


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
