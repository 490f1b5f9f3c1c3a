"""Artifact files by run or logged model, as MLflow's web UI and older clients ask for them:
``GET /get-artifact``, ``POST /ajax-api/2.0/mlflow/upload-artifact`` and the logged-model
artifact routes. Paths get the proxy's checks (``artifacts_api.checked_path``: every decoding
of the path, no traversal), files the proxy's MIME types and download headers."""

from __future__ import annotations

import io

from flask import Blueprint, Response, request

from runyard import protocol as p
from runyard.artifacts.base import ArtifactRepo
from runyard.errors import BadRequest, InvalidParameterValue, ResourceDoesNotExist
from runyard.server.api.artifact_proxy import (
    DOWNLOAD_CSP,
    _guarded,
    _streamed,
    checked_path,
    content_disposition,
    guess_content_type,
)
from runyard.server.api.common import reply, request_fields, store
from runyard.server.api.run_artifacts import list_run_artifacts, repo_and_path

#: ``/get-artifact`` (no API prefix, as MLflow serves it).
root_bp = Blueprint("get_artifact", __name__)
#: Routes MLflow serves under ``/ajax-api/2.0/mlflow`` (runyard also under ``/api/2.0/mlflow``).
bp = Blueprint("file_artifacts", __name__)

#: MLflow's cap on a file uploaded through the UI.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def send_artifact(repo: ArtifactRepo, path: str, shown: str) -> Response:
    """One file as an attachment; a directory is a 400, a missing file a 404."""
    info = _guarded(lambda: repo.file_info(path)) if path else None
    if info is None:
        raise ResourceDoesNotExist(f"No such artifact: '{shown}'")
    if info.is_dir:
        raise InvalidParameterValue(f"Artifact path refers to a directory, not a file: '{shown}'")
    body = _guarded(lambda: _streamed(repo.open_stream(path)))
    # content_type, not mimetype: no charset parameter, as MLflow sends none
    response = Response(body, content_type=guess_content_type(shown), direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(shown)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


@root_bp.get("/get-artifact")
def get_artifact() -> Response:
    fields = request_fields()
    run = store().get_run(p.run_id_from(fields))
    rel = checked_path(p.parse_string(p.require_field(fields, "path"), "path"))
    repo, inner = repo_and_path(run.info.artifact_uri, rel)
    return send_artifact(repo, inner, rel)


@bp.post("/upload-artifact")
def upload_artifact() -> Response:
    run_uuid = request.args.get("run_uuid")
    if not run_uuid:
        raise InvalidParameterValue("Request must specify run_uuid.")
    raw_path = request.args.get("path")
    if not raw_path:
        raise InvalidParameterValue("Request must specify path.")
    rel = checked_path(raw_path)
    if not rel:
        raise InvalidParameterValue("Invalid path")
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        raise InvalidParameterValue("Artifact size is too large. Max size is 10MB.")
    data = request.get_data(cache=False)
    if not data:
        raise InvalidParameterValue("Request must specify data.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidParameterValue("Artifact size is too large. Max size is 10MB.")
    run = store().get_run(run_uuid)
    repo, inner = repo_and_path(run.info.artifact_uri, rel)
    _guarded(lambda: repo.write_stream(inner, io.BytesIO(data)))
    return reply()


@bp.get("/logged-models/<model_id>/artifacts/files")
def get_logged_model_artifact(model_id: str) -> Response:
    raw_path = request.args.get("artifact_file_path")
    if not raw_path:
        raise BadRequest('Request must include the "artifact_file_path" query parameter.')
    rel = checked_path(raw_path)
    model = store().get_logged_model(model_id)
    repo, inner = repo_and_path(model.artifact_location, rel)
    return send_artifact(repo, inner, rel)


@bp.get("/logged-models/<model_id>/artifacts/directories")
def list_logged_model_artifacts(model_id: str) -> Response:
    fields = request_fields()
    rel = checked_path(p.optional_string(fields, "artifact_directory_path"))
    model = store().get_logged_model(model_id)
    files = list_run_artifacts(model.artifact_location, rel)
    body: dict = {"root_uri": model.artifact_location}
    if files:
        body["files"] = [p.file_info_to_json(f) for f in files]
    return reply(body)
