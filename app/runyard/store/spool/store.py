"""``SpoolingStore``: a RestStore whose writes survive the server being away.

Reads go straight to the server (RestStore's own methods). Writes (``log_batch`` and what
builds on it, ``delete_tag``, ``update_run_info``) go to the server; when it cannot be reached
(``TemporarilyUnavailable`` or a connection error once the HTTP client's retries are spent)
they are appended, fsync'ed, to the offline spool (``runyard.store.spool.spool``) and the
call returns normally.

While the spool holds anything, new writes queue behind it in the spool, so the server sees
every write in the order it was made. The spool drains by itself: a background thread retries
with backoff (a quick health probe first), and each new write tries first when no backoff is
running. ``runyard sync`` drains it from another process, e.g. after a crash. Input is checked
before anything is spooled, so a bad key fails at once, not at replay time. What the server
refuses at replay (say, a changed param) is kept in ``<spool>.rejected.jsonl`` and logged.

Reads do not see writes still in the spool.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from runyard import config
from runyard.entities import LifecycleStage, Metric, Param, Run, RunInfo, RunStatus, RunTag
from runyard.http import HttpClient
from runyard.store.base import TrackingStore
from runyard.store.rest import RestStore
from runyard.store.spool import spool as spool_format
from runyard.store.spool.spool import Spool, is_unavailable
from runyard.validation import validate_batch, validate_key, validate_run_id

_logger = logging.getLogger(__name__)

#: Backoff of the background replayer, in seconds.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
#: A write while spooling tries to drain first at most this often (the probe is one request).
WRITE_RETRY_SECONDS = 1.0
#: How long the end of a run waits for a drain already running (in this or another process).
FORCED_DRAIN_WAIT_SECONDS = 30.0

_LIVE: weakref.WeakSet[SpoolingStore] = weakref.WeakSet()


def spooling_rest_store(uri: str) -> TrackingStore:
    """The store registered for ``http(s)://`` URIs: a RestStore, spooled unless the ``spool``
    setting is off."""
    if not config.get_bool("spool"):
        return RestStore(uri)
    return SpoolingStore(uri, spool_format.default_spool_dir())


class SpoolingStore(RestStore):
    """A RestStore whose run writes (``log_batch``, ``delete_tag``, ``update_run_info``) are
    spooled while the server is away; see the module docstring. Everything else, registry
    calls included, is RestStore's own: reads and other writes go straight to the server."""

    def __init__(self, base_url: str, spool_dir: str, http: HttpClient | None = None) -> None:
        super().__init__(base_url, http)
        self.spool = Spool.for_uri(spool_dir, self.base_url)
        #: The same server without the spool: what replay sends to.
        self.server = RestStore(self.base_url, self.http)
        self._order = threading.Lock()  # "is the spool in use?" and appends, as one step
        self._drain_lock = threading.Lock()  # one drain at a time in this process
        self._spooling = self.spool.has_pending()
        self._retry_delay = FIRST_RETRY_SECONDS
        self._next_attempt = 0.0
        self._next_write_attempt = 0.0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._runs: dict[str, RunInfo] = {}
        self._warned = False
        _LIVE.add(self)
        if self._spooling:
            self._start_replayer()

    # ---- writes ------------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        validate_run_id(run_id)
        metrics, params, tags = list(metrics), list(params), list(tags)
        validate_batch(metrics, params, tags)
        record = spool_format.batch_record(run_id, metrics, params, tags)
        self._write(record, lambda: self.server.send_batch(run_id, metrics, params, tags))

    def delete_tag(self, run_id: str, key: str) -> None:
        validate_run_id(run_id)
        validate_key(key, "tag key")
        record = spool_format.delete_tag_record(run_id, key)
        self._write(record, lambda: self.server.delete_tag(run_id, key))

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        validate_run_id(run_id)
        record = spool_format.update_run_record(run_id, status, end_time, run_name)
        result: list[RunInfo] = []

        def send() -> None:
            result.append(self.server.update_run_info(run_id, status, end_time, run_name))

        # The end of a run is when users expect everything on the server: try now.
        self._write(record, send, force_drain=status is not None and status.is_terminated)
        if result:
            return self._remember_info(result[0])
        return self._expected_info(run_id, status, end_time, run_name)

    def _write(
        self, record: dict[str, Any], send: Callable[[], None], force_drain: bool = False
    ) -> None:
        now = time.monotonic()
        if self._spooling and (force_drain or now >= self._next_write_attempt):
            self._next_write_attempt = now + WRITE_RETRY_SECONDS
            self.drain(FORCED_DRAIN_WAIT_SECONDS if force_drain else 0.0)  # the spool goes first
        with self._order:
            spooling = self._spooling
            if spooling:
                self.spool.append(record)
        if spooling:
            self._wake.set()
            return
        try:
            send()
        except Exception as error:
            if not is_unavailable(error):
                raise
            with self._order:
                self.spool.append(record)
                self._spooling = True
            self._note_offline(error)
            self._start_replayer()
            self._wake.set()

    def _note_offline(self, error: BaseException) -> None:
        self._next_attempt = time.monotonic() + self._retry_delay
        if not self._warned:
            self._warned = True
            _logger.warning(
                "Tracking server %s is unreachable (%s); writes are kept in %s and sent when "
                "it is back (or by `runyard sync`).",
                self.spool.tracking_uri,
                error,
                self.spool.path,
            )

    # ---- draining ----------------------------------------------------------------------------
    def drain(self, wait_seconds: float = 0.0) -> bool:
        """Send what is spooled, in order; True when the spool is empty afterwards."""
        if wait_seconds > 0:
            acquired = self._drain_lock.acquire(timeout=wait_seconds)
        else:
            acquired = self._drain_lock.acquire(blocking=False)
        if not acquired:
            return False
        try:
            return self._drain_locked(wait_seconds)
        finally:
            self._drain_lock.release()

    def _drain_locked(self, wait_seconds: float) -> bool:
        try:
            self.check_ready()
        except Exception as error:
            self._backoff(error)
            return False
        result = spool_format.replay(self.spool, self.server, wait_seconds)
        if result.error is not None:
            self._backoff(result.error)
            return False
        if not result.drained:
            return False  # another process is replaying this spool
        with self._order:
            if self.spool.has_pending():  # a write slipped in after the last read
                return False
            self._spooling = False
        self._retry_delay = FIRST_RETRY_SECONDS
        self._next_attempt = 0.0
        if self._warned:
            _logger.warning("Tracking server %s is back; the spool was sent.", self.base_url)
            self._warned = False
        return True

    def _backoff(self, error: BaseException) -> None:
        self._next_attempt = time.monotonic() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_SECONDS)
        _logger.debug("Spool replay to %s postponed: %s", self.base_url, error)

    def _start_replayer(self) -> None:
        with self._order:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._replay_loop, name="runyard-spool-replayer", daemon=True
            )
            self._thread.start()

    def _replay_loop(self) -> None:
        while True:  # lives on once started: the server may go away again
            if not self._spooling:
                self._wake.wait()
                self._wake.clear()
                continue
            delay = max(0.0, self._next_attempt - time.monotonic())
            self._wake.wait(delay if delay > 0 else FIRST_RETRY_SECONDS)
            self._wake.clear()
            if time.monotonic() < self._next_attempt:
                continue
            try:
                self.drain()
            except Exception:  # keep the spool; try again later
                _logger.exception("Spool replay to %s failed", self.base_url)
                self._backoff(RuntimeError("replay failed"))

    # ---- run infos for answers given while offline -------------------------------------------
    def _remember_info(self, info: RunInfo) -> RunInfo:
        self._runs[info.run_id] = info
        return info

    def _expected_info(
        self, run_id: str, status: RunStatus | None, end_time: int | None, run_name: str | None
    ) -> RunInfo:
        """What the server will say once the spooled update lands."""
        known = self._runs.get(run_id) or RunInfo(
            run_id, "", run_name or "", "", RunStatus.RUNNING, None, None, "", LifecycleStage.ACTIVE
        )
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if end_time is not None:
            changes["end_time"] = end_time
        if run_name is not None:
            changes["run_name"] = run_name
        return self._remember_info(dataclasses.replace(known, **changes))

    def create_run(self, *args: Any, **kwargs: Any) -> Run:
        run = super().create_run(*args, **kwargs)
        self._remember_info(run.info)
        return run

    def get_run(self, run_id: str) -> Run:
        run = super().get_run(run_id)
        self._remember_info(run.info)
        return run

    def close(self) -> None:
        _LIVE.discard(self)
        super().close()


def _drain_at_exit() -> None:
    """Last chance to send the spool; what is left stays on disk for next time."""
    for store in list(_LIVE):
        if not store._spooling:
            continue
        try:
            store.drain()
        except Exception:
            _logger.debug("final spool replay failed", exc_info=True)
        if store.spool.has_pending():
            _logger.warning(
                "%d writes for %s are still in the spool %s; they are sent the next time "
                "runyard reaches that server, or now with `runyard sync`.",
                len(store.spool.pending()),
                store.base_url,
                store.spool.path,
            )


atexit.register(_drain_at_exit)
