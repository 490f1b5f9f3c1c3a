"""``ReadMemo``: what a server process remembers of the auth tables between two changes."""

from __future__ import annotations

import threading
import time
from typing import Any


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

    def at_version(self, version: object) -> bool:
        """Drop everything if the stamp moved to ``version``; whether it had."""
        with self._lock:
            if version == self._version:
                return False
            self._entries.clear()
            self._version = version
            return True

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
