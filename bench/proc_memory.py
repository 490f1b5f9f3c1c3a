"""Resident memory of a server's process tree (gunicorn's or uvicorn's master and workers),
read from ``/proc``: at rest, and the peak while a workload runs, sampled in the background."""

from __future__ import annotations

import threading
from pathlib import Path

from bench.proc_stat import descendants

#: Seconds between two samples while a workload runs.
INTERVAL = 0.1


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0  # a zombie has no VmRSS line


def tree_rss(root: int) -> dict[int, int]:
    """RSS in bytes of ``root`` and every live process below it, by pid."""
    return {pid: _rss_bytes(pid) for pid in descendants(root)}


class PeakMemory:
    """Samples ``root``'s tree until ``stop()``; then ``largest`` is the peak RSS of its
    largest process (a worker: what one more worker costs) and ``total`` the peak of the
    tree's sum."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.largest = 0
        self.total = 0
        self._stopped = threading.Event()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        sizes = tree_rss(self.root).values()
        self.largest = max(self.largest, max(sizes, default=0))
        self.total = max(self.total, sum(sizes))

    def _run(self) -> None:
        while not self._stopped.wait(INTERVAL):
            self._sample()

    def stop(self) -> PeakMemory:
        self._stopped.set()
        self._thread.join()
        self._sample()
        return self
