"""Replay-safe ``runs/create``: a create carries a key, and the same key gives the same run.

runyard's client sends a fresh ``Idempotency-Key`` with every ``runs/create`` and keeps it
across its own retries, so a create whose reply was lost and is sent again returns the run the
first attempt made instead of a second run. The server derives the run's id from the key and
the experiment (a name-based UUID), so the store's primary key is what makes a replay find the
first run: durable, and correct across worker processes and replicas without a lock or a table.
A replay returns the same run for as long as that run exists.
"""

from __future__ import annotations

import re
import uuid

from runyard.errors import InvalidParameterValue

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
#: Fixed namespace of runyard's derived run ids (a random UUID chosen once).
_NAMESPACE = uuid.UUID("6f1c1d55-2b7e-4c59-9a38-6c1f6b0de4a1")


def new_key() -> str:
    """A key for one create call (random, so two different calls never share one)."""
    return uuid.uuid4().hex


def checked_key(raw: str) -> str:
    if not _KEY.match(raw):
        raise InvalidParameterValue(
            f"Invalid {IDEMPOTENCY_HEADER} header: 8 to 128 characters of letters, digits and "
            "'.', '_', ':', '-' expected."
        )
    return raw


def run_id_for(key: str, experiment_id: str) -> str:
    """The run id a create with ``key`` in ``experiment_id`` gets, every time it is sent."""
    return uuid.uuid5(_NAMESPACE, f"{experiment_id}\0{checked_key(key)}").hex


__all__ = ["IDEMPOTENCY_HEADER", "checked_key", "new_key", "run_id_for"]
