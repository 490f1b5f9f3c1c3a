"""Users, tokens, roles and grants as plain values, with MLflow's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool
    has_password: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "is_admin": self.is_admin, "username": self.username}


@dataclass(frozen=True)
class RolePermission:
    id: int
    role_id: int
    resource_type: str
    resource_pattern: str
    permission: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "permission": self.permission,
            "resource_pattern": self.resource_pattern,
            "resource_type": self.resource_type,
            "role_id": self.role_id,
        }


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    workspace: str
    description: str | None
    permissions: tuple[RolePermission, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "id": self.id,
            "name": self.name,
            "permissions": [p.to_json() for p in self.permissions],
            "workspace": self.workspace,
        }


@dataclass(frozen=True)
class Assignment:
    id: int
    user_id: int
    role_id: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "role_id": self.role_id, "user_id": self.user_id}


@dataclass(frozen=True)
class Grant:
    """One permission a user holds, through one of their roles."""

    role_id: int
    role_name: str
    workspace: str
    resource_type: str
    resource_pattern: str
    permission: str

    def to_json(self) -> dict[str, Any]:
        return {
            "permission": self.permission,
            "resource_pattern": self.resource_pattern,
            "resource_type": self.resource_type,
            "role_id": self.role_id,
            "role_name": self.role_name,
            "workspace": self.workspace,
        }


@dataclass(frozen=True)
class Token:
    """An API token's record; the secret itself is never stored."""

    id: int
    username: str
    name: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }

    def usable(self, now_ms: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now_ms < self.expires_at)


def user_role_name(user_id: int) -> str:
    """The role that holds a user's direct grants, named as MLflow names it."""
    return f"__user_{user_id}__"
