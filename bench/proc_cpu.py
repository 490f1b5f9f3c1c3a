"""CPU time used by a server's whole process tree (gunicorn's master and workers), read from
``/proc``: the cost of an operation on the server, whatever else the machine is doing."""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name may hold spaces; fields after its closing parenthesis are fixed.
    return text[text.rindex(")") + 2 :].split()


def user_system_seconds(pid: int) -> tuple[float, float]:
    """One process's own user and system CPU so far, in seconds; (0, 0) once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0, 0.0
    return int(fields[11]) / _TICKS, int(fields[12]) / _TICKS


def parent_of(pid: int) -> int | None:
    """The parent's pid, or None once ``pid`` is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every live descendant, in seconds. Workers that exited
    are counted in their parent's ``cutime``/``cstime``, so recycled workers are not lost."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        cpu[pid] = (utime + stime + cutime + cstime) / _TICKS
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total
