"""Processes as ``/proc/<pid>/stat`` describes them: the one reader the benchmark's CPU, memory
and load figures share, so each parses the file's fixed fields the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    """What the benchmark reads of one process; CPU in clock ticks. ``children`` is the time
    of children that exited and were reaped (``cutime`` + ``cstime``)."""

    name: str
    parent: int
    user: int
    system: int
    children: int
    started: int  # clock ticks after the machine booted

    @property
    def own_ticks(self) -> int:
        return self.user + self.system

    @property
    def ticks_with_reaped(self) -> int:
        return self.user + self.system + self.children

    @property
    def started_at(self) -> float:
        """When the process started, in seconds since the epoch (to a tick and a second)."""
        return _boot_time() + self.started / TICKS_PER_SECOND


def _boot_time() -> int:
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def read_stat(pid: int) -> ProcStat | None:
    """``pid``'s fields, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after its last ")" are fixed.
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    user, system, cutime, cstime = (int(v) for v in fields[11:15])
    return ProcStat(name, int(fields[1]), user, system, cutime + cstime, int(fields[19]))


def all_stats() -> dict[int, ProcStat]:
    """Every live process's fields, by pid."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat is not None:
                found[int(entry)] = stat
    return found


def descendants(root: int, stats: dict[int, ProcStat] | None = None) -> set[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for pid, stat in (all_stats() if stats is None else stats).items():
        children.setdefault(stat.parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found
