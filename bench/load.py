"""What else the machine did while a figure was measured: the load average and the CPU that
processes other than the benchmark and the server under test used (from ``/proc``).

A figure taken while other work ran is not comparable with one taken on an idle machine; the
benchmark prints this next to every figure so a reader can tell.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _total_busy_ticks() -> int:
    """Busy CPU ticks of the whole machine (all but idle and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    return sum(values) - values[3] - values[4]


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


@dataclass
class LoadSample:
    load1: float
    others_cpu: float  # cores' worth of CPU used by other processes (0..number of cores)

    def describe(self) -> str:
        return f"load {self.load1:.1f}, others {self.others_cpu:.2f} cores"


class LoadProbe:
    """Start before a figure, ``stop()`` after it; ``ours`` are the process trees to leave out
    (the benchmark itself and the server under test)."""

    def __init__(self, ours: list[int]) -> None:
        self.ours = ours
        self.started = time.monotonic()
        self.busy = _total_busy_ticks()
        self.own = self._own_ticks()

    def _own_ticks(self) -> int:
        pids: set[int] = set()
        for root in self.ours:
            pids |= descendants(root)
        return sum(_process_ticks(pid) for pid in pids)

    def stop(self) -> LoadSample:
        seconds = max(time.monotonic() - self.started, 1e-6)
        busy = _total_busy_ticks() - self.busy
        own = self._own_ticks() - self.own
        others = max(0, busy - own) / _TICKS / seconds
        return LoadSample(load1=os.getloadavg()[0], others_cpu=round(others, 2))
