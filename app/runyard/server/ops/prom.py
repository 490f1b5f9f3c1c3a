"""Request counters and latency histograms in Prometheus' text format, hand-written.

Counts are per process: with several gunicorn workers each scrape sees the worker that answered
it, labelled with ``pid`` so series from different workers never collide. Summing
``rate(...)`` over pods and pids gives the service's totals.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from flask import Flask, Response, g, request

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


class RequestMetrics:
    """Thread-safe counters for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)
        self.in_flight = 0
        self.started = time.time()

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests[(endpoint, method, str(status))] += 1
            key = (endpoint, method)
            counts = self.buckets.setdefault(key, [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.sums[key] += seconds

    def error(self, endpoint: str, error_code: str) -> None:
        with self._lock:
            self.errors[(endpoint, error_code)] += 1

    def render(self, extra_gauges: dict[str, float] | None = None) -> str:
        pid = str(os.getpid())
        lines = [
            "# HELP runyard_http_requests_total HTTP requests by endpoint, method and status.",
            "# TYPE runyard_http_requests_total counter",
        ]
        with self._lock:
            for (endpoint, method, status), n in sorted(self.requests.items()):
                labels = _labels(
                    [("endpoint", endpoint), ("method", method), ("status", status), ("pid", pid)]
                )
                lines.append(f"runyard_http_requests_total{labels} {n}")
            lines += [
                "# HELP runyard_http_request_duration_seconds Request latency.",
                "# TYPE runyard_http_request_duration_seconds histogram",
            ]
            for (endpoint, method), counts in sorted(self.buckets.items()):
                base = [("endpoint", endpoint), ("method", method), ("pid", pid)]
                name = "runyard_http_request_duration_seconds"
                for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                    lines.append(f"{name}_bucket{_labels([*base, ('le', bound)])} {count}")
                lines.append(f"{name}_sum{_labels(base)} {self.sums[(endpoint, method)]:.6f}")
                lines.append(f"{name}_count{_labels(base)} {counts[-1]}")
            lines += [
                "# HELP runyard_http_errors_total Error responses by endpoint and error code.",
                "# TYPE runyard_http_errors_total counter",
            ]
            for (endpoint, code), n in sorted(self.errors.items()):
                labels = _labels([("endpoint", endpoint), ("error_code", code), ("pid", pid)])
                lines.append(f"runyard_http_errors_total{labels} {n}")
            lines += [
                "# HELP runyard_http_requests_in_flight Requests being served now.",
                "# TYPE runyard_http_requests_in_flight gauge",
                f"runyard_http_requests_in_flight{_labels([('pid', pid)])} {self.in_flight}",
                "# HELP runyard_process_start_time_seconds Start time of this process.",
                "# TYPE runyard_process_start_time_seconds gauge",
                f"runyard_process_start_time_seconds{_labels([('pid', pid)])} {self.started:.3f}",
            ]
        for name, value in sorted((extra_gauges or {}).items()):
            lines += [f"# TYPE {name} gauge", f"{name}{_labels([('pid', pid)])} {value}"]
        return "\n".join(lines) + "\n"


def _endpoint() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def install_metrics(app: Flask, metrics: RequestMetrics, on_done: Callable | None = None) -> None:
    """Count every request (including ones refused by earlier hooks)."""

    @app.before_request
    def _start() -> None:
        g.runyard_started = time.perf_counter()
        metrics.begin()

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.pop("runyard_started", None)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = _endpoint()
        metrics.observe(endpoint, request.method, response.status_code, seconds)
        if response.status_code >= 400 and response.is_json:
            body = response.get_json(silent=True) or {}
            metrics.error(endpoint, str(body.get("error_code", response.status_code)))
        if on_done is not None:
            on_done(response, seconds)
        return response
