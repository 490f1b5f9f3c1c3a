"""The tracking data model: experiments, runs and what is logged to them.

Frozen dataclasses, so a value handed out by a store cannot be changed behind its back. Field
names follow MLflow's entities (``run.info.run_id``, ``run.data.metrics``) so code written for
MLflow reads the same against runyard.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar

from runyard.errors import InvalidParameterValue

T = TypeVar("T")


class RunStatus(enum.StrEnum):
    """A run's state; the ints are MLflow's proto numbers, used by the file store's meta.yaml."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def number(self) -> int:
        return _STATUS_NUMBERS[self]

    @classmethod
    def from_number(cls, number: int) -> RunStatus:
        for status, value in _STATUS_NUMBERS.items():
            if value == number:
                return status
        raise ValueError(f"unknown run status number {number}")

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


_STATUS_NUMBERS = {
    RunStatus.RUNNING: 1,
    RunStatus.SCHEDULED: 2,
    RunStatus.FINISHED: 3,
    RunStatus.FAILED: 4,
    RunStatus.KILLED: 5,
}


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a search returns (MLflow's ``ViewType``)."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    def includes(self, stage: LifecycleStage | str) -> bool:
        if self is ViewType.ALL:
            return True
        wanted = LifecycleStage.ACTIVE if self is ViewType.ACTIVE_ONLY else LifecycleStage.DELETED
        return stage == wanted


class ModelOrder(NamedTuple):
    """One ``order_by`` entry of a logged-model search: an attribute, or ``metrics.<key>``
    (the model's latest value of it), then on ``dataset_name`` and ``dataset_digest`` alone
    when given, as MLflow orders."""

    field: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LoggedModelStatus(enum.StrEnum):
    LOGGED_MODEL_PENDING = "LOGGED_MODEL_PENDING"
    LOGGED_MODEL_READY = "LOGGED_MODEL_READY"
    LOGGED_MODEL_UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @property
    def number(self) -> int:
        return {"LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2}.get(self.value, 3)

    @classmethod
    def from_number(cls, number: int) -> LoggedModelStatus:
        return {1: cls.LOGGED_MODEL_PENDING, 2: cls.LOGGED_MODEL_READY}.get(
            number, cls.LOGGED_MODEL_UPLOAD_FAILED
        )

    @classmethod
    def of(cls, value: LoggedModelStatus | str) -> LoggedModelStatus:
        """A status from its wire name or the short name MLflow's Python API takes
        (``"READY"``, ``"FAILED"``, ``"PENDING"``; ``mlflow.entities.LoggedModelStatus.READY``)."""
        text = str(getattr(value, "value", value)).strip().upper()
        short = {"PENDING": "LOGGED_MODEL_PENDING", "READY": "LOGGED_MODEL_READY"}
        text = short.get(text, "LOGGED_MODEL_UPLOAD_FAILED" if text == "FAILED" else text)
        try:
            return cls(text)
        except ValueError:
            raise InvalidParameterValue(
                f"Invalid logged model status {value!r}: use READY, FAILED or PENDING."
            ) from None


def _frozen(mapping: Mapping[str, T] | None) -> Mapping[str, T]:
    return MappingProxyType(dict(mapping or {}))


_E = TypeVar("_E")


def _assemble(cls: type[_E], values: dict) -> _E:
    """An instance of a frozen (non-slots) dataclass from complete, already valid field values:
    one dict update instead of a frozen __init__'s object.__setattr__ per field."""
    entity = object.__new__(cls)
    entity.__dict__.update(values)
    return entity


def assemble_run_info(values: dict) -> RunInfo:
    """A RunInfo from a dict holding exactly its fields, already of the right types."""
    return _assemble(RunInfo, values)


def assemble_run(info: RunInfo, data: RunData, inputs: RunInputs, outputs: RunOutputs) -> Run:
    """A Run from its parts without the frozen __init__ (a store building a page of runs)."""
    return _assemble(Run, {"info": info, "data": data, "inputs": inputs, "outputs": outputs})


#: One stored point as a store reads it: (value, is_nan, timestamp, step, model_id,
#: dataset_name, dataset_digest); a NaN is stored as 0.0 with is_nan set.
HistoryRow = tuple[float, bool, int, int, "str | None", "str | None", "str | None"]


@dataclass(frozen=True, slots=True, init=False)
class Metric:
    """One point of a metric's history. ``timestamp`` is epoch milliseconds."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def __init__(
        self,
        key: str,
        value: float,
        timestamp: int,
        step: int = 0,
        run_id: str | None = None,
        model_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        # Points are built by the hundred thousand: set the slots through their descriptors,
        # half the cost of the generated frozen __init__ (object.__setattr__ per field).
        _set_key(self, key)
        _set_value(self, value)
        _set_timestamp(self, timestamp)
        _set_step(self, step)
        _set_run_id(self, run_id)
        _set_model_id(self, model_id)
        _set_dataset_name(self, dataset_name)
        _set_dataset_digest(self, dataset_digest)

    @property
    def order_key(self) -> tuple[int, int, float]:
        """MLflow's "latest" order: the greatest (step, timestamp, value) is the latest value."""
        return (self.step, self.timestamp, self.value)

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's form of the point."""
        return {
            "key": self.key,
            "value": self.value,
            "timestamp": self.timestamp,
            "step": self.step,
            "model_id": self.model_id,
            "dataset_name": self.dataset_name,
            "dataset_digest": self.dataset_digest,
            "run_id": self.run_id,
        }


_set_key = Metric.key.__set__  # type: ignore[attr-defined]
_set_value = Metric.value.__set__  # type: ignore[attr-defined]
_set_timestamp = Metric.timestamp.__set__  # type: ignore[attr-defined]
_set_step = Metric.step.__set__  # type: ignore[attr-defined]
_set_run_id = Metric.run_id.__set__  # type: ignore[attr-defined]
_set_model_id = Metric.model_id.__set__  # type: ignore[attr-defined]
_set_dataset_name = Metric.dataset_name.__set__  # type: ignore[attr-defined]
_set_dataset_digest = Metric.dataset_digest.__set__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """A run's metric at a glance: the latest point plus min and max over its history."""

    key: str
    latest: Metric
    min_value: float
    max_value: float
    count: int


def _pairs(entity: Any) -> Iterator[tuple[str, Any]]:
    """``(name, value)`` for each field: MLflow's entities iterate so, and code writes
    ``dict(run.info)``."""
    for item in fields(entity):
        yield item.name, getattr(entity, item.name)


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return _pairs(self)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        return self.run_id

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return _pairs(self)


@dataclass(frozen=True)
class RunData:
    """What was logged to a run. ``metrics`` maps each key to its latest value."""

    metric_list: tuple[Metric, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "metric_list", tuple(self.metric_list))

    @property
    def metrics(self) -> Mapping[str, float]:
        return MappingProxyType({m.key: m.value for m in self.metric_list})

    def to_dictionary(self) -> dict[str, Any]:
        return {"metrics": dict(self.metrics), "params": dict(self.params), "tags": dict(self.tags)}

    @classmethod
    def owned(
        cls, metric_list: tuple[Metric, ...], params: dict[str, str], tags: dict[str, str]
    ) -> RunData:
        """A RunData over dicts the caller hands over and never touches again: wrapped
        read-only without the defensive copies (a store building a page of runs)."""
        return _assemble(
            cls,
            {
                "metric_list": metric_list,
                "params": MappingProxyType(params),
                "tags": MappingProxyType(tags),
            },
        )


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None

    def to_dictionary(self) -> dict[str, Any]:
        return dict(_pairs(self))


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))

    def to_dictionary(self) -> dict[str, Any]:
        return {"dataset": self.dataset.to_dictionary(), "tags": dict(self.tags)}


