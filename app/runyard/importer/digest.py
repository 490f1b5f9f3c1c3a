"""Counts and a checksum of one run's data, computed the same way on source and target.

The checksum covers params, tags and the set of metric points (key, step, timestamp, value),
sorted, so neither storage order nor a point stored twice by the source (MLflow's file store
keeps duplicates; its database and runyard do not) makes two equal runs differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from runyard.entities import Metric
from runyard.importer.records import RunRecord


@dataclass(frozen=True)
class RunDigest:
    params: int
    tags: int
    points: int
    checksum: str

    def differences(self, other: RunDigest) -> list[str]:
        """What differs, as ``field: source -> target``."""
        return [
            f"{name}: {getattr(self, name)} -> {getattr(other, name)}"
            for name in ("params", "tags", "points", "checksum")
            if getattr(self, name) != getattr(other, name)
        ]


def run_digest(record: RunRecord, points: Iterable[Metric]) -> RunDigest:
    unique = {(p.key, p.step, p.timestamp, repr(float(p.value))) for p in points}
    digest = hashlib.sha256()
    for kind, items in (("p", record.params), ("t", record.tags)):
        for key, value in sorted(items.items()):
            digest.update(f"{kind}\x1f{key}\x1f{value}\x1e".encode())
    for key, step, timestamp, value in sorted(unique):
        digest.update(f"m\x1f{key}\x1f{step}\x1f{timestamp}\x1f{value}\x1e".encode())
    return RunDigest(len(record.params), len(record.tags), len(unique), digest.hexdigest()[:16])
