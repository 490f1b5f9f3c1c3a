"""Accounts: create, read, change and delete users; check passwords."""

from __future__ import annotations

import hmac

import sqlalchemy as sa

from runyard.auth import credentials
from runyard.auth.entities import User, user_role_name
from runyard.auth.models import role_permissions, roles, sessions, tokens, user_roles, users
from runyard.auth.store_base import StoreBase
from runyard.clock import now_ms
from runyard.errors import ResourceAlreadyExists


class UsersMixin(StoreBase):
    """Accounts and their passwords."""

    # ---- users -------------------------------------------------------------------------------

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
        row = self._remembered_user_row(username)
        if self._remembered(username, password, row):
            return self._user(row)
        stored = row.password_hash if row is not None else None
        matches = credentials.verify_password(password, stored or credentials.DUMMY_PASSWORD_HASH)
        if row is None or stored is None or not matches:
            return None
        self._verified.put(username, password, stored)
        return self._user(row)

    def recognises_password(self, username: str, password: str) -> bool:
        """Whether this (user, password) was verified before against the hash stored now: a
        check that costs no hash, so callers may skip what only guards the slow check."""
        return self._remembered(username, password, self._remembered_user_row(username))

    def _remembered_user_row(self, username: str) -> sa.Row | None:
        row = self._memo.get(("user", username))
        seen = self._memo.version
        if row is None:
            with self._read() as conn:
                row = conn.execute(sa.select(users).where(users.c.username == username)).first()
            if row is not None:
                self._memo.put(("user", username), row, seen)
        return row

    def _remembered(self, username: str, password: str, row: sa.Row | None) -> bool:
        stored = row.password_hash if row is not None else None
        remembered = self._verified.get(username, password)
        if stored is None or remembered is None:
            return False
        return hmac.compare_digest(remembered, stored)
