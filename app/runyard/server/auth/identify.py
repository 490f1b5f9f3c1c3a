"""Who is asking: a trusted proxy's header, HTTP basic, a bearer token or a session cookie.

Each way answers a ``User`` or nothing; a wrong secret answers nothing in the same way whether
or not the account exists. Failed basic sign-ins count against the account name and the client
address; once either is over the limit, attempts are refused before any password is checked.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass

from flask import Request

from runyard.auth import credentials
from runyard.auth.entities import Grant, User
from runyard.auth.permissions import EXPERIMENT, REGISTERED_MODEL, WILDCARD
from runyard.auth.store import AuthStore
from runyard.auth.throttle import LoginThrottle, keys_for
from runyard.errors import ResourceAlreadyExists, RunyardError
from runyard.server.auth.settings import AuthConfig

SESSION_COOKIE = "runyard_session"
PROXY_ROLE = "proxy group"


class TooManyAttempts(RunyardError):
    """429: sign-in attempts refused for a while."""

    error_code = "REQUEST_LIMIT_EXCEEDED"


@dataclass(frozen=True)
class Identity:
    user: User
    #: "basic", "token", "session" or "proxy"; a session must prove CSRF on writes.
    method: str
    csrf_token: str | None = None
    extra_grants: tuple[Grant, ...] = ()


def from_trusted_proxy(request: Request, cfg: AuthConfig) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in cfg.trusted_proxies)


def client_address(request: Request, cfg: AuthConfig) -> str:
    """The client's address; behind a trusted proxy, the last hop it recorded."""
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and from_trusted_proxy(request, cfg):
        return forwarded.split(",")[-1].strip()
    return request.remote_addr or "?"


class Identifier:
    def __init__(self, store: AuthStore, cfg: AuthConfig) -> None:
        self.store = store
        self.cfg = cfg
        self.throttle = LoginThrottle(cfg.max_failed_logins, cfg.failed_login_window, shared=store)

    def identify(self, request: Request) -> Identity | None:
        if self.cfg.proxy_mode and from_trusted_proxy(request, self.cfg):
            name = (request.headers.get(self.cfg.proxy_user_header or "") or "").strip()
            if name:
                return self._proxy_identity(name, request)
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            return self._basic(value.strip(), client_address(request, self.cfg))
        if scheme.lower() == "bearer":
            user = self.store.check_token(value.strip())
            return Identity(user, "token") if user else None
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            found = self.store.check_session(session_id)
            if found:
                return Identity(found[0], "session", csrf_token=found[1])
        return None

    def sign_in(self, username: str, password: str, address: str) -> User | None:
        """A password check with the throttle around it (the sign-in form and HTTP basic)."""
        keys = keys_for(username, address)
        # The other processes' counts matter only before the slow check; a password this
        # process already verified is not a guess.
        slow_check = not self.store.recognises_password(username, password)
        wait = self.throttle.retry_after(keys, shared=slow_check)
        if wait is not None:
            raise TooManyAttempts(
                f"Too many failed sign-ins; try again in {int(wait) + 1} seconds."
            )
        user = self.store.check_password(username, password)
        if user is None:
            self.throttle.failed(keys)
            return None
        if slow_check:
            self.throttle.succeeded(keys[1:])
        return user

    def _basic(self, encoded: str, address: str) -> Identity | None:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        if credentials.looks_like_token(password):
            # MLFLOW_TRACKING_PASSWORD may carry a token, for clients that only speak basic.
            user = self.store.check_token(password)
            if user is not None and user.username == username:
                return Identity(user, "token")
        user = self.sign_in(username, password, address)
        return Identity(user, "basic") if user else None

    def _proxy_identity(self, name: str, request: Request) -> Identity | None:
        name = credentials.check_username(name)
        user = self.store.find_user(name)
        if user is None:
            try:
                user = self.store.create_user(name, None)
            except ResourceAlreadyExists:  # created by a concurrent first request
                user = self.store.get_user(name)
        groups_header = self.cfg.proxy_groups_header
        groups = [
            g.strip()
            for g in (request.headers.get(groups_header, "") if groups_header else "").split(",")
            if g.strip()
        ]
        levels = [self.cfg.group_permissions[g] for g in groups if g in self.cfg.group_permissions]
        if "ADMIN" in levels:
            user = User(user.id, user.username, True, user.has_password)
        grants = tuple(
            Grant(0, PROXY_ROLE, "default", resource_type, WILDCARD, level)
            for level in levels
            if level != "ADMIN"
            for resource_type in (EXPERIMENT, REGISTERED_MODEL)
        )
        return Identity(user, "proxy", extra_grants=grants)
