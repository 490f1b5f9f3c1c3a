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
from runyard.importer.records import RegistryRecord, RunRecord
from runyard.registry.entities import STAGE_DELETED


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


def registry_digest(record: RegistryRecord) -> str:
    """A checksum of a registered model and its live versions (deleted ones are not served by
    a registry API, so they do not count), with tags, aliases, stages and sources."""
    model = record.model
    digest = hashlib.sha256()
    digest.update(f"{model.name}\x1f{model.description}\x1e".encode())
    for kind, items in (("t", model.tags), ("a", model.aliases)):
        for key, value in sorted(dict(items).items()):
            digest.update(f"{kind}\x1f{key}\x1f{value}\x1e".encode())
    for mv in sorted(record.versions, key=lambda mv: mv.version):
        if mv.current_stage == STAGE_DELETED:
            continue
        fields = (mv.version, mv.current_stage, mv.source, mv.run_id, mv.description, mv.status)
        digest.update("\x1f".join(map(str, fields)).encode() + b"\x1e")
        for key, value in sorted(mv.tags.items()):
            digest.update(f"vt\x1f{key}\x1f{value}\x1e".encode())
    return digest.hexdigest()[:16]
