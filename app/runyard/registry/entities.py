"""Registered models and model versions, named as in MLflow (``mv.current_stage``,
``rm.latest_versions``) so code written for MLflow reads the same against runyard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: Stages a version can be in (the deprecated stage workflow MLflow 3 still serves).
STAGE_NONE = "None"
STAGE_ARCHIVED = "Archived"
STAGES = (STAGE_NONE, "Staging", "Production", STAGE_ARCHIVED)
#: A deleted version keeps its record under this stage, so its number is never reused; it is
#: invisible to every read (MLflow's stores do the same).
STAGE_DELETED = "Deleted_Internal"
#: A version's registration states, as MLflow names them: runyard's stores make versions
#: ready at once; a client still waits out the others, which other servers may report.
STATUS_READY = "READY"
STATUS_PENDING = "PENDING_REGISTRATION"
STATUS_FAILED = "FAILED_REGISTRATION"


def _frozen(mapping: Mapping[str, object] | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model. ``storage_location`` is where its files are (what
    ``get-download-uri`` returns); ``source`` is what the client registered."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    source: str
    storage_location: str = ""
    current_stage: str = STAGE_NONE
    description: str = ""
    #: None where the caller's ``run`` tier withholds them (the reply then leaves them out).
    run_id: str | None = ""
    run_link: str | None = ""
    user_id: str = ""
    status: str = STATUS_READY
    status_message: str = ""
    model_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "aliases", tuple(sorted(self.aliases)))


@dataclass(frozen=True)
class RegisteredModel:
    """A named model. ``aliases`` maps alias -> version; ``latest_versions`` holds the newest
    version of each stage, in version order."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    latest_versions: tuple[ModelVersion, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "aliases", _frozen(self.aliases))
        object.__setattr__(self, "latest_versions", tuple(self.latest_versions))


def latest_per_stage(
    versions: Iterable[ModelVersion], stages: Iterable[str] | None = None
) -> list[ModelVersion]:
    """The highest version of each stage (of ``stages`` only, when given), in version order.
    Deleted versions never count."""
    wanted = None if stages is None else set(stages)
    best: dict[str, ModelVersion] = {}
    for mv in versions:
        stage = mv.current_stage
        if stage == STAGE_DELETED or (wanted is not None and stage not in wanted):
            continue
        if stage not in best or best[stage].version < mv.version:
            best[stage] = mv
    return sorted(best.values(), key=lambda mv: mv.version)


def aliases_of(aliases: Mapping[str, int], version: int) -> tuple[str, ...]:
    """The aliases pointing at ``version``."""
    return tuple(sorted(alias for alias, v in aliases.items() if v == version))
