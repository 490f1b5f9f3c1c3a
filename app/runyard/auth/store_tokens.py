"""API tokens and browser sessions: random secrets kept only as their SHA-256."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from runyard.auth import credentials
from runyard.auth.entities import Token, User
from runyard.auth.models import sessions, tokens, users
from runyard.auth.store_base import LAST_USED_RESOLUTION_MS, StoreBase
from runyard.clock import now_ms
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist


class TokensMixin(StoreBase):
    """API tokens and browser sessions."""

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
