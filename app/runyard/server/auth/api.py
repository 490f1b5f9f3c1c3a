"""The account API: what its routes share, and where they are mounted.

MLflow's auth routes (``api_users``, ``api_grants``, ``api_roles``) keep the shapes and error
codes of MLflow 3.17's basic-auth app (docs/reference/mlflow-auth-api.md), so
``get_app_client("basic-auth")`` works unchanged; ``api_legacy`` serves MLflow 2.x's
per-resource routes and ``api_tokens`` runyard's token routes.

Who may call what: admins everything; a user may read and change their own account (a
password change needs the current password), read their own roles and permissions, manage
their own tokens, and grant or revoke on a resource they ``MANAGE``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g

from runyard.auth.access import Access
from runyard.auth.entities import User
from runyard.auth.store import AuthStore
from runyard.errors import InvalidParameterValue, PermissionDenied
from runyard.server.mount import MLFLOW_V2, MLFLOW_V3, RUNYARD, mount


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


def register(app: Flask) -> None:
    """Mount under ``/api`` and ``/ajax-api``, v2 and v3 as MLflow does."""
    from runyard.server.auth import api_grants, api_legacy, api_roles, api_tokens, api_users

    mount(app, api_users.bp, MLFLOW_V2)
    mount(app, api_legacy.bp, MLFLOW_V2)
    mount(app, api_grants.bp, MLFLOW_V3)
    mount(app, api_roles.bp, MLFLOW_V3)
    mount(app, api_tokens.bp, RUNYARD)
