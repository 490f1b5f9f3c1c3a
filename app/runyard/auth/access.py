"""What one signed-in user may do: their grants, loaded once per request, answering every
permission question of that request from memory (so logging a batch of a thousand metrics costs
one grants query, not a thousand)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from runyard.auth.entities import Grant, User
from runyard.auth.permissions import WILDCARD, Permission, fold, parse_permission


class Access:
    """A user's effective permissions. Admins may do everything."""

    def __init__(self, user: User, grants: Iterable[Grant], default: Permission) -> None:
        self.user = user
        self.default = default
        self._by_key: dict[tuple[str, str], list[Permission]] = defaultdict(list)
        for grant in grants:
            level = parse_permission(grant.permission)
            self._by_key[(grant.resource_type, grant.resource_pattern)].append(level)
        self._memo: dict[tuple[str, str], Permission] = {}

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    def permission(self, resource_type: str, resource_id: str) -> Permission:
        if self.user.is_admin:
            return Permission.MANAGE
        key = (resource_type, str(resource_id))
        level = self._memo.get(key)
        if level is None:
            matching = [
                *self._by_key.get(key, ()),
                *self._by_key.get((resource_type, WILDCARD), ()),
            ]
            level = self._memo[key] = fold(matching, self.default)
        return level

    def granted(self, resource_type: str, resource_id: str) -> Permission | None:
        """The folded grants matching the resource (a positive one raised to the default), or
        None when no grant matches: a sub-resource tier speaks only when granted."""
        key = (resource_type, str(resource_id))
        matching = (*self._by_key.get(key, ()), *self._by_key.get((resource_type, WILDCARD), ()))
        return fold(matching, self.default) if matching else None

    def add(self, resource_type: str, resource_id: str, permission: Permission) -> None:
        """A grant given during this request (a creator's ``MANAGE``), so the rest of the
        request sees it too."""
        self._by_key[(resource_type, str(resource_id))].append(permission)
        self._memo.pop((resource_type, str(resource_id)), None)

    def denied(self, resource_type: str, resource_id: str) -> bool:
        """Whether a grant matching the resource is ``DENY`` (the default does not count): a
        name someone is denied may not be taken by a new resource of theirs, as in MLflow."""
        if self.user.is_admin:
            return False
        key = (resource_type, str(resource_id))
        matching = (*self._by_key.get(key, ()), *self._by_key.get((resource_type, WILDCARD), ()))
        return Permission.DENY in matching
