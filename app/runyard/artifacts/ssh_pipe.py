"""A channel buffer for paramiko that hands data out without moving what stays behind.

paramiko 3's ``BufferedPipe`` keeps a channel's received bytes in one ``array``, and every read
deletes what it hands out from the front, moving all the bytes still buffered. An SFTP download
with a wide SSH window keeps megabytes buffered and reads each reply in pieces (4 bytes of
length, then the message), so the transport thread and the reader spent more time moving the
buffer than decrypting it: about 30 % of a 512 MiB download's samples (py-spy, both threads)
were in ``BufferedPipe``'s copies. :class:`ChunkPipe` keeps the packets as they arrived and
an offset into the first, so a read copies only the bytes it returns.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from paramiko.buffered_pipe import BufferedPipe, PipeTimeout


class ChunkPipe(BufferedPipe):
    """``BufferedPipe``'s contract (blocking reads with a timeout, close, an event for
    ``select``) over a queue of received packets."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of the first chunk already handed out
        self._size = 0

    def set_event(self, event: threading.Event) -> None:
        with self._lock:
            self._event = event
            if self._closed or self._size:
                event.set()
            else:
                event.clear()

    def feed(self, data: bytes) -> None:
        with self._lock:
            if self._event is not None:
                self._event.set()
            if data:
                self._chunks.append(bytes(data))
                self._size += len(data)
            self._cv.notify_all()

    def read_ready(self) -> bool:
        with self._lock:
            return self._size > 0

    def read(self, nbytes: int, timeout: float | None = None) -> bytes:
        with self._lock:
            if not self._size:
                if self._closed:
                    return b""
                if timeout == 0.0:
                    raise PipeTimeout()
                while not self._size and not self._closed:
                    then = time.time()
                    self._cv.wait(timeout)
                    if timeout is not None:
                        timeout -= time.time() - then
                        if timeout <= 0.0:
                            raise PipeTimeout()
                if not self._size:
                    return b""
            out = self._take(nbytes)
            if not self._size and self._event is not None and not self._closed:
                self._event.clear()
            return out

    def _take(self, nbytes: int) -> bytes:
        """Up to ``nbytes`` from the front; the caller holds the lock."""
        parts: list[bytes] = []
        wanted = min(nbytes, self._size)
        while wanted:
            first = self._chunks[0]
            start = self._offset
            count = min(wanted, len(first) - start)
            whole = start == 0 and count == len(first)
            parts.append(first if whole else first[start : start + count])
            wanted -= count
            self._size -= count
            if start + count == len(first):
                self._chunks.popleft()
                self._offset = 0
            else:
                self._offset = start + count
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def empty(self) -> bytes:
        with self._lock:
            out = self._take(self._size)
            if self._event is not None and not self._closed:
                self._event.clear()
            return out

    def __len__(self) -> int:
        with self._lock:
            return self._size
