"""``import runyard.sklearn`` and ``from runyard import sklearn`` give the same module."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("framework", ["sklearn", "lightgbm", "xgboost"])
def test_both_import_forms_work(framework: str) -> None:
    pytest.importorskip(framework)
    dotted = importlib.import_module(f"runyard.{framework}")
    from_form = getattr(importlib.import_module("runyard"), framework)
    assert dotted is from_form is importlib.import_module(f"runyard.autolog.{framework}")
    assert callable(dotted.autolog)
