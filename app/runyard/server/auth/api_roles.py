"""MLflow 3's role routes (``/api/3.0/mlflow/roles/...``), for administrators."""

from __future__ import annotations

from flask import Blueprint, Response

from runyard.errors import PermissionDenied
from runyard.server.api.common import reply, request_fields
from runyard.server.auth.api import (
    auth_store,
    caller,
    param,
    require_admin,
)

bp = Blueprint("auth_roles", __name__)


def _held_role_ids() -> set[int]:
    return {r.id for r in auth_store().list_user_roles(caller().username)}


@bp.post("/roles/create")
def create_role() -> Response:
    require_admin()
    fields = request_fields()
    role = auth_store().create_role(
        param(fields, "workspace"), param(fields, "name"), fields.get("description")
    )
    return reply({"role": role.to_json()})


@bp.get("/roles/get")
def get_role() -> Response:
    role_id = param(request_fields(), "role_id")
    role = auth_store().get_role(role_id)
    if not caller().is_admin and role.id not in _held_role_ids():
        raise PermissionDenied("Permission denied: only administrators may read other roles.")
    return reply({"role": role.to_json()})


@bp.get("/roles/list")
def list_roles() -> Response:
    workspace = request_fields().get("workspace") or None
    roles = auth_store().list_roles(workspace)
    if not caller().is_admin:
        held = _held_role_ids()
        roles = [r for r in roles if r.id in held]
    return reply({"roles": [r.to_json() for r in roles]})


@bp.patch("/roles/update")
def update_role() -> Response:
    require_admin()
    fields = request_fields()
    role = auth_store().update_role(
        param(fields, "role_id"), fields.get("name"), fields.get("description")
    )
    return reply({"role": role.to_json()})


@bp.delete("/roles/delete")
def delete_role() -> Response:
    require_admin()
    auth_store().delete_role(param(request_fields(), "role_id"))
    return reply()


@bp.post("/roles/permissions/add")
def add_role_permission() -> Response:
    require_admin()
    fields = request_fields()
    granted = auth_store().add_role_permission(
        param(fields, "role_id"),
        param(fields, "resource_type"),
        param(fields, "resource_pattern"),
        param(fields, "permission"),
    )
    return reply({"role_permission": granted.to_json()})


@bp.delete("/roles/permissions/remove")
def remove_role_permission() -> Response:
    require_admin()
    auth_store().remove_role_permission(param(request_fields(), "role_permission_id"))
    return reply()


@bp.get("/roles/permissions/list")
def list_role_permissions() -> Response:
    require_admin()
    found = auth_store().list_role_permissions(param(request_fields(), "role_id"))
    return reply({"role_permissions": [p.to_json() for p in found]})


@bp.patch("/roles/permissions/update")
def update_role_permission() -> Response:
    require_admin()
    fields = request_fields()
    updated = auth_store().update_role_permission(
        param(fields, "role_permission_id"), param(fields, "permission")
    )
    return reply({"role_permission": updated.to_json()})


@bp.post("/roles/assign")
def assign_role() -> Response:
    require_admin()
    fields = request_fields()
    assignment = auth_store().assign_role(param(fields, "username"), param(fields, "role_id"))
    return reply({"assignment": assignment.to_json()})


@bp.delete("/roles/unassign")
def unassign_role() -> Response:
    require_admin()
    fields = request_fields()
    auth_store().unassign_role(param(fields, "username"), param(fields, "role_id"))
    return reply()


@bp.get("/roles/users/list")
def list_role_users() -> Response:
    require_admin()
    found = auth_store().list_role_users(param(request_fields(), "role_id"))
    return reply({"assignments": [a.to_json() for a in found]})
