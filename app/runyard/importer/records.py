"""What every source yields: MLflow's entities as runyard's, plus what a run needs to move."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from runyard.entities import Experiment, LoggedModel, Metric, RunInfo, RunInputs, RunOutputs
from runyard.errors import RunyardError
from runyard.registry.entities import ModelVersion, RegisteredModel
from runyard.store.base import TrackingStore

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


@dataclass
class RegistryRecord:
    """A registered model with every version, deleted ones included (their numbers are never
    reused, so they move too); ``versions`` carry their tags, ``model.aliases`` the aliases."""

    model: RegisteredModel
    versions: list[ModelVersion] = field(default_factory=list)


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

    def registered_models(self) -> Iterator[RegistryRecord]:
        """Every registered model with its versions, tags and aliases."""

    def close(self) -> None: ...


class Target(Protocol):
    """A runyard deployment written with the source's ids: its SQL database, or its server."""

    store: TrackingStore

    def put_experiment(self, experiment: Experiment) -> None: ...

    def put_logged_model(self, model: LoggedModel) -> None: ...

    def has_finished_run(self, record: RunRecord) -> bool: ...

    def put_run(self, record: RunRecord, points: Iterable[Metric]) -> int:
        """Write the run and its whole history; returns the points written."""

    def put_registered_model(self, record: RegistryRecord) -> int:
        """Write the model with its versions, tags and aliases; returns the versions written."""

    def close(self) -> None: ...
