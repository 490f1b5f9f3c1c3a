"""``AuthStore``: users, tokens, roles and grants in SQLite or Postgres.

Construction brings the auth tables to their newest migration (their own chain, so the tables
can share the tracking database or have one of their own). Every method validates before it
writes and raises ``RunyardError`` subclasses; database errors never leak SQL to a client.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runyard.auth import credentials
from runyard.auth.entities import (
    Assignment,
    Grant,
    Role,
    RolePermission,
    Token,
    User,
    user_role_name,
)
from runyard.auth.models import (
    role_permissions,
    roles,
    sessions,
    state,
    tokens,
    user_roles,
    users,
)
from runyard.auth.permissions import (
    DEFAULT_WORKSPACE,
    check_grant,
    parse_permission,
)
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.store.sql.engine import WRITE_OPTION, create_engine, translated_errors
from runyard.store.sql.migrate import MigrationChain, upgrade_engine

AUTH_CHAIN = MigrationChain(
    Path(__file__).resolve().parent / "migrations", "runyard_auth_alembic_version"
)
#: How stale a server process may be about changes made elsewhere (another worker, the CLI).
REFRESH_SECONDS = 1.0
#: A token's last-used time is written at most this often, so using it is a read, not a write.
LAST_USED_RESOLUTION_MS = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


class ReadMemo:
    """Reads remembered until the version stamp moves (off unless the owner turns it on)."""

    def __init__(self, size: int = 20_000) -> None:
        self.enabled = False
        self._size = size
        self._checked = float("-inf")
        self._version: object = None
        self._entries: dict[object, object] = {}
        self._lock = threading.Lock()

    def due(self, interval: float) -> bool:
        """Whether the stamp should be read again (at most once per ``interval`` seconds)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < interval:
                return False
            self._checked = now
            return True

    def at_version(self, version: object) -> None:
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version

    def forget(self) -> None:
        """After a change made here: drop everything and read the stamp on the next request."""
        with self._lock:
            self._entries.clear()
            self._version = object()
            self._checked = float("-inf")

    @property
    def version(self) -> object:
        return self._version

    def get(self, key: object) -> Any:
        if not self.enabled:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key: object, value: Any, seen: object) -> Any:
        """Remember ``value``, read when the stamp was ``seen``, unless it has moved since
        (a reader must never park an old value after a change cleared the memo)."""
        if self.enabled:
            with self._lock:
                if seen == self._version:
                    if len(self._entries) >= self._size:
                        self._entries.clear()
                    self._entries[key] = value
        return value


