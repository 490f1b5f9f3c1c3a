"""The registry's pages: Models (search, latest versions, aliases, tags), a model (versions with
their source runs, aliases, Markdown description rendered safely) and a version (its run, its
files, the flavors, signature and metadata of its ``MLmodel`` file, read with
``yaml.safe_load``, and its lineage: the run's params, metrics, datasets and code version).
The run page lists the versions registered from the run through the ``versions_of_run``
template global.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, render_template, request

from runyard.errors import InvalidParameterValue, RunyardError
from runyard.locations import shown
from runyard.registry.lineage import lineage_of
from runyard.registry.mlmodel import parse_mlmodel
from runyard.registry.validation import validate_model_name
from runyard.server.api.common import store
from runyard.server.registry_files import list_version_files, read_version_file

bp = Blueprint("ui_registry", __name__, template_folder="templates")

MODELS_PER_PAGE = 100
MLMODEL_BYTES = 256 * 1024


@bp.app_template_filter("path_quote")
def path_quote(text: str) -> str:
    """A model name as one URL path segment."""
    return quote(str(text), safe="")


@bp.app_template_global()
def versions_of_run(run_id: str) -> list[Any]:
    """The versions registered from ``run_id``, for the run page (none when the store fails:
    the run page must not break because of the registry)."""
    try:
        found = store().search_model_versions(f"run_id = '{run_id}'", max_results=100)
    except RunyardError:
        return []
    return sorted(found, key=lambda mv: (mv.name, mv.version))


@bp.get("/models")
def models_page() -> str:
    query = request.args.get("q", "").strip()
    error = None
    try:
        page = store().search_registered_models(
            _models_filter(query),
            max_results=MODELS_PER_PAGE,
            page_token=request.args.get("page_token") or None,
        )
    except InvalidParameterValue as exc:
        page, error = [], exc.message
    return render_template(
        "models.html",
        models=page,
        query=query,
        error=error,
        next_token=getattr(page, "token", None),
    )


def _models_filter(query: str) -> str | None:
    """A plain word searches names (case-insensitively); anything with an operator is a filter."""
    if not query:
        return None
    if any(op in query for op in ("=", "<", ">", " LIKE ", " like ", " IN ", " in ")):
        return query
    return "name ILIKE '%" + query.replace("'", "") + "%'"


@bp.get("/models/<name>/versions/<version>")
def model_version_page(name: str, version: str) -> str:
    mv = store().get_model_version(validate_model_name(name), version)
    files, files_error, location = [], None, shown(mv.storage_location or mv.source)
    try:  # a stored location no longer allowed: the page says so and reads nothing
        location = store().get_model_version_download_uri(mv.name, mv.version)
        files = list_version_files(location)
    except RunyardError as exc:
        files_error = exc.message
    run = _run_or_none(mv.run_id)
    return render_template(
        "model_version.html",
        mv=mv,
        location=location,
        files=files,
        files_error=files_error,
        mlmodel=_mlmodel(location) if not files_error else None,
        run=run,
        lineage=lineage_of(run) if run is not None else None,
    )


@bp.get("/models/<name>")
def model_page(name: str) -> str:
    model = store().get_registered_model(validate_model_name(name))
    quote_char = '"' if "'" in model.name else "'"
    versions = store().search_model_versions(
        f"name = {quote_char}{model.name}{quote_char}", max_results=1000
    )
    return render_template("model.html", model=model, versions=versions)


def _run_or_none(run_id: str) -> Any:
    if not run_id:
        return None
    try:
        return store().get_run(run_id)
    except RunyardError:
        return None


def _mlmodel(location: str) -> dict[str, Any] | None:
    """What the version page shows of ``MLmodel`` (size-capped), or None without one."""
    try:
        raw = read_version_file(location, "MLmodel", MLMODEL_BYTES)
    except RunyardError:
        return None
    return None if raw is None else parse_mlmodel(raw.decode("utf-8", "replace"))
