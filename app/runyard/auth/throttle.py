"""Slow down password guessing: after too many failed sign-ins for one account name or from one
client address within a window, further attempts are refused without checking the password.

Counted per account name whether or not the account exists, so the refusal says nothing about
which names are real. An address gets ``ADDRESS_FACTOR`` times the limit of one name, since many
people may share it (an office behind NAT) and one person's typos should not lock them all out.
Counters live in each server process (each gunicorn worker counts on its own, so the effective
limit is the limit times the number of workers).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_SECONDS = 300.0
_MAX_TRACKED_KEYS = 100_000
ADDRESS_FACTOR = 5


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, keys: Iterable[str]) -> float | None:
        """Seconds until a blocked key may try again, or None when none is blocked."""
        now = self._clock()
        with self._lock:
            waits = [
                self.window - (now - times[0])
                for key, times in ((k, self._recent(k, now)) for k in keys)
                if len(times) >= self._limit(key)
            ]
        return max(waits) if waits else None

    def _limit(self, key: str) -> int:
        return self.max_failures * (ADDRESS_FACTOR if key.startswith("addr:") else 1)

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > _MAX_TRACKED_KEYS:
                self._failures.clear()  # bounded memory under a spray of random names
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def keys_for(username: str | None, address: str | None) -> list[str]:
    keys = [f"addr:{address or '?'}"]
    if username:
        keys.append(f"user:{username.lower()}")
    return keys
