"""Registered models and model versions <-> MLflow REST JSON (the server renders with the
``*_to_json`` functions, ``RestStore`` reads back with the ``*_from_json`` ones).

As recorded from MLflow (``docs/reference/mlflow-registry-api.md``): ``version`` travels as a
string, a version always carries ``description`` and ``run_link`` (possibly ``""``), other empty
fields are omitted, aliases of a model are ``[{"alias", "version"}]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runyard.protocol import key_values_from_json, key_values_to_json
from runyard.registry.entities import STAGE_NONE, ModelVersion, RegisteredModel

Json = dict[str, Any]


def model_version_to_json(mv: ModelVersion) -> Json:
    out: Json = {
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "current_stage": mv.current_stage,
        "description": mv.description,
        "source": mv.source,
        "run_id": mv.run_id,
        "status": mv.status,
        "run_link": mv.run_link,
    }
    for withheld in ("run_id", "run_link"):
        if out[withheld] is None:
            del out[withheld]
    if mv.user_id:
        out["user_id"] = mv.user_id
    if mv.status_message:
        out["status_message"] = mv.status_message
    if mv.tags:
        out["tags"] = key_values_to_json(mv.tags)
    if mv.aliases:
        out["aliases"] = list(mv.aliases)
    if mv.model_id:
        out["model_id"] = mv.model_id
    return out


def model_version_from_json(obj: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=str(obj.get("name", "")),
        version=int(obj.get("version") or 0),
        creation_timestamp=int(obj.get("creation_timestamp") or 0),
        last_updated_timestamp=int(obj.get("last_updated_timestamp") or 0),
        source=str(obj.get("source", "")),
        current_stage=str(obj.get("current_stage") or STAGE_NONE),
        description=str(obj.get("description") or ""),
        run_id=str(obj.get("run_id") or ""),
        run_link=str(obj.get("run_link") or ""),
        user_id=str(obj.get("user_id") or ""),
        status=str(obj.get("status") or "READY"),
        status_message=str(obj.get("status_message") or ""),
        model_id=obj.get("model_id") or None,
        tags=dict(key_values_from_json(obj.get("tags"))),
        aliases=tuple(obj.get("aliases") or ()),
    )


def registered_model_to_json(model: RegisteredModel) -> Json:
    out: Json = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    if model.description:
        out["description"] = model.description
    if model.latest_versions:
        out["latest_versions"] = [model_version_to_json(v) for v in model.latest_versions]
    if model.tags:
        out["tags"] = key_values_to_json(model.tags)
    if model.aliases:
        out["aliases"] = [
            {"alias": alias, "version": str(version)}
            for alias, version in sorted(model.aliases.items())
        ]
    return out


def registered_model_from_json(obj: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=str(obj.get("name", "")),
        creation_timestamp=int(obj.get("creation_timestamp") or 0),
        last_updated_timestamp=int(obj.get("last_updated_timestamp") or 0),
        description=str(obj.get("description") or ""),
        tags=dict(key_values_from_json(obj.get("tags"))),
        aliases={a["alias"]: int(a["version"]) for a in obj.get("aliases") or ()},
        latest_versions=tuple(model_version_from_json(v) for v in obj.get("latest_versions") or ()),
    )
