"""``AuthStore``: users, tokens, roles and grants in SQLite or Postgres.

Construction brings the auth tables to their newest migration (their own chain, so the tables
can share the tracking database or have one of their own). Every method validates before it
writes and raises ``RunyardError`` subclasses; database errors never leak SQL to a client.
"""

from __future__ import annotations

from runyard.auth.store_base import AUTH_CHAIN, LAST_USED_RESOLUTION_MS, REFRESH_SECONDS
from runyard.auth.store_failures import FailuresMixin
from runyard.auth.store_roles import RolesMixin
from runyard.auth.store_tokens import TokensMixin
from runyard.auth.store_users import UsersMixin


class AuthStore(UsersMixin, TokensMixin, RolesMixin, FailuresMixin):
    """Users, tokens, sessions, roles, grants and failed sign-ins, in one database."""


__all__ = [
    "AUTH_CHAIN",
    "LAST_USED_RESOLUTION_MS",
    "REFRESH_SECONDS",
    "AuthStore",
]
