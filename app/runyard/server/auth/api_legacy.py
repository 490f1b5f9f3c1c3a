"""MLflow 2.x's per-resource permission routes, for older auth clients.

MLflow 3.17 dropped ``/api/2.0/mlflow/experiments/permissions/*`` and
``/api/2.0/mlflow/registered-models/permissions/*`` (they answer 404 there) in favour of the
per-user grant routes; runyard still serves them, on the same grants, so scripts written against
MLflow 2.x's ``AuthServiceClient`` keep working. Each is a user's direct grant on one experiment
(by id) or one registered model (by name); changing them needs ``MANAGE`` on the resource.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from runyard.auth.permissions import EXPERIMENT, REGISTERED_MODEL, parse_permission
from runyard.errors import ResourceDoesNotExist
from runyard.server.api.common import reply, request_fields
from runyard.server.auth.api import auth_store, param, require_manage

bp = Blueprint("auth_api_legacy", __name__)

#: resource type -> (URL part, id field, reply key)
_KINDS = {
    EXPERIMENT: ("experiments", "experiment_id", "experiment_permission"),
    REGISTERED_MODEL: ("registered-models", "name", "registered_model_permission"),
}


def _body(resource_type: str, resource_id: str, username: str, permission: str) -> dict[str, Any]:
    _part, id_field, key = _KINDS[resource_type]
    user_id = auth_store().get_user(username).id
    return {key: {id_field: resource_id, "user_id": user_id, "permission": permission}}


def _routes(resource_type: str) -> None:
    part, id_field, _key = _KINDS[resource_type]
    tag = resource_type

    def target(fields: dict[str, Any]) -> tuple[str, str]:
        resource_id, username = param(fields, id_field), param(fields, "username")
        return resource_id, username

    def create() -> Response:
        fields = request_fields()
        resource_id, username = target(fields)
        permission = parse_permission(param(fields, "permission")).name
        require_manage(resource_type, resource_id)
        auth_store().grant(username, resource_type, resource_id, permission)
        return reply(_body(resource_type, resource_id, username, permission))

    def get() -> Response:
        resource_id, username = target(request_fields())
        require_manage(resource_type, resource_id)
        permission = auth_store().direct_grant(username, resource_type, resource_id)
        if permission is None:
            raise ResourceDoesNotExist(
                f"{resource_type.replace('_', ' ').capitalize()} permission with "
                f"{id_field}={resource_id} and username={username} not found"
            )
        return reply(_body(resource_type, resource_id, username, permission))

    def update() -> Response:
        fields = request_fields()
        resource_id, username = target(fields)
        permission = parse_permission(param(fields, "permission")).name
        require_manage(resource_type, resource_id)
        if auth_store().direct_grant(username, resource_type, resource_id) is None:
            raise ResourceDoesNotExist(
                f"No permission of {username} on {resource_type} {resource_id} to update"
            )
        auth_store().set_grant(
            auth_store().get_user(username).id, resource_type, resource_id, permission
        )
        return reply()

    def delete() -> Response:
        resource_id, username = target(request_fields())
        require_manage(resource_type, resource_id)
        auth_store().revoke(username, resource_type, resource_id)
        return reply()

    base = f"/{part}/permissions"
    bp.add_url_rule(f"{base}/create", f"{tag}_create", create, methods=["POST"])
    bp.add_url_rule(f"{base}/get", f"{tag}_get", get, methods=["GET"])
    bp.add_url_rule(f"{base}/update", f"{tag}_update", update, methods=["PATCH"])
    bp.add_url_rule(f"{base}/delete", f"{tag}_delete", delete, methods=["DELETE"])


for _type in _KINDS:
    _routes(_type)
