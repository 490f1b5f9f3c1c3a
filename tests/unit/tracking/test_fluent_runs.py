"""The fluent run lifecycle: context-manager statuses, nesting, resuming, system tags."""

from __future__ import annotations

import sys
import threading

import pytest
import runyard
from runyard import Client, RunStatus
from runyard.entities import LifecycleStage
from runyard.errors import InvalidParameterValue, RunyardError
from runyard.tracking import context
from runyard.tracking.fluent_state import fresh_fluent_state


def test_block_that_completes_finishes_the_run() -> None:
    with runyard.start_run(run_name="ok") as run:
        assert runyard.active_run() is run
        runyard.log_param("p", 1)
    assert runyard.active_run() is None
    stored = runyard.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.info.end_time is not None and stored.info.end_time >= stored.info.start_time
    assert stored.info.run_name == "ok"
    assert stored.data.params["p"] == "1"


def test_block_that_raises_fails_the_run() -> None:
    with pytest.raises(ZeroDivisionError), runyard.start_run() as run:
        runyard.log_metric("before", 1)
        _ = 1 / 0
    assert runyard.active_run() is None
    stored = runyard.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FAILED
    assert stored.data.metrics["before"] == 1.0


def test_interrupted_block_kills_the_run() -> None:
    with pytest.raises(KeyboardInterrupt), runyard.start_run() as run:
        raise KeyboardInterrupt
    assert runyard.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_system_tags() -> None:
    with runyard.start_run(run_name="tagged", tags={"k": 5}, description="why") as run:
        pass
    tags = runyard.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"] == context.current_user()
    assert tags["mlflow.source.name"] == (sys.argv[0] or "<console>")
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.runName"] == "tagged"
    assert tags["mlflow.note.content"] == "why"
    assert tags["k"] == "5"
    assert "mlflow.parentRunId" not in tags
    assert runyard.get_run(run.info.run_id).info.user_id == context.current_user()


def test_nested_runs() -> None:
    with runyard.start_run(run_name="parent") as parent:
        with runyard.start_run(run_name="child", nested=True) as child:
            assert runyard.active_run() is child
            runyard.log_metric("depth", 2)
        assert runyard.active_run() is parent
        runyard.log_metric("depth", 1)
    child_run = runyard.get_run(child.info.run_id)
    parent_run = runyard.get_run(parent.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.data.metrics["depth"] == 2.0
    assert parent_run.data.metrics["depth"] == 1.0
    assert child_run.info.status == parent_run.info.status == RunStatus.FINISHED


def test_second_run_without_nested_is_a_clear_error() -> None:
    with runyard.start_run() as run:
        with pytest.raises(RunyardError, match=run.info.run_id) as caught:
            runyard.start_run()
        assert "nested=True" in str(caught.value)
        assert runyard.active_run() is run
    assert len(runyard.search_runs()) == 1


def test_failure_in_a_parent_block_ends_open_children_too() -> None:
    with pytest.raises(ValueError), runyard.start_run() as parent:
        child = runyard.start_run(nested=True)
        raise ValueError("boom")
    assert runyard.active_run() is None
    assert runyard.get_run(parent.info.run_id).info.status == RunStatus.FAILED
    assert runyard.get_run(child.info.run_id).info.status == RunStatus.FAILED


def test_resume_a_finished_run() -> None:
    with runyard.start_run(run_name="first") as run:
        runyard.log_param("a", 1)
    with runyard.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as again:
        assert again.info.run_id == run.info.run_id
        assert again.info.status == RunStatus.RUNNING
        runyard.log_param("b", 2)
    stored = runyard.get_run(run.info.run_id)
    assert dict(stored.data.params) == {"a": "1", "b": "2"}
    assert stored.data.tags["resumed"] == "yes"
    assert stored.info.status == RunStatus.FINISHED
    assert len(runyard.search_runs()) == 1


def test_resume_a_deleted_run_is_refused() -> None:
    with runyard.start_run() as run:
        pass
    runyard.delete_run(run.info.run_id)
    with pytest.raises(InvalidParameterValue, match="deleted"):
        runyard.start_run(run_id=run.info.run_id)
    assert runyard.active_run() is None


def test_end_run_status_and_noop() -> None:
    run = runyard.start_run()
    runyard.end_run("KILLED")
    assert runyard.get_run(run.info.run_id).info.status == RunStatus.KILLED
    assert runyard.end_run() is None  # nothing active: nothing happens
    assert runyard.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_last_active_run_is_fetched_fresh() -> None:
    assert runyard.last_active_run() is None
    with runyard.start_run() as run:
        runyard.log_metric("m", 3)
        current = runyard.last_active_run()
        assert current is not None and current.data.metrics["m"] == 3.0
    last = runyard.last_active_run()
    assert last is not None
    assert last.info.run_id == run.info.run_id
    assert last.info.status == RunStatus.FINISHED


def test_logging_without_a_run_starts_one() -> None:
    runyard.log_metric("auto", 1.0)
    run = runyard.active_run()
    assert run is not None
    assert runyard.get_run(run.info.run_id).data.metrics["auto"] == 1.0
    runyard.end_run()
    assert runyard.get_run(run.info.run_id).info.status == RunStatus.FINISHED


def test_each_thread_has_its_own_active_run() -> None:
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["before"] = runyard.active_run()
        with runyard.start_run() as run:
            seen["own"] = run.info.run_id

    with runyard.start_run() as main_run:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert runyard.active_run() is main_run
    assert seen["before"] is None
    assert seen["own"] != main_run.info.run_id
    assert runyard.get_run(str(seen["own"])).info.status == RunStatus.FINISHED


def test_set_experiment_creates_and_reuses() -> None:
    created = runyard.set_experiment("fluent-exp")
    assert created.name == "fluent-exp"
    again = runyard.set_experiment("fluent-exp")
    assert again.experiment_id == created.experiment_id
    with runyard.start_run() as run:
        pass
    assert run.info.experiment_id == created.experiment_id
    assert [r.info.run_id for r in runyard.search_runs()] == [run.info.run_id]
    by_id = runyard.set_experiment(experiment_id="0")
    assert by_id.name == "Default"
    with runyard.start_run() as default_run:
        pass
    assert default_run.info.experiment_id == "0"


def test_set_experiment_rejects_bad_calls() -> None:
    with pytest.raises(InvalidParameterValue):
        runyard.set_experiment()
    with pytest.raises(InvalidParameterValue):
        runyard.set_experiment("a", experiment_id="0")
    exp_id = runyard.create_experiment("to-delete")
    runyard.delete_experiment(exp_id)
    assert runyard.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidParameterValue, match="deleted"):
        runyard.set_experiment("to-delete")


def test_start_run_in_an_explicit_experiment() -> None:
    exp_id = Client().create_experiment("explicit")
    with runyard.start_run(experiment_id=exp_id) as run:
        pass
    assert run.info.experiment_id == exp_id
    assert runyard.get_experiment_by_name("explicit").experiment_id == exp_id
    assert runyard.get_experiment_by_name("missing") is None


def test_a_fresh_fluent_state_is_empty_and_gives_the_previous_one_back() -> None:
    runyard.set_experiment("outer")
    outer = runyard.start_run()
    with fresh_fluent_state():
        assert runyard.active_run() is None and runyard.last_active_run() is None
        inner = runyard.start_run()  # left open: the block's end finishes it
        assert inner.info.experiment_id == "0"  # the active experiment stayed outside
    assert runyard.active_run() is outer
    assert runyard.get_run(inner.info.run_id).info.status == "FINISHED"
    assert runyard.start_run(nested=True).info.experiment_id == outer.info.experiment_id
