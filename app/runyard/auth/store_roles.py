"""Roles, their permissions, assignments, and each user's direct grants."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.auth.entities import Assignment, Grant, Role, RolePermission, user_role_name
from runyard.auth.models import role_permissions, roles, user_roles
from runyard.auth.permissions import (
    DEFAULT_WORKSPACE,
    Permission,
    check_grant,
    parse_permission,
)
from runyard.auth.store_base import StoreBase
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.validation import INT64_MAX


class RolesMixin(StoreBase):
    """Roles and grants, including each user's own role (``__user_<id>__``)."""

    # ---- roles -------------------------------------------------------------------------------
    def _role_row(self, conn: Connection, role_id: object) -> sa.Row:
        key = _row_id(role_id, "role_id")
        row = conn.execute(sa.select(roles).where(roles.c.id == key)).first()
        if row is None:
            raise ResourceDoesNotExist(f"Role with id={role_id} not found")
        return row

    def _roles(self, conn: Connection, rows: Sequence[sa.Row]) -> list[Role]:
        ids = [r.id for r in rows]
        perms: dict[int, list[RolePermission]] = {i: [] for i in ids}
        if ids:
            query = (
                sa.select(role_permissions)
                .where(role_permissions.c.role_id.in_(ids))
                .order_by(role_permissions.c.id)
            )
            for p in conn.execute(query):
                perms[p.role_id].append(self._role_permission(p))
        return [Role(r.id, r.name, r.workspace, r.description, tuple(perms[r.id])) for r in rows]

    @staticmethod
    def _role_permission(row: sa.Row) -> RolePermission:
        return RolePermission(
            row.id, row.role_id, row.resource_type, row.resource_pattern, row.permission
        )

    def create_role(self, workspace: str, name: str, description: str | None = None) -> Role:
        workspace = str(workspace or "").strip()
        name = str(name or "").strip()
        if not workspace or not name:
            raise InvalidParameterValue("A role needs a workspace and a name.")
        if name.startswith("__user_"):
            raise InvalidParameterValue("Role names starting with '__user_' are reserved.")
        with self._write() as conn:
            taken = conn.execute(
                sa.select(roles.c.id).where(roles.c.workspace == workspace, roles.c.name == name)
            ).first()
            if taken:
                raise ResourceAlreadyExists(
                    f"Role (name={name}, workspace={workspace}) already exists."
                )
            result = conn.execute(
                roles.insert().values(name=name, workspace=workspace, description=description)
            )
        return Role(int(result.inserted_primary_key[0]), name, workspace, description)

    def get_role(self, role_id: object) -> Role:
        with self._read() as conn:
            return self._roles(conn, [self._role_row(conn, role_id)])[0]

    def list_roles(self, workspace: str | None = None) -> list[Role]:
        query = sa.select(roles).order_by(roles.c.id)
        if workspace:
            query = query.where(roles.c.workspace == workspace)
        with self._read() as conn:
            return self._roles(conn, list(conn.execute(query)))

    def update_role(
        self, role_id: object, name: str | None = None, description: str | None = None
    ) -> Role:
        with self._write() as conn:
            row = self._role_row(conn, role_id)
            values: dict[str, object] = {}
            if name is not None:
                values["name"] = str(name).strip()
            if description is not None:
                values["description"] = description
            if values:
                conn.execute(roles.update().where(roles.c.id == row.id).values(**values))
        return self.get_role(row.id)

    def delete_role(self, role_id: object) -> None:
        with self._write() as conn:
            row = self._role_row(conn, role_id)
            conn.execute(role_permissions.delete().where(role_permissions.c.role_id == row.id))
            conn.execute(user_roles.delete().where(user_roles.c.role_id == row.id))
            conn.execute(roles.delete().where(roles.c.id == row.id))

    def add_role_permission(
        self, role_id: object, resource_type: str, resource_pattern: str, permission: str
    ) -> RolePermission:
        level = parse_permission(permission)
        resource_type, resource_pattern = str(resource_type or ""), str(resource_pattern or "")
        check_grant(resource_type, resource_pattern, level)
        with self._write() as conn:
            row = self._role_row(conn, role_id)
            return self._insert_grant(conn, row.id, resource_type, resource_pattern, level.name)

    def _insert_grant(
        self, conn: Connection, role_id: int, resource_type: str, pattern: str, permission: str
    ) -> RolePermission:
        exists = conn.execute(
            sa.select(role_permissions.c.id).where(
                role_permissions.c.role_id == role_id,
                role_permissions.c.resource_type == resource_type,
                role_permissions.c.resource_pattern == pattern,
            )
        ).first()
        if exists:
            raise ResourceAlreadyExists(
                f"Permission on resource_type={resource_type}, resource_id={pattern} "
                "already exists."
            )
        result = conn.execute(
            role_permissions.insert().values(
                role_id=role_id,
                resource_type=resource_type,
                resource_pattern=pattern,
                permission=permission,
            )
        )
        grant_id = int(result.inserted_primary_key[0])
        return RolePermission(grant_id, role_id, resource_type, pattern, permission)

    def _role_permission_row(self, conn: Connection, role_permission_id: object) -> sa.Row:
        key = _row_id(role_permission_id, "role_permission_id")
        row = conn.execute(sa.select(role_permissions).where(role_permissions.c.id == key)).first()
        if row is None:
            raise ResourceDoesNotExist(f"Role permission with id={role_permission_id} not found")
        return row

    def remove_role_permission(self, role_permission_id: object) -> None:
        with self._write() as conn:
            row = self._role_permission_row(conn, role_permission_id)
            conn.execute(role_permissions.delete().where(role_permissions.c.id == row.id))

    def update_role_permission(self, role_permission_id: object, permission: str) -> RolePermission:
        level = parse_permission(permission)
        with self._write() as conn:
            row = self._role_permission_row(conn, role_permission_id)
            check_grant(row.resource_type, row.resource_pattern, level)
            conn.execute(
                role_permissions.update()
                .where(role_permissions.c.id == row.id)
                .values(permission=level.name)
            )
        return RolePermission(
            row.id, row.role_id, row.resource_type, row.resource_pattern, level.name
        )

    def list_role_permissions(self, role_id: object) -> list[RolePermission]:
        return list(self.get_role(role_id).permissions)

    def assign_role(self, username: str, role_id: object) -> Assignment:
        with self._write() as conn:
            user = self._user_row(conn, username)
            role = self._role_row(conn, role_id)
            exists = conn.execute(
                sa.select(user_roles.c.id).where(
                    user_roles.c.user_id == user.id, user_roles.c.role_id == role.id
                )
            ).first()
            if exists:
                raise ResourceAlreadyExists(
                    f"User role assignment (user_id={user.id}, role_id={role.id}) already exists"
                )
            result = conn.execute(user_roles.insert().values(user_id=user.id, role_id=role.id))
        return Assignment(int(result.inserted_primary_key[0]), user.id, role.id)

    def unassign_role(self, username: str, role_id: object) -> None:
        with self._write() as conn:
            user = self._user_row(conn, username)
            role = self._role_row(conn, role_id)
            result = conn.execute(
                user_roles.delete().where(
                    user_roles.c.user_id == user.id, user_roles.c.role_id == role.id
                )
            )
            if result.rowcount == 0:
                raise ResourceDoesNotExist(
                    f"User role assignment (user_id={user.id}, role_id={role.id}) not found"
                )

    def list_user_roles(self, username: str) -> list[Role]:
        with self._read() as conn:
            user = self._user_row(conn, username)
            query = (
                sa.select(roles)
                .where(
                    sa.or_(
                        roles.c.name == user_role_name(user.id),
                        roles.c.id.in_(
                            sa.select(user_roles.c.role_id).where(user_roles.c.user_id == user.id)
                        ),
                    )
                )
                .order_by(roles.c.id)
            )
            return self._roles(conn, list(conn.execute(query)))

    def list_role_users(self, role_id: object) -> list[Assignment]:
        with self._read() as conn:
            role = self._role_row(conn, role_id)
            query = sa.select(user_roles).where(user_roles.c.role_id == role.id)
            return [Assignment(r.id, r.user_id, r.role_id) for r in conn.execute(query)]

    # ---- a user's direct grants (their own role) ---------------------------------------------
    def _own_role_id(self, conn: Connection, user_id: int) -> int:
        name = user_role_name(user_id)
        row = conn.execute(
            sa.select(roles.c.id).where(
                roles.c.name == name, roles.c.workspace == DEFAULT_WORKSPACE
            )
        ).first()
        if row is not None:
            return int(row.id)
        result = conn.execute(roles.insert().values(name=name, workspace=DEFAULT_WORKSPACE))
        return int(result.inserted_primary_key[0])

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        """Give ``username`` a permission on one resource; a second grant on it is a conflict
        (revoke first), as in MLflow."""
        level = parse_permission(permission)
        resource_type, resource_id = str(resource_type or ""), str(resource_id or "")
        check_grant(resource_type, resource_id, level)
        with self._write() as conn:
            user = self._user_row(conn, username)
            role_id = self._own_role_id(conn, user.id)
            self._insert_grant(conn, role_id, resource_type, resource_id, level.name)

    def set_grant(
        self, user_id: int, resource_type: str, resource_id: str, permission: str
    ) -> None:
        """Give or replace a user's direct grant (creator's MANAGE, proxy group mapping)."""
        level = parse_permission(permission)
        check_grant(resource_type, resource_id, level)
        with self._write() as conn:
            role_id = self._own_role_id(conn, user_id)
            conn.execute(
                role_permissions.delete().where(
                    role_permissions.c.role_id == role_id,
                    role_permissions.c.resource_type == resource_type,
                    role_permissions.c.resource_pattern == resource_id,
                )
            )
            self._insert_grant(conn, role_id, resource_type, resource_id, level.name)

    def direct_grant(self, username: str, resource_type: str, resource_id: str) -> str | None:
        """The permission given to ``username`` directly on one resource, if any."""
        with self._read() as conn:
            user = self._user_row(conn, username)
            row = conn.execute(
                sa.select(role_permissions.c.permission)
                .join(roles, roles.c.id == role_permissions.c.role_id)
                .where(
                    roles.c.name == user_role_name(user.id),
                    role_permissions.c.resource_type == resource_type,
                    role_permissions.c.resource_pattern == str(resource_id),
                )
            ).first()
        return None if row is None else str(row.permission)

    def revoke(self, username: str, resource_type: str, resource_id: str) -> None:
        with self._write() as conn:
            user = self._user_row(conn, username)
            own = sa.select(roles.c.id).where(roles.c.name == user_role_name(user.id))
            result = conn.execute(
                role_permissions.delete().where(
                    role_permissions.c.role_id.in_(own),
                    role_permissions.c.resource_type == str(resource_type),
                    role_permissions.c.resource_pattern == str(resource_id),
                )
            )
            if result.rowcount == 0:
                raise ResourceDoesNotExist(
                    f"Permission for user={username} on resource_type={resource_type}, "
                    f"resource_id={resource_id} not found."
                )

    def delete_grants(self, resource_type: str, resource_id: str) -> None:
        """Forget every grant on a resource that no longer exists (a deleted registered model's
        name must not hand its grants to the next model of that name)."""
        with self._write() as conn:
            conn.execute(
                role_permissions.delete().where(
                    role_permissions.c.resource_type == resource_type,
                    role_permissions.c.resource_pattern == resource_id,
                )
            )

    def rename_grants(self, resource_type: str, old_id: str, new_id: str) -> None:
        """Grants follow a resource keyed by name when it is renamed. A role that already holds
        a grant on the new name (given before any resource had it) keeps one grant there: a
        ``DENY`` already there stays, otherwise the moving grant replaces it."""
        grants = role_permissions.c
        with self._write() as conn:
            moving = conn.execute(
                sa.select(grants.id, grants.role_id).where(
                    grants.resource_type == resource_type, grants.resource_pattern == old_id
                )
            ).all()
            waiting = {
                row.role_id: row
                for row in conn.execute(
                    sa.select(grants.id, grants.role_id, grants.permission).where(
                        grants.resource_type == resource_type,
                        grants.resource_pattern == new_id,
                        grants.role_id.in_([row.role_id for row in moving]),
                    )
                )
            }
            for row in moving:
                there = waiting.get(row.role_id)
                if there is None:
                    continue
                kept_deny = parse_permission(there.permission) is Permission.DENY
                drop = row.id if kept_deny else there.id
                conn.execute(role_permissions.delete().where(grants.id == drop))
            conn.execute(
                role_permissions.update()
                .where(grants.resource_type == resource_type, grants.resource_pattern == old_id)
                .values(resource_pattern=new_id)
            )

    def user_grants(self, user_id: int) -> list[Grant]:
        """Every grant the user holds: their own role's and those of roles assigned to them.
        One query, remembered until the next change when the server asks for that."""
        found = self._memo.get(("grants", user_id))
        seen = self._memo.version
        if found is None:
            assigned = sa.select(user_roles.c.role_id).where(user_roles.c.user_id == user_id)
            query = (
                sa.select(
                    roles.c.id,
                    roles.c.name,
                    roles.c.workspace,
                    role_permissions.c.resource_type,
                    role_permissions.c.resource_pattern,
                    role_permissions.c.permission,
                )
                .join(role_permissions, role_permissions.c.role_id == roles.c.id)
                .where(sa.or_(roles.c.name == user_role_name(user_id), roles.c.id.in_(assigned)))
                .order_by(role_permissions.c.id)
            )
            with self._read() as conn:
                read = [Grant(*row) for row in conn.execute(query)]
            found = self._memo.put(("grants", user_id), read, seen)
        return list(found)


def _row_id(value: object, name: str) -> int:
    """A row id given as text or a number: a 64-bit integer, as the id columns hold."""
    try:
        key = int(str(value))
    except ValueError:  # not a number, or more digits than Python converts
        key = -1
    if not 0 <= key <= INT64_MAX:
        raise InvalidParameterValue(f"Invalid {name} {str(value)[:40]!r}.")
    return key
