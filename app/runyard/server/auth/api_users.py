"""MLflow's user routes (``/api/2.0/mlflow/users/...``)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from runyard.errors import InvalidParameterValue, PermissionDenied
from runyard.server.api.common import reply, request_fields
from runyard.server.auth.api import (
    auth_store,
    caller,
    param,
    require_admin,
    require_self_or_admin,
)

bp = Blueprint("auth_users", __name__)


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