@dataclass(frozen=True, slots=True)
class ModelInput:
    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    model_id: str
    step: int = 0

    def to_dictionary(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "step": self.step}


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[ModelInput, ...] = ()

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "model_inputs": list(self.model_inputs),
            "dataset_inputs": [d.to_dictionary() for d in self.dataset_inputs],
        }


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: tuple[ModelOutput, ...] = ()

    def to_dictionary(self) -> dict[str, Any]:
        return {"model_outputs": [m.to_dictionary() for m in self.model_outputs]}


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's plain-dict form of the run (``json.dumps`` takes it)."""
        return {
            "info": dict(self.info),
            "data": self.data.to_dictionary(),
            "inputs": self.inputs.to_dictionary(),
            "outputs": self.outputs.to_dictionary(),
        }


@dataclass(frozen=True)
class LoggedModel:
    """A model logged by ``log_model`` or an autologger (MLflow 3's logged-model entity)."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: LoggedModelStatus = LoggedModelStatus.LOGGED_MODEL_PENDING
    source_run_id: str | None = None
    model_type: str | None = None
    status_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "metrics", tuple(self.metrics))

    @property
    def model_uri(self) -> str:
        """``models:/<id>``, the URI that loads and registers this model (as MLflow's)."""
        return f"models:/{self.model_id}"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """An artifact: ``path`` is relative to the listed root, ``file_size`` is None for dirs."""

    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass(frozen=True, slots=True)
class ExperimentStats:
    """What the experiments list shows of an experiment's runs: how many are active (exact, or
    a lower bound where counting stopped) and the latest start or end time among them."""

    runs_count: int
    runs_count_exact: bool
    last_activity: int | None


NO_RUNS = ExperimentStats(0, True, None)


class PagedList(list[T], Generic[T]):
    """A page of results plus the opaque token for the next page (None on the last page)."""

    def __init__(self, items: list[T] | tuple[T, ...] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token


# MLflow's names for the same shapes, so ``from mlflow.entities import LoggedModelInput`` and
# the like switch with the import alone. A key and a value are a tag or a param wherever they
# are attached; MLflow names each place's class apart.
ExperimentTag = RunTag
LoggedModelTag = RunTag
LoggedModelParameter = Param
LoggedModelInput = ModelInput
LoggedModelOutput = ModelOutput
