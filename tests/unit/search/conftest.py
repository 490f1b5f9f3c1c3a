"""Fixtures handing the run and experiment builders to the search tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from runyard.entities import Experiment, Run

from .builders import build_experiment, build_run


@pytest.fixture(scope="session")
def make_run() -> Callable[..., Run]:
    return build_run


@pytest.fixture(scope="session")
def make_experiment() -> Callable[..., Experiment]:
    return build_experiment
