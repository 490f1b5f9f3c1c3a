"""The live profile of the server benchmark's workloads: py-spy's stacks are read right, and
attached to a real single-worker server it finds the request handler each workload runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench import server_workloads as w
from bench.server_spy import package_of, read_profile, report, spy_server

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
    assert "log_metric (runyard/server/api/runs.py)" in report(result)
