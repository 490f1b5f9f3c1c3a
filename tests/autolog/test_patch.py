"""The safe-patching promises: the original runs once, results and errors pass unchanged,
logging failures are warnings, runs are opened and closed, patches are idempotent and undone."""

from __future__ import annotations

import pytest
import runyard
from runyard.autolog.patch import (
    AUTOLOGGING_TAG,
    AutologgingWarning,
    nested_logging,
    revert_patches,
    safe_patch,
)

from tests.autolog.conftest import runs_of_default_experiment


class Model:
    calls: list[tuple] = []

    def fit(self, X, y=None, *, epochs=1):
        Model.calls.append((X, y, epochs))
        if X == "boom":
            raise ValueError("bad data")
        return ("fitted", X, y, epochs)

    @staticmethod
    def helper(x):
        return x * 2


class Outer(Model):
    def fit(self, X, y=None, *, epochs=1):
        Model.fit(self, X, y, epochs=epochs)  # a fit calling another patched fit
        return "outer"


@pytest.fixture(autouse=True)
def reset_calls():
    Model.calls = []


def log_epochs(original, self, X, y=None, **kwargs):
    runyard.log_param("epochs", kwargs.get("epochs", 1))
    result = original(self, X, y, **kwargs)
    runyard.log_metric("done", 1)
    return result


def test_original_called_once_with_user_args_and_result_unchanged() -> None:
    safe_patch(Model, "fit", log_epochs, integration="t")
    assert Model().fit(3, 4, epochs=7) == ("fitted", 3, 4, 7)
    assert Model.calls == [(3, 4, 7)]
    (run,) = runs_of_default_experiment()
    assert run.info.status == "FINISHED"
    assert run.data.tags[AUTOLOGGING_TAG] == "t"
    assert run.data.params == {"epochs": "7"}
    assert run.data.metrics == {"done": 1.0}


def test_training_exception_passes_through_and_run_fails() -> None:
    safe_patch(Model, "fit", log_epochs, integration="t")
    with pytest.raises(ValueError, match="bad data") as caught:
        Model().fit("boom")
    assert caught.type is ValueError
    assert len(Model.calls) == 1
    (run,) = runs_of_default_experiment()
    assert run.info.status == "FAILED"


def test_wrapper_that_swallows_the_training_error_cannot_hide_it() -> None:
    def swallow(original, *args, **kwargs):
        try:
            return original(*args, **kwargs)
        except ValueError:
            return "hidden"

    safe_patch(Model, "fit", swallow, integration="t")
    with pytest.raises(ValueError):
        Model().fit("boom")


@pytest.mark.parametrize("when", ["before", "after"])
def test_logging_failure_is_a_warning_not_an_error(when: str) -> None:
    def broken(original, *args, **kwargs):
        if when == "before":
            raise RuntimeError("logging broke")
        result = original(*args, **kwargs)
        raise RuntimeError("logging broke")
        return result

    safe_patch(Model, "fit", broken, integration="t")
    with pytest.warns(AutologgingWarning, match="logging broke"):
        assert Model().fit(1, 2) == ("fitted", 1, 2, 1)
    assert Model.calls == [(1, 2, 1)]  # still exactly once


def test_joins_an_active_run_and_leaves_it_open() -> None:
    safe_patch(Model, "fit", log_epochs, integration="t")
    with runyard.start_run() as run:
        Model().fit(1, epochs=2)
        assert runyard.active_run().info.run_id == run.info.run_id
    (only,) = runs_of_default_experiment()
    assert only.info.run_id == run.info.run_id
    assert AUTOLOGGING_TAG not in only.data.tags
    assert only.data.params == {"epochs": "2"}


def test_patching_twice_logs_once_and_disable_restores_exactly() -> None:
    calls = []

    def counting(original, *args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    original_fit = Model.__dict__["fit"]
    original_helper = Model.__dict__["helper"]
    safe_patch(Model, "fit", counting, integration="t")
    safe_patch(Model, "fit", counting, integration="t")
    safe_patch(Model, "helper", counting, integration="t")
    Model().fit(1)
    assert calls == [1]
    assert Model.helper(2) == 4  # staticmethod stays static
    revert_patches("t")
    assert Model.__dict__["fit"] is original_fit
    assert Model.__dict__["helper"] is original_helper
    Model().fit(1)
    assert calls == [1, 1]  # the helper call above, nothing more


def test_inherited_method_patched_on_subclass_is_removed_again() -> None:
    class Child(Model):
        pass

    safe_patch(Child, "fit", log_epochs, integration="t")
    assert "fit" in vars(Child)
    revert_patches("t")
    assert "fit" not in vars(Child)
    assert Child.fit is Model.fit


def test_nested_patched_calls_log_once() -> None:
    logged = []

    def record(original, self, *args, **kwargs):
        logged.append(type(self).__name__)
        return original(self, *args, **kwargs)

    safe_patch(Model, "fit", record, integration="t")
    safe_patch(Outer, "fit", record, integration="t")
    assert Outer().fit(5) == "outer"
    assert logged == ["Outer"]
    assert len(runs_of_default_experiment()) == 1


def test_nested_logging_lets_one_inner_call_log_in_the_same_run() -> None:
    logged = []

    def record(original, self, *args, **kwargs):
        logged.append(type(self).__name__)
        return original(self, *args, **kwargs)

    def outer_allows(original, self, *args, **kwargs):
        logged.append("outer")
        with nested_logging():
            result = original(self, *args, **kwargs)
        Model.fit(self, 6)  # after the block: plain again
        return result

    safe_patch(Model, "fit", record, integration="t")
    safe_patch(Outer, "fit", outer_allows, integration="t")
    assert Outer().fit(5) == "outer"
    assert logged == ["outer", "Outer"]  # the inner Model.fit logged once, as Outer's self
    assert len(runs_of_default_experiment()) == 1  # it joined the outer call's run
