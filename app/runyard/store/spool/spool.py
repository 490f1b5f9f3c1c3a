"""The offline spool: writes a tracking server could not take, kept on disk until it can.

One append-only JSON-lines file per tracking server under the ``spool_dir`` setting
(``~/.runyard/spool``). Each line is one write, complete and idempotent::

    {"seq": 7, "op": "log_batch", "run_id": "...", "metrics": [[key, value, timestamp, step]],
     "params": [[key, value]], "tags": [[key, value]]}
    {"seq": 8, "op": "delete_tag", "run_id": "...", "key": "..."}
    {"seq": 9, "op": "update_run_info", "run_id": "...", "status": "FINISHED", "end_time": ...}

A line is appended and fsync'ed before the write call returns, so a write the user saw return
survives a crash. ``<file>.state`` holds how far replay got (atomically replaced); a line that
was sent but not yet marked may be sent again, which is harmless: the server stores an identical
metric point once, accepts an identical param again, and tags and run updates are idempotent.
A write the server refuses for good (say, a param changed value) is moved to
``<file>.rejected.jsonl`` with the reason, so one bad line cannot block the rest.

``sync_command()`` (``runyard sync``) replays every spool file now.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from filelock import FileLock, Timeout

from runyard import config
from runyard.batching import plan_batches
from runyard.entities import Metric, Param, RunStatus, RunTag
from runyard.errors import ResourceDoesNotExist, RunyardError, TemporarilyUnavailable

_logger = logging.getLogger(__name__)

#: Errors that mean "the server is away now", as opposed to "the server said no".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    TemporarilyUnavailable,
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, UNAVAILABLE_ERRORS)


def default_spool_dir() -> str:
    return config.get_path("spool_dir")


def spool_path(spool_dir: str, tracking_uri: str) -> str:
    """``<dir>/<readable host>-<hash of the URI>.jsonl``: one file per server."""
    readable = re.sub(r"[^A-Za-z0-9]+", "_", tracking_uri.split("://", 1)[-1]).strip("_")[:60]
    digest = hashlib.sha256(tracking_uri.encode("utf-8")).hexdigest()[:12]
    return os.path.join(spool_dir, f"{readable or 'server'}-{digest}.jsonl")


# ---- records --------------------------------------------------------------------------------
def batch_record(
    run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
) -> dict[str, Any]:
    return {
        "op": "log_batch",
        "run_id": run_id,
        "metrics": [[m.key, m.value, m.timestamp, m.step] for m in metrics],
        "params": [[p.key, p.value] for p in params],
        "tags": [[t.key, t.value] for t in tags],
    }


def delete_tag_record(run_id: str, key: str) -> dict[str, Any]:
    return {"op": "delete_tag", "run_id": run_id, "key": key}


def update_run_record(
    run_id: str, status: RunStatus | None, end_time: int | None, run_name: str | None
) -> dict[str, Any]:
    return {
        "op": "update_run_info",
        "run_id": run_id,
        "status": None if status is None else str(status),
        "end_time": end_time,
        "run_name": run_name,
    }


def batch_of(record: dict[str, Any]) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """A ``log_batch`` record's metrics, params and tags as entities."""
    metrics = [Metric(k, float(v), int(ts), int(step)) for k, v, ts, step in record["metrics"]]
    params = [Param(k, v) for k, v in record["params"]]
    tags = [RunTag(k, v) for k, v in record["tags"]]
    return metrics, params, tags


def apply(store: Any, record: dict[str, Any]) -> None:
    """Send one record (or a merged batch) to ``store``."""
    op, run_id = record["op"], record["run_id"]
    if op == "log_batch":
        store.log_batch(run_id, *batch_of(record))
    elif op == "delete_tag":
        # A missing tag was deleted already (this line was sent just before a crash).
        with contextlib.suppress(ResourceDoesNotExist):
            store.delete_tag(run_id, record["key"])
    elif op == "update_run_info":
        status = record.get("status")
        store.update_run_info(
            run_id,
            status=None if status is None else RunStatus(status),
            end_time=record.get("end_time"),
            run_name=record.get("run_name"),
        )
    else:
        raise ValueError(f"unknown spool operation {op!r}")


# ---- the file -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    end: int  # byte offset just past this line
    record: dict[str, Any]


