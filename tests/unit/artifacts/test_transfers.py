"""``run_transfers``: a directory's files a few at a time, failures raised, nothing left half
run. Directory uploads and downloads through every repository are in the artifact contract
suite; here, the pool's own rules."""

from __future__ import annotations

import threading
import time

import pytest
from runyard.artifacts.local import LocalArtifactRepo
from runyard.artifacts.transfers import run_transfers, transfer_threads


def test_files_move_several_at_once() -> None:
    # four jobs that each wait for the other three: they finish only if all run together
    together = threading.Barrier(4, timeout=10)
    finished: list[int] = []
    run_transfers([lambda i=i: (together.wait(), finished.append(i)) for i in range(4)], 4)
    assert sorted(finished) == [0, 1, 2, 3]


def test_one_thread_runs_the_jobs_in_order_on_the_callers_thread() -> None:
    seen: list[tuple[int, str]] = []
    run_transfers(
        [lambda i=i: seen.append((i, threading.current_thread().name)) for i in range(5)], 1
    )
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_a_failure_stops_the_jobs_not_yet_started_and_is_raised() -> None:
    started: list[int] = []

    def job(i: int) -> None:
        started.append(i)
        if i == 1:
            raise OSError("disk full")
        time.sleep(0.05)

    with pytest.raises(OSError, match="disk full"):
        run_transfers([lambda i=i: job(i) for i in range(200)], 2)
    assert 1 in started
    assert len(started) < 200


def test_the_earliest_failing_job_is_the_one_raised() -> None:
    def fail(message: str, delay: float) -> None:
        time.sleep(delay)
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        run_transfers([lambda: fail("first", 0.2), lambda: fail("second", 0.0)], 2)


def test_the_setting_decides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert transfer_threads() == 4
    monkeypatch.setenv("RUNYARD_ARTIFACT_TRANSFER_THREADS", "0")
    assert transfer_threads() == 1
    monkeypatch.setenv("RUNYARD_ARTIFACT_TRANSFER_THREADS", "9")
    assert transfer_threads() == 9


def test_a_tree_goes_up_and_comes_back_whole_with_many_threads(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNYARD_ARTIFACT_TRANSFER_THREADS", "8")
    source = tmp_path / "source"
    for i in range(60):
        path = source / f"d{i % 3}" / f"e{i % 2}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {i}")
    (source / "empty").mkdir()
    repo = LocalArtifactRepo(str(tmp_path / "store"))
    repo.log_artifacts(source, "tree")
    back = repo.download_artifacts("tree", tmp_path / "back")
    copied = sorted(p.relative_to(back) for p in (tmp_path / "back" / "tree").rglob("*.txt"))
    assert copied == sorted(p.relative_to(source) for p in source.rglob("*.txt"))
    for i in range(60):
        assert (tmp_path / "back/tree" / f"d{i % 3}/e{i % 2}/f{i}.txt").read_text() == f"file {i}"
