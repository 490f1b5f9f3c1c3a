"""An iterator of chunks from a download API that only writes into a file object.

Google's storage client streams a whole object in one request only through
``download_to_file(file_object)``; its reader API asks for a range per chunk instead, a round
trip each. ``pushed_chunks`` runs such a writer on a thread and hands what it writes to the
caller in ``CHUNK_SIZE`` pieces through a small queue, so memory stays bounded whatever the
object's size, and the writer stops when the caller stops reading.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import IO

from runyard.artifacts.base import CHUNK_SIZE

#: Chunks written but not yet taken; the writer waits once this many are queued.
QUEUED_CHUNKS = 4
#: How often a waiting writer looks whether the reader went away.
_POLL_SECONDS = 0.5


class _ReaderGone(Exception):
    """Raised inside the writer once the reader stopped taking chunks."""


class _QueueFile(io.RawIOBase):
    """The file object handed to the writer: whole ``CHUNK_SIZE`` pieces go to the queue."""

    def __init__(self, chunks: queue.Queue[object], gone: threading.Event) -> None:
        super().__init__()
        self._chunks, self._gone = chunks, gone
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._pending += data
        while len(self._pending) >= CHUNK_SIZE:
            self.put(bytes(self._pending[:CHUNK_SIZE]))
            del self._pending[:CHUNK_SIZE]
        return len(data)

    def flush_pending(self) -> None:
        if self._pending:
            self.put(bytes(self._pending))
            self._pending.clear()

    def put(self, item: object) -> None:
        while True:
            if self._gone.is_set():
                raise _ReaderGone
            try:
                self._chunks.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue


_END = object()


def pushed_chunks(write_into: Callable[[IO[bytes]], None]) -> Iterator[bytes]:
    """The bytes ``write_into`` writes into the file object it is given, as chunks. Its
    exception is raised here, after the chunks written before it. Closing the iterator early
    makes the writer's next write fail; it is not waited for (a stalled read ends at its own
    timeout)."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
    gone = threading.Event()
    sink = _QueueFile(chunks, gone)

    def run() -> None:
        try:
            write_into(sink)  # type: ignore[arg-type]
            sink.flush_pending()
            sink.put(_END)
        except _ReaderGone:
            return
        except BaseException as exc:  # handed to the reader, which raises it
            try:
                sink.flush_pending()
                sink.put(exc)
            except _ReaderGone:
                return

    writer = threading.Thread(target=run, name="runyard-download", daemon=True)
    writer.start()
    try:
        while True:
            item = chunks.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        gone.set()
