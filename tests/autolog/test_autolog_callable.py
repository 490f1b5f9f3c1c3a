"""``runyard.autolog`` is a package and, like ``mlflow.autolog``, a function to call."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import runyard
import runyard.autolog
import runyard.autolog.patch
from runyard.autolog.patch import patched_integrations

from tests.requirements import import_or_skip

# every test here expects all three integrations to be installed and patched
import_or_skip("sklearn", "sklearn")
import_or_skip("lightgbm", "lightgbm")
import_or_skip("xgboost", "xgboost")


def test_calling_the_package_turns_every_installed_library_on_and_off() -> None:
    assert isinstance(runyard.autolog, types.ModuleType)
    assert callable(runyard.autolog)
    applied = runyard.autolog(log_models=False)
    assert applied == ["sklearn", "lightgbm", "xgboost"]
    assert sorted(patched_integrations()) == ["lightgbm", "sklearn", "sklearn.metrics", "xgboost"]
    assert runyard.autolog(disable=True) == ["sklearn", "lightgbm", "xgboost"]
    assert patched_integrations() == []


def test_the_function_and_the_submodules_are_still_there() -> None:
    assert runyard.autolog.autolog(log_models=False) == ["sklearn", "lightgbm", "xgboost"]
    runyard.autolog.autolog(disable=True)
    assert patched_integrations() == []
    assert importlib.import_module("runyard.autolog.patch") is runyard.autolog.patch
    assert runyard.autolog.INTEGRATIONS["sklearn"] == "runyard.autolog.sklearn"


def test_an_autologged_fit_is_recorded_when_called_through_the_package() -> None:
    from sklearn.linear_model import LogisticRegression

    runyard.autolog(log_models=False)
    LogisticRegression(max_iter=50).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    runyard.autolog(disable=True)
    [run] = runyard.search_runs(["0"])
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.params["max_iter"] == "50"


def test_a_fresh_interpreter_can_call_it_straight_after_import_runyard() -> None:
    code = "import runyard; assert callable(runyard.autolog); print(runyard.autolog(disable=True))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['sklearn', 'lightgbm', 'xgboost']"
