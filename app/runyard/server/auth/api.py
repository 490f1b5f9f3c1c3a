"""MLflow's auth API (``/api/2.0/mlflow/users/...``, ``/api/3.0/mlflow/users/permissions/...``,
``/api/3.0/mlflow/roles/...``) with the shapes and error codes of MLflow 3.17's basic-auth app
(docs/reference/mlflow-auth-api.md), so ``get_app_client("basic-auth")`` works unchanged; plus
runyard's token routes (``/api/2.0/runyard/tokens/...``) and MLflow 2.x's per-resource
permission routes (``api_legacy``).

Who may call what: admins everything; a user may read and change their own account (a
password change needs the current password), read their own roles and permissions, manage
their own tokens, and grant or revoke on a resource they ``MANAGE``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g

from runyard.auth.access import Access
from runyard.auth.credentials import parse_duration
from runyard.auth.entities import User
from runyard.auth.permissions import parse_permission
from runyard.auth.store import AuthStore
from runyard.errors import InvalidParameterValue, PermissionDenied
from runyard.server.api_common import reply, request_fields

bp = Blueprint("auth_api", __name__)
bp3 = Blueprint("auth_api_v3", __name__)
tokens_bp = Blueprint("auth_tokens", __name__)


# ---- helpers ------------------------------------------------------------------------------------
def auth_store() -> AuthStore:
    return current_app.config["RUNYARD_AUTH_STORE"]


def caller() -> User:
    return g.runyard_access.user


def param(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None or value == "":
        raise InvalidParameterValue(
            f"Missing value for required parameter '{name}'. See the API docs for more "
            "information about request parameters."
        )
    return str(value)


def require_admin() -> None:
    if not caller().is_admin:
        raise PermissionDenied("Permission denied: only administrators may do this.")


def require_self_or_admin(username: str) -> None:
    if caller().username != username and not caller().is_admin:
        raise PermissionDenied("Permission denied: only administrators may do this for others.")


def access_of(username: str) -> Access:
    """What ``username`` may do, resolved as a request of theirs would be."""
    user = auth_store().get_user(username)
    grants = [] if user.is_admin else auth_store().user_grants(user.id)
    return Access(user, grants, current_app.config["RUNYARD_SERVER_CONFIG"].auth.default_permission)


def require_manage(resource_type: str, resource_id: str) -> None:
    if not g.runyard_access.permission(resource_type, resource_id).can_manage:
        raise PermissionDenied(
            f"Permission denied: granting on {resource_type} {resource_id!r} needs MANAGE."
        )


# ---- users --------------------------------------------------------------------------------------
@bp.post("/users/create")
def create_user() -> Response:
    require_admin()
    fields = request_fields()
    user = auth_store().create_user(param(fields, "username"), param(fields, "password"))
    return reply({"user": user.to_json()})


@bp.get("/users/get")
def get_user() -> Response:
    username = param(request_fields(), "username")
    require_self_or_admin(username)
    return reply({"user": auth_store().get_user(username).to_json()})


@bp.get("/users/list")
def list_users() -> Response:
    require_admin()
    listed = [
        {**u.to_json(), "roles": [r.to_json() for r in auth_store().list_user_roles(u.username)]}
        for u in auth_store().list_users()
    ]
    return reply({"users": listed})


@bp.get("/users/current")
def current_user() -> Response:
    return reply(
        {"is_basic_auth": g.runyard_identity.method == "basic", "user": caller().to_json()}
    )


@bp.patch("/users/update-password")
def update_password() -> Response:
    fields = request_fields()
    username, password = param(fields, "username"), param(fields, "password")
    require_self_or_admin(username)
    if caller().username == username and not caller().is_admin and not caller().has_password:
        raise PermissionDenied(
            "This account signs in through the identity proxy; an administrator may give it a "
            "password."
        )
    if caller().username == username and caller().has_password:
        current = fields.get("current_password")
        if not current:
            raise InvalidParameterValue(
                "Current password is required when changing your own password."
            )
        if auth_store().check_password(username, str(current)) is None:
            raise InvalidParameterValue("Current password is incorrect.")
    auth_store().update_password(username, password)
    return reply()


@bp.patch("/users/update-admin")
def update_admin() -> Response:
    require_admin()
    fields = request_fields()
    is_admin = fields.get("is_admin")
    if not isinstance(is_admin, bool):
        is_admin = str(is_admin).strip().lower() == "true"
    auth_store().update_admin(param(fields, "username"), is_admin)
    return reply()


@bp.delete("/users/delete")
def delete_user() -> Response:
    require_admin()
    username = param(request_fields(), "username")
    if username == caller().username:
        raise InvalidParameterValue("Administrators cannot delete their own account.")
    auth_store().delete_user(username)
    return reply()


# ---- per-user grants (v3) -----------------------------------------------------------------------
@bp3.post("/users/permissions/grant")
def grant_permission() -> Response:
    fields = request_fields()
    resource_type, resource_id = param(fields, "resource_type"), param(fields, "resource_id")
    permission = parse_permission(param(fields, "permission"))
    require_manage(resource_type, resource_id)
    auth_store().grant(param(fields, "username"), resource_type, resource_id, permission.name)
    return reply()


@bp3.post("/users/permissions/revoke")
def revoke_permission() -> Response:
    fields = request_fields()
    resource_type, resource_id = param(fields, "resource_type"), param(fields, "resource_id")
    require_manage(resource_type, resource_id)
    auth_store().revoke(param(fields, "username"), resource_type, resource_id)
    return reply()


@bp3.get("/users/permissions/get")
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


@bp3.get("/users/permissions/list")
def list_permissions() -> Response:
    username = param(request_fields(), "username")
    require_self_or_admin(username)
    return reply(_permissions_of(username))


@bp3.get("/users/current/permissions")
def list_current_permissions() -> Response:
    return reply(_permissions_of(caller().username))


@bp3.get("/users/roles/list")
def list_user_roles() -> Response:
    username = param(request_fields(), "username")
    require_self_or_admin(username)
    return reply({"roles": [r.to_json() for r in auth_store().list_user_roles(username)]})


# ---- roles (v3, administrators) -----------------------------------------------------------------
def _held_role_ids() -> set[int]:
    return {r.id for r in auth_store().list_user_roles(caller().username)}


@bp3.post("/roles/create")
def create_role() -> Response:
    require_admin()
    fields = request_fields()
    role = auth_store().create_role(
        param(fields, "workspace"), param(fields, "name"), fields.get("description")
    )
    return reply({"role": role.to_json()})


@bp3.get("/roles/get")
def get_role() -> Response:
    role_id = param(request_fields(), "role_id")
    role = auth_store().get_role(role_id)
    if not caller().is_admin and role.id not in _held_role_ids():
        raise PermissionDenied("Permission denied: only administrators may read other roles.")
    return reply({"role": role.to_json()})


@bp3.get("/roles/list")
def list_roles() -> Response:
    workspace = request_fields().get("workspace") or None
    roles = auth_store().list_roles(workspace)
    if not caller().is_admin:
        held = _held_role_ids()
        roles = [r for r in roles if r.id in held]
    return reply({"roles": [r.to_json() for r in roles]})


@bp3.patch("/roles/update")
def update_role() -> Response:
    require_admin()
    fields = request_fields()
    role = auth_store().update_role(
        param(fields, "role_id"), fields.get("name"), fields.get("description")
    )
    return reply({"role": role.to_json()})


@bp3.delete("/roles/delete")
def delete_role() -> Response:
    require_admin()
    auth_store().delete_role(param(request_fields(), "role_id"))
    return reply()


@bp3.post("/roles/permissions/add")
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


@bp3.delete("/roles/permissions/remove")
def remove_role_permission() -> Response:
    require_admin()
    auth_store().remove_role_permission(param(request_fields(), "role_permission_id"))
    return reply()


@bp3.get("/roles/permissions/list")
def list_role_permissions() -> Response:
    require_admin()
    found = auth_store().list_role_permissions(param(request_fields(), "role_id"))
    return reply({"role_permissions": [p.to_json() for p in found]})


@bp3.patch("/roles/permissions/update")
def update_role_permission() -> Response:
    require_admin()
    fields = request_fields()
    updated = auth_store().update_role_permission(
        param(fields, "role_permission_id"), param(fields, "permission")
    )
    return reply({"role_permission": updated.to_json()})


@bp3.post("/roles/assign")
def assign_role() -> Response:
    require_admin()
    fields = request_fields()
    assignment = auth_store().assign_role(param(fields, "username"), param(fields, "role_id"))
    return reply({"assignment": assignment.to_json()})


@bp3.delete("/roles/unassign")
def unassign_role() -> Response:
    require_admin()
    fields = request_fields()
    auth_store().unassign_role(param(fields, "username"), param(fields, "role_id"))
    return reply()


@bp3.get("/roles/users/list")
def list_role_users() -> Response:
    require_admin()
    found = auth_store().list_role_users(param(request_fields(), "role_id"))
    return reply({"assignments": [a.to_json() for a in found]})


# ---- tokens (runyard) ---------------------------------------------------------------------------
def _token_owner(fields: dict[str, Any]) -> str:
    username = str(fields.get("username") or caller().username)
    require_self_or_admin(username)
    return username


@tokens_bp.post("/tokens/create")
def create_token() -> Response:
    fields = request_fields()
    username = _token_owner(fields)
    expires = fields.get("expires_in")
    lifetime = parse_duration(str(expires)) if expires else None
    token, secret = auth_store().create_token(username, param(fields, "name"), lifetime)
    return reply({"token": token.to_json(), "secret": secret})


@tokens_bp.get("/tokens/list")
def list_tokens() -> Response:
    fields = request_fields()
    username = fields.get("username")
    if username is None and not caller().is_admin:
        username = caller().username
    if username is not None:
        require_self_or_admin(str(username))
    found = auth_store().list_tokens(None if username is None else str(username))
    return reply({"tokens": [t.to_json() for t in found]})


@tokens_bp.post("/tokens/revoke")
def revoke_token() -> Response:
    fields = request_fields()
    auth_store().revoke_token(_token_owner(fields), param(fields, "name"))
    return reply()


def register(app: Flask, register_with_prefixes: Callable[..., None]) -> None:
    """Mount under ``/api`` and ``/ajax-api``, v2 and v3 as MLflow does."""
    register_with_prefixes(app, bp, ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"))
    register_with_prefixes(app, bp3, ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"))
    register_with_prefixes(app, tokens_bp, ("/api/2.0/runyard", "/ajax-api/2.0/runyard"))
    from runyard.server.auth import api_legacy

    register_with_prefixes(app, api_legacy.bp, ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"))
