"""What else the machine did while a figure was measured: the load average and the CPU that
processes other than the benchmark and the server under test used (from ``/proc``).

A figure taken while other work ran is not comparable with one taken on an idle machine; the
benchmark prints this next to every figure so a reader can tell.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_ticks() -> tuple[int, int, int]:
    """CPU ticks of the whole machine so far: run by processes (user, nice, system), spent in
    interrupts (irq, softirq: loopback networking's packets are handled there, outside any
    process) and stolen by the hypervisor."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return user + nice + system, irq + softirq, steal


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # utime + stime, and cutime + cstime: children that exited meanwhile (a database's
    # short-lived backends) count for the tree that started them, not for "others"
    return sum(int(v) for v in fields[11:15])


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
    busiest: list[tuple[str, float]] = field(default_factory=list)  # other commands, cores
    interrupts: float = 0.0  # cores' worth in irq and softirq (part of others_cpu)
    steal: float = 0.0  # cores' worth the hypervisor took (part of others_cpu)

    def describe(self) -> str:
        named = [f"{name} {cores:.2f}" for name, cores in self.busiest]
        kernel = (("interrupts", self.interrupts), ("steal", self.steal))
        named += [f"{what} {cores:.2f}" for what, cores in kernel if cores >= 0.01]
        return f"load {self.load1:.1f}, others {self.others_cpu:.2f} cores" + (
            f" ({', '.join(named)})" if named else ""
        )


def _all_ticks() -> dict[int, tuple[str, int]]:
    """Every process's command name and CPU ticks so far."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            found[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))
    return found


class LoadProbe:
    """Start before a figure, ``stop()`` after it; ``ours`` are the process trees to leave out
    (the benchmark itself and the server under test)."""

    def __init__(self, ours: list[int]) -> None:
        self.ours = ours
        self.started = time.monotonic()
        self.machine = _machine_ticks()
        self.busy = sum(self.machine)
        self.own = self._own_ticks()
        self.every = _all_ticks()

    def _own_ticks(self) -> int:
        pids: set[int] = set()
        for root in self.ours:
            pids |= descendants(root)
        return sum(_process_ticks(pid) for pid in pids)

    def stop(self) -> LoadSample:
        seconds = max(time.monotonic() - self.started, 1e-6)
        machine = [now - then for now, then in zip(_machine_ticks(), self.machine, strict=True)]
        own = self._own_ticks() - self.own
        others = max(0, sum(machine) - own) / _TICKS / seconds
        return LoadSample(
            load1=os.getloadavg()[0],
            others_cpu=round(others, 2),
            busiest=self._busiest(seconds),
            interrupts=round(machine[1] / _TICKS / seconds, 2),
            steal=round(machine[2] / _TICKS / seconds, 2),
        )

    def _busiest(self, seconds: float, count: int = 3) -> list[tuple[str, float]]:
        """The other commands that used the most CPU meanwhile (kernel threads included: the
        network stack's soft interrupts run in them)."""
        ours: set[int] = set()
        for root in self.ours:
            ours |= descendants(root)
        used: dict[str, int] = {}
        for pid, (name, ticks) in _all_ticks().items():
            if pid not in ours:
                before = self.every.get(pid, (name, 0))[1]
                used[name] = used.get(name, 0) + ticks - before
        ranked = sorted(used.items(), key=lambda item: -item[1])[:count]
        return [(name, round(t / _TICKS / seconds, 2)) for name, t in ranked if t > 0]
