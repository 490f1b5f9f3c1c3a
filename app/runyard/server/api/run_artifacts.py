"""What clients ask before touching artifacts: ``artifacts/list`` of a run, ``server-info``."""

from __future__ import annotations

import posixpath

from flask import Blueprint, Response, current_app

from runyard import protocol as p
from runyard.artifacts import repo_for_uri
from runyard.artifacts.base import ArtifactRepo
from runyard.entities import FileInfo
from runyard.errors import NotImplementedByBackend
from runyard.locations import canonical_artifact_path, parse_location
from runyard.server.api.common import artifact_repo, reply, request_fields, server_config, store
from runyard.server.ops.routes import MLFLOW_API_LEVEL
from runyard.server.security import check_stored_location
from runyard.version import runyard_version

bp = Blueprint("run_artifacts", __name__)
server_info_bp = Blueprint("server_info", __name__)

PROXY_SCHEMES = ("mlflow-artifacts", "runyard-artifacts")


def stored_repo(artifact_uri: str) -> tuple[ArtifactRepo, str]:
    """``(repository, path of the location inside it)`` for a stored artifact location (a
    run's, or a model version's): the server's own destination for a proxied URI, else a
    repository rooted at the location. The stored URI is checked first, so a location stored
    before it was refusable is refused here (and never reaches a repository)."""
    canonical = check_stored_location(artifact_uri, server_config())
    location = parse_location(canonical)
    if location.scheme not in PROXY_SCHEMES:
        return repo_for_uri(canonical), ""
    repo = artifact_repo()
    if repo is None:
        raise NotImplementedByBackend("This server does not serve artifacts.")
    return repo, location.path.lstrip("/")


def repo_and_path(artifact_uri: str, path: str) -> tuple[ArtifactRepo, str]:
    """The repository holding ``path`` (already canonical and relative) under a stored artifact
    root, and the path inside that repository."""
    repo, inner = stored_repo(artifact_uri)
    return repo, "/".join(x for x in (inner, path) if x)


def list_run_artifacts(artifact_uri: str, path: str) -> list[FileInfo]:
    """Direct children of ``path`` in a run's artifacts; paths relative to the run root."""
    repo, inner = repo_and_path(artifact_uri, path)
    listed = repo.list_artifacts(inner or None)
    return [
        FileInfo(
            "/".join(x for x in (path, posixpath.basename(f.path)) if x), f.is_dir, f.file_size
        )
        for f in listed
    ]


@bp.get("/artifacts/list")
def list_artifacts() -> Response:
    fields = request_fields()
    run = store().get_run(p.run_id_from(fields))
    path = canonical_artifact_path(p.optional_string(fields, "path"))
    files = list_run_artifacts(run.info.artifact_uri, path)
    body = {"root_uri": run.info.artifact_uri}
    if files:
        body["files"] = [p.file_info_to_json(f) for f in files]
    return reply(body)


@server_info_bp.get("/server-info")
def server_info() -> Response:
    """Optional for clients; all advanced features off, so they use plain PUT/GET/list."""
    return reply(
        {
            "store_type": type(current_app.config["RUNYARD_STORE"]).__name__,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "artifact_serving_enabled": server_config().serve_artifacts,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "model_artifact_presigned_downloads_supported": False,
            "artifacts_presigned_only": False,
            "tracking_auth": "",
            "features_enabled": {},
            "runyard_version": runyard_version(),
            "mlflow_api_level": MLFLOW_API_LEVEL,
        }
    )
