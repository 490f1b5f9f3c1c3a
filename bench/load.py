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

from bench.proc_stat import TICKS_PER_SECOND, ProcStat, all_stats, descendants


def _machine_ticks() -> tuple[int, int, int]:
    """CPU ticks of the whole machine so far: run by processes (user, nice, system), spent in
    interrupts (irq, softirq: loopback networking's packets are handled there, outside any
    process) and stolen by the hypervisor."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return user + nice + system, irq + softirq, steal


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


class LoadProbe:
    """Start before a figure, ``stop()`` after it; ``ours`` are the process trees to leave out
    (the benchmark itself and the server under test)."""

    def __init__(self, ours: list[int]) -> None:
        self.ours = ours
        self.started = time.monotonic()
        self.machine = _machine_ticks()
        self.every = all_stats()
        self.own = self._own_ticks(self.every)

    def _ours(self, stats: dict[int, ProcStat]) -> set[int]:
        pids: set[int] = set()
        for root in self.ours:
            pids |= descendants(root, stats)
        return pids

    def _own_ticks(self, stats: dict[int, ProcStat]) -> int:
        # with the time of children that exited meanwhile (a database's short-lived backends):
        # it counts for the tree that started them, not for "others"
        return sum(stats[pid].ticks_with_reaped for pid in self._ours(stats) if pid in stats)

    def stop(self) -> LoadSample:
        seconds = max(time.monotonic() - self.started, 1e-6)
        machine = [now - then for now, then in zip(_machine_ticks(), self.machine, strict=True)]
        stats = all_stats()
        own = self._own_ticks(stats) - self.own
        per_second = TICKS_PER_SECOND * seconds
        return LoadSample(
            load1=os.getloadavg()[0],
            others_cpu=round(max(0, sum(machine) - own) / per_second, 2),
            busiest=self._busiest(stats, per_second),
            interrupts=round(machine[1] / per_second, 2),
            steal=round(machine[2] / per_second, 2),
        )

    def _busiest(
        self, stats: dict[int, ProcStat], per_second: float, count: int = 3
    ) -> list[tuple[str, float]]:
        """The other commands that used the most CPU meanwhile (kernel threads included: the
        network stack's soft interrupts run in them)."""
        ours = self._ours(stats)
        used: dict[str, int] = {}
        for pid, stat in stats.items():
            if pid not in ours:
                before = self.every.get(pid)
                ticks = stat.own_ticks - (before.own_ticks if before is not None else 0)
                used[stat.name] = used.get(stat.name, 0) + ticks
        ranked = sorted(used.items(), key=lambda item: -item[1])[:count]
        return [(name, round(t / per_second, 2)) for name, t in ranked if t > 0]
