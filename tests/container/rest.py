"""Plain HTTP calls to the MLflow REST API, and a logger that counts acknowledged points.

The tests use raw requests rather than a client with built-in retries, so they know exactly
which writes the server acknowledged."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

API = "/api/2.0/mlflow"


def call(base: str, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
    response = requests.request(method, f"{base}{API}/{endpoint}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else {}


def new_run(base: str, auth: requests.auth.AuthBase | None = None) -> tuple[str, str]:
    """A fresh experiment and a run in it: (experiment_id, run_id)."""
    name = uuid.uuid4().hex
    experiment_id = call(base, "POST", "experiments/create", json={"name": name}, auth=auth)[
        "experiment_id"
    ]
    run = call(
        base,
        "POST",
        "runs/create",
        json={"experiment_id": experiment_id, "start_time": int(time.time() * 1000)},
        auth=auth,
    )
    return experiment_id, run["run"]["info"]["run_id"]


def metric_steps(
    base: str, run_id: str, key: str, auth: requests.auth.AuthBase | None = None
) -> list[int]:
    history = call(
        base,
        "GET",
        "metrics/get-history",
        params={"run_id": run_id, "run_uuid": run_id, "metric_key": key, "max_results": 25000},
        auth=auth,
    )
    return [int(m["step"]) for m in history.get("metrics", [])]


class MetricLogger(threading.Thread):
    """Logs metric `key` at steps 0, 1, 2, ... until stopped; `base_for(step)` picks the server
    (looked up per request: a restarted container may be published on a new port).

    Each point is retried (connection errors, 5xx) until the server acknowledges it with a 200,
    like a client with retries would; `acked` holds the steps that were acknowledged.
    """

    def __init__(
        self,
        base_for: Callable[[int], str],
        run_id: str,
        key: str = "loss",
        auth: requests.auth.AuthBase | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.base_for, self.run_id, self.key, self.auth = base_for, run_id, key, auth
        self.acked: list[int] = []
        self.failures = 0
        self.error: BaseException | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        step = 0
        try:
            while not self.stop_event.is_set():
                if self._log(step):
                    self.acked.append(step)
                    step += 1
                time.sleep(0.02)
        except BaseException as exc:  # surfaced by wait_for_acks instead of a silent death
            self.error = exc

    def _log(self, step: int) -> bool:
        try:
            base = self.base_for(step)
        except Exception:
            self.failures += 1
            time.sleep(0.2)
            return False
        body = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "key": self.key,
            "value": step * 0.5,
            "timestamp": 1_700_000_000_000 + step,
            "step": step,
        }
        try:
            response = requests.post(
                f"{base}{API}/runs/log-metric", json=body, auth=self.auth, timeout=10
            )
        except requests.RequestException:
            self.failures += 1
            time.sleep(0.2)
            return False
        if response.status_code != 200:
            self.failures += 1
            time.sleep(0.2)
            return False
        return True

    def wait_for_acks(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if self.error is not None or time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {len(self.acked)} of {count} points acknowledged ({self.error!r})"
                )
            time.sleep(0.1)

    def stop(self) -> list[int]:
        self.stop_event.set()
        self.join(timeout=30)
        return list(self.acked)
