"""``/registered-models/*`` and ``/model-versions/*``: the model registry's REST API, with
MLflow's routes, JSON shapes and error codes (``docs/reference/mlflow-registry-api.md``).

Handlers only parse the request and render the reply; validation, existence checks and the
version-source rule live in the store (``runyard.registry``), so every backend behaves alike.
``/model-versions/get-artifact`` (at the root, as in MLflow) serves one file of a version from
its storage location, never from outside it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from runyard import protocol as p
from runyard.registry import protocol as rp
from runyard.registry.validation import SEARCH_MODELS_DEFAULT, SEARCH_VERSIONS_DEFAULT
from runyard.server.api.common import reply, request_fields, store
from runyard.server.registry_files import open_version_file

bp = Blueprint("registry", __name__)
artifact_bp = Blueprint("registry_artifacts", __name__)


def _name(fields: dict[str, Any], field: str = "name") -> str:
    return p.parse_string(p.require_field(fields, field), field)


def _version(fields: dict[str, Any]) -> str:
    return p.parse_string(p.require_field(fields, "version"), "version")


def _model_reply(model: Any) -> Response:
    return reply({"registered_model": rp.registered_model_to_json(model)})


def _version_reply(mv: Any) -> Response:
    return reply({"model_version": rp.model_version_to_json(mv)})


def _max_results(fields: dict[str, Any], default: int) -> int:
    value = p.optional_int(fields, "max_results")
    return default if value is None else value


# ---- registered models -----------------------------------------------------------------------
@bp.post("/registered-models/create")
def create_registered_model() -> Response:
    fields = request_fields()
    model = store().create_registered_model(
        _name(fields),
        tags=p.key_values_from_json(fields.get("tags")),
        description=p.optional_string(fields, "description"),
    )
    return _model_reply(model)


@bp.get("/registered-models/get")
def get_registered_model() -> Response:
    return _model_reply(store().get_registered_model(_name(request_fields())))


@bp.post("/registered-models/rename")
def rename_registered_model() -> Response:
    fields = request_fields()
    return _model_reply(store().rename_registered_model(_name(fields), _name(fields, "new_name")))


@bp.patch("/registered-models/update")
def update_registered_model() -> Response:
    fields = request_fields()
    description = p.optional_string(fields, "description") or ""
    return _model_reply(store().update_registered_model(_name(fields), description))


@bp.delete("/registered-models/delete")
def delete_registered_model() -> Response:
    store().delete_registered_model(_name(request_fields()))
    return reply()


@bp.get("/registered-models/search")
def search_registered_models() -> Response:
    fields = request_fields()
    page = store().search_registered_models(
        filter_string=p.optional_string(fields, "filter") or None,
        max_results=_max_results(fields, SEARCH_MODELS_DEFAULT),
        order_by=p.string_list(fields, "order_by") or None,
        page_token=p.optional_string(fields, "page_token") or None,
    )
    items = [rp.registered_model_to_json(m) for m in page]
    return reply(p.page_to_json("registered_models", items, page))


@bp.route("/registered-models/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions() -> Response:
    fields = request_fields()
    versions = store().get_latest_versions(_name(fields), p.string_list(fields, "stages") or None)
    return reply(p.page_to_json("model_versions", [rp.model_version_to_json(v) for v in versions]))


@bp.post("/registered-models/set-tag")
def set_registered_model_tag() -> Response:
    fields = request_fields()
    store().set_registered_model_tag(
        _name(fields), _name(fields, "key"), p.optional_string(fields, "value") or ""
    )
    return reply()


@bp.delete("/registered-models/delete-tag")
def delete_registered_model_tag() -> Response:
    fields = request_fields()
    store().delete_registered_model_tag(_name(fields), _name(fields, "key"))
    return reply()


@bp.post("/registered-models/alias")
def set_registered_model_alias() -> Response:
    fields = request_fields()
    store().set_registered_model_alias(_name(fields), _name(fields, "alias"), _version(fields))
    return reply()


@bp.delete("/registered-models/alias")
def delete_registered_model_alias() -> Response:
    fields = request_fields()
    store().delete_registered_model_alias(_name(fields), _name(fields, "alias"))
    return reply()


@bp.get("/registered-models/alias")
def get_model_version_by_alias() -> Response:
    fields = request_fields()
    return _version_reply(store().get_model_version_by_alias(_name(fields), _name(fields, "alias")))


# ---- model versions --------------------------------------------------------------------------
@bp.post("/model-versions/create")
def create_model_version() -> Response:
    fields = request_fields()
    mv = store().create_model_version(
        _name(fields),
        _name(fields, "source"),
        run_id=p.optional_string(fields, "run_id") or None,
        tags=p.key_values_from_json(fields.get("tags")),
        run_link=p.optional_string(fields, "run_link") or None,
        description=p.optional_string(fields, "description"),
        model_id=p.optional_string(fields, "model_id") or None,
    )
    return _version_reply(mv)


@bp.get("/model-versions/get")
def get_model_version() -> Response:
    fields = request_fields()
    return _version_reply(store().get_model_version(_name(fields), _version(fields)))


@bp.patch("/model-versions/update")
def update_model_version() -> Response:
    fields = request_fields()
    description = p.optional_string(fields, "description") or ""
    return _version_reply(
        store().update_model_version(_name(fields), _version(fields), description)
    )


@bp.delete("/model-versions/delete")
def delete_model_version() -> Response:
    fields = request_fields()
    store().delete_model_version(_name(fields), _version(fields))
    return reply()


@bp.get("/model-versions/search")
def search_model_versions() -> Response:
    fields = request_fields()
    page = store().search_model_versions(
        filter_string=p.optional_string(fields, "filter") or None,
        max_results=_max_results(fields, SEARCH_VERSIONS_DEFAULT),
        order_by=p.string_list(fields, "order_by") or None,
        page_token=p.optional_string(fields, "page_token") or None,
    )
    items = [rp.model_version_to_json(v) for v in page]
    return reply(p.page_to_json("model_versions", items, page))


@bp.get("/model-versions/get-download-uri")
def get_model_version_download_uri() -> Response:
    fields = request_fields()
    uri = store().get_model_version_download_uri(_name(fields), _version(fields))
    return reply({"artifact_uri": uri})


@bp.post("/model-versions/set-tag")
def set_model_version_tag() -> Response:
    fields = request_fields()
    store().set_model_version_tag(
        _name(fields),
        _version(fields),
        _name(fields, "key"),
        p.optional_string(fields, "value") or "",
    )
    return reply()


@bp.delete("/model-versions/delete-tag")
def delete_model_version_tag() -> Response:
    fields = request_fields()
    store().delete_model_version_tag(_name(fields), _version(fields), _name(fields, "key"))
    return reply()


@bp.post("/model-versions/transition-stage")
def transition_model_version_stage() -> Response:
    fields = request_fields()
    archive = fields.get("archive_existing_versions")
    if archive is not None and not isinstance(archive, bool):
        archive = str(archive).lower() == "true"
    mv = store().transition_model_version_stage(
        _name(fields), _version(fields), _name(fields, "stage"), bool(archive)
    )
    return _version_reply(mv)


# ---- files of a version ----------------------------------------------------------------------
@artifact_bp.get("/model-versions/get-artifact")
def get_model_version_artifact() -> Response:
    from runyard.server.api.artifact_proxy import (
        DOWNLOAD_CSP,
        content_disposition,
        guess_content_type,
    )

    fields = request_fields()
    location = store().get_model_version_download_uri(_name(fields), _version(fields))
    repo, full, _ = open_version_file(location, request.args.get("path", ""))
    response = Response(repo.open_stream(full), mimetype=guess_content_type(full))
    response.headers["Content-Disposition"] = content_disposition(full)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
