"""The one /proc reader of the benchmark's CPU, memory and load figures: fields read past a
command name that holds spaces and parentheses, the process tree, and reaped children's CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.proc_cpu import tree_cpu_seconds
from bench.proc_stat import all_stats, descendants, read_stat

#: A child that renames itself with the characters that trip a naive parser, then waits.
RENAMED_CHILD = """
import sys, time
with open("/proc/self/comm", "w") as comm:
    comm.write("a) b (c")
print("ready", flush=True)
time.sleep(60)
"""

#: A child that burns about 0.3 s of CPU and exits.
BUSY_CHILD = "sum(i * i for i in range(4_000_000))"


def test_fields_are_read_past_a_name_with_spaces_and_parentheses() -> None:
    child = subprocess.Popen([sys.executable, "-c", RENAMED_CHILD], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        stat = read_stat(child.pid)
        assert stat is not None
        assert stat.name == "a) b (c"
        assert stat.parent == os.getpid()
        assert stat.own_ticks >= 0 and stat.children == 0
        assert abs(stat.started_at - time.time()) < 5  # started a moment ago
        assert child.pid in descendants(os.getpid())
        assert all_stats()[child.pid].name == "a) b (c"
    finally:
        child.kill()
        child.wait()
    assert read_stat(child.pid) is None


def test_a_reaped_childs_cpu_stays_in_its_parents_tree() -> None:
    before = tree_cpu_seconds(os.getpid())
    started = time.process_time()
    busy = subprocess.run([sys.executable, "-c", BUSY_CHILD], check=True)
    assert busy.returncode == 0
    after = tree_cpu_seconds(os.getpid())
    own = time.process_time() - started
    mine = read_stat(os.getpid())
    assert mine is not None and mine.children > 0
    assert after - before > own + 0.1  # the child's time, not only this process's
