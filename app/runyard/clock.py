"""The one clock of runyard: wall-clock milliseconds, MLflow's unit for every timestamp."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, as MLflow stores ``start_time``, ``timestamp`` and the like."""
    return int(time.time() * 1000)
