"""Background logging: ``log_*(..., synchronous=False)`` returns at once, a thread sends.

``submit`` puts the call on one in-process queue; one daemon thread takes everything queued,
groups it per run into ``log_batch`` requests (``runyard.batching.plan_batches``) and sends
them in the order they were submitted.

* **Bounded memory**: at most ``async_logging_queue_size`` calls wait. When the queue is full,
  ``submit`` blocks until the thread has taken them (back-pressure rather than unbounded growth
  or dropped data).
* **Errors surface**: a failed request is logged at once and raised by the next ``flush``
  (which ``end_run`` calls for its run), so a bad param value cannot pass silently.
* ``flush(run_id=None)`` waits until everything submitted before it was sent; ``flush_all``
  runs at interpreter exit so a short script loses nothing.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from runyard import config
from runyard.batching import Piece, plan_batches
from runyard.entities import Metric, Param, RunTag

_logger = logging.getLogger(__name__)

#: Seconds the sender waits between rounds, so that many calls make one request.
LINGER_SECONDS = 0.05
#: Calls taken per round, so a busy producer cannot make one round (and its memory) endless.
_MAX_ITEMS_PER_ROUND = 20000

_Item = tuple[Any, str, Sequence[Metric], Sequence[Param], Sequence[RunTag]]


class _FlushMarker:
    """Queued by ``flush``; the sender sets it once everything queued before it was sent."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class AsyncLogger:
    """One queue and one sender thread (started on first use).

    The submit path takes no lock: ``deque.append`` is atomic, the sender pops from the other
    end, and ``flush`` queues a marker, so order and completion need no shared counters.
    """

    def __init__(self, max_pending: int | None = None) -> None:
        size = max_pending or config.get_int("async_logging_queue_size")
        self.max_pending = max(1, size)
        self._queue: deque[Any] = deque()
        self._room = threading.Condition()
        self._wake = threading.Event()
        self._errors: list[tuple[str, BaseException]] = []
        self._errors_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # ---- user side -------------------------------------------------------------------------
    def submit(
        self,
        client: Any,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        queue = self._queue
        if len(queue) >= self.max_pending:
            self._wait_for_room()
        queue.append((client, run_id, metrics, params, tags))
        if self._thread is None:
            self._start()

    def _wait_for_room(self) -> None:
        with self._room:
            while len(self._queue) >= self.max_pending:
                self._wake.set()
                self._room.wait(0.1)

    def flush(self, run_id: str | None = None) -> None:
        """Wait until all calls submitted so far were sent; raise the first error of
        ``run_id`` (of any run when None) that happened since the last flush."""
        if self._thread is not None:
            marker = _FlushMarker()
            self._queue.append(marker)
            self._wake.set()
            while not marker.event.wait(0.5):
                if not self._thread.is_alive():  # pragma: no cover - the sender never exits
                    break
        with self._errors_lock:
            errors = [e for r, e in self._errors if run_id is None or r == run_id]
            self._errors = [(r, e) for r, e in self._errors if run_id is not None and r != run_id]
        if errors:
            if len(errors) > 1:
                _logger.error("%d background logging requests failed", len(errors))
            raise errors[0]

    # ---- sender side -----------------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run, name="runyard-async-logging", daemon=True
                )
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        queue = self._queue
        capped = False
        while True:
            # Linger between rounds so calls pile up into big requests; flush cuts it short.
            # After a full round the backlog is big enough already: go on at once.
            if not capped:
                self._wake.wait(LINGER_SECONDS)
                self._wake.clear()
            if not queue:
                capped = False
                continue
            items: list[_Item] = []
            markers: list[_FlushMarker] = []
            while queue and not markers and len(items) < _MAX_ITEMS_PER_ROUND:
                item = queue.popleft()
                if item.__class__ is _FlushMarker:
                    markers.append(item)
                else:
                    items.append(item)
            capped = len(items) >= _MAX_ITEMS_PER_ROUND
            with self._room:
                self._room.notify_all()
            self._send_all(items)
            for marker in markers:
                marker.event.set()

    def _send_all(self, items: list[_Item]) -> None:
        try:
            for (store, run_id), batches in group_batches(items):
                for metrics, params, tags in batches:
                    self._send(store, run_id, metrics, params, tags)
        except Exception as error:  # never let the sender die with callers waiting
            _logger.exception("Background logging failed")
            with self._errors_lock:
                self._errors.extend((item[1], error) for item in items)

    def _send(
        self,
        store: Any,
        run_id: str,
        metrics: list[Metric],
        params: list[Param],
        tags: list[RunTag],
    ) -> None:
        try:
            store.log_batch(run_id, metrics, params, tags)
        except Exception as error:
            _logger.error("Background logging to run %s failed: %s", run_id, error)
            with self._errors_lock:
                self._errors.append((run_id, error))


def group_batches(
    items: Sequence[_Item],
) -> list[tuple[tuple[Any, str], list[tuple[list[Metric], list[Param], list[RunTag]]]]]:
    """Per (store, run), in submission order, the requests ``plan_batches`` packs them into."""
    per_run: dict[tuple[Any, str], list[Piece]] = {}
    for client, run_id, metrics, params, tags in items:
        # Several clients can share one store: group by the store, not by the client.
        target = (getattr(client, "store", client), run_id)
        per_run.setdefault(target, []).append((metrics, params, tags))
    return [
        (target, [batch.as_tuple() for batch in plan_batches(pieces)])
        for target, pieces in per_run.items()
    ]


_LOGGER: AsyncLogger | None = None
_LOGGER_LOCK = threading.Lock()


def _get() -> AsyncLogger:
    global _LOGGER
    if _LOGGER is None:
        with _LOGGER_LOCK:
            if _LOGGER is None:
                _LOGGER = AsyncLogger()
    return _LOGGER


def submit(
    client: Any,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Sequence[Param] = (),
    tags: Sequence[RunTag] = (),
) -> None:
    """Queue one logging call (already validated by the caller). Blocks only while
    ``async_logging_queue_size`` calls wait. ``client`` is a ``Client`` or a store."""
    logger = _LOGGER or _get()
    logger.submit(client, run_id, metrics, params, tags)


def flush(run_id: str | None = None) -> None:
    """Wait until everything queued so far was sent; raise the first background error of
    ``run_id`` (of any run when None)."""
    if _LOGGER is not None:
        _LOGGER.flush(run_id)


def flush_all() -> None:
    """Send everything still queued (at interpreter exit); errors are logged, not raised."""
    try:
        flush(None)
    except Exception as error:
        _logger.error("Background logging failed before exit: %s", error)


def _reset_after_fork() -> None:
    """A forked child has no sender thread and must not send the parent's queue twice."""
    global _LOGGER
    _LOGGER = None


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
