"""What every source yields: MLflow's entities as runyard's, plus what a run needs to move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from runyard.entities import Experiment, LoggedModel, Metric, RunInfo, RunInputs, RunOutputs
from runyard.errors import RunyardError

#: Points handed to the target per bulk write.
POINT_CHUNK = 10_000


class ImportRefused(RunyardError):
    """A source or target the importer cannot work with; the message says why and what to do."""

    error_code = "INVALID_PARAMETER_VALUE"


@dataclass
class RunRecord:
    """One run without its metric history, which is streamed separately (it can be huge)."""

    info: RunInfo
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)
    deleted_time: int | None = None


class Source(Protocol):
    """An MLflow deployment, read only."""

    description: str

    def check(self) -> None:
        """Refuse what this reader does not understand (an unknown schema), naming it."""

    def experiments(self) -> Iterator[Experiment]: ...

    def logged_models(self, experiment_id: str) -> Iterator[LoggedModel]: ...

    def run_ids(self, experiment_id: str) -> list[str]: ...

    def run(self, run_id: str) -> RunRecord: ...

    def metric_points(self, run_id: str) -> Iterator[Metric]:
        """Every point of every metric of the run, in any order."""

    def count_points(self, run_id: str) -> int: ...

    def registered_model_count(self) -> int:
        """Registered models the source holds (imported once runyard has a registry)."""

    def close(self) -> None: ...
