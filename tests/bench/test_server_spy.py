"""The live profile of the server benchmark's workloads: py-spy's stacks are read right, and
attached to a real single-worker server it finds the request handler each workload runs."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from bench import server_workloads as w
from bench.common import postmaster_from_backend
from bench.proc_cpu import user_system_seconds
from bench.server_spy import (
    DatabaseCpu,
    cpu_now,
    package_of,
    per_operation_ms,
    read_profile,
    report,
    server_settings,
    spy_server,
)

RAW = """\
Thread.run (threading.py:982);handle (runyard/server/api/runs.py:10);log_point (runyard/store/sql/drivers/postgres.py:95) 6
Thread.run (threading.py:982);handle (runyard/server/api/runs.py:12);Flask.preprocess_request (flask/app.py:1281) 3
Thread.run (threading.py:982);walk (runyard/search/tree.py:5);walk (runyard/search/tree.py:9) 1
not a stack line
"""  # noqa: E501


def test_stacks_are_counted_once_per_sample_and_scaffolding_is_left_out() -> None:
    profile = read_profile(RAW, top=10)
    assert profile.samples == 10
    inclusive = dict(profile.inclusive)
    # the two lines of `handle` are one function; the recursive `walk` counts once per sample
    assert inclusive["handle (runyard/server/api/runs.py)"] == 9
    assert inclusive["walk (runyard/search/tree.py)"] == 1
    assert not any("threading.py" in frame for frame in inclusive)
    assert profile.own[0] == ("log_point (runyard/store/sql/drivers/postgres.py)", 6)
    assert dict(profile.by_package) == {"runyard.store": 6, "flask": 3, "runyard.search": 1}


def test_packages_are_named_by_their_top_level_or_runyard_subpackage() -> None:
    assert package_of("f (runyard/store/sql/runs.py)") == "runyard.store"
    assert package_of("f (runyard/cli.py)") == "runyard"
    assert package_of("f (sqlalchemy/engine/base.py)") == "sqlalchemy"
    assert package_of("f (selectors.py)") == "selectors"


@pytest.mark.postgres
def test_the_database_cpu_keeps_what_a_backend_used_after_it_exits() -> None:
    """A server benchmark's backends may come and go; the database's CPU is read from its
    postmaster's whole tree, where a reaped backend's time stays."""
    import psycopg2

    from bench.common import postmaster_of
    from tests.postgres import fresh_postgres_database

    with fresh_postgres_database() as uri:
        postmaster = postmaster_of(uri)
        assert postmaster is not None
        assert "postgres" in Path(f"/proc/{postmaster}/cmdline").read_text()
        database = DatabaseCpu.of(uri)
        assert database == DatabaseCpu(postmaster)
        before = cpu_now(os.getpid(), database)["database"]
        conn = psycopg2.connect(uri)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid(), extract(epoch FROM pg_postmaster_start_time())")
            backend, started_at = cur.fetchone()
            assert postmaster_from_backend(backend, float(started_at)) == postmaster
            # the same pid reported by another cluster, started at another time: not this one
            assert postmaster_from_backend(backend, float(started_at) - 3600) is None
            cur.execute("SELECT sum(g) FROM generate_series(1, 5000000) AS g")  # ~0.5 s of CPU
            used = sum(user_system_seconds(backend))
        conn.close()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{backend}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{backend}").exists(), "the backend did not exit"
        after = cpu_now(os.getpid(), database)["database"]
    assert before is not None and after is not None
    assert used > 0.2
    assert after - before >= used - 0.02  # its ticks, to the clock's resolution


def test_a_database_whose_processes_are_elsewhere_is_not_measured() -> None:
    """A PostgreSQL server in a container or on another host reports backend pids that name
    no process here, or another one: its CPU is "not measured", never that process's."""
    now = time.time()
    assert postmaster_from_backend(os.getpid(), now) is None  # a pid here that is not PostgreSQL
    assert postmaster_from_backend(2**22 + 1, now) is None  # above Linux's largest pid
    elsewhere = DatabaseCpu(readable=False)
    before, after = cpu_now(os.getpid(), elsewhere), cpu_now(os.getpid(), elsewhere)
    assert before["database"] is None
    per = per_operation_ms(before, after, 10)
    assert per["database"] is None and per["user"] is not None
    result = {
        "workload": "single_calls",
        "operation": "log-metric",
        "operations": 10,
        "seconds": 0.1,
        "cpu_ms_per_operation": per,
        "worker_rss_mib": {"before": 70.0, "peak": 71.0},
        "samples": 0,
        "inclusive": [],
        "own": [],
        "by_package": [],
    }
    assert "database not measured;" in report(result)
    assert DatabaseCpu.of("sqlite:///x.db").seconds() == 0.0  # SQLite runs inside the worker


#: Enough single calls for py-spy's samples to find their handler.
TINY = dataclasses.replace(w.TINY, single_calls=150)


@pytest.mark.slow
def test_a_live_server_is_profiled_while_it_answers_single_calls(tmp_path: Path) -> None:
    [result] = spy_server(f"sqlite:///{tmp_path / 'spy.db'}", TINY, tmp_path, ["single_calls"], 40)
    assert result["workload"] == "single_calls"
    assert result["operations"] == 300
    assert result["samples"] > 0
    handlers = [frame for frame, _ in result["inclusive"]]
    assert "log_metric (runyard/server/api/runs.py)" in handlers, handlers
    cpu = result["cpu_ms_per_operation"]
    assert cpu["user"] + cpu["system"] > 0
    assert cpu["database"] == 0  # SQLite runs inside the worker
    rss = result["worker_rss_mib"]
    assert rss["before"] > 10 and rss["peak"] > 10  # a Python web worker's size, in MiB
    assert "log_metric (runyard/server/api/runs.py)" in report(result)
    assert f"peak {rss['peak']:.0f} MiB" in report(result)


def test_a_setting_reaches_the_profiled_server_and_nothing_else_of_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SQLITE_CACHE_MIB", "0")  # a server refuses it when it starts
    uri = f"sqlite:///{tmp_path / 'spy.db'}"
    assert spy_server(uri, TINY, tmp_path, ["nothing"], 5) == []  # the caller's: left out
    with pytest.raises(RuntimeError, match=r"RUNYARD_SQLITE_CACHE_MIB\) must be at least 1"):
        spy_server(uri, TINY, tmp_path, ["nothing"], 5, {"RUNYARD_SQLITE_CACHE_MIB": "0"})
    assert server_settings(["RUNYARD_SQLITE_CACHE_MIB=2"]) == {"RUNYARD_SQLITE_CACHE_MIB": "2"}
    for wrong in ("RUNYARD_SQLITE_CACHE_MIB", "HOME=/tmp"):
        with pytest.raises(SystemExit, match="RUNYARD_NAME=VALUE"):
            server_settings([wrong])
