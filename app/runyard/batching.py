"""How ``log_batch`` requests are packed: one rule for every sender.

The client's ``log_batch``, the background logger, the offline spool's replay and autologging
all turn logging calls into requests here, within MLflow's per-request limits (the
``MAX_*_PER_BATCH`` constants of ``runyard.validation``, which the stores enforce).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from runyard.entities import Metric, Param, RunTag
from runyard.validation import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
)

#: One logging call: its metrics, params and tags.
Piece = tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]]


@dataclass
class Batch:
    """One ``log_batch`` request and the pieces (indices into the input) it carries."""

    metrics: list[Metric] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)
    pieces: list[int] = field(default_factory=list)

    def as_tuple(self) -> tuple[list[Metric], list[Param], list[RunTag]]:
        return self.metrics, self.params, self.tags


def within_limits(metrics: int, params: int, tags: int) -> bool:
    """Whether one request may carry that many metrics, params and tags."""
    return (
        metrics <= MAX_METRICS_PER_BATCH
        and params <= MAX_PARAMS_PER_BATCH
        and tags <= MAX_TAGS_PER_BATCH
        and metrics + params + tags <= MAX_ENTITIES_PER_BATCH
    )


def plan_batches(pieces: Iterable[Piece]) -> list[Batch]:
    """The fewest requests for ``pieces`` (logging calls of one run), in order.

    Consecutive pieces share a request while it stays within the limits and no param or tag
    key comes again (a later value is never sent in the same request as an earlier one). A
    piece over a limit by itself is split the way MLflow's client splits: up to 100 params and
    100 tags per request with metrics filling the room, then the other metrics 1000 at a time.
    An empty piece rides along with the request before it (or the next one); requests with
    nothing in them are not planned.
    """
    batches: list[Batch] = []
    current: Batch | None = None
    waiting: list[int] = []  # empty pieces with no request yet
    param_keys: set[str] = set()
    tag_keys: set[str] = set()
    for index, (metrics, params, tags) in enumerate(pieces):
        if not (metrics or params or tags):
            if current is None:
                waiting.append(index)
            else:
                current.pieces.append(index)
            continue
        if not within_limits(len(metrics), len(params), len(tags)):
            for chunk in _split(metrics, params, tags):
                batches.append(Batch(*chunk, pieces=[*waiting, index]))
                waiting = []
            current = None
            continue
        if current is None or not _fits(current, metrics, params, tags, param_keys, tag_keys):
            current = Batch(pieces=waiting)
            waiting = []
            batches.append(current)
            param_keys, tag_keys = set(), set()
        current.metrics.extend(metrics)
        current.params.extend(params)
        current.tags.extend(tags)
        current.pieces.append(index)
        if params:
            param_keys.update(p.key for p in params)
        if tags:
            tag_keys.update(t.key for t in tags)
    return batches


def _fits(
    current: Batch,
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
    param_keys: set[str],
    tag_keys: set[str],
) -> bool:
    if any(p.key in param_keys for p in params) or any(t.key in tag_keys for t in tags):
        return False
    return within_limits(
        len(current.metrics) + len(metrics),
        len(current.params) + len(params),
        len(current.tags) + len(tags),
    )


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _split(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> list[tuple[list[Metric], list[Param], list[RunTag]]]:
    """MLflow's split of one call: each request gets up to 100 params and 100 tags, then
    metrics up to the 1000-entity limit; leftover metrics go in requests of 1000."""
    out: list[tuple[list[Metric], list[Param], list[RunTag]]] = []
    remaining = list(metrics)
    for param_chunk, tag_chunk in zip_longest(
        _chunks(params, MAX_PARAMS_PER_BATCH), _chunks(tags, MAX_TAGS_PER_BATCH), fillvalue=[]
    ):
        used = len(param_chunk) + len(tag_chunk)
        room = min(MAX_ENTITIES_PER_BATCH - used, MAX_METRICS_PER_BATCH)
        out.append((remaining[:room], param_chunk, tag_chunk))
        remaining = remaining[room:]
    out.extend((chunk, [], []) for chunk in _chunks(remaining, MAX_METRICS_PER_BATCH))
    return out