class AuthStore:
    def __init__(self, db_uri: str) -> None:
        self._verified = credentials.VerifiedPasswords()
        self._memo = ReadMemo()
        self._engine = create_engine(db_uri)
        try:
            upgrade_engine(self._engine, AUTH_CHAIN)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._engine.dispose()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated_errors(), self._engine.connect() as conn:
            yield conn
            conn.rollback()

    @contextlib.contextmanager
    def _write(self, bump: bool = True) -> Iterator[Connection]:
        """A write transaction; it also moves the version stamp on (``bump``), so every server
        process drops what it remembered (a revoked token stops working at once)."""
        with (
            translated_errors(),
            self._engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
            conn.begin(),
        ):
            yield conn
            if bump:
                conn.execute(
                    state.update().where(state.c.id == 1).values(version=state.c.version + 1)
                )
        if bump:
            self._memo.forget()

    # ---- remembering reads between changes ----------------------------------------------------
    def remember_reads(self) -> None:
        """Keep token, user and grant lookups in memory until the next change (the server)."""
        self._memo.enabled = True

    def refresh(self) -> None:
        """Forget remembered reads if anything changed since they were read: one small query,
        at most once per ``REFRESH_SECONDS``. Changes made through this store are seen at
        once; changes made elsewhere (another worker, the CLI) within that bound."""
        if not self._memo.enabled or not self._memo.due(REFRESH_SECONDS):
            return
        with self._read() as conn:
            version = conn.exec_driver_sql("SELECT version FROM auth_state WHERE id = 1").scalar()
        self._memo.at_version(version)

    # ---- users -------------------------------------------------------------------------------
    @staticmethod
    def _user(row: sa.Row) -> User:
        return User(row.id, row.username, bool(row.is_admin), row.password_hash is not None)

    def create_user(self, username: str, password: str | None, is_admin: bool = False) -> User:
        """A new account; ``password`` None makes an account that signs in only via the proxy."""
        username = credentials.check_username(username)
        password_hash = None
        if password is not None:
            password_hash = credentials.hash_password(credentials.check_password(password))
        with self._write() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
                raise ResourceAlreadyExists(f"User (username={username}) already exists.")
            result = conn.execute(
                users.insert().values(
                    username=username,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    created_at=now_ms(),
                )
            )
            user_id = int(result.inserted_primary_key[0])
        return User(user_id, username, is_admin, password_hash is not None)

    def _user_row(self, conn: Connection, username: str) -> sa.Row:
        row = conn.execute(sa.select(users).where(users.c.username == str(username))).first()
        if row is None:
            raise ResourceDoesNotExist(f"User with username={username} not found")
        return row

    def get_user(self, username: str) -> User:
        with self._read() as conn:
            return self._user(self._user_row(conn, username))

    def find_user(self, username: str) -> User | None:
        with self._read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return None if row is None else self._user(row)

    def get_user_by_id(self, user_id: int) -> User | None:
        with self._read() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        return None if row is None else self._user(row)

    def list_users(self) -> list[User]:
        with self._read() as conn:
            return [self._user(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]

    def count_users(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def update_password(self, username: str, password: str) -> None:
        password_hash = credentials.hash_password(credentials.check_password(password))
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(
                users.update().where(users.c.id == row.id).values(password_hash=password_hash)
            )

    def update_admin(self, username: str, is_admin: bool) -> None:
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(users.update().where(users.c.id == row.id).values(is_admin=is_admin))

    def delete_user(self, username: str) -> None:
        """The account, its tokens, assignments and its own role with its grants."""
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(tokens.delete().where(tokens.c.user_id == row.id))
            conn.execute(sessions.delete().where(sessions.c.user_id == row.id))
            conn.execute(user_roles.delete().where(user_roles.c.user_id == row.id))
            own = sa.select(roles.c.id).where(roles.c.name == user_role_name(row.id))
            conn.execute(role_permissions.delete().where(role_permissions.c.role_id.in_(own)))
            conn.execute(roles.delete().where(roles.c.name == user_role_name(row.id)))
            conn.execute(users.delete().where(users.c.id == row.id))

    def check_password(self, username: str, password: str) -> User | None:
        """The user if ``password`` is theirs. An unknown user costs the same hash, so the
        time taken does not tell whether the account exists.

        A client sending basic credentials on every request would pay the slow hash every
        time; a verified (user, password) is remembered against the stored hash it matched,
        so it is accepted again only while that hash is unchanged (a new password, a deleted
        user or any other worker's change makes the next request verify afresh).
        """
        row = self._memo.get(("user", username))
        seen = self._memo.version
        if row is None:
            with self._read() as conn:
                row = conn.execute(sa.select(users).where(users.c.username == username)).first()
            if row is not None:
                self._memo.put(("user", username), row, seen)
        stored = row.password_hash if row is not None else None
        remembered = self._verified.get(username, password)
        if (
            stored is not None
            and remembered is not None
            and hmac.compare_digest(remembered, stored)
        ):
            return self._user(row)
        matches = credentials.verify_password(password, stored or credentials.DUMMY_PASSWORD_HASH)
        if row is None or stored is None or not matches:
            return None
        self._verified.put(username, password, stored)
        return self._user(row)

    # ---- tokens ------------------------------------------------------------------------------
    def create_token(
        self, username: str, name: str, expires_in: timedelta | None
    ) -> tuple[Token, str]:
        """A new token for ``username``; the secret is returned here and never again."""
        name = str(name or "").strip()
        if not name or len(name) > 128:
            raise InvalidParameterValue("A token needs a name of 1-128 characters.")
        secret = credentials.new_token()
        created = now_ms()
        expires = None if expires_in is None else created + int(expires_in.total_seconds() * 1000)
        with self._write() as conn:
            user = self._user_row(conn, username)
            taken = conn.execute(
                sa.select(tokens.c.id).where(tokens.c.user_id == user.id, tokens.c.name == name)
            ).first()
            if taken:
                raise ResourceAlreadyExists(f"User {username} already has a token named {name!r}.")
            result = conn.execute(
                tokens.insert().values(
                    user_id=user.id,
                    name=name,
                    token_hash=credentials.token_digest(secret),
                    created_at=created,
                    expires_at=expires,
                )
            )
        token = Token(
            int(result.inserted_primary_key[0]), username, name, created, expires, None, None
        )
        return token, secret

    def _token_query(self) -> sa.Select:
        return sa.select(tokens, users.c.username).join(users, users.c.id == tokens.c.user_id)

    @staticmethod
    def _token(row: sa.Row) -> Token:
        return Token(
            row.id,
            row.username,
            row.name,
            row.created_at,
            row.expires_at,
            row.last_used_at,
            row.revoked_at,
        )

    def list_tokens(self, username: str | None = None) -> list[Token]:
        query = self._token_query().order_by(tokens.c.id)
        if username is not None:
            query = query.where(users.c.username == username)
        with self._read() as conn:
            return [self._token(r) for r in conn.execute(query)]

    def revoke_token(self, username: str, name: str) -> None:
        with self._write() as conn:
            user = self._user_row(conn, username)
            result = conn.execute(
                tokens.update()
                .where(
                    tokens.c.user_id == user.id,
                    tokens.c.name == name,
                    tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now_ms())
            )
            if result.rowcount == 0:
                raise ResourceDoesNotExist(f"User {username} has no active token named {name!r}.")

    def check_token(self, secret: str) -> User | None:
        """The token's user if the token exists, is not revoked and has not expired. The lookup
        is by the secret's digest (an indexed equality on a hash, so no timing leak about the
        secret); its last-used time is refreshed at most once a minute."""
        digest = credentials.token_digest(secret)
        found = self._memo.get(("token", digest))
        seen = self._memo.version
        if found is None:
            query = (
                sa.select(tokens, users.c.username, users.c.is_admin, users.c.password_hash)
                .join(users, users.c.id == tokens.c.user_id)
                .where(tokens.c.token_hash == digest)
            )
            with self._read() as conn:
                row = conn.execute(query).first()
            if row is None:
                return None
            user = User(
                row.user_id, row.username, bool(row.is_admin), row.password_hash is not None
            )
            entry = (user, self._token(row), [row.last_used_at])
            found = self._memo.put(("token", digest), entry, seen)
        user, token, last_used = found
        now = now_ms()
        if not token.usable(now):
            return None
        if last_used[0] is None or now - last_used[0] > LAST_USED_RESOLUTION_MS:
            last_used[0] = now
            with self._write(bump=False) as conn:
                conn.execute(
                    tokens.update().where(tokens.c.id == token.id).values(last_used_at=now)
                )
        return user

    # ---- browser sessions --------------------------------------------------------------------
    def create_session(self, user_id: int, lifetime: timedelta) -> tuple[str, str]:
        """A new session for a user who just signed in: a fresh random id (so an id planted
        before sign-in is never promoted) and its CSRF token. Expired sessions are swept."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        created = now_ms()
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < created))
            conn.execute(
                sessions.insert().values(
                    id_hash=credentials.token_digest(session_id),
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=created,
                    expires_at=created + int(lifetime.total_seconds() * 1000),
                )
            )
        return session_id, csrf

    def check_session(self, session_id: str) -> tuple[User, str] | None:
        """The session's user and CSRF token, or None if unknown or expired."""
        query = (
            sa.select(sessions.c.csrf_token, sessions.c.expires_at, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id_hash == credentials.token_digest(session_id))
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_at <= now_ms():
            return None
        return self._user(row), row.csrf_token

    def delete_session(self, session_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                sessions.delete().where(sessions.c.id_hash == credentials.token_digest(session_id))
            )

    # ---- roles -------------------------------------------------------------------------------
    def _role_row(self, conn: Connection, role_id: object) -> sa.Row:
        try:
            key = int(str(role_id))
        except ValueError:
            raise InvalidParameterValue(f"Invalid role_id {role_id!r}.") from None
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
        try:
            key = int(str(role_permission_id))
        except ValueError:
            raise InvalidParameterValue(
                f"Invalid role_permission_id {role_permission_id!r}."
            ) from None
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
        """Grants follow a resource keyed by name when it is renamed."""
        with self._write() as conn:
            conn.execute(
                role_permissions.update()
                .where(
                    role_permissions.c.resource_type == resource_type,
                    role_permissions.c.resource_pattern == old_id,
                )
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
