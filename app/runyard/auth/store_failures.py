"""Failed sign-ins in the auth database, the counts ``LoginThrottle`` shares between processes.

Writes do not move the version stamp: a failed sign-in changes no account, token or grant, so
no process needs to drop what it remembered.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from runyard.auth.models import login_failures
from runyard.auth.store_base import StoreBase


class FailuresMixin(StoreBase):
    def recent_failures(self, keys: Sequence[str], since_ms: int) -> dict[str, tuple[int, int]]:
        """``key -> (failures since since_ms, when the oldest was)`` for the keys with any."""
        query = (
            sa.select(
                login_failures.c.key,
                sa.func.count(),
                sa.func.min(login_failures.c.failed_at),
            )
            .where(login_failures.c.key.in_(list(keys)), login_failures.c.failed_at > since_ms)
            .group_by(login_failures.c.key)
        )
        with self._read() as conn:
            return {key: (int(count), int(oldest)) for key, count, oldest in conn.execute(query)}

    def record_failure(self, keys: Sequence[str], at_ms: int, forget_before_ms: int) -> None:
        """Count one failure for each key, and drop failures too old to count any more."""
        with self._write(bump=False) as conn:
            too_old = login_failures.c.failed_at <= forget_before_ms
            conn.execute(login_failures.delete().where(too_old))
            conn.execute(login_failures.insert(), [{"key": k, "failed_at": at_ms} for k in keys])

    def clear_failures(self, keys: Sequence[str]) -> None:
        with self._write(bump=False) as conn:
            conn.execute(login_failures.delete().where(login_failures.c.key.in_(list(keys))))
