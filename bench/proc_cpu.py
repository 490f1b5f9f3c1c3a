"""CPU time used by a server's whole process tree (gunicorn's master and workers), read from
``/proc``: the cost of an operation on the server, whatever else the machine is doing."""

from __future__ import annotations

from bench.proc_stat import TICKS_PER_SECOND, all_stats, descendants, read_stat


def user_system_seconds(pid: int) -> tuple[float, float]:
    """One process's own user and system CPU so far, in seconds; (0, 0) once it is gone."""
    stat = read_stat(pid)
    if stat is None:
        return 0.0, 0.0
    return stat.user / TICKS_PER_SECOND, stat.system / TICKS_PER_SECOND


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every live descendant, in seconds. Workers that exited
    are counted in their parent's ``cutime``/``cstime``, so recycled workers are not lost."""
    stats = all_stats()
    ticks = sum(stats[pid].ticks_with_reaped for pid in descendants(root, stats) if pid in stats)
    return ticks / TICKS_PER_SECOND
