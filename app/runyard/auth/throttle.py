"""Slow down password guessing: after too many failed sign-ins for one account name or from one
client address within a window, further attempts are refused without checking the password.

Counted per account name whether or not the account exists, so the refusal says nothing about
which names are real. An address gets ``ADDRESS_FACTOR`` times the limit of one name, since many
people may share it (an office behind NAT) and one person's typos should not lock them all out.

Counts live in two places: this process's memory, and a ``SharedFailures`` log (the auth
database) that every process writes to and reads from, so the limit holds however many gunicorn
workers or replicas serve. The shared log is read only before a slow password check; a client
whose password this process has already verified (HTTP basic on every request) costs no query.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_SECONDS = 300.0
_MAX_TRACKED_KEYS = 100_000
ADDRESS_FACTOR = 5


class SharedFailures(Protocol):
    """Failure counts every server process sees (``runyard.auth.store.AuthStore`` is one)."""

    def recent_failures(self, keys: Sequence[str], since_ms: int) -> dict[str, tuple[int, int]]: ...

    def record_failure(self, keys: Sequence[str], at_ms: int, forget_before_ms: int) -> None: ...

    def clear_failures(self, keys: Sequence[str]) -> None: ...


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        shared: SharedFailures | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._shared = shared
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

    def retry_after(self, keys: Sequence[str], shared: bool = True) -> float | None:
        """Seconds until a blocked key may try again, or None when none is blocked. ``shared``:
        also ask the other processes' counts (before a slow password check)."""
        now = self._clock()
        with self._lock:
            counts = {
                key: (len(times), times[0])
                for key, times in ((k, self._recent(k, now)) for k in keys)
                if times
            }
        if shared and self._shared is not None:
            since_ms = int((now - self.window) * 1000)
            for key, (count, oldest_ms) in self._shared.recent_failures(keys, since_ms).items():
                mine = counts.get(key, (0, now))
                counts[key] = (max(count, mine[0]), min(oldest_ms / 1000, mine[1]))
        waits = [
            self.window - (now - oldest)
            for key, (count, oldest) in counts.items()
            if count >= self._limit(key)
        ]
        return max(waits) if waits else None

    def _limit(self, key: str) -> int:
        return self.max_failures * (ADDRESS_FACTOR if key.startswith("addr:") else 1)

    def failed(self, keys: Sequence[str]) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > _MAX_TRACKED_KEYS:
                self._failures.clear()  # bounded memory under a spray of random names
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
        if self._shared is not None:
            self._shared.record_failure(
                keys, int(now * 1000), forget_before_ms=int((now - self.window) * 1000)
            )

    def succeeded(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
        if self._shared is not None and keys:
            self._shared.clear_failures(keys)


def keys_for(username: str | None, address: str | None) -> list[str]:
    keys = [f"addr:{address or '?'}"]
    if username:
        keys.append(f"user:{username.lower()}")
    return keys
