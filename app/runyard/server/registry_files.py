"""Files of a model version, read from its storage location and never from outside it.

Used by ``/model-versions/get-artifact`` and the version page. The location comes from the
store's ``get_model_version_download_uri``, which re-checks the source rule; here it must also
lie under a root this server may read (``check_stored_location``, as for a run's stored
location). A path is brought to canonical form (``canonical_artifact_path``) before it is
joined to the location, and the repository checks its own root again when it opens the file.
"""

from __future__ import annotations

import posixpath
from typing import Any

from runyard.artifacts.base import ArtifactRepo
from runyard.entities import FileInfo
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.locations import canonical_artifact_path
from runyard.server.api.run_artifacts import stored_repo


def open_version_file(location: str, path: str) -> tuple[ArtifactRepo, str, FileInfo]:
    """``(repo, path in repo, FileInfo)`` of the file ``path`` below ``location``."""
    rel = canonical_artifact_path(path)
    if not rel:
        raise InvalidParameterValue("Invalid path")
    repo, root = stored_repo(location)
    full = "/".join(x for x in (root, rel) if x)
    try:
        info = repo.file_info(full)
    except InvalidParameterValue:  # the repository refused it (a symlink out of the root)
        raise InvalidParameterValue("Invalid path") from None
    if info is None or info.is_dir:
        raise ResourceDoesNotExist(f"No such artifact: '{rel}'")
    return repo, full, info


def read_version_file(location: str, path: str, limit: int) -> bytes | None:
    """The first ``limit`` bytes of a version's file, or None when it has no such file."""
    try:
        repo, full, _ = open_version_file(location, path)
    except ResourceDoesNotExist:
        return None
    data = bytearray()
    chunks: Any = repo.open_stream(full)
    try:
        for chunk in chunks:
            data += chunk
            if len(data) >= limit:
                break
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return bytes(data[:limit])


def list_version_files(location: str, limit: int = 1000) -> list[FileInfo]:
    """Every file below ``location`` (paths relative to it), at most ``limit``."""
    repo, root = stored_repo(location)
    found: list[FileInfo] = []
    pending = [""]
    while pending and len(found) < limit:
        rel = pending.pop(0)
        full = "/".join(x for x in (root, rel) if x)
        for child in repo.list_artifacts(full or None):
            child_rel = "/".join(x for x in (rel, posixpath.basename(child.path)) if x)
            if child.is_dir:
                pending.append(child_rel)
            else:
                found.append(FileInfo(child_rel, False, child.file_size))
    return sorted(found[:limit], key=lambda f: f.path)