class Spool:
    """One server's spool file; safe to share between threads and processes."""

    def __init__(self, path: str, tracking_uri: str) -> None:
        self.path = path
        self.tracking_uri = tracking_uri
        self.state_path = path + ".state"
        self.rejected_path = path[: -len(".jsonl")] + ".rejected.jsonl"
        self._lock = FileLock(path + ".lock")
        self.replay_lock = FileLock(path + ".replay.lock")

    @classmethod
    def for_uri(cls, spool_dir: str, tracking_uri: str) -> Spool:
        return cls(spool_path(spool_dir, tracking_uri), tracking_uri)

    # ---- appending ---------------------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> int:
        """Write ``record`` durably (fsync) and return its sequence number."""
        with self._lock:
            self._ensure_dir()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = _drop_torn_tail(fd)
                seq = max(self._state()["last_seq"], _last_seq(fd, size)) + 1
                line = json.dumps({"seq": seq, **record}, separators=(",", ":")) + "\n"
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            return seq

    def _ensure_dir(self) -> None:
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        uri_file = self.path[: -len(".jsonl")] + ".uri"
        if not os.path.exists(uri_file):
            _write_atomic(uri_file, self.tracking_uri)

    # ---- reading and marking -----------------------------------------------------------------
    def pending(self) -> list[Entry]:
        """The lines not yet replayed, in order (a torn last line is not one)."""
        with self._lock:
            offset = self._state()["offset"]
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
            except FileNotFoundError:
                return []
        entries = []
        position = offset
        for raw in data.splitlines(keepends=True):
            position += len(raw)
            if not raw.endswith(b"\n"):
                break
            entries.append(Entry(position, json.loads(raw)))
        return entries

    def has_pending(self) -> bool:
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            return False
        return size > self._state()["offset"]

    def mark_done(self, end: int, last_seq: int) -> None:
        """Everything up to byte ``end`` was replayed. A fully replayed file is emptied."""
        with self._lock:
            try:
                size = os.path.getsize(self.path)
            except FileNotFoundError:
                size = 0
            if end >= size:
                with open(self.path, "r+b") as fh:
                    fh.truncate(0)
                    os.fsync(fh.fileno())
                end = 0
            self._write_state({"offset": end, "last_seq": max(last_seq, self._state()["last_seq"])})

    def reject(self, entry: Entry, error: BaseException) -> None:
        with self._lock:
            line = json.dumps({**entry.record, "error": str(error)}, separators=(",", ":"))
            with open(self.rejected_path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def _state(self) -> dict[str, int]:
        try:
            with open(self.state_path, encoding="utf-8") as fh:
                state = json.load(fh)
            return {"offset": int(state["offset"]), "last_seq": int(state["last_seq"])}
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return {"offset": 0, "last_seq": 0}

    def _write_state(self, state: dict[str, int]) -> None:
        _write_atomic(self.state_path, json.dumps(state))


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _drop_torn_tail(fd: int) -> int:
    """Cut a last line left half-written by a crash (it was never acknowledged)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = _last_newline(fd, size)
    os.ftruncate(fd, end)
    return end


def _last_newline(fd: int, size: int) -> int:
    """Offset just past the last newline before ``size`` (0 when there is none)."""
    position = size
    while position > 0:
        start = max(0, position - 65536)
        chunk = os.pread(fd, position - start, start)
        index = chunk.rfind(b"\n")
        if index >= 0:
            return start + index + 1
        position = start
    return 0


def _last_seq(fd: int, size: int) -> int:
    if size == 0:
        return 0
    start = _last_newline(fd, size - 1)
    try:
        return int(json.loads(os.pread(fd, size - start, start))["seq"])
    except (ValueError, KeyError, TypeError):
        return 0


# ---- replay ---------------------------------------------------------------------------------
@dataclass
class ReplayResult:
    sent: int = 0
    rejected: int = 0
    drained: bool = False
    error: BaseException | None = None


def merged(entries: list[Entry]) -> Iterator[tuple[list[Entry], dict[str, Any]]]:
    """Consecutive ``log_batch`` lines of one run packed into requests by ``plan_batches``
    (each with the lines it carries, for marking and for finding a refused one); other lines
    pass alone."""
    start = 0
    while start < len(entries):
        first = entries[start].record
        end = start + 1
        if first["op"] == "log_batch":
            while end < len(entries) and _same_run_batch(entries[end].record, first["run_id"]):
                end += 1
        else:
            yield entries[start : start + 1], first
            start = end
            continue
        lines = entries[start:end]
        done = 0  # lines of this run already yielded
        for batch in plan_batches(batch_of(entry.record) for entry in lines):
            upto = batch.pieces[-1] + 1
            # A line over the limits would go in several requests, each carrying that line
            # (lines are validated before they are spooled, so none is).
            yield (
                lines[min(done, upto - 1) : upto],
                batch_record(first["run_id"], *batch.as_tuple()),
            )
            done = upto
        if done < len(lines):  # empty batches at the end: nothing to send, but replayed
            yield lines[done:], batch_record(first["run_id"], [], [], [])
        start = end


def _same_run_batch(record: dict[str, Any], run_id: str) -> bool:
    return record["op"] == "log_batch" and record["run_id"] == run_id


def replay(spool: Spool, store: Any, wait_seconds: float = 0.0) -> ReplayResult:
    """Send the spool's lines to ``store`` in order until it is empty or the server is away.
    One replayer at a time per file, across processes (another one busy: nothing is done)."""
    result = ReplayResult()
    try:
        spool.replay_lock.acquire(timeout=wait_seconds)
    except Timeout:
        return result
    try:
        while True:
            entries = spool.pending()
            if not entries:
                result.drained = True
                return result
            for group, record in merged(entries):
                try:
                    apply(store, record)
                    result.sent += len(group)
                except Exception as error:
                    if is_unavailable(error):
                        result.error = error
                        return result
                    if len(group) == 1:
                        _reject(spool, group[0], error, result)
                    else:  # find the refused line(s) and send the rest
                        try:
                            _replay_one_by_one(spool, store, group, result)
                        except Exception as retry_error:
                            if not is_unavailable(retry_error):
                                raise
                            result.error = retry_error
                            return result
                spool.mark_done(group[-1].end, group[-1].record.get("seq", 0))
    finally:
        spool.replay_lock.release()


def _replay_one_by_one(spool: Spool, store: Any, group: list[Entry], result: ReplayResult) -> None:
    for entry in group:
        try:
            apply(store, entry.record)
            result.sent += 1
        except Exception as error:
            if is_unavailable(error):
                raise
            _reject(spool, entry, error, result)


def _reject(spool: Spool, entry: Entry, error: BaseException, result: ReplayResult) -> None:
    _logger.error(
        "The tracking server refused a spooled write (kept in %s): %s", spool.rejected_path, error
    )
    spool.reject(entry, error)
    result.rejected += 1


# ---- runyard sync ---------------------------------------------------------------------------
def spool_files(spool_dir: str) -> list[Spool]:
    """Every spool under ``spool_dir`` with the tracking URI it belongs to."""
    if not os.path.isdir(spool_dir):
        return []
    spools = []
    for name in sorted(os.listdir(spool_dir)):
        if not name.endswith(".jsonl") or name.endswith(".rejected.jsonl"):
            continue
        path = os.path.join(spool_dir, name)
        try:
            with open(path[: -len(".jsonl")] + ".uri", encoding="utf-8") as fh:
                uri = fh.read().strip()
        except FileNotFoundError:
            continue
        spools.append(Spool(path, uri))
    return spools


def sync_command(
    tracking_uri: str | None = None,
    spool_dir: str | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Send every spooled write now (``runyard sync``). Returns the exit status: 0 when all
    spools are empty afterwards, 1 when a server is still unreachable."""
    from runyard.store.rest import RestStore

    directory = os.path.expanduser(spool_dir) if spool_dir else default_spool_dir()
    status = 0
    found = False
    for spool in spool_files(directory):
        if tracking_uri and spool.tracking_uri.rstrip("/") != tracking_uri.rstrip("/"):
            continue
        if not spool.has_pending():
            continue
        found = True
        store = RestStore(spool.tracking_uri)
        try:
            result = replay(spool, store, wait_seconds=60.0)
        except RunyardError as error:  # pragma: no cover - replay turns these into results
            result = ReplayResult(error=error)
        finally:
            store.close()
        left = len(spool.pending())
        echo(
            f"{spool.tracking_uri}: sent {result.sent}, rejected {result.rejected}, "
            f"left {left}" + (f" ({result.error})" if result.error and left else "")
        )
        if left:
            status = 1
    if not found:
        echo(f"Nothing to sync in {directory}.")
    return status
