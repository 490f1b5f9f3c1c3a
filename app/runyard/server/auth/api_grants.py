"""MLflow 3's per-user grant routes (``/api/3.0/mlflow/users/permissions/...``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from runyard.auth.permissions import parse_permission
from runyard.server.api.common import reply, request_fields
from runyard.server.auth.api import (
    access_of,
    auth_store,
    caller,
    param,
    require_manage,
    require_self_or_admin,
)

bp = Blueprint("auth_grants", __name__)


@bp.post("/users/permissions/grant")
def grant_permission() -> Response:
    fields = request_fields()
    resource_type, resource_id = param(fields, "resource_type"), param(fields, "resource_id")
    permission = parse_permission(param(fields, "permission"))
    require_manage(resource_type, resource_id)
    auth_store().grant(param(fields, "username"), resource_type, resource_id, permission.name)
    return reply()


@bp.post("/users/permissions/revoke")
def revoke_permission() -> Response:
    fields = request_fields()
    resource_type, resource_id = param(fields, "resource_type"), param(fields, "resource_id")
    require_manage(resource_type, resource_id)
    auth_store().revoke(param(fields, "username"), resource_type, resource_id)
    return reply()


@bp.get("/users/permissions/get")
def get_permission() -> Response:
    fields = request_fields()
    username = param(fields, "username")
    resource_type, resource_id = param(fields, "resource_type"), param(fields, "resource_id")
    if caller().username != username and not caller().is_admin:
        require_manage(resource_type, resource_id)
    level = access_of(username).permission(resource_type, resource_id)
    return reply({"allowed": level.can_use, "permission": level.name})


def _permissions_of(username: str) -> dict[str, Any]:
    user = auth_store().get_user(username)
    grants = auth_store().user_grants(user.id)
    return {"is_admin": user.is_admin, "permissions": [gr.to_json() for gr in grants]}


@bp.get("/users/permissions/list")
def list_permissions() -> Response:
    username = param(request_fields(), "username")
    require_self_or_admin(username)
    return reply(_permissions_of(username))


@bp.get("/users/current/permissions")
def list_current_permissions() -> Response:
    return reply(_permissions_of(caller().username))


@bp.get("/users/roles/list")
def list_user_roles() -> Response:
    username = param(request_fields(), "username")
    require_self_or_admin(username)
    return reply({"roles": [r.to_json() for r in auth_store().list_user_roles(username)]})
